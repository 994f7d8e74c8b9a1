// plateau-bench-ops: times the pieces of a training step (fused vs plain attention, the whole
// forward/backward/optimiser) at a given width, to see where a step's time goes.
// usage: plateau-bench-ops [width=64] [batch=256] [n=7] [layers=4] [heads=8] [reps=5]
#include <torch/torch.h>

#include "config.h"
#include "model/fused_attention.h"
#include "runtime_env.h"
#include "train/trainer.h"

#include <QCoreApplication>
#include <chrono>
#include <cstdio>

using namespace plateau;

template <class F>
double timeMs(F&& f, int reps) {
    f();  // warm-up
    std::vector<double> ms;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

int main(int argc, char** argv) {
    prepareProcess(argc, argv);
    QCoreApplication app(argc, argv);
    auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
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

    RunConfig cfg = loadPreset("paper").value();
    cfg.task.n = n;
    cfg.task.batchSize = batch;
    cfg.model.width = width;
    cfg.model.ffn = 4 * width;
    cfg.model.layers = layers;
    cfg.model.heads = heads;
    cfg.train.evalEvery = 0;
    for (bool on : {true, false}) {
        Trainer t(cfg);
        t.model()->setFusedAttention(on);
        const double step = timeMs([&] { t.step(); }, reps);
        std::printf("training step (%s attention): %.1f ms\n", on ? "fused" : "plain", step);
    }
    return 0;
}
