#include <torch/torch.h>

#include "experiments/gpt_matrix_completion/gpt_mc_experiment.h"

#include "analysis/spectra.h"

#include <chrono>

namespace plateau {

namespace {
// Accuracy of (B, N) predicted ids against targets where `where` is true; NaN if nowhere.
double accuracy(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& where) {
    const auto n = where.sum().item<std::int64_t>();
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();
    return (pred.eq(target) & where).sum().item<double>() / double(n);
}

}  // namespace

GptMcExperiment::GptMcExperiment(const RunConfig& cfg)
    : Experiment(cfg), m_s(gptmc::settingsOf(cfg)), m_taskCfg([&] {
          mc::TaskConfig t;
          t.n = m_s.n;
          t.rank = m_s.rank;
          t.pMask = m_s.pMask;
          t.distribution = m_s.distribution;
          t.batchSize = m_s.batchSize;
          t.evalBatchSize = m_s.evalBatchSize;
          return t;
      }()),
      m_task(m_taskCfg) {
    m_model = DecoderLM(gptmc::dimsOf(cfg));
    m_model->resetParameters(m_gen);
}

std::vector<NamedParameter> GptMcExperiment::parameters() { return decoderParameters(*m_model); }

// The matrix-completion task's matrices and masks (same seed, stream and counter), as GPT sequences.
GptBatch GptMcExperiment::batch(int size, DataStream stream, qint64 counter) const {
    return batch(size, stream, counter, std::uint64_t(m_cfg.dataSeed()));
}

GptBatch GptMcExperiment::batch(int size, DataStream stream, qint64 counter, std::uint64_t seed) const {
    const Batch b = m_task.sample(size, seed, stream, std::uint64_t(counter));
    return sequences(b.target, ~b.mask);
}

GptBatch GptMcExperiment::sequences(const torch::Tensor& values, const torch::Tensor& observed) const {
    const int N = m_s.n * m_s.n;
    const auto size = values.size(0);
    GptBatch g;
    g.seq = torch::empty({size, 2 * N + 1}, torch::kInt64);
    g.observed = observed.to(torch::kBool).contiguous();
    g.values = values.to(torch::kFloat32).contiguous();
    auto* seq = g.seq.data_ptr<std::int64_t>();
    const float* x = g.values.data_ptr<float>();
    const bool* obs = g.observed.data_ptr<bool>();
    for (std::int64_t i = 0; i < size; ++i) {
        std::int64_t* row = seq + i * (2 * N + 1);
        for (int k = 0; k < N; ++k) {
            const int tok = gptmc::valueToken(x[i * N + k]);
            row[k] = obs[i * N + k] ? tok : gptmc::kMask;
            row[N + 1 + k] = tok;
        }
        row[N] = gptmc::kSep;
    }
    return g;
}

StepOutput GptMcExperiment::trainStep(qint64 stepsDone) {
    const GptBatch b = batch(m_s.batchSize, DataStream::Train, stepsDone);
    const int N = m_s.n * m_s.n;
    const torch::Tensor input = b.seq.slice(1, 0, 2 * N), target = b.seq.slice(1, 1, 2 * N + 1);
    const torch::Tensor logits = m_model->forward(input).logits;  // (B, 2N, V)
    StepOutput out;
    out.loss = torch::nn::functional::cross_entropy(logits.reshape({-1, gptmc::kVocab}), target.reshape({-1}));
    out.values = emptyValues();
    torch::NoGradGuard noGrad;
    // The answer tokens are predicted at positions N .. 2N - 1 (after SEP and each answer token).
    const torch::Tensor answerLogits = logits.slice(1, N, 2 * N), answer = b.seq.slice(1, N + 1, 2 * N + 1);
    out.values[Loss] = out.loss.item<double>();
    out.values[AnswerCe] = torch::nn::functional::cross_entropy(answerLogits.reshape({-1, gptmc::kVocab}), answer.reshape({-1})).item<double>();
    const torch::Tensor pred = answerLogits.argmax(-1);
    out.values[AccObs] = accuracy(pred, answer, b.observed);
    out.values[AccMask] = accuracy(pred, answer, ~b.observed);
    return out;
}

torch::Tensor GptMcExperiment::generate(const torch::Tensor& seq) {
    torch::NoGradGuard noGrad;
    const int N = m_s.n * m_s.n;
    torch::Tensor cur = seq.slice(1, 0, N + 1).clone();  // prompt + SEP
    for (int k = 0; k < N; ++k) {
        const torch::Tensor next = m_model->forward(cur).logits.select(1, cur.size(1) - 1).argmax(-1, true);  // (B, 1)
        cur = torch::cat({cur, next}, 1);
    }
    return cur.slice(1, N + 1, 2 * N + 1);  // (B, N)
}

void GptMcExperiment::evaluate(qint64 stepsDone, std::vector<double>& values) {
    torch::NoGradGuard noGrad;
    const GptBatch b = batch(m_s.evalBatchSize, DataStream::Eval, stepsDone);
    const int N = m_s.n * m_s.n;
    const torch::Tensor logits = m_model->forward(b.seq.slice(1, 0, 2 * N)).logits;
    const torch::Tensor answer = b.seq.slice(1, N + 1, 2 * N + 1);
    values[EvalAnswerCe] =
        torch::nn::functional::cross_entropy(logits.slice(1, N, 2 * N).reshape({-1, gptmc::kVocab}), answer.reshape({-1})).item<double>();
    const torch::Tensor gen = generate(b.seq);
    values[EvalGenAcc] = gen.eq(answer).to(torch::kFloat64).mean().item<double>();
    values[EvalGenAccObs] = accuracy(gen, answer, b.observed);
    values[EvalGenAccMask] = accuracy(gen, answer, ~b.observed);
}

SnapshotPtr GptMcExperiment::snapshot(qint64 step, double timeS, const ProbeSpec&, bool saved) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const int n = m_s.n, N = n * n, B = std::max(1, m_cfg.train.probeSize), G = std::min(B, m_s.generateItems);
    auto s = newSnapshot(step, timeS, saved, 0);
    s->layout.kind = TokenLayout::Segments;
    s->layout.segments = {{"prompt", N, n}, {"SEP", 1, 0}, {"answer", N - 1, n}};
    const GptBatch b = batch(B, DataStream::Probe, 0);
    DecoderForwardOptions o;
    o.attentions = true;
    const DecoderForwardOutput fw = m_model->forward(b.seq.slice(1, 0, 2 * N), o);
    addAttention(*s, fw.attentions);
    addDecoderHeadSpectra(*s, *m_model);
    // Teacher-forced accuracy on the whole probe; greedy completions of its first G sequences.
    const torch::Tensor answer = b.seq.slice(1, N + 1, 2 * N + 1);
    const torch::Tensor teacher = fw.logits.slice(1, N, 2 * N).argmax(-1);
    s->scalars["acc_obs"] = accuracy(teacher, answer, b.observed);
    s->scalars["acc_mask"] = accuracy(teacher, answer, ~b.observed);
    const torch::Tensor gen = generate(b.seq.slice(0, 0, G)).contiguous();
    const torch::Tensor ga = answer.slice(0, 0, G), go = b.observed.slice(0, 0, G);
    s->scalars["gen_acc"] = gen.eq(ga).to(torch::kFloat64).mean().item<double>();
    s->scalars["gen_acc_obs"] = accuracy(gen, ga, go);
    s->scalars["gen_acc_mask"] = accuracy(gen, ga, ~go);
    s->probeCount = G;
    float* input = s->addF32("matrices.input", {G, n, n});
    float* generated = s->addF32("matrices.generated", {G, n, n});
    float* truth = s->addF32("matrices.truth", {G, n, n});
    std::uint8_t* masked = s->add("matrices.masked", ArrayType::U8, {G, n, n}).u8.data();
    const std::int64_t* seq = b.seq.data_ptr<std::int64_t>();
    const std::int64_t* g = gen.data_ptr<std::int64_t>();
    const bool* obs = b.observed.contiguous().data_ptr<bool>();
    const float* x = b.values.data_ptr<float>();
    for (int i = 0; i < G; ++i)
        for (int k = 0; k < N; ++k) {
            const int at = i * N + k;
            masked[at] = obs[at] ? 0 : 1;
            input[at] = obs[at] ? float(gptmc::tokenValue(int(seq[std::int64_t(i) * (2 * N + 1) + k]))) : 0.f;
            const double v = gptmc::tokenValue(int(g[at]));
            generated[at] = std::isfinite(v) ? float(v) : 0.f;  // MASK / SEP generated: shown as 0
            truth[at] = x[at];
        }
    s->buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

}  // namespace plateau
