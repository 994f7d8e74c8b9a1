// The step, evaluation and snapshot of the matrix-completion experiment, in the order the trainer
// used before experiments existed (so runs are bit for bit the same).
#include <torch/torch.h>

#include "experiments/matrix_completion/mc_experiment.h"

#include "analysis/tensor_stats.h"

#include "analysis/spectra.h"
#include "experiments/matrix_completion/mc_tokens.h"

#include <chrono>
#include <cmath>

namespace plateau {

namespace {
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// HF BertModel names -> weight-decay role.
NamedParameter classify(const std::string& name, const torch::Tensor& t) {
    NamedParameter p{name, t, ParamRole::Other, false};
    const bool norm = contains(name, "LayerNorm");
    p.biasOrNorm = norm || endsWith(name, ".bias");
    if (norm) p.role = ParamRole::Norm;
    else if (contains(name, ".attention.self.") || contains(name, ".attention.output.dense.")) p.role = ParamRole::Attention;
    else if (contains(name, ".intermediate.") || contains(name, ".output.dense.")) p.role = ParamRole::Mlp;
    else if (contains(name, "embeddings.")) p.role = ParamRole::Embedding;
    else if (contains(name, "read_out.")) p.role = ParamRole::Readout;
    return p;
}
}  // namespace

McExperiment::McExperiment(const RunConfig& cfg)
    : Experiment(cfg), m_taskCfg(mc::taskOf(cfg)), m_task(m_taskCfg) {
    m_model = BertEncoder(bertDimsOf(mc::modelOf(cfg)));
    m_model->resetParameters(m_gen);
}

std::vector<NamedParameter> McExperiment::parameters() {
    std::vector<NamedParameter> out;
    for (const auto& item : m_model->named_parameters()) out.push_back(classify(item.key(), item.value()));
    return out;
}

StepOutput McExperiment::trainStep(qint64 stepsDone) {
    const auto seed = std::uint64_t(m_cfg.dataSeed());
    const Batch batch = m_task.sample(m_taskCfg.batchSize, seed, DataStream::Train, std::uint64_t(stepsDone));
    const torch::Tensor out = m_model->forward(batch.tokens).output;  // (B, T)
    StepOutput r;
    r.loss = torch::mse_loss(out, batch.target);
    const LossParts parts = lossParts(out, batch);
    r.values = emptyValues();
    r.values[Loss] = parts.loss;
    r.values[LossObs] = parts.lossObs;
    r.values[LossMask] = parts.lossMask;
    r.values[MeanAbsMaskOut] = parts.meanAbsMaskOut;
    return r;
}

void McExperiment::evaluate(qint64 stepsDone, std::vector<double>& values) {
    torch::NoGradGuard noGrad;
    const Batch eval = m_task.sample(m_taskCfg.evalBatchSize, std::uint64_t(m_cfg.dataSeed()), DataStream::Eval,
                                     std::uint64_t(stepsDone));
    values[EvalLoss] = lossParts(m_model->forward(eval.tokens).output, eval).loss;
}

Status McExperiment::validateProbe(const ProbeSpec& spec) const {
    const int n = m_taskCfg.n;
    if (spec.source == MaskSource::PaperRow && MatrixCompletionTask::paperRowMask(n).empty())
        return Error{QString("the paper's row mask needs n >= 7 (this run has n = %1)").arg(n)};
    if (spec.source == MaskSource::Custom && spec.customMask.size() != std::size_t(n * n))
        return Error{QString("a drawn mask needs %1 cells (n = %2), got %3").arg(n * n).arg(n).arg(spec.customMask.size())};
    return {};
}

SnapshotPtr McExperiment::snapshot(qint64 step, double timeS, const ProbeSpec& spec, bool saved) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const int n = m_taskCfg.n, T = n * n, B = std::max(1, m_cfg.train.probeSize);
    const auto seed = std::uint64_t(m_cfg.dataSeed());
    auto s = newSnapshot(step, timeS, saved, B);
    s->probe = validateProbe(spec).ok() ? spec : ProbeSpec{};
    s->layout.kind = TokenLayout::Grid;
    s->layout.n = n;
    if (!m_haveProbe || m_probeSpec != s->probe) {
        if (s->probe.source == MaskSource::Random)
            m_probe = m_task.sample(B, seed, DataStream::Probe, 0);
        else
            m_probe = m_task.sampleWithMask(B, seed, DataStream::Probe, 0,
                                            s->probe.source == MaskSource::PaperRow ? MatrixCompletionTask::paperRowMask(n)
                                                                                    : s->probe.customMask);
        m_probeSpec = s->probe;
        m_haveProbe = true;
    }
    ForwardOptions opts;
    opts.attentions = true;
    opts.hiddenStates = true;
    const ForwardOutput fw = m_model->forward(m_probe.tokens, opts);

    const std::size_t BT = std::size_t(B) * std::size_t(T);
    const torch::Tensor pred = fw.output.contiguous().to(torch::kFloat32);
    const torch::Tensor target = m_probe.target.contiguous();
    const torch::Tensor mask = m_probe.mask.contiguous().to(torch::kUInt8);
    const torch::Tensor tokens = m_probe.tokens.contiguous();
    float* prediction = s->addF32("matrices.prediction", {B, n, n});
    float* truth = s->addF32("matrices.truth", {B, n, n});
    float* input = s->addF32("matrices.input", {B, n, n});
    std::uint8_t* masked = s->add("matrices.masked", ArrayType::U8, {B, n, n}).u8.data();
    std::copy(pred.data_ptr<float>(), pred.data_ptr<float>() + BT, prediction);
    std::copy(target.data_ptr<float>(), target.data_ptr<float>() + BT, truth);
    std::copy(mask.data_ptr<std::uint8_t>(), mask.data_ptr<std::uint8_t>() + BT, masked);
    const std::int64_t* tok = tokens.data_ptr<std::int64_t>();
    double comp = 0, copy = 0, obs = 0;
    std::size_t nMask = 0, nObs = 0;
    for (std::size_t i = 0; i < BT; ++i) {
        input[i] = float(tokens::idToValue(int(tok[i])));
        const double p = prediction[i], t = truth[i];
        if (masked[i]) {
            comp += (p - t) * (p - t);
            copy += p * p;
            ++nMask;
        } else {
            obs += (p - t) * (p - t);
            ++nObs;
        }
    }
    s->scalars["completion_mse"] = nMask ? comp / double(nMask) : std::nan("");
    s->scalars["copy_mse"] = nMask ? copy / double(nMask) : std::nan("");
    s->scalars["observed_mse"] = nObs ? obs / double(nObs) : std::nan("");

    // Representation collapse (the follow-up paper): mean pairwise cosine of hidden states across
    // positions, per layer (0 = embeddings); the last layer's as a scalar for the live series.
    float* cosine = s->addF32("hidden.cosine", {int(fw.hiddenStates.size())});
    for (std::size_t l = 0; l < fw.hiddenStates.size(); ++l) cosine[l] = float(meanPairwiseCosine(fw.hiddenStates[l]));
    s->scalars["hidden_cosine"] = cosine[fw.hiddenStates.size() - 1];

    addAttention(*s, fw.attentions);
    const int L = int(fw.attentions.size()), H = m_model->dims().heads;
    float* sameRow = s->addF32("attention.same_row", {L, H});
    float* sameCol = s->addF32("attention.same_col", {L, H});
    const float* att = s->f32("attention");
    const std::size_t TT = std::size_t(T) * std::size_t(T);
    for (int lh = 0; lh < L * H; ++lh) rowColumnScores(att + std::size_t(lh) * TT, n, &sameRow[lh], &sameCol[lh]);

    // Spectra: W_K,h^T W_Q,h and P_h W_V,h, each a D x D product of rank <= d_head.
    for (int l = 0; l < L; ++l) {
        const BertLayerRefs& ref = m_model->layer(l);
        addHeadSpectra(*s, l, L, H, ref.query->weight, ref.key->weight, ref.value->weight, ref.attnOut->weight);
    }
    s->buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

}  // namespace plateau
