#include "precision.h"

#include <oneapi/dnnl/dnnl.h>

#include <QFile>
#include <QRegularExpression>

namespace plateau {

namespace {
QString isaName(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return QString("0x%1").arg(unsigned(isa), 0, 16);
    }
}

Bf16Support detect() {
    Bf16Support s;
    QFile f("/proc/cpuinfo");
    QString flags;
    if (f.open(QIODevice::ReadOnly)) {
        const QString text = QString::fromLatin1(f.readAll());
        const auto model = QRegularExpression("^model name\\s*:\\s*(.*)$", QRegularExpression::MultilineOption).match(text);
        if (model.hasMatch()) s.cpu = model.captured(1).trimmed();
        const auto fl = QRegularExpression("^flags\\s*:\\s*(.*)$", QRegularExpression::MultilineOption).match(text);
        if (fl.hasMatch()) flags = " " + fl.captured(1) + " ";
    }
    for (const char* k : {"avx512_bf16", "amx_bf16", "amx_tile"})
        if (flags.contains(QString(" ") + k + " ")) s.flags << k;
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    s.onednnIsa = isaName(isa);
    // The ISA values are bit sets: a level's bits within the effective ISA's.
    auto reaches = [isa](dnnl_cpu_isa_t level) { return (unsigned(isa) & unsigned(level)) == unsigned(level); };
    s.native = reaches(dnnl_cpu_isa_avx512_core_bf16) && (s.flags.contains("avx512_bf16") || s.flags.contains("amx_bf16"));
    s.matrixUnits = s.native && reaches(dnnl_cpu_isa_avx512_core_amx) && s.flags.contains("amx_bf16");
    s.emulated = !s.native && qEnvironmentVariable("PLATEAU_BF16_EMULATE") == "1";
    return s;
}
}  // namespace

QString Bf16Support::describe() const {
    return QString("%1; bf16 flags: %2; oneDNN ISA: %3")
        .arg(cpu.isEmpty() ? QString("unknown CPU") : cpu, flags.isEmpty() ? QString("none") : flags.join(" "), onednnIsa);
}

QString Bf16Support::slowWarning() const {
    if (emulated && !native)
        return "bf16 emulated (PLATEAU_BF16_EMULATE=1): the numerics of bf16, far slower than fp32 on this CPU";
    if (native && !matrixUnits)
        return "bf16 without AMX matrix units: oneDNN's bf16 GEMM is slower than its fp32 one on AVX512-BF16 alone "
               "(0.4-0.6x, bench/README \"Precision\"); fp32 is the faster choice here";
    return {};
}

const Bf16Support& bf16Support() {
    static const Bf16Support s = detect();
    return s;
}

Result<QString> resolvePrecision(const QString& requested, const Bf16Support& s, const QString& source) {
    if (requested == "fp32") return QString("fp32");
    if (requested == "auto") return QString(s.matrixUnits ? "bf16" : "fp32");
    if (requested == "bf16") {
        if (s.native || s.emulated) return QString("bf16");
        return Error{source + ": train.precision: bf16 needs bf16 matrix instructions (AVX512-BF16 or AMX-BF16), which this "
                              "machine lacks (" + s.describe() + "); use fp32, or auto to take bf16 only where it is the faster choice (AMX)"};
    }
    return Error{source + ": train.precision: \"" + requested + "\" is not one of fp32, bf16, auto"};
}

}  // namespace plateau
