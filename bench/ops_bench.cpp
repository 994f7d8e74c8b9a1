// plateau-bench-ops: times the pieces of a training step (fused vs plain attention, the whole
// forward/backward/optimiser) at a given width, to see where a step's time goes.
// usage: plateau-bench-ops [width=64] [batch=256] [n=7] [layers=4] [heads=8] [reps=5]
#include <torch/torch.h>

#include "config.h"
#include "model/fast_linear.h"
#include "model/fused_layers.h"
#include "model/fused_attention.h"
#include "precision.h"
#include "runtime_env.h"
#include "experiments/matrix_completion/mc_experiment.h"
#include "train/trainer.h"

#include "bench_timing.h"

#include <QCoreApplication>
#include <chrono>
#include <cstdio>

using namespace plateau;

using bench::timeMs;

int main(int argc, char** argv) {
    prepareProcess(argc, argv);
    QCoreApplication app(argc, argv);
    auto arg = [&](int i, int def) { return bench::positiveArg(argc, argv, i, def, "plateau-bench-ops [width=64] [batch=256] [n=7] [layers=4] [heads=8] [reps=5]"); };
    const int width = arg(1, 64), batch = arg(2, 256), n = arg(3, 7), layers = arg(4, 4), heads = arg(5, 8),
              reps = arg(6, 5);
    const RuntimeReport rt = configureRuntime(0);
    std::printf("%s\nwidth %d batch %d T %d heads %d\n", qPrintable(rt.summary()), width, batch, n * n, heads);
    const int T = n * n, dh = width / heads;
    auto qkv = torch::randn({batch, T, 3 * width}).requires_grad_();
    auto gradOut = torch::randn({batch, T, width});
    const double fused = timeMs([&] {
        auto o = fusedSelfAttention(qkv, heads);
        o[0].backward(gradOut);
    }, reps);
    const double plain = timeMs([&] {
        auto parts = qkv.split(width, -1);
        auto split = [&](const torch::Tensor& x) { return x.reshape({batch, T, heads, dh}).transpose(1, 2); };
        auto s = torch::matmul(split(parts[0]), split(parts[1]).transpose(-2, -1)) / std::sqrt(double(dh));
        auto ctx = torch::matmul(torch::softmax(s, -1), split(parts[2])).transpose(1, 2).reshape({batch, T, width});
        ctx.backward(gradOut);
    }, reps);
    std::printf("attention fwd+bwd, one layer: fused %.2f ms, plain %.2f ms (%.2fx)\n", fused, plain, plain / fused);
    if (bf16Support().native) {
        const double b16 = timeMs([&] {
            auto o = bf16SelfAttention(qkv, heads);
            o[0].backward(gradOut);
        }, reps);
        std::printf("attention fwd+bwd, one layer, bf16 products (train.precision = bf16 from head dim %ld): %.2f ms (%.2fx the fused fp32 kernel)\n",
                    long(kBf16AttentionMinHeadDim), b16, fused / b16);
    }

    {
        const int ffn = 4 * width;
        auto x = torch::randn({batch, T, ffn}).requires_grad_();
        auto g = torch::randn({batch, T, ffn});
        std::printf("gelu fwd+bwd (%d x %d): %.2f ms\n", batch * T, ffn, timeMs([&] { torch::gelu(x).backward(g); }, reps));
        auto h = torch::randn({batch, T, width}).requires_grad_();
        auto r = torch::randn({batch, T, width});
        auto w = torch::ones({width}).requires_grad_(), bias = torch::zeros({width}).requires_grad_();
        std::printf("residual+layernorm fwd+bwd: %.2f ms\n", timeMs([&] {
            torch::layer_norm(h + r, {width}, w, bias, 1e-12).backward(torch::ones_like(r)); }, reps));
        auto W1 = torch::randn({ffn, width}).requires_grad_(), W2 = torch::randn({width, ffn}).requires_grad_();
        auto Wqkv = torch::randn({3 * width, width}).requires_grad_(), Wo = torch::randn({width, width}).requires_grad_();
        auto bq = torch::zeros({3 * width}).requires_grad_(), bo = torch::zeros({width}).requires_grad_();
        auto b1 = torch::zeros({ffn}).requires_grad_(), b2 = torch::zeros({width}).requires_grad_();
        const auto gw0 = torch::randn({batch, T, width});
        std::printf("MLP (up, GELU, down) fwd+bwd, %d x %d x %d: fused %.2f ms, oneDNN linears + torch::gelu %.2f ms\n",
                    batch * T, width, ffn,
                    timeMs([&] { fusedGeluMlp(h, W1, b1, W2, b2, torch::Tensor()).backward(gw0); }, reps),
                    timeMs([&] { fastLinear(torch::gelu(fastLinear(h, W1, b1)), W2, b2).backward(gw0); }, reps));
        std::printf("out-projection + residual + layernorm fwd+bwd: fused %.2f ms, separate %.2f ms\n",
                    timeMs([&] { fusedLayerNorm(fastLinear(h, Wo, bo, r), w, bias, 1e-12).backward(gw0); }, reps),
                    timeMs([&] { torch::layer_norm(r + fastLinear(h, Wo, bo), {width}, w, bias, 1e-12).backward(gw0); }, reps));
        for (bool dnn : {false, true}) {
            auto lin = [&](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
                return dnn ? fastLinear(x, w, b) : torch::linear(x, w, b);
            };
            auto gq = torch::randn({batch, T, 3 * width}), gw = torch::randn({batch, T, width});
            std::printf("linears of one layer fwd+bwd (qkv, o, ffn up+down), %s: %.2f ms\n", dnn ? "oneDNN" : "BLAS",
                        timeMs([&] {
                            torch::autograd::backward({lin(h, Wqkv, bq), lin(h, Wo, bo), lin(lin(h, W1, b1), W2, b2)},
                                                      {gq, gw, gw});
                        }, reps));
        }
    }
    RunConfig cfg = loadPreset("paper").value();
    for (const auto& [key, v] : std::initializer_list<std::pair<const char*, int>>{
             {"task.n", n}, {"task.batch_size", batch}, {"model.width", width}, {"model.ffn", 4 * width},
             {"model.layers", layers}, {"model.heads", heads}})
        if (Status st = cfg.set(key, v); !st) return std::fprintf(stderr, "%s\n", qPrintable(st.error())), 2;
    cfg.train.evalEvery = 0;
    auto without = [](bool KernelOptions::*off) {
        KernelOptions k;
        k.*off = false;
        return k;
    };
    KernelOptions noDnn = without(&KernelOptions::oneDnnLinear);
    noDnn.fusedMlp = false;  // the fused MLP runs on oneDNN's GEMM
    const std::vector<std::pair<const char*, KernelOptions>> variants = {
        {"all fast kernels", KernelOptions{}},
        {"no fused MLP", without(&KernelOptions::fusedMlp)},
        {"no fused norm/resid", without(&KernelOptions::fusedNorm)},
        {"no oneDNN linears", noDnn},
        {"no fused attention", without(&KernelOptions::fusedAttention)},
        {"plain LibTorch ops", KernelOptions::plain()}};
    for (const auto& [name, k] : variants) {
        Trainer t(cfg);
        static_cast<McExperiment&>(t.experiment()).model()->setKernels(k);
        std::printf("training step, %-20s %.1f ms\n", name, timeMs([&] { t.step(); }, reps));
    }
    return 0;
}
