#include <torch/torch.h>

#include "experiments/associative_recall/assoc_experiment.h"

#include "rng.h"

#include <chrono>
#include <numeric>

namespace plateau {

AssocExperiment::AssocExperiment(const RunConfig& cfg) : Experiment(cfg), m_s(assoc::settingsOf(cfg)) {
    m_model = DecoderLM(assoc::dimsOf(cfg));
    m_model->resetParameters(m_gen);
}

std::vector<NamedParameter> AssocExperiment::parameters() { return decoderParameters(*m_model); }

// Sequence b of a batch depends only on (data seed, stream, counter, b).
RecallBatch AssocExperiment::batch(int size, DataStream stream, qint64 counter, bool noisy) const {
    return batch(size, stream, counter, noisy, std::uint64_t(m_cfg.dataSeed()));
}

RecallBatch AssocExperiment::batch(int size, DataStream stream, qint64 counter, bool noisy, std::uint64_t seed) const {
    const int K = m_s.pairs, T = m_s.seqLen();
    RecallBatch r;
    r.seq = torch::empty({size, T}, torch::kInt64);
    r.target = torch::empty({size}, torch::kInt64);
    r.clean = torch::empty({size}, torch::kInt64);
    auto* seq = r.seq.data_ptr<std::int64_t>();
    auto* target = r.target.data_ptr<std::int64_t>();
    auto* clean = r.clean.data_ptr<std::int64_t>();
    std::vector<int> keys(std::size_t(m_s.keys));
    for (int b = 0; b < size; ++b) {
        CounterRng rng(seed, std::uint64_t(stream), std::uint64_t(counter) * 1000003ULL + std::uint64_t(b));
        std::iota(keys.begin(), keys.end(), 0);
        for (int i = 0; i < K; ++i) {  // the first K of a partial Fisher-Yates shuffle: distinct keys
            const int j = i + int(rng.next() % std::uint64_t(m_s.keys - i));
            std::swap(keys[std::size_t(i)], keys[std::size_t(j)]);
        }
        std::int64_t* row = seq + std::int64_t(b) * T;
        std::vector<int> vals(static_cast<std::size_t>(K));
        for (int i = 0; i < K; ++i) {
            vals[std::size_t(i)] = m_s.keys + int(rng.next() % std::uint64_t(m_s.values));
            row[2 * i] = keys[std::size_t(i)];
            row[2 * i + 1] = vals[std::size_t(i)];
        }
        const int q = int(rng.next() % std::uint64_t(K));
        row[2 * K] = keys[std::size_t(q)];
        clean[b] = vals[std::size_t(q)];
        const bool flip = rng.uniform() < m_s.labelNoise;
        const int randomValue = m_s.keys + int(rng.next() % std::uint64_t(m_s.values));
        target[b] = noisy && flip ? randomValue : clean[b];
    }
    return r;
}

void AssocExperiment::circuitColumns(std::vector<double>& values) {
    const DecoderDims& d = m_model->dims();
    const double dh = d.headDim();
    for (int l = 0; l < d.layers; ++l) {
        const DecoderBlockRefs& blk = m_model->block(l);
        const torch::Tensor w = blk.cAttn->weight.detach();
        const std::vector<CircuitStats> st = layerCircuitStats(d.heads, w.slice(0, 0, d.width), w.slice(0, d.width, 2 * d.width),
                                                               w.slice(0, 2 * d.width, 3 * d.width), blk.attnProj->weight);
        double rq = 0, ro = 0, iq = 0, io = 0, gq = 0, go = 0;
        for (int h = 0; h < d.heads; ++h) {
            const CircuitStats& qk = st[std::size_t(2 * h)];
            const CircuitStats& ov = st[std::size_t(2 * h + 1)];
            rq += pseudoRank(qk.singular) / dh;
            ro += pseudoRank(ov.singular) / dh;
            iq += qk.imbalance;
            io += ov.imbalance;
            gq += qk.gap;
            go += ov.gap;
        }
        const double H = d.heads;
        double* v = values.data() + FirstLayerColumn + 6 * l;
        v[0] = rq / H;
        v[1] = ro / H;
        v[2] = iq / H;
        v[3] = io / H;
        v[4] = gq / H;
        v[5] = go / H;
    }
}

StepOutput AssocExperiment::trainStep(qint64 stepsDone) {
    const RecallBatch b = batch(m_s.batchSize, DataStream::Train, stepsDone, true);
    const torch::Tensor logits = m_model->forward(b.seq).logits.select(1, m_s.seqLen() - 1);  // (B, V)
    StepOutput out;
    out.loss = torch::nn::functional::cross_entropy(logits, b.target);
    out.values = emptyValues();
    torch::NoGradGuard noGrad;
    out.values[Loss] = out.loss.item<double>();
    out.values[Acc] = logits.argmax(-1).eq(b.clean).to(torch::kFloat64).mean().item<double>();
    circuitColumns(out.values);  // of the weights this step started from, as the loss
    return out;
}

void AssocExperiment::evaluate(qint64 stepsDone, std::vector<double>& values) {
    torch::NoGradGuard noGrad;
    const RecallBatch b = batch(m_s.evalBatchSize, DataStream::Eval, stepsDone, false);
    const torch::Tensor logits = m_model->forward(b.seq).logits.select(1, m_s.seqLen() - 1);
    values[EvalLoss] = torch::nn::functional::cross_entropy(logits, b.clean).item<double>();
    values[EvalAcc] = logits.argmax(-1).eq(b.clean).to(torch::kFloat64).mean().item<double>();
}

SnapshotPtr AssocExperiment::snapshot(qint64 step, double timeS, const ProbeSpec&, bool saved) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const int B = std::max(1, m_cfg.train.probeSize);
    auto s = newSnapshot(step, timeS, saved, B);
    s->layout.kind = TokenLayout::Segments;
    for (int i = 0; i < m_s.pairs; ++i) s->layout.segments.push_back({QString("x%1 y%1").arg(i + 1), 2, 0});  // guides between pairs
    s->layout.segments.push_back({"query", 1, 0});
    const RecallBatch b = batch(B, DataStream::Probe, 0, false);
    DecoderForwardOptions o;
    o.attentions = true;
    const DecoderForwardOutput fw = m_model->forward(b.seq, o);
    addAttention(*s, fw.attentions);
    addDecoderHeadSpectra(*s, *m_model);
    s->scalars["acc"] = fw.logits.select(1, m_s.seqLen() - 1).argmax(-1).eq(b.clean).to(torch::kFloat64).mean().item<double>();
    s->buildMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

}  // namespace plateau
