// plateau-bench-gemm: the linear layer's forward GEMM in each of Plateau's paths, at the shapes
// of quick, width 256 and paper, in one run: fp32 through oneDNN (fastLinear, what fp32 training
// uses), fp32 through the system BLAS (torch::linear), and bf16 (bf16Linear, train.precision =
// bf16: bf16 copies, fp32 accumulation and result; the casts of x and W included). Prints ms, GFLOP/s and bf16 / fp32 speed, so a machine
// shows whether bf16 is the faster choice there (precision.h: auto takes it only with AMX).
// usage: plateau-bench-gemm [reps=5]
#include <torch/torch.h>

#include "model/bf16_gemm.h"
#include "model/fast_linear.h"
#include "precision.h"
#include "runtime_env.h"

#include "bench_timing.h"

#include <QCoreApplication>
#include <cstdio>

using namespace plateau;

int main(int argc, char** argv) {
    prepareProcess(argc, argv);
    QCoreApplication app(argc, argv);
    const int reps = bench::positiveArg(argc, argv, 1, 5, "plateau-bench-gemm [reps=5]");
    const RuntimeReport rt = configureRuntime(0);
    std::printf("%s\n%s\n", qPrintable(rt.summary()), qPrintable(bf16Support().describe()));
    const bool bf16 = bf16Support().native || bf16Support().emulated;
    struct Shape { const char* what; int64_t rows, in, out; };
    const Shape shapes[] = {
        {"quick QKV", 6400, 48, 144},     {"quick MLP up", 6400, 48, 192}, {"quick MLP down", 6400, 192, 48},
        {"width 256 MLP up", 6272, 256, 1024}, {"paper QKV part", 12544, 768, 768},
        {"paper MLP up", 12544, 768, 3072}, {"paper MLP down", 12544, 3072, 768},
    };
    std::printf("%-18s %22s %12s %12s %12s %10s\n", "shape", "rows x in x out", "oneDNN fp32", "BLAS fp32", "bf16",
                "bf16/fp32");
    torch::NoGradGuard noGrad;
    for (const Shape& s : shapes) {
        const auto x = torch::randn({s.rows, s.in}), w = torch::randn({s.out, s.in}), b = torch::zeros({s.out});
        const double flop = 2.0 * double(s.rows) * double(s.in) * double(s.out);
        const int r = flop > 1e10 ? std::max(1, reps / 2) : reps * 4;
        const double f = bench::timeMs([&] { fastLinear(x, w, b); }, r);
        const double o = bench::timeMs([&] { torch::linear(x, w, b); }, r);
        const double h = bf16 ? bench::timeMs([&] { bf16Linear(x, w, b); }, r) : 0.0;
        auto gf = [&](double ms) { return flop / ms / 1e6; };
        char shape[64];
        std::snprintf(shape, sizeof shape, "%ld x %ld x %ld", long(s.rows), long(s.in), long(s.out));
        if (bf16)
            std::printf("%-18s %22s %6.2f ms %3.0fG %6.2f ms %3.0fG %6.2f ms %3.0fG %9.2fx\n", s.what, shape, f, gf(f), o, gf(o),
                        h, gf(h), f / h);
        else
            std::printf("%-18s %22s %6.2f ms %3.0fG %6.2f ms %3.0fG %12s %10s\n", s.what, shape, f, gf(f), o, gf(o), "-", "-");
    }
    if (bf16)
        std::printf("bf16 GEMM implementation (oneDNN): %s\n", bf16GemmImplementation(false, true, 6400, 144, 48));
    if (!bf16) std::printf("bf16: skipped (no bf16 instructions on this CPU; PLATEAU_BF16_EMULATE=1 times the emulation)\n");
    return 0;
}
