#include "model/fast_linear.h"

#include <oneapi/dnnl/dnnl.h>

namespace plateau {

void sgemm(char ta, char tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    const dnnl_status_t st = dnnl_sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    TORCH_CHECK(st == dnnl_success, "dnnl_sgemm failed with status ", int(st));
}

namespace {

// y = residual + bias + x W^T; bias and residual may each be undefined (absent). The residual of
// a transformer block enters as the GEMM's starting C (beta = 1) instead of a separate add.
class OneDnnLinearFn : public torch::autograd::Function<OneDnnLinearFn> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& xIn,
                                 const torch::Tensor& weightIn, const torch::Tensor& bias,
                                 const torch::Tensor& residual) {
        const int64_t in = weightIn.size(1), out = weightIn.size(0);
        const torch::Tensor x = xIn.reshape({-1, in}).contiguous();  // (N, in)
        const torch::Tensor w = weightIn.contiguous();               // (out, in)
        const int64_t rows = x.size(0);
        torch::Tensor y;
        float beta = 1.0f;
        if (present(residual)) {
            TORCH_CHECK(residual.numel() == rows * out, "fastLinear: residual has ", residual.numel(),
                        " elements, the output ", rows * out);
            const torch::Tensor r = residual.reshape({rows, out});
            y = present(bias) ? torch::add(r, bias) : r.clone(at::MemoryFormat::Contiguous);
        } else if (present(bias)) {
            y = bias.expand({rows, out}).contiguous();
        } else {
            y = torch::empty({rows, out}, x.options());
            beta = 0.0f;
        }
        sgemm('N', 'T', rows, out, in, x.data_ptr<float>(), in, w.data_ptr<float>(), in, beta,
              y.data_ptr<float>(), out);
        ctx->save_for_backward({x, w});
        ctx->saved_data["bias"] = present(bias);
        ctx->saved_data["residual"] = present(residual);
        auto sizes = xIn.sizes().vec();
        sizes.back() = out;
        return y.view(sizes);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];  // (N, in)
        const torch::Tensor& w = saved[1];  // (out, in)
        const int64_t rows = x.size(0), in = w.size(1), out = w.size(0);
        auto inSizes = grads[0].sizes().vec();
        inSizes.back() = in;
        const torch::Tensor g = grads[0].reshape({rows, out}).contiguous();
        auto gx = torch::empty({rows, in}, x.options());
        auto gw = torch::empty({out, in}, w.options());
        sgemm('N', 'N', rows, in, out, g.data_ptr<float>(), out, w.data_ptr<float>(), in, 0.0f,
              gx.data_ptr<float>(), in);  // dX = dY W
        sgemm('T', 'N', out, in, rows, g.data_ptr<float>(), out, x.data_ptr<float>(), in, 0.0f,
              gw.data_ptr<float>(), in);  // dW = dY^T X
        const bool hasBias = ctx->saved_data["bias"].toBool(), hasResidual = ctx->saved_data["residual"].toBool();
        return {gx.view(inSizes), gw, hasBias ? g.sum(0) : torch::Tensor(),
                hasResidual ? grads[0] : torch::Tensor()};
    }
};

}  // namespace

torch::Tensor fastLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    if (x.scalar_type() != torch::kFloat32 || weight.scalar_type() != torch::kFloat32 || x.numel() == 0)
        return torch::linear(x, weight, bias);
    return OneDnnLinearFn::apply(x, weight, orAbsent(bias), orAbsent(torch::Tensor()));
}

torch::Tensor fastLinear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& residual) {
    if (x.scalar_type() != torch::kFloat32 || weight.scalar_type() != torch::kFloat32 || x.numel() == 0 ||
        residual.scalar_type() != torch::kFloat32)
        return residual + torch::linear(x, weight, bias);
    return OneDnnLinearFn::apply(x, weight, orAbsent(bias), residual);
}

torch::Tensor bf16Linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    if (x.scalar_type() != torch::kFloat32 || weight.scalar_type() != torch::kFloat32 || x.numel() == 0)
        return torch::linear(x, weight, bias);
    // LibTorch's bf16 GEMM accumulates in fp32 (oneDNN's bf16 matmul where the CPU has the
    // instructions); its bf16 output is widened at once.
    const torch::Tensor y = torch::matmul(x.to(torch::kBFloat16), weight.to(torch::kBFloat16).t()).to(torch::kFloat32);
    return bias.defined() ? y + bias : y;
}

}  // namespace plateau
