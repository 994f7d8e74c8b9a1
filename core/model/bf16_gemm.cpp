#include "model/bf16_gemm.h"

#include <oneapi/dnnl/dnnl.hpp>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace plateau {

namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

struct Key {
    bool transA, transB, bias, residual;
    std::int64_t M, N, K, batch = 1;
    bool operator<(const Key& o) const {
        return std::tie(transA, transB, bias, residual, M, N, K, batch) <
               std::tie(o.transA, o.transB, o.bias, o.residual, o.M, o.N, o.K, o.batch);
    }
};

struct Prepared {
    bool available = false;  // false: oneDNN has no bf16 matmul on this ISA (AVX2 and older)
    dnnl::matmul primitive;
    dnnl::memory::desc a, b, bias, residual, c, scratchpad;
    std::string impl;
};

dnnl::engine& engine() {
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

Prepared build(const Key& k) {
    Prepared p;
    // Row-major operands described by strides, so a transposed operand needs no copy; a batch of
    // products is a leading dimension over contiguous matrices.
    if (k.batch == 1) {
        p.a = dnnl::memory::desc(dims{k.M, k.K}, dt::bf16, k.transA ? dims{1, k.M} : dims{k.K, 1});
        p.b = dnnl::memory::desc(dims{k.K, k.N}, dt::bf16, k.transB ? dims{1, k.K} : dims{k.N, 1});
        p.c = dnnl::memory::desc(dims{k.M, k.N}, dt::f32, dims{k.N, 1});
    } else {
        p.a = dnnl::memory::desc(dims{k.batch, k.M, k.K}, dt::bf16,
                                 k.transA ? dims{k.M * k.K, 1, k.M} : dims{k.M * k.K, k.K, 1});
        p.b = dnnl::memory::desc(dims{k.batch, k.K, k.N}, dt::bf16,
                                 k.transB ? dims{k.K * k.N, 1, k.K} : dims{k.K * k.N, k.N, 1});
        p.c = dnnl::memory::desc(dims{k.batch, k.M, k.N}, dt::f32, dims{k.M * k.N, k.N, 1});
    }
    if (k.bias) p.bias = dnnl::memory::desc(dims{1, k.N}, dt::f32, dims{k.N, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per call: concurrent calls are safe
    if (k.residual) {
        p.residual = p.c;
        dnnl::post_ops ops;
        ops.append_binary(dnnl::algorithm::binary_add, p.residual);
        attr.set_post_ops(ops);
    }
    const auto desc = k.bias ? dnnl::matmul::desc(p.a, p.b, p.bias, p.c) : dnnl::matmul::desc(p.a, p.b, p.c);
    dnnl::matmul::primitive_desc pd;
    try {
        pd = dnnl::matmul::primitive_desc(desc, attr, engine());
    } catch (const dnnl::error& e) {
        if (e.status != dnnl_unimplemented) throw;
        p.impl = "reference (bf16 widened to fp32, dnnl_sgemm)";
        return p;
    }
    p.available = true;
    p.scratchpad = pd.scratchpad_desc();
    p.impl = pd.impl_info_str();
    p.primitive = dnnl::matmul(pd);
    return p;
}

// Building a primitive JIT-compiles its kernels (~0.1-1 ms): once per shape, shared by threads.
// Shapes come from batch sizes (training, evaluation, snapshots, analyses): the cache is emptied
// when it reaches 256 of them, and callers hold their entry by shared_ptr, so a clear never
// pulls a primitive from under a running call.
std::shared_ptr<const Prepared> prepared(const Key& k) {
    static std::mutex mutex;
    static std::map<Key, std::shared_ptr<const Prepared>> cache;
    const std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(k);
    if (it != cache.end()) return it->second;
    if (cache.size() >= 256) cache.clear();
    try {
        auto p = std::make_shared<const Prepared>(build(k));
        cache.emplace(k, p);
        return p;
    } catch (const dnnl::error& e) {
        throw std::runtime_error(std::string("bf16 GEMM: oneDNN could not build a matmul for ") + std::to_string(k.M) +
                                 " x " + std::to_string(k.K) + " x " + std::to_string(k.N) + ": " + e.what());
    }
}

inline bf16_t toBf16(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return bf16_t((u >> 16) | 0x40u);  // NaN stays (quiet) NaN
    u += 0x7fffu + ((u >> 16) & 1u);                                         // round to nearest even
    return bf16_t(u >> 16);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void convertPortable(const float* src, bf16_t* dst,
                                                                                   std::int64_t n) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) dst[i] = toBf16(src[i]);
}

#if defined(__x86_64__) && defined(__GNUC__)
// vcvtneps2bf16 (AVX512-BF16): also round to nearest even, NaN kept; the tail through a mask so
// every element of an array is converted by the same instruction (it flushes denormals to zero,
// which the portable path does not).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void convertNative(const float* src, bf16_t* dst,
                                                                                  std::int64_t n) {
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), reinterpret_cast<const __m256i&>(h));
    }
    if (i < n) {
        const __mmask16 m = __mmask16((1u << (n - i)) - 1u);
        const __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, reinterpret_cast<const __m256i&>(h));
    }
}

bool hasNativeConvert() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}
#endif

void convertRange(const float* src, bf16_t* dst, std::int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool native = hasNativeConvert();
    if (native) return convertNative(src, dst, n);
#endif
    convertPortable(src, dst, n);
}

}  // namespace

void bf16GemmReference(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K, const bf16_t* A,
                       const bf16_t* B, const float* bias, const float* residual, float* C) {
    if (M <= 0 || N <= 0) return;
    for (std::int64_t i = 0; i < M; ++i)
        for (std::int64_t j = 0; j < N; ++j)
            C[i * N + j] = (residual ? residual[i * N + j] : 0.0f) + (bias ? bias[j] : 0.0f);
    if (K <= 0) return;
    std::vector<float> a(std::size_t(M * K)), b(std::size_t(K * N));
    bf16ToFloat(A, a.data(), M * K);
    bf16ToFloat(B, b.data(), K * N);
    const dnnl_status_t st = dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, 1.0f, a.data(),
                                        transA ? M : K, b.data(), transB ? K : N, 1.0f, C, N);
    if (st != dnnl_success) throw std::runtime_error("bf16 GEMM (reference): dnnl_sgemm failed with status " + std::to_string(int(st)));
}

void bf16ToFloat(const bf16_t* src, float* dst, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
        const std::uint32_t u = std::uint32_t(src[i]) << 16;
        std::memcpy(dst + i, &u, sizeof u);
    }
}

namespace {

// Runs the cached primitive for k; false where oneDNN has none (the caller takes the reference).
bool execute(const Key& k, const bf16_t* A, const bf16_t* B, const float* bias, const float* residual, float* C) {
    const std::shared_ptr<const Prepared> held = prepared(k);
    const Prepared& p = *held;
    if (!p.available) return false;
    thread_local std::vector<unsigned char> scratch;
    if (scratch.size() < p.scratchpad.get_size()) scratch.resize(p.scratchpad.get_size());
    dnnl::engine& e = engine();
    thread_local dnnl::stream stream(e);
    std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, dnnl::memory(p.a, e, const_cast<bf16_t*>(A))},
        {DNNL_ARG_WEIGHTS, dnnl::memory(p.b, e, const_cast<bf16_t*>(B))},
        {DNNL_ARG_DST, dnnl::memory(p.c, e, C)},
        {DNNL_ARG_SCRATCHPAD, dnnl::memory(p.scratchpad, e, scratch.data())},
    };
    if (bias) args[DNNL_ARG_BIAS] = dnnl::memory(p.bias, e, const_cast<float*>(bias));
    if (residual)
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1] =
            dnnl::memory(p.residual, e, const_cast<float*>(residual));
    try {
        p.primitive.execute(stream, args);
        stream.wait();
    } catch (const dnnl::error& err) {
        throw std::runtime_error(std::string("bf16 GEMM failed: ") + err.what());
    }
    return true;
}

}  // namespace

void bf16Gemm(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K, const bf16_t* A,
              const bf16_t* B, const float* bias, const float* residual, float* C) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || !execute(Key{transA, transB, bias != nullptr, residual != nullptr, M, N, K}, A, B, bias, residual, C))
        bf16GemmReference(transA, transB, M, N, K, A, B, bias, residual, C);
}

void bf16GemmBatched(std::int64_t batch, bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K,
                     const bf16_t* A, const bf16_t* B, float* C) {
    if (batch <= 0 || M <= 0 || N <= 0) return;
    if (batch == 1) return bf16Gemm(transA, transB, M, N, K, A, B, nullptr, nullptr, C);
    if (K > 0 && execute(Key{transA, transB, false, false, M, N, K, batch}, A, B, nullptr, nullptr, C)) return;
    for (std::int64_t i = 0; i < batch; ++i)
        bf16GemmReference(transA, transB, M, N, K, A + i * M * K, B + i * K * N, nullptr, nullptr, C + i * M * N);
}

void floatToBf16(const float* src, bf16_t* dst, std::int64_t n) {
    constexpr std::int64_t chunk = 1 << 14;
    if (n < 4 * chunk) {
        convertRange(src, dst, n);
        return;
    }
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < (n + chunk - 1) / chunk; ++c)
        convertRange(src + c * chunk, dst + c * chunk, std::min(chunk, n - c * chunk));
}

void floatToBf16Range(const float* src, bf16_t* dst, std::int64_t n) { convertRange(src, dst, n); }

const char* bf16GemmImplementation(bool transA, bool transB, std::int64_t M, std::int64_t N, std::int64_t K) {
    thread_local std::string impl;
    impl = prepared(Key{transA, transB, false, false, M, N, K})->impl;
    return impl.c_str();
}

}  // namespace plateau
