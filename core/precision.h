// train.precision (issue 16): fp32 | bf16 | auto. bf16 means the models' linear layers (Q/K/V, the
// attention output, the MLP, a decoder's output head) multiply bf16 copies of their inputs and
// fp32 master weights with fp32 accumulation and an fp32 result plus the fp32 bias (oneDNN's
// matmul primitive, model/bf16_gemm.h; the backward multiplies bf16 copies of the gradient and
// writes fp32 gradients); embeddings, LayerNorm, GELU, softmax, attention's own matmuls, the
// loss, gradients' accumulation and the optimiser state stay fp32. bf16 runs natively where the
// CPU has bf16 instructions (AVX512-BF16 or AMX-BF16, and oneDNN's effective ISA reaches them).
// `auto` is bf16 only where bf16 is the faster choice: with AMX matrix units (amx_bf16 and
// oneDNN's ISA avx512_core_amx; there the paper's step ran 2.5x faster, bench/README.md). With
// AVX512-BF16 alone oneDNN 2.6's bf16 kernels ran at 0.5-0.65x its fp32 ones (bench/README,
// "Precision"), so `auto` takes fp32 there and an explicit bf16 warns. The resolved
// value is what a run records in config.json. Asking for bf16 on a CPU without them is an error,
// not a silent slow emulation; PLATEAU_BF16_EMULATE=1 allows it explicitly (tests of the numerics
// on such machines; bf16Gemm then widens the bf16 operands and multiplies in fp32), with a
// warning. No torch (oneDNN's C API for its ISA).
#pragma once

#include "result.h"

#include <QString>
#include <QStringList>

namespace plateau {

struct Bf16Support {
    bool native = false;     // bf16 instructions usable (flags and oneDNN's ISA)
    bool matrixUnits = false;  // AMX-BF16 usable: where bf16 GEMMs beat fp32's (auto picks bf16)
    bool emulated = false;   // PLATEAU_BF16_EMULATE=1: bf16 numerics allowed without them (slow)
    QString cpu;             // /proc/cpuinfo "model name"
    QStringList flags;       // of avx512_bf16, amx_bf16, amx_tile: those the CPU has
    QString onednnIsa;       // oneDNN's effective ISA, in words
    QString describe() const;  // one line: CPU, flags, oneDNN ISA
    // Empty, or why bf16 is expected to be slower than fp32 here (native without AMX, emulated).
    QString slowWarning() const;
};

// What this machine supports (read once; cheap afterwards).
const Bf16Support& bf16Support();

// The precision a run with `requested` (fp32 | bf16 | auto) trains in on a machine with `s`;
// errors name `source` and train.precision.
Result<QString> resolvePrecision(const QString& requested, const Bf16Support& s, const QString& source);

}  // namespace plateau
