// Nothing lost across the port to the experiment seam: matrix completion trains bit for bit as the
// code before it did (tests/fixtures/quick_300.csv, made by that code with
// tests/fixtures/make_v1_fixtures.sh), and a version-1 run folder made by it opens, decodes its
// snapshots, and resumes to reproduce the straight run (v1_run_60.csv). Kernels are pinned to
// AVX2 as when the fixtures were made; on a CPU of another model than the one recorded in
// fixtures.json the comparison is to 1e-6 relative instead of bit for bit (oneDNN's blocking
// follows the cache sizes), and the test says so. Bit for bit means with the kernels that code
// had (defaultKernels() without the fused MLP and LayerNorm of issue 16, which sum in another
// order); with every fast kernel on, each run is compared again to the round-off tolerance.
#include <torch/torch.h>

#include "config.h"
#include "model/bert_encoder.h"
#include "experiment_info.h"
#include "run/run_reader.h"
#include "run/run_store.h"
#include "runtime_env.h"
#include "train/trainer.h"
#include "train/training_session.h"
#include "test_files.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>

using namespace plateau;

namespace {
const QString kFixtures = PLATEAU_SOURCE_DIR "/tests/fixtures/";

struct Csv {
    QStringList header;
    std::vector<std::vector<double>> rows;  // NaN for empty cells
};
Csv readCsv(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(path));
    Csv c;
    c.header = QString::fromUtf8(f.readLine()).trimmed().split(',');
    while (!f.atEnd()) {
        const QStringList cells = QString::fromUtf8(f.readLine()).trimmed().split(',');
        std::vector<double> r;
        for (const QString& x : cells) r.push_back(x.isEmpty() ? NAN : x.toDouble());
        c.rows.push_back(r);
    }
    return c;
}
QString cpuModel() {
    QFile f("/proc/cpuinfo");
    f.open(QIODevice::ReadOnly);
    for (const QString& line : QString::fromUtf8(f.readAll()).split('\n'))
        if (line.startsWith("model name")) return line.section(':', 1).trimmed();
    return {};
}
bool hasCpuFlag(const QString& flag) {
    QFile f("/proc/cpuinfo");
    f.open(QIODevice::ReadOnly);
    for (const QString& line : QString::fromUtf8(f.readAll()).split('\n'))
        if (line.startsWith("flags")) return line.section(':', 1).split(' ', Qt::SkipEmptyParts).contains(flag);
    return false;
}
// Bit-for-bit only on the fixtures' kind of CPU: the same model name and the same AVX-512
// presence. ("AMD EPYC" names several generations; on one with AVX-512 the backward pass differs
// at ~1e-8 relative even with oneDNN and ATen pinned to AVX2, at HEAD before issue 15 as well.)
bool sameMachineKind() {
    QFile f(kFixtures + "fixtures.json");
    f.open(QIODevice::ReadOnly);
    const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
    const bool fixtureAvx512 = o["cpu_flags"].toString().split(' ').contains("avx512f");
    return o["cpu"].toString() == cpuModel() && hasCpuFlag("avx512f") == fixtureAvx512;
}
// On another kind of CPU float32 round-off differs and grows along the run: 1e-6 relative at the
// first steps, widening linearly (3e-4 at step 300).
bool equalOrClose(double got, double want, bool exact, qint64 step) {
    if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want);
    if (exact) return got == want;
    return std::abs(got - want) <= 1e-6 * double(1 + step) * std::max(1e-3, std::abs(want));
}
// Compares the metric rows (every column but the times) with the fixture's rows for the same steps.
void compareRows(const std::vector<StepMetrics>& rows, const std::vector<MetricColumn>& cols, const Csv& want,
                 qint64 fromStep, bool bitForBit = true) {
    const bool exact = bitForBit && sameMachineKind();
    if (!exact && bitForBit) qWarning("CPU \"%s\" is not the fixtures' kind of CPU: comparing to 1e-6 x (1 + step) relative", qPrintable(cpuModel()));
    int compared = 0;
    for (const StepMetrics& m : rows) {
        if (m.step < fromStep) continue;
        const std::vector<double>* w = nullptr;
        for (const auto& r : want.rows)
            if (qint64(r[0]) == m.step) w = &r;
        QVERIFY2(w, qPrintable(QString("step %1 not in the fixture").arg(m.step)));
        auto check = [&](const QString& key, double got) {
            const int i = int(want.header.indexOf(key));
            QVERIFY2(i >= 0, qPrintable("fixture has no column " + key));
            QVERIFY2(equalOrClose(got, (*w)[std::size_t(i)], exact, m.step),
                     qPrintable(QString("step %1 %2: %3 vs fixture %4").arg(m.step).arg(key).arg(got, 0, 'g', 17)
                                    .arg((*w)[std::size_t(i)], 0, 'g', 17)));
        };
        for (std::size_t c = 0; c < cols.size(); ++c) check(cols[c].key, m.values[c]);
        check("lr", m.lr);
        check("grad_norm", m.gradNorm);
        ++compared;
    }
    QVERIFY(compared > 0);
}
using plateau::test::copyDir;

// The kernels of the code that made the fixtures (true) or all of today's (false); restored after.
struct KernelsOfTheFixtures {
    explicit KernelsOfTheFixtures(bool old) : saved(defaultKernels()) {
        defaultKernels().fusedMlp = defaultKernels().fusedNorm = !old;
    }
    ~KernelsOfTheFixtures() { defaultKernels() = saved; }
    KernelOptions saved;
};
}  // namespace

class TestFixtures : public QObject {
    Q_OBJECT
private slots:
    void quickMatchesTheCodeBeforeThePort_data() {
        QTest::addColumn<bool>("oldKernels");
        QTest::newRow("kernels of the fixtures: bit for bit") << true;
        QTest::newRow("all fast kernels: to round-off") << false;
    }
    void quickMatchesTheCodeBeforeThePort() {
        QFETCH(bool, oldKernels);
        const KernelsOfTheFixtures kernels(oldKernels);
        RunConfig c = loadPreset("quick").value();
        c.train.steps = 300;
        c.train.threads = 1;
        configureRuntime(1);
        Trainer t(c);
        std::vector<StepMetrics> rows;
        for (int i = 0; i < 300; ++i) rows.push_back(t.step());
        compareRows(rows, c.info().columns, readCsv(kFixtures + "quick_300.csv"), 1, oldKernels);
        configureRuntime(0);
    }
    void versionOneRunOpens() {
        auto r = RunReader::open(kFixtures + "v1_run");
        QVERIFY2(r.ok(), qPrintable(r.ok() ? QString() : r.error()));
        const RunReader& run = *r.value();
        QVERIFY2(run.problems().isEmpty(), qPrintable(run.problems().join("\n")));
        QCOMPARE(run.config().experiment, QString("matrix_completion"));
        QCOMPARE(run.columns().size(), std::size_t(5));
        QCOMPARE(run.columns()[2].key, QString("loss_mask"));
        QCOMPARE(run.metrics().size(), std::size_t(40));
        // Its rows are the straight run's first 40.
        compareRows(run.metrics(), run.columns(), readCsv(kFixtures + "v1_run_60.csv"), 1);
        // Version-1 snapshots decode into the conventional names with consistent shapes.
        QVERIFY(run.snapshots().size() >= 5);
        const Snapshot& s = *run.snapshots().back();
        QCOMPARE(s.step, qint64(40));
        QCOMPARE(s.layout.kind, TokenLayout::Grid);
        QCOMPARE(s.layout.n, 4);
        QCOMPARE(s.array("attention")->shape, (std::vector<int>{2, 2, 16, 16}));
        QCOMPARE(s.array("matrices.prediction")->shape, (std::vector<int>{4, 4, 4}));
        QCOMPARE(s.array("matrices.masked")->type, ArrayType::U8);
        QCOMPARE(s.array("spectra.qk")->shape, (std::vector<int>{2, 2, 4}));
        QCOMPARE(s.array("spectra.ov_rank")->type, ArrayType::I32);
        QVERIFY(std::isfinite(s.scalar("copy_mse")));
        double rowSum = 0;
        for (int k = 0; k < 16; ++k) rowSum += s.attn(1, 1, 5, k);
        QVERIFY(std::abs(rowSum - 1.0) < 1e-4);  // a row of attention probabilities
        QCOMPARE(run.checkpoints().size(), std::size_t(1));
    }
    void versionOneRunResumesBitForBit_data() { quickMatchesTheCodeBeforeThePort_data(); }
    void versionOneRunResumesBitForBit() {
        QFETCH(bool, oldKernels);
        const KernelsOfTheFixtures kernels(oldKernels);
        QTemporaryDir tmp;
        const QString dir = tmp.filePath("v1");
        copyDir(kFixtures + "v1_run", dir);
        configureRuntime(1);
        auto s = TrainingSession::resume(dir, 60);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error()));
        QCOMPARE(s.value()->trainer().stepsDone(), qint64(40));
        TrainControl control;
        QVERIFY(s.value()->run(control).ok());
        auto rows = s.value()->store().readMetrics();
        QVERIFY(rows.ok());
        QCOMPARE(rows->size(), std::size_t(60));
        compareRows(rows.value(), s.value()->store().columns(), readCsv(kFixtures + "v1_run_60.csv"), 41, oldKernels);
        // Still a version-1 run folder (the format of the run is kept when it goes on).
        QCOMPARE(s.value()->store().formatVersion(), 1);
        s.value().reset();
        auto again = RunReader::open(dir);
        QVERIFY(again.ok());
        QVERIFY(again.value()->problems().isEmpty());
        QCOMPARE(again.value()->metrics().size(), std::size_t(60));
        configureRuntime(0);
    }
};

int main(int argc, char** argv) {
    // The fixtures' kernels (fixtures.json); set before any library reads them.
    setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
    setenv("ATEN_CPU_CAPABILITY", "avx2", 1);
    prepareProcess(argc, argv);
    QCoreApplication app(argc, argv);
    TestFixtures tc;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&tc, argc, argv);
}
#include "tst_fixtures.moc"
