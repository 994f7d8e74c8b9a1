#include <torch/torch.h>

#include "analysis/snapshot_builder.h"

#include "analysis/spectra.h"
#include "model/bert_encoder.h"
#include "tasks/matrix_completion_task.h"
#include "tasks/tokens.h"

#include <chrono>
#include <cmath>

namespace plateau {

struct SnapshotBuilder::Impl {
    RunConfig cfg;
    MatrixCompletionTask task;
    int probeCount;
    // The probe batch of the last spec: the same matrices every time, generated once per mask.
    bool haveBatch = false;
    ProbeSpec batchSpec;
    Batch batch;
    Impl(const RunConfig& c, int count) : cfg(c), task(c.task), probeCount(count) {}
};

SnapshotBuilder::SnapshotBuilder(const RunConfig& cfg, int probeCount)
    : d(std::make_unique<Impl>(cfg, std::max(1, probeCount))) {}
SnapshotBuilder::~SnapshotBuilder() = default;

Status SnapshotBuilder::validate(const ProbeSpec& spec) const {
    const int n = d->cfg.task.n;
    if (spec.source == MaskSource::PaperRow && MatrixCompletionTask::paperRowMask(n).empty())
        return Error{QString("the paper's row mask needs n >= 7 (this run has n = %1)").arg(n)};
    if (spec.source == MaskSource::Custom && spec.customMask.size() != std::size_t(n * n))
        return Error{QString("a drawn mask needs %1 cells (n = %2), got %3").arg(n * n).arg(n).arg(spec.customMask.size())};
    return {};
}

std::shared_ptr<const Snapshot> SnapshotBuilder::build(BertEncoderImpl& model, qint64 step, double timeS,
                                                        const ProbeSpec& spec, bool saved) const {
    const auto t0 = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const int n = d->cfg.task.n, T = n * n, B = d->probeCount;
    const auto seed = std::uint64_t(d->cfg.dataSeed());
    auto s = std::make_shared<Snapshot>();
    s->step = step;
    s->timeS = timeS;
    s->n = n;
    s->layers = model.dims().layers;
    s->heads = model.dims().heads;
    s->probeCount = B;
    s->saved = saved;
    s->probe = validate(spec).ok() ? spec : ProbeSpec{};
    if (!d->haveBatch || d->batchSpec != s->probe) {
        if (s->probe.source == MaskSource::Random)
            d->batch = d->task.sample(B, seed, DataStream::Probe, 0);
        else
            d->batch = d->task.sampleWithMask(B, seed, DataStream::Probe, 0,
                                              s->probe.source == MaskSource::PaperRow ? MatrixCompletionTask::paperRowMask(n)
                                                                                      : s->probe.customMask);
        d->batchSpec = s->probe;
        d->haveBatch = true;
    }
    const Batch& batch = d->batch;
    ForwardOptions opts;
    opts.attentions = true;
    const ForwardOutput fw = model.forward(batch.tokens, opts);

    const std::size_t BT = std::size_t(B) * std::size_t(T);
    const torch::Tensor pred = fw.output.contiguous().to(torch::kFloat32);
    const torch::Tensor target = batch.target.contiguous();
    const torch::Tensor mask = batch.mask.contiguous().to(torch::kUInt8);
    const torch::Tensor tokens = batch.tokens.contiguous();
    s->prediction.assign(pred.data_ptr<float>(), pred.data_ptr<float>() + BT);
    s->target.assign(target.data_ptr<float>(), target.data_ptr<float>() + BT);
    s->masked.assign(mask.data_ptr<std::uint8_t>(), mask.data_ptr<std::uint8_t>() + BT);
    s->input.resize(BT);
    const std::int64_t* tok = tokens.data_ptr<std::int64_t>();
    double comp = 0, copy = 0, obs = 0;
    std::size_t nMask = 0, nObs = 0;
    for (std::size_t i = 0; i < BT; ++i) {
        s->input[i] = float(tokens::idToValue(int(tok[i])));
        const double p = s->prediction[i], t = s->target[i];
        if (s->masked[i]) {
            comp += (p - t) * (p - t);
            copy += p * p;
            ++nMask;
        } else {
            obs += (p - t) * (p - t);
            ++nObs;
        }
    }
    s->completionMse = nMask ? comp / double(nMask) : std::nan("");
    s->copyMse = nMask ? copy / double(nMask) : std::nan("");
    s->observedMse = nObs ? obs / double(nObs) : std::nan("");

    const int L = s->layers, H = s->heads;
    s->attention.resize(std::size_t(L) * std::size_t(H) * std::size_t(T) * std::size_t(T));
    s->sameRow.resize(std::size_t(L * H));
    s->sameCol.resize(std::size_t(L * H));
    for (int l = 0; l < L; ++l) {
        const torch::Tensor mean = fw.attentions[std::size_t(l)].mean(0).contiguous().to(torch::kFloat32);  // (H, T, T)
        float* dst = s->attention.data() + std::size_t(l) * std::size_t(H) * std::size_t(T) * std::size_t(T);
        std::copy(mean.data_ptr<float>(), mean.data_ptr<float>() + std::size_t(H) * std::size_t(T) * std::size_t(T), dst);
        for (int h = 0; h < H; ++h)
            rowColumnScores(dst + std::size_t(h) * std::size_t(T) * std::size_t(T), n, &s->sameRow[std::size_t(l * H + h)],
                            &s->sameCol[std::size_t(l * H + h)]);
    }

    // Spectra: W_K,h^T W_Q,h and P_h W_V,h, each a D x D product of rank <= d_head.
    const int D = model.dims().width, dh = model.dims().headDim();
    s->spectra.resize(std::size_t(L * H));
    std::vector<float> a(std::size_t(D) * std::size_t(dh)), b(std::size_t(dh) * std::size_t(D));
    for (int l = 0; l < L; ++l) {
        const BertLayerRefs& ref = model.layer(l);
        const torch::Tensor wq = ref.query->weight.detach().to(torch::kFloat32).contiguous();   // (D, D): rows = outputs
        const torch::Tensor wk = ref.key->weight.detach().to(torch::kFloat32).contiguous();
        const torch::Tensor wv = ref.value->weight.detach().to(torch::kFloat32).contiguous();
        const torch::Tensor wo = ref.attnOut->weight.detach().to(torch::kFloat32).contiguous();  // (D, D): columns = heads' outputs
        const float *q = wq.data_ptr<float>(), *k = wk.data_ptr<float>(), *v = wv.data_ptr<float>(), *o = wo.data_ptr<float>();
        for (int h = 0; h < H; ++h) {
            HeadSpectrum& hs = s->spectra[std::size_t(l * H + h)];
            // A = W_K,h^T (D x dh), B = W_Q,h (dh x D)
            for (int i = 0; i < D; ++i)
                for (int r = 0; r < dh; ++r) a[std::size_t(i * dh + r)] = k[std::size_t((h * dh + r) * D + i)];
            std::copy(q + std::size_t(h * dh) * std::size_t(D), q + std::size_t((h + 1) * dh) * std::size_t(D), b.begin());
            hs.qk = lowRankProductSingularValues(a.data(), b.data(), D, dh);
            // A = P_h (D x dh), B = W_V,h (dh x D)
            for (int i = 0; i < D; ++i)
                for (int r = 0; r < dh; ++r) a[std::size_t(i * dh + r)] = o[std::size_t(i * D + h * dh + r)];
            std::copy(v + std::size_t(h * dh) * std::size_t(D), v + std::size_t((h + 1) * dh) * std::size_t(D), b.begin());
            hs.ov = lowRankProductSingularValues(a.data(), b.data(), D, dh);
            hs.qkRank = pseudoRank(hs.qk);
            hs.ovRank = pseudoRank(hs.ov);
        }
    }
    s->buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

int roundUpToNiceStep(double k) {
    if (!(k > 1)) return 1;
    double base = 1;
    while (true) {
        for (double m : {1.0, 2.0, 5.0})
            if (m * base >= k - 1e-9) return int(m * base);
        base *= 10;
        if (base > 1e8) return int(1e9);
    }
}

SnapshotSchedule::SnapshotSchedule(int every, double perSecond, double maxShare)
    : m_fixed(every), m_perSecond(perSecond), m_maxShare(maxShare), m_interval(every > 0 ? every : 1) {}

bool SnapshotSchedule::due(qint64 step, double stepMs) {
    if (m_fixed <= 0 && std::isfinite(stepMs) && stepMs > 0) {
        ++m_seen;
        const double a = m_seen < 20 ? 1.0 / m_seen : 0.05;  // mean of the first steps, then an EMA
        m_stepMsEma += a * (stepMs - m_stepMsEma);
        const double byRate = 1000.0 / (m_perSecond * m_stepMsEma);
        const double byCost = m_snapMsEma / (m_maxShare * m_stepMsEma);
        m_interval = roundUpToNiceStep(std::max(byRate, byCost));
    }
    return step % m_interval == 0;
}

void SnapshotSchedule::snapshotCost(double ms) {
    m_snapMsEma = m_snapMsEma == 0 ? ms : m_snapMsEma + 0.2 * (ms - m_snapMsEma);
}

SnapshotSaveSchedule::SnapshotSaveSchedule(int every, qint64 totalSteps, int perRun, int minInterval)
    : m_interval(every > 0 ? every
                           : std::max(minInterval, roundUpToNiceStep(std::max(1.0, double(totalSteps) / std::max(1, perRun))))) {}

bool SnapshotSaveSchedule::due(qint64 step) const {
    if (step <= 0) return false;
    if (step % m_interval == 0) return true;
    return step < m_interval && roundUpToNiceStep(double(step)) == step;
}

}  // namespace plateau
