#include "model/fast_linear.h"

#include "model/bf16_gemm.h"

#include <oneapi/dnnl/dnnl.h>

namespace plateau {

void sgemm(char ta, char tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    const dnnl_status_t st = dnnl_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    TORCH_CHECK(st == dnnl_success, "dnnl_sgemm failed with status ", int(st));
}

torch::Tensor toBf16(const torch::Tensor& t) {
    const torch::Tensor src = t.contiguous();
    auto out = torch::empty(src.sizes(), src.options().dtype(torch::kBFloat16));
    floatToBf16(src.data_ptr<float>(), bf16Data(out), src.numel());
    return out;
}

namespace {

// The products of a linear layer in either precision. C (M, N) = op(A) op(B) (+ beta C for fp32),
// with A, B the saved operands: fp32 tensors through dnnl_sgemm, bf16 copies through bf16Gemm.
void product(bool bf16, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const torch::Tensor& A,
             const torch::Tensor& B, float* C) {
    if (bf16) return bf16Gemm(ta, tb, M, N, K, bf16Data(A), bf16Data(B), nullptr, nullptr, C);
    sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, A.data_ptr<float>(), ta ? M : K, B.data_ptr<float>(), tb ? K : N,
          0.0f, C, N);
}

// y = residual + bias + x W^T; bias and residual may each be undefined (absent), and enter the
// GEMM itself: fp32 as its starting C (beta = 1), bf16 as oneDNN post-ops. bf16: x and W are
// multiplied as bf16 copies (kept for the backward, which takes a bf16 copy of the gradient too)
// with fp32 accumulation and fp32 results (bf16_gemm.h).
class LinearFn : public torch::autograd::Function<LinearFn> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& weightIn, const torch::Tensor& bias,
                                 const torch::Tensor& residual, bool bf16) {
        const int64_t in = weightIn.size(1), out = weightIn.size(0);
        const torch::Tensor x2 = xIn.reshape({-1, in});
        const torch::Tensor x = bf16 ? toBf16(x2) : x2.contiguous();                    // (N, in)
        const torch::Tensor w = bf16 ? toBf16(weightIn) : weightIn.contiguous();         // (out, in)
        const int64_t rows = x.size(0);
        torch::Tensor r;
        if (present(residual)) {
            TORCH_CHECK(residual.numel() == rows * out, "linear: residual has ", residual.numel(),
                        " elements, the output ", rows * out);
            r = residual.reshape({rows, out});
        }
        torch::Tensor y;
        if (bf16) {
            const torch::Tensor b = present(bias) ? bias.contiguous() : torch::Tensor();
            if (r.defined()) r = r.contiguous();
            y = torch::empty({rows, out}, xIn.options());
            bf16Gemm(false, true, rows, out, in, bf16Data(x), bf16Data(w), b.defined() ? b.data_ptr<float>() : nullptr,
                     r.defined() ? r.data_ptr<float>() : nullptr, y.data_ptr<float>());
        } else {
            float beta = 1.0f;
            if (r.defined()) {
                y = present(bias) ? torch::add(r, bias) : r.clone(at::MemoryFormat::Contiguous);
            } else if (present(bias)) {
                y = bias.expand({rows, out}).contiguous();
            } else {
                y = torch::empty({rows, out}, x.options());
                beta = 0.0f;
            }
            sgemm('N', 'T', rows, out, in, x.data_ptr<float>(), in, w.data_ptr<float>(), in, beta,
                  y.data_ptr<float>(), out);
        }
        ctx->save_for_backward({x, w});
        ctx->saved_data["bias"] = present(bias);
        ctx->saved_data["residual"] = present(residual);
        ctx->saved_data["bf16"] = bf16;
        auto sizes = xIn.sizes().vec();
        sizes.back() = out;
        return y.view(sizes);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];  // (N, in)
        const torch::Tensor& w = saved[1];  // (out, in)
        const bool bf16 = ctx->saved_data["bf16"].toBool();
        const int64_t rows = x.size(0), in = w.size(1), out = w.size(0);
        auto inSizes = grads[0].sizes().vec();
        inSizes.back() = in;
        const torch::Tensor g32 = grads[0].reshape({rows, out}).contiguous();
        const torch::Tensor g = bf16 ? toBf16(g32) : g32;
        auto gx = torch::empty({rows, in}, g32.options());
        auto gw = torch::empty({out, in}, g32.options());
        product(bf16, false, false, rows, in, out, g, w, gx.data_ptr<float>());  // dX = dY W
        product(bf16, true, false, out, in, rows, g, x, gw.data_ptr<float>());   // dW = dY^T X
        const bool hasBias = ctx->saved_data["bias"].toBool(), hasResidual = ctx->saved_data["residual"].toBool();
        return {gx.view(inSizes), gw, hasBias ? g32.sum(0) : torch::Tensor(),
                hasResidual ? grads[0] : torch::Tensor(), torch::Tensor()};
    }
};

bool floats(const torch::Tensor& x, const torch::Tensor& weight) {
    return x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 && x.numel() > 0;
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, bool bf16) {
    if (!floats(x, weight)) return torch::linear(x, weight, bias);
    return LinearFn::apply(x, weight, orAbsent(bias), orAbsent(torch::Tensor()), bf16);
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     const torch::Tensor& residual, bool bf16) {
    if (!floats(x, weight) || residual.scalar_type() != torch::kFloat32) return residual + torch::linear(x, weight, bias);
    return LinearFn::apply(x, weight, orAbsent(bias), residual, bf16);
}

}  // namespace

torch::Tensor fastLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    return linear(x, weight, bias, false);
}

torch::Tensor fastLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& residual) {
    return linear(x, weight, bias, residual, false);
}

torch::Tensor bf16Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    return linear(x, weight, bias, true);
}

torch::Tensor bf16Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& residual) {
    return linear(x, weight, bias, residual, true);
}

}  // namespace plateau
