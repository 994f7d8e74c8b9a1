// plateau-bench-decoder: where a decoder step's time goes at a given size: the fused causal
// attention against LibTorch's ops (one layer, forward and backward), and a whole forward /
// backward of DecoderLM with the fast kernels on and off, against the trainer's full step of the
// GPT matrix completion (metrics included).
// usage: plateau-bench-decoder [width=256] [batch=256] [T=98] [heads=2] [layers=2] [reps=3]
#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include "config.h"
#include "model/decoder_lm.h"
#include "model/fused_attention.h"
#include "runtime_env.h"
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
    auto arg = [&](int i, int def) { return bench::positiveArg(argc, argv, i, def, "plateau-bench-decoder [width=256] [batch=256] [T=98] [heads=2] [layers=2] [reps=3]"); };
    const int width = arg(1, 256), batch = arg(2, 256), T = arg(3, 98), heads = arg(4, 2), layers = arg(5, 2),
              reps = arg(6, 3);
    const RuntimeReport rt = configureRuntime(0);
    std::printf("%s\nwidth %d batch %d T %d heads %d layers %d\n", qPrintable(rt.summary()), width, batch, T, heads, layers);
    const int dh = width / heads;
    auto qkv = torch::randn({batch, T, 3 * width}).requires_grad_();
    auto gradOut = torch::randn({batch, T, width});
    const double fused = timeMs([&] { fusedSelfAttention(qkv, heads, true)[0].backward(gradOut); }, reps);
    const auto causal = torch::ones({T, T}, torch::kBool).tril();
    const double plain = timeMs([&] {
        auto parts = qkv.split(width, -1);
        auto split = [&](const torch::Tensor& x) { return x.reshape({batch, T, heads, dh}).transpose(1, 2); };
        auto s = torch::matmul(split(parts[0]), split(parts[1]).transpose(-2, -1)) / std::sqrt(double(dh));
        auto p = torch::softmax(s.masked_fill(~causal, -INFINITY), -1);
        torch::matmul(p, split(parts[2])).transpose(1, 2).reshape({batch, T, width}).backward(gradOut);
    }, reps);
    std::printf("causal attention fwd+bwd, one layer: fused %.1f ms, LibTorch %.1f ms (%.2fx)\n", fused, plain, plain / fused);

    DecoderDims d;
    d.width = width;
    d.ffn = 4 * width;
    d.heads = heads;
    d.layers = layers;
    d.vocabSize = 405;
    d.maxPositions = T + 1;
    DecoderLM m(d);
    torch::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
    m->resetParameters(gen);
    const auto tokens = torch::randint(0, 405, {batch, T});
    const auto target = torch::randint(0, 405, {batch * T});
    for (const auto& [name, att, lin] : {std::tuple{"all fast kernels:", true, true}, std::tuple{"no oneDNN linears:", true, false},
                                          std::tuple{"no fused attention:", false, true}, std::tuple{"LibTorch ops:", false, false}}) {
        m->setFastKernels(att, lin);
        const double ms = timeMs([&] {
            for (auto& p : m->parameters()) p.mutable_grad().reset();
            torch::nn::functional::cross_entropy(m->forward(tokens).logits.reshape({-1, 405}), target).backward();
        }, reps);
        std::printf("DecoderLM forward + CE + backward, %-20s %.1f ms\n", name, ms);
    }
    RunConfig cfg = loadPreset("paper-gpt").value();
    for (const auto& [key, v] : std::initializer_list<std::pair<const char*, int>>{
             {"model.width", width}, {"model.ffn", 4 * width}, {"model.heads", heads}, {"model.layers", layers}})
        if (Status st = cfg.set(key, v); !st) return std::fprintf(stderr, "%s\n", qPrintable(st.error())), 2;
    cfg.train.evalEvery = 0;
    Trainer t(cfg);
    std::printf("trainer step (gpt_matrix_completion, batch %d, metrics included): %.1f ms\n", cfg.task.i("batch_size"),
                timeMs([&] { t.step(); }, reps));
    return 0;
}
