#include "model/fused_layers.h"

#include "model/fast_linear.h"
#include "model/pointwise_kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace plateau {
namespace {

// Rows [0, rows) in `chunks` contiguous parts, one per thread: part c is [begin(c), begin(c + 1)).
struct RowSplit {
    std::int64_t rows, chunks;
    std::int64_t begin(std::int64_t c) const { return rows * c / chunks; }
};

RowSplit splitRows(std::int64_t rows, std::int64_t minRowsPerChunk) {
    const std::int64_t threads = std::max<std::int64_t>(1, at::get_num_threads());
    return {rows, std::clamp<std::int64_t>(rows / std::max<std::int64_t>(1, minRowsPerChunk), 1, threads)};
}

// fn(c) for every chunk, each on its own thread (at::parallel_for with one chunk per task).
template <class Fn>
void forEachChunk(const RowSplit& s, const Fn& fn) {
    at::parallel_for(0, s.chunks, 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t c = b; c < e; ++c) fn(c);
    });
}

// acc (chunks, n) -> (n): summed in chunk order (the same result for the same thread count).
torch::Tensor sumChunks(const torch::Tensor& acc) {
    torch::Tensor out = acc[0].clone();
    for (std::int64_t c = 1; c < acc.size(0); ++c) out += acc[c];
    return out;
}

const float* cdata(const torch::Tensor& t) { return t.data_ptr<float>(); }

class GeluMlpFn : public torch::autograd::Function<GeluMlpFn> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& w1In, const torch::Tensor& b1In, const torch::Tensor& w2In,
                                 const torch::Tensor& b2, const torch::Tensor& residual, bool tanhForm) {
        const std::int64_t D = w1In.size(1), F = w1In.size(0);
        const torch::Tensor x = xIn.reshape({-1, D}).contiguous();
        const torch::Tensor w1 = w1In.contiguous(), w2 = w2In.contiguous();
        const torch::Tensor b1 = present(b1In) ? b1In.contiguous() : b1In;
        const std::int64_t rows = x.size(0);
        // y starts as residual + b2 (the second GEMM adds into it).
        torch::Tensor y;
        if (present(residual)) {
            const torch::Tensor r = residual.reshape({rows, D});
            y = present(b2) ? torch::add(r, b2) : r.clone(at::MemoryFormat::Contiguous);
        } else {
            y = present(b2) ? b2.expand({rows, D}).contiguous() : torch::zeros({rows, D}, x.options());
        }
        torch::Tensor u = torch::empty({rows, F}, x.options());  // pre-activation, kept for the backward
        const RowSplit split = splitRows(rows, 64);
        const std::int64_t block = mlpRowBlock(F, (rows + split.chunks - 1) / split.chunks);
        torch::Tensor scratch = torch::empty({split.chunks, block * F}, x.options());
        const auto& k = pw::kernels();
        forEachChunk(split, [&](std::int64_t c) {
            float* a = scratch.data_ptr<float>() + c * block * F;
            for (std::int64_t r0 = split.begin(c), end = split.begin(c + 1); r0 < end; r0 += block) {
                const std::int64_t n = std::min(block, end - r0);
                float* ub = u.data_ptr<float>() + r0 * F;
                if (present(b1))
                    for (std::int64_t i = 0; i < n; ++i) std::copy_n(cdata(b1), F, ub + i * F);
                sgemm('N', 'T', n, F, D, cdata(x) + r0 * D, D, cdata(w1), D, present(b1) ? 1.0f : 0.0f, ub, F);  // u = x W1^T + b1
                (tanhForm ? k.geluTanhForward : k.geluForward)(ub, a, n * F);
                sgemm('N', 'T', n, D, F, a, F, cdata(w2), F, 1.0f, y.data_ptr<float>() + r0 * D, D);  // y += a W2^T
            }
        });
        ctx->save_for_backward({x, w1, w2, u});
        ctx->saved_data["tanh"] = tanhForm;
        ctx->saved_data["b1"] = present(b1);
        ctx->saved_data["b2"] = present(b2);
        ctx->saved_data["residual"] = present(residual);
        return y.view(xIn.sizes());
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &x = saved[0], &w1 = saved[1], &w2 = saved[2], &u = saved[3];
        const std::int64_t D = w1.size(1), F = w1.size(0), rows = x.size(0);
        const torch::Tensor gy = grads[0].reshape({rows, D}).contiguous();
        const RowSplit split = splitRows(rows, 64);
        const std::int64_t block = mlpRowBlock(F, (rows + split.chunks - 1) / split.chunks);
        const auto opts = x.options();
        torch::Tensor gx = torch::empty({rows, D}, opts);
        // Per chunk: dW1 (F, D), dW2 (D, F), db1 (F), db2 (D), and the (block, F) buffers.
        torch::Tensor gw1c = torch::empty({split.chunks, F * D}, opts), gw2c = torch::empty({split.chunks, D * F}, opts);
        torch::Tensor gb1c = torch::zeros({split.chunks, F}, opts), gb2c = torch::zeros({split.chunks, D}, opts);
        torch::Tensor scratch = torch::empty({split.chunks, 3 * block * F}, opts);
        const auto& k = pw::kernels();
        const bool tanhForm = ctx->saved_data["tanh"].toBool();
        forEachChunk(split, [&](std::int64_t c) {
            float* ga = scratch.data_ptr<float>() + c * 3 * block * F;
            float* a = ga + block * F;
            float* gu = a + block * F;
            float *gw1 = gw1c.data_ptr<float>() + c * F * D, *gw2 = gw2c.data_ptr<float>() + c * D * F;
            float *gb1 = gb1c.data_ptr<float>() + c * F, *gb2 = gb2c.data_ptr<float>() + c * D;
            const std::int64_t first = split.begin(c), end = split.begin(c + 1);
            for (std::int64_t r0 = first; r0 < end; r0 += block) {
                const std::int64_t n = std::min(block, end - r0);
                const float beta = r0 == first ? 0.0f : 1.0f;
                const float* gyb = cdata(gy) + r0 * D;
                const float* ub = cdata(u) + r0 * F;
                sgemm('N', 'N', n, F, D, gyb, D, cdata(w2), F, 0.0f, ga, F);      // dA = dY W2
                (tanhForm ? k.geluTanhBackward : k.geluBackward)(ub, ga, gu, a, n * F);                            // dU = dA GELU'(U); A again
                sgemm('T', 'N', D, F, n, gyb, D, a, F, beta, gw2, F);              // dW2 += dY^T A
                sgemm('T', 'N', F, D, n, gu, F, cdata(x) + r0 * D, D, beta, gw1, D);  // dW1 += dU^T X
                sgemm('N', 'N', n, D, F, gu, F, cdata(w1), D, 0.0f, gx.data_ptr<float>() + r0 * D, D);  // dX = dU W1
                for (std::int64_t i = 0; i < n; ++i) {
                    const float* gur = gu + i * F;
                    const float* gyr = gyb + i * D;
#pragma omp simd
                    for (std::int64_t j = 0; j < F; ++j) gb1[j] += gur[j];
#pragma omp simd
                    for (std::int64_t j = 0; j < D; ++j) gb2[j] += gyr[j];
                }
            }
        });
        const bool hasB1 = ctx->saved_data["b1"].toBool();
        const bool hasB2 = ctx->saved_data["b2"].toBool(), hasResidual = ctx->saved_data["residual"].toBool();
        auto inSizes = grads[0].sizes().vec();
        return {gx.view(inSizes),
                sumChunks(gw1c).view({F, D}),
                hasB1 ? sumChunks(gb1c) : torch::Tensor(),
                sumChunks(gw2c).view({D, F}),
                hasB2 ? sumChunks(gb2c) : torch::Tensor(),
                hasResidual ? grads[0] : torch::Tensor(), torch::Tensor()};
    }
};

class LayerNormFn : public torch::autograd::Function<LayerNormFn> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& weightIn, const torch::Tensor& biasIn, double eps) {
        const std::int64_t D = xIn.size(-1);
        const torch::Tensor x = xIn.reshape({-1, D}).contiguous();
        const torch::Tensor w = weightIn.contiguous(), b = biasIn.contiguous();
        const std::int64_t rows = x.size(0);
        torch::Tensor y = torch::empty_like(x), stats = torch::empty({2, rows}, x.options());  // mean, rstd
        const RowSplit split = splitRows(rows, 256);
        const auto fn = pw::kernels().normForward;
        forEachChunk(split, [&](std::int64_t c) {
            const std::int64_t r0 = split.begin(c), n = split.begin(c + 1) - r0;
            fn(cdata(x) + r0 * D, cdata(w), cdata(b), float(eps), n, D, y.data_ptr<float>() + r0 * D,
               stats.data_ptr<float>() + r0, stats.data_ptr<float>() + rows + r0);
        });
        ctx->save_for_backward({x, w, stats});
        return y.view(xIn.sizes());
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &x = saved[0], &w = saved[1], &stats = saved[2];
        const std::int64_t rows = x.size(0), D = x.size(1);
        const torch::Tensor gy = grads[0].reshape({rows, D}).contiguous();
        torch::Tensor gx = torch::empty_like(x);
        const RowSplit split = splitRows(rows, 256);
        torch::Tensor acc = torch::zeros({split.chunks, 2 * D}, x.options());  // per chunk: dweight, dbias
        const auto fn = pw::kernels().normBackward;
        forEachChunk(split, [&](std::int64_t c) {
            const std::int64_t r0 = split.begin(c), n = split.begin(c + 1) - r0;
            float* a = acc.data_ptr<float>() + c * 2 * D;
            fn(cdata(x) + r0 * D, cdata(w), cdata(stats) + r0, cdata(stats) + rows + r0, cdata(gy) + r0 * D, n, D,
               gx.data_ptr<float>() + r0 * D, a, a + D);
        });
        const torch::Tensor sums = sumChunks(acc);
        return {gx.view(grads[0].sizes()), sums.slice(0, 0, D), sums.slice(0, D), torch::Tensor()};
    }
};

// train.precision = bf16's MLP: the same function as GeluMlpFn with every product in bf16
// (bf16Gemm: bf16 operands, fp32 accumulation and result). Whole-tensor GEMMs (AMX runs large
// ones fastest); the element-wise passes run in row chunks, one per thread, and write the bf16
// operand of the next product directly: GELU(u) forward, dL/du backward (from the fp32 u).
class Bf16GeluMlpFn : public torch::autograd::Function<Bf16GeluMlpFn> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& w1In, const torch::Tensor& b1In, const torch::Tensor& w2In,
                                 const torch::Tensor& b2In, const torch::Tensor& residual, bool tanhForm) {
        const std::int64_t D = w1In.size(1), F = w1In.size(0);
        const torch::Tensor x = toBf16(xIn.reshape({-1, D})), w1 = toBf16(w1In), w2 = toBf16(w2In);
        const std::int64_t rows = x.size(0);
        const torch::Tensor b1 = present(b1In) ? b1In.contiguous() : torch::Tensor();
        const torch::Tensor b2 = present(b2In) ? b2In.contiguous() : torch::Tensor();
        torch::Tensor r;
        if (present(residual)) r = residual.reshape({rows, D}).contiguous();
        const auto f32 = xIn.options();
        torch::Tensor u = torch::empty({rows, F}, f32);  // pre-activation, kept for the backward
        bf16Gemm(false, true, rows, F, D, bf16Data(x), bf16Data(w1), b1.defined() ? cdata(b1) : nullptr, nullptr,
                 u.data_ptr<float>());
        torch::Tensor a = torch::empty({rows, F}, f32.dtype(torch::kBFloat16));
        const pw::KernelSet& k = pw::kernels();
        const auto gelu = tanhForm ? k.geluTanhForward : k.geluForward;
        const RowSplit split = splitRows(rows, 64);
        forEachChunk(split, [&](std::int64_t c) {
            constexpr std::int64_t block = 32;  // rows through an L1/L2-sized fp32 buffer
            std::vector<float> buf(std::size_t(block * F));
            for (std::int64_t r0 = split.begin(c); r0 < split.begin(c + 1); r0 += block) {
                const std::int64_t n = std::min(block, split.begin(c + 1) - r0) * F;
                gelu(cdata(u) + r0 * F, buf.data(), n);
                floatToBf16Range(buf.data(), bf16Data(a) + r0 * F, n);
            }
        });
        torch::Tensor y = torch::empty({rows, D}, f32);
        bf16Gemm(false, true, rows, D, F, bf16Data(a), bf16Data(w2), b2.defined() ? cdata(b2) : nullptr,
                 r.defined() ? r.data_ptr<float>() : nullptr, y.data_ptr<float>());
        ctx->save_for_backward({x, w1, w2, u, a});
        ctx->saved_data["tanh"] = tanhForm;
        ctx->saved_data["b1"] = present(b1In);
        ctx->saved_data["b2"] = present(b2In);
        ctx->saved_data["residual"] = present(residual);
        return y.view(xIn.sizes());
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &x = saved[0], &w1 = saved[1], &w2 = saved[2], &u = saved[3], &a = saved[4];
        const std::int64_t rows = x.size(0), D = x.size(1), F = w1.size(0);
        const torch::Tensor g32 = grads[0].reshape({rows, D}).contiguous();
        const torch::Tensor g = toBf16(g32);
        const auto f32 = g32.options();
        torch::Tensor ga = torch::empty({rows, F}, f32), gw2 = torch::empty({D, F}, f32);
        bf16Gemm(false, false, rows, F, D, bf16Data(g), bf16Data(w2), nullptr, nullptr, ga.data_ptr<float>());
        bf16Gemm(true, false, D, F, rows, bf16Data(g), bf16Data(a), nullptr, nullptr, gw2.data_ptr<float>());
        // dL/du = dL/da GELU'(u), in bf16 for the two products below; its column sums (b1's
        // gradient) in fp32, per chunk, summed in chunk order.
        torch::Tensor gu = torch::empty({rows, F}, f32.dtype(torch::kBFloat16));
        const pw::KernelSet& k = pw::kernels();
        const auto geluGrad = ctx->saved_data["tanh"].toBool() ? k.geluTanhBackward : k.geluBackward;
        const RowSplit split = splitRows(rows, 64);
        torch::Tensor acc = torch::zeros({split.chunks, F}, f32);
        forEachChunk(split, [&](std::int64_t c) {
            constexpr std::int64_t block = 32;
            std::vector<float> buf(std::size_t(block * F));
            float* sum = acc[c].data_ptr<float>();
            for (std::int64_t r0 = split.begin(c); r0 < split.begin(c + 1); r0 += block) {
                const std::int64_t m = std::min(block, split.begin(c + 1) - r0);
                geluGrad(cdata(u) + r0 * F, cdata(ga) + r0 * F, buf.data(), nullptr, m * F);
                for (std::int64_t i = 0; i < m; ++i)
                    for (std::int64_t j = 0; j < F; ++j) sum[j] += buf[std::size_t(i * F + j)];
                floatToBf16Range(buf.data(), bf16Data(gu) + r0 * F, m * F);
            }
        });
        torch::Tensor gx = torch::empty({rows, D}, f32), gw1 = torch::empty({F, D}, f32);
        bf16Gemm(false, false, rows, D, F, bf16Data(gu), bf16Data(w1), nullptr, nullptr, gx.data_ptr<float>());
        bf16Gemm(true, false, F, D, rows, bf16Data(gu), bf16Data(x), nullptr, nullptr, gw1.data_ptr<float>());
        return {gx.view(grads[0].sizes()),
                gw1,
                ctx->saved_data["b1"].toBool() ? sumChunks(acc) : torch::Tensor(),
                gw2,
                ctx->saved_data["b2"].toBool() ? g32.sum(0) : torch::Tensor(),
                ctx->saved_data["residual"].toBool() ? grads[0] : torch::Tensor(),
                torch::Tensor()};
    }
};

bool allFloat(std::initializer_list<const torch::Tensor*> ts) {
    for (const torch::Tensor* t : ts)
        if (t->defined() && t->scalar_type() != torch::kFloat32) return false;
    return true;
}

}  // namespace

std::int64_t mlpRowBlock(std::int64_t F, std::int64_t rowsPerThread) {
    if (F >= 1024) return std::max<std::int64_t>(1, rowsPerThread);
    const std::int64_t fit = (256 * 1024 / 4 / 3) / std::max<std::int64_t>(1, F);  // three buffers, 256 KiB
    return std::clamp<std::int64_t>(fit / 8 * 8, 64, std::max<std::int64_t>(64, rowsPerThread));
}

torch::Tensor fusedGeluMlp(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                           const torch::Tensor& w2, const torch::Tensor& b2, const torch::Tensor& residual,
                           GeluForm form) {
    TORCH_CHECK(w1.dim() == 2 && w2.dim() == 2 && w1.size(0) == w2.size(1) && w1.size(1) == w2.size(0) &&
                    x.size(-1) == w1.size(1) &&
                    (!b1.defined() || b1.numel() == w1.size(0)) && (!b2.defined() || b2.numel() == w2.size(0)),
                "fusedGeluMlp: shapes do not chain");
    if (!allFloat({&x, &w1, &b1, &w2, &b2, &residual}) || x.numel() == 0) {
        const torch::Tensor u = torch::linear(x, w1, b1);
        torch::Tensor y = torch::linear(form == GeluForm::Tanh ? torch::gelu(u, "tanh") : torch::gelu(u), w2, b2);
        return residual.defined() ? residual + y : y;
    }
    return GeluMlpFn::apply(x, w1, orAbsent(b1), w2, orAbsent(b2), orAbsent(residual), form == GeluForm::Tanh);
}

torch::Tensor bf16GeluMlp(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                          const torch::Tensor& w2, const torch::Tensor& b2, const torch::Tensor& residual,
                          GeluForm form) {
    TORCH_CHECK(w1.dim() == 2 && w2.dim() == 2 && w1.size(0) == w2.size(1) && w1.size(1) == w2.size(0) &&
                    x.size(-1) == w1.size(1) &&
                    (!b1.defined() || b1.numel() == w1.size(0)) && (!b2.defined() || b2.numel() == w2.size(0)),
                "bf16GeluMlp: shapes do not chain");
    if (!allFloat({&x, &w1, &b1, &w2, &b2, &residual}) || x.numel() == 0) return fusedGeluMlp(x, w1, b1, w2, b2, residual, form);
    return Bf16GeluMlpFn::apply(x, w1, orAbsent(b1), w2, orAbsent(b2), orAbsent(residual), form == GeluForm::Tanh);
}

torch::Tensor fusedLayerNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             double eps) {
    if (!allFloat({&x, &weight, &bias}) || x.numel() == 0 || !weight.defined() || !bias.defined())
        return torch::layer_norm(x, {x.size(-1)}, weight, bias, eps);
    return LayerNormFn::apply(x, weight, bias, eps);
}

}  // namespace plateau
