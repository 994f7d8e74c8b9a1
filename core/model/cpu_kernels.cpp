// Compiled twice (see core/CMakeLists.txt): PLATEAU_ATTN_NS is avx2 (with -mavx2 -mfma) or
// baseline. The head dimension is a template parameter for the common sizes so the loops over
// it unroll into whole vector registers; loops over the sequence are contiguous and vectorise.
#include "model/cpu_kernels.h"
#include "model/simd_math.h"

#include <algorithm>
#include <cstring>
#include <vector>

#ifndef PLATEAU_ATTN_NS
#error "define PLATEAU_ATTN_NS"
#endif

namespace plateau::attn::PLATEAU_ATTN_NS {
namespace {

using simd::expNonPositive;

constexpr std::int64_t kLane = 8;  // floats per AVX register; rows are padded to this
inline std::int64_t padded(std::int64_t n) { return (n + kLane - 1) / kLane * kLane; }

// Eight floats as one value: accumulators declared as these stay in registers (float arrays
// vectorised by the compiler were kept on the stack, a store and reload per FMA: latency-bound).
// Element for element the same arithmetic as the scalar loops (a * m + acc, contracted to an FMA
// where the variant has FMA), so results are bit-identical to them.
using v8 = float __attribute__((vector_size(32)));
inline v8 load8(const float* p) {
    v8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }

// out[0:W] = sum_c a[c] * M[c * ld + 0:W]. W is a compile-time multiple of 8 so all W/8
// accumulators stay in registers and the FMAs are independent (not latency-bound).
template <int W>
inline void rowProductFixed(const float* __restrict a, const float* __restrict M, std::int64_t ld,
                            std::int64_t dh, float* __restrict out) {
    constexpr int N = W / 8;
    v8 acc[N] = {};
    for (std::int64_t c = 0; c < dh; ++c) {
        const float ac = a[c];
        const float* __restrict m = M + c * ld;
        for (int x = 0; x < N; ++x) acc[x] += ac * load8(m + 8 * x);
    }
    for (int x = 0; x < N; ++x) store8(out + 8 * x, acc[x]);
}

// Same for any padded width: blocks of 64 columns.
inline void rowProduct(const float* __restrict a, const float* __restrict M, std::int64_t width,
                       std::int64_t dh, float* __restrict out) {
    std::int64_t j0 = 0;
    for (; j0 + 64 <= width; j0 += 64) rowProductFixed<64>(a, M + j0, width, dh, out + j0);
    switch ((width - j0) / kLane) {
    case 1: return rowProductFixed<8>(a, M + j0, width, dh, out + j0);
    case 2: return rowProductFixed<16>(a, M + j0, width, dh, out + j0);
    case 3: return rowProductFixed<24>(a, M + j0, width, dh, out + j0);
    case 4: return rowProductFixed<32>(a, M + j0, width, dh, out + j0);
    case 5: return rowProductFixed<40>(a, M + j0, width, dh, out + j0);
    case 6: return rowProductFixed<48>(a, M + j0, width, dh, out + j0);
    case 7: return rowProductFixed<56>(a, M + j0, width, dh, out + j0);
    default: return;
    }
}

// Two rows at once for widths up to 32: out0 = a0 M, out1 = a1 M with each row's sums in exactly
// rowProductFixed's order (so the results are bit-identical), but twice the independent FMA
// chains, which at head dims of 6-16 are otherwise too short to hide the FMA latency.
template <int W>
inline void rowProductFixedPair(const float* __restrict a0, const float* __restrict a1, const float* __restrict M,
                                std::int64_t ld, std::int64_t dh, float* __restrict out0, float* __restrict out1) {
    constexpr int N = W / 8;
    v8 acc0[N] = {}, acc1[N] = {};
    for (std::int64_t c = 0; c < dh; ++c) {
        const float x0 = a0[c], x1 = a1[c];
        const float* __restrict m = M + c * ld;
        for (int x = 0; x < N; ++x) {
            const v8 mx = load8(m + 8 * x);
            acc0[x] += x0 * mx;
            acc1[x] += x1 * mx;
        }
    }
    for (int x = 0; x < N; ++x) {
        store8(out0 + 8 * x, acc0[x]);
        store8(out1 + 8 * x, acc1[x]);
    }
}

// rows (0 < rows <= 2) consecutive rows of A (stride dh) times M (dh, width) into out (stride
// width): the paired kernel where it applies, rowProduct otherwise; the same values either way.
inline void rowProducts(const float* __restrict A, std::int64_t rows, const float* __restrict M, std::int64_t width,
                        std::int64_t dh, float* __restrict out) {
    if (rows == 2 && width <= 32) {
        const float* a1 = A + dh;
        float* o1 = out + width;
        switch (width / kLane) {
        case 1: return rowProductFixedPair<8>(A, a1, M, width, dh, out, o1);
        case 2: return rowProductFixedPair<16>(A, a1, M, width, dh, out, o1);
        case 3: return rowProductFixedPair<24>(A, a1, M, width, dh, out, o1);
        case 4: return rowProductFixedPair<32>(A, a1, M, width, dh, out, o1);
        default: break;
        }
    }
    for (std::int64_t r = 0; r < rows; ++r) rowProduct(A + r * dh, M, width, dh, out + r * width);
}

// out[0:dh] = sum_{j < n} w[j * ws] * R[j * dh + 0:dh]. For short rows the sum is split over
// U interleaved partial accumulators so consecutive FMAs do not wait on each other.
template <int DH>
inline void weightedRowSum(const float* __restrict w, std::int64_t ws, const float* __restrict R,
                           std::int64_t n, std::int64_t dhRuntime, float* __restrict out) {
    constexpr int U = DH > 0 && DH < 32 ? 32 / DH : 1;
    if constexpr (DH > 0 && DH % 8 == 0) {  // the same sums in register-held vectors
        constexpr int N = DH / 8;
        v8 acc[U][N] = {};
        std::int64_t j = 0;
        for (; j + U <= n; j += U)
            for (int u = 0; u < U; ++u) {
                const float wj = w[(j + u) * ws];
                const float* __restrict r = R + (j + u) * DH;
                for (int x = 0; x < N; ++x) acc[u][x] += wj * load8(r + 8 * x);
            }
        for (; j < n; ++j) {
            const float wj = w[j * ws];
            const float* __restrict r = R + j * DH;
            for (int x = 0; x < N; ++x) acc[0][x] += wj * load8(r + 8 * x);
        }
        for (int x = 0; x < N; ++x) {
            v8 total = acc[0][x];
            for (int u = 1; u < U; ++u) total += acc[u][x];
            store8(out + 8 * x, total);
        }
        return;
    }
    constexpr int L = DH > 0 ? DH : 1024;
    const std::int64_t dh = DH > 0 ? DH : dhRuntime;
    float acc[U][L];
    for (int u = 0; u < U; ++u)
        for (std::int64_t c = 0; c < dh; ++c) acc[u][c] = 0.0f;
    std::int64_t j = 0;
    for (; j + U <= n; j += U)
        for (int u = 0; u < U; ++u) {
            const float wj = w[(j + u) * ws];
            const float* __restrict r = R + (j + u) * dh;
#pragma omp simd
            for (std::int64_t c = 0; c < dh; ++c) acc[u][c] += wj * r[c];
        }
    for (; j < n; ++j) {
        const float wj = w[j * ws];
        const float* __restrict r = R + j * dh;
#pragma omp simd
        for (std::int64_t c = 0; c < dh; ++c) acc[0][c] += wj * r[c];
    }
    for (std::int64_t c = 0; c < dh; ++c) {
        float total = acc[0][c];
        for (int u = 1; u < U; ++u) total += acc[u][c];
        out[c] = total;
    }
}

// Loads head h of sequence b: Q scaled into q (T, dh); K into k (T, dh) and/or kt (dh, Tp,
// zero-padded); V into v (T, dh) and/or vt (dh, Tp). Which targets are filled is a template
// parameter: no per-element branches, and the row copies vectorise.
template <int DH, bool K, bool KT, bool V, bool VT>
inline void gatherHead(const Shape& s, const float* __restrict src, std::int64_t ho, std::int64_t Tp,
                       float* __restrict q, float* __restrict k, float* __restrict kt, float* __restrict v,
                       float* __restrict vt) {
    const std::int64_t T = s.T, D = s.D, dh = DH > 0 ? DH : s.dh;
    const float scale = s.scale;
    for (std::int64_t t = 0; t < T; ++t) {
        const float* __restrict qr = src + t * 3 * D + ho;
        const float* __restrict kr = qr + D;
        const float* __restrict vr = qr + 2 * D;
#pragma omp simd
        for (std::int64_t c = 0; c < dh; ++c) q[t * dh + c] = qr[c] * scale;
        if constexpr (K) std::memcpy(k + t * dh, kr, sizeof(float) * std::size_t(dh));
        if constexpr (V) std::memcpy(v + t * dh, vr, sizeof(float) * std::size_t(dh));
        if constexpr (KT)
            for (std::int64_t c = 0; c < dh; ++c) kt[c * Tp + t] = kr[c];
        if constexpr (VT)
            for (std::int64_t c = 0; c < dh; ++c) vt[c * Tp + t] = vr[c];
    }
}

// DH > 0: compile-time head dim; DH == 0: runtime s.dh. Causal is a template parameter too, so the
// bidirectional encoder's loops are exactly what they were before the flag existed.
template <int DH, bool Causal>
void forwardImpl(const Shape& s, const float* __restrict qkv, float* __restrict probs,
                 float* __restrict out, std::int64_t begin, std::int64_t end) {
    const std::int64_t T = s.T, D = s.D, dh = DH > 0 ? DH : s.dh, Tp = padded(T);
    std::vector<float> buf(std::size_t(2 * T * dh + dh * Tp + 2 * Tp), 0.0f);
    float* q = buf.data();        // (T, dh), scaled
    float* v = q + T * dh;        // (T, dh)
    float* kt = v + T * dh;       // (dh, Tp), padding stays zero
    float* rows = kt + dh * Tp;   // (2, Tp) scores of two queries
    for (std::int64_t bh = begin; bh < end; ++bh) {
        const std::int64_t b = bh / s.H, ho = (bh % s.H) * dh;
        gatherHead<DH, false, true, true, false>(s, qkv + b * T * 3 * D, ho, Tp, q, nullptr, kt, v, nullptr);
        float* __restrict P = probs + bh * T * T;
        for (std::int64_t i = 0; i < T; ++i) {
            float* __restrict row = rows + (i % 2) * Tp;  // scores of query i
            if (i % 2 == 0) rowProducts(q + i * dh, std::min<std::int64_t>(2, T - i), kt, Tp, dh, rows);
            // Causal: keys 0..i only; the rest get probability exactly 0 (so the backward, which
            // multiplies by P, gives them no gradient either).
            const std::int64_t keys = Causal ? i + 1 : T;
            float mx = row[0];
#pragma omp simd reduction(max : mx)
            for (std::int64_t j = 0; j < keys; ++j) mx = row[j] > mx ? row[j] : mx;
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (std::int64_t j = 0; j < keys; ++j) {
                const float e = expNonPositive(row[j] - mx);
                row[j] = e;
                sum += e;
            }
            const float inv = 1.0f / sum;
            float* __restrict p = P + i * T;
#pragma omp simd
            for (std::int64_t j = 0; j < keys; ++j) p[j] = row[j] * inv;
            if (Causal)
                for (std::int64_t j = keys; j < T; ++j) p[j] = 0.0f;
            weightedRowSum<DH>(p, 1, v, keys, dh, out + (b * T + i) * D + ho);  // O[i] = P[i] V
        }
    }
}

template <int DH>
void backwardImpl(const Shape& s, const float* __restrict qkv, const float* __restrict probs,
                  const float* __restrict gradOut, float* __restrict gradQkv, std::int64_t begin,
                  std::int64_t end) {
    const std::int64_t T = s.T, D = s.D, dh = DH > 0 ? DH : s.dh, Tp = padded(T), n = T * dh;
    std::vector<float> buf(std::size_t(4 * n + dh * Tp + T * Tp), 0.0f);
    float* q = buf.data();     // (T, dh) scaled
    float* k = q + n;          // (T, dh)
    float* go = k + n;         // (T, dh)
    float* tmp = go + n;       // (T, dh) scratch for dK / dV rows
    float* vt = tmp + n;       // (dh, Tp), padding zero
    float* dS = vt + dh * Tp;  // (T, Tp)
    for (std::int64_t bh = begin; bh < end; ++bh) {
        const std::int64_t b = bh / s.H, ho = (bh % s.H) * dh;
        gatherHead<DH, true, false, false, true>(s, qkv + b * T * 3 * D, ho, Tp, q, k, nullptr, nullptr, vt);
        for (std::int64_t t = 0; t < T; ++t)
            std::memcpy(go + t * dh, gradOut + (b * T + t) * D + ho, sizeof(float) * std::size_t(dh));
        const float* __restrict P = probs + bh * T * T;
        // dS[i] = P[i] * (dP[i] - <dP[i], P[i]>) with dP[i] = dO[i] V^T.
        for (std::int64_t i = 0; i < T; ++i) {
            float* __restrict ds = dS + i * Tp;
            const float* __restrict p = P + i * T;
            if (i % 2 == 0) rowProducts(go + i * dh, std::min<std::int64_t>(2, T - i), vt, Tp, dh, ds);
            float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (std::int64_t j = 0; j < T; ++j) dot += ds[j] * p[j];
#pragma omp simd
            for (std::int64_t j = 0; j < T; ++j) ds[j] = p[j] * (ds[j] - dot);
        }
        float* gB = gradQkv + b * T * 3 * D;
        for (std::int64_t i = 0; i < T; ++i) {  // dQ[i] = scale * dS[i] K (rows of dS)
            float* dq = gB + i * 3 * D + ho;
            weightedRowSum<DH>(dS + i * Tp, 1, k, T, dh, dq);
            for (std::int64_t c = 0; c < dh; ++c) dq[c] *= s.scale;
        }
        for (std::int64_t j = 0; j < T; ++j) {  // dK[j] = dS[:, j]^T (scale Q); dV[j] = P[:, j]^T dO
            weightedRowSum<DH>(dS + j, Tp, q, T, dh, tmp);
            std::memcpy(gB + j * 3 * D + D + ho, tmp, sizeof(float) * std::size_t(dh));
            weightedRowSum<DH>(P + j, T, go, T, dh, tmp);
            std::memcpy(gB + j * 3 * D + 2 * D + ho, tmp, sizeof(float) * std::size_t(dh));
        }
    }
}

}  // namespace

template <bool Causal>
void forwardFor(const Shape& s, const float* qkv, float* probs, float* out, std::int64_t begin, std::int64_t end) {
    switch (s.dh) {
    case 6: return forwardImpl<6, Causal>(s, qkv, probs, out, begin, end);
    case 8: return forwardImpl<8, Causal>(s, qkv, probs, out, begin, end);
    case 12: return forwardImpl<12, Causal>(s, qkv, probs, out, begin, end);
    case 16: return forwardImpl<16, Causal>(s, qkv, probs, out, begin, end);
    case 24: return forwardImpl<24, Causal>(s, qkv, probs, out, begin, end);
    case 48: return forwardImpl<48, Causal>(s, qkv, probs, out, begin, end);
    case 32: return forwardImpl<32, Causal>(s, qkv, probs, out, begin, end);
    case 64: return forwardImpl<64, Causal>(s, qkv, probs, out, begin, end);
    case 96: return forwardImpl<96, Causal>(s, qkv, probs, out, begin, end);
    case 128: return forwardImpl<128, Causal>(s, qkv, probs, out, begin, end);
    default: return forwardImpl<0, Causal>(s, qkv, probs, out, begin, end);
    }
}

void forward(const Shape& s, const float* qkv, float* probs, float* out, std::int64_t begin,
             std::int64_t end) {
    if (s.causal) return forwardFor<true>(s, qkv, probs, out, begin, end);
    return forwardFor<false>(s, qkv, probs, out, begin, end);
}

void backward(const Shape& s, const float* qkv, const float* probs, const float* gradOut,
              float* gradQkv, std::int64_t begin, std::int64_t end) {
    switch (s.dh) {
    case 6: return backwardImpl<6>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 8: return backwardImpl<8>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 12: return backwardImpl<12>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 16: return backwardImpl<16>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 24: return backwardImpl<24>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 48: return backwardImpl<48>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 32: return backwardImpl<32>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 64: return backwardImpl<64>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 96: return backwardImpl<96>(s, qkv, probs, gradOut, gradQkv, begin, end);
    case 128: return backwardImpl<128>(s, qkv, probs, gradOut, gradQkv, begin, end);
    default: return backwardImpl<0>(s, qkv, probs, gradOut, gradQkv, begin, end);
    }
}

void softmaxRows(const Shape& s, float* scores, std::int64_t begin, std::int64_t end) {
    const std::int64_t T = s.T;
    const float scale = s.scale;
    for (std::int64_t r = begin; r < end; ++r) {
        float* __restrict row = scores + r * T;
        const std::int64_t keys = s.causal ? r % T + 1 : T;
        float mx = row[0] * scale;
#pragma omp simd reduction(max : mx)
        for (std::int64_t j = 0; j < keys; ++j) mx = row[j] * scale > mx ? row[j] * scale : mx;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (std::int64_t j = 0; j < keys; ++j) {
            const float e = expNonPositive(row[j] * scale - mx);
            row[j] = e;
            sum += e;
        }
        const float inv = 1.0f / sum;
#pragma omp simd
        for (std::int64_t j = 0; j < keys; ++j) row[j] *= inv;
        for (std::int64_t j = keys; j < T; ++j) row[j] = 0.0f;
    }
}

void softmaxGradRows(const Shape& s, const float* P, float* dP, std::int64_t begin, std::int64_t end) {
    const std::int64_t T = s.T;
    const float scale = s.scale;
    for (std::int64_t r = begin; r < end; ++r) {
        const float* __restrict p = P + r * T;
        float* __restrict g = dP + r * T;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (std::int64_t j = 0; j < T; ++j) dot += g[j] * p[j];
#pragma omp simd
        for (std::int64_t j = 0; j < T; ++j) g[j] = p[j] * (g[j] - dot) * scale;
    }
}

}  // namespace plateau::attn::PLATEAU_ATTN_NS
