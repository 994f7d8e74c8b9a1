// Experiment: the training half of an experiment (torch; the training thread, or an analysis's own
// thread, one thread at a time). It builds its model and data from a RunConfig and a seed, with
// its own torch::Generator (no process-global seeding, so a second experiment or an analysis in
// the same process leaves a run undisturbed); computes one training step's loss and metric
// values; evaluates on its own cadence; builds snapshots for the views; and names and classifies
// its parameters (state-dict names, weight-decay roles). The generic Trainer (train/trainer.h)
// does the rest: zero grads, backward, clip, optimiser step. Its torch-free description is
// ExperimentInfo (experiment_info.h).
#pragma once

#include <torch/torch.h>

#include "analysis/spectra.h"
#include "config.h"
#include "experiment_info.h"
#include "result.h"
#include "snapshot.h"

#include <memory>
#include <string>
#include <vector>

namespace plateau {

class DecoderLMImpl;

// What a parameter is, for per-role weight decay (optim.*_weight_decay).
enum class ParamRole { Attention = 0, Mlp = 1, Embedding = 2, Norm = 3, Readout = 4, Other = 5 };
const char* paramRoleName(ParamRole r);

struct NamedParameter {
    std::string name;      // state-dict name (the contract with Python: HF BertModel, nanoGPT, ...)
    torch::Tensor tensor;
    ParamRole role = ParamRole::Other;
    bool biasOrNorm = false;  // biases and norm gains/shifts: optim.norm_weight_decay
};

struct StepOutput {
    torch::Tensor loss;            // the scalar to backpropagate
    std::vector<double> values;    // the experiment's columns (NaN where not computed this step)
};

class Experiment {
public:
    explicit Experiment(const RunConfig& cfg);
    virtual ~Experiment();
    Experiment(const Experiment&) = delete;
    Experiment& operator=(const Experiment&) = delete;

    const RunConfig& config() const { return m_cfg; }
    const ExperimentInfo& info() const { return m_cfg.info(); }

    // Every trainable tensor, in a fixed order (the optimiser's, the checkpoint's, clipping's).
    virtual std::vector<NamedParameter> parameters() = 0;
    // Forward on training batch `stepsDone` (0-based: the number of updates made so far).
    virtual StepOutput trainStep(qint64 stepsDone) = 0;
    // After the update of step stepsDone + 1, when train.eval_every says so: fills the evaluation
    // columns of `values` (no grad).
    virtual void evaluate(qint64 stepsDone, std::vector<double>& values);
    // The views' snapshot at `step` on the fixed probe batch (no grad). `saved`: stored in the run.
    virtual SnapshotPtr snapshot(qint64 step, double timeS, const ProbeSpec& probe, bool saved) = 0;
    // Whether this experiment can probe with `spec` (default: random masks only).
    virtual Status validateProbe(const ProbeSpec& spec) const;
    // train.precision = bf16 (precision.h): the model's linears in bf16 with fp32 accumulation.
    // Returns false if the experiment has no such layers (the factor toy: it stays fp32).
    virtual bool setBf16(bool on) { return !on; }

    std::int64_t parameterCount();
    torch::Generator& generator() { return m_gen; }
    // A row of NaNs, one per column.
    std::vector<double> emptyValues() const;

protected:
    RunConfig m_cfg;
    torch::Generator m_gen;  // seeded with train.seed; draws the initialisation
};

// DecoderLM's nanoGPT names -> weight-decay role (attention: attn.*; mlp: mlp.*; embedding: wte, wpe;
// norm: ln_*; readout: lm_head; biases and norms marked).
NamedParameter classifyDecoderParameter(const std::string& name, const torch::Tensor& t);
// Every parameter of a module classified so (the decoder experiments' parameters()).
std::vector<NamedParameter> decoderParameters(torch::nn::Module& model);

// The registry's factory (experiments/experiment_factory.cpp). Errors name the config field.
Result<std::unique_ptr<Experiment>> makeExperiment(const RunConfig& cfg);

// Where in a snapshot the spectra of a layer's attention circuits go (spectra.qk/.ov (L, H, dh)
// and their pseudo-ranks), from the query/key/value/output weights of layer l in nn.Linear layout
// (out, in), each (D, D) or Q/K/V stacked (3D, D). Allocates the arrays on the first layer.
void addHeadSpectra(Snapshot& s, int layer, int layers, int heads, const torch::Tensor& wq, const torch::Tensor& wk,
                    const torch::Tensor& wv, const torch::Tensor& wo);
// A new snapshot with its header filled in (every experiment's snapshot() starts with one).
std::shared_ptr<Snapshot> newSnapshot(qint64 step, double timeS, bool saved, int probeCount);
// addHeadSpectra for every layer of a decoder (its fused c_attn = [W_Q; W_K; W_V] and attn_proj).
void addDecoderHeadSpectra(Snapshot& s, DecoderLMImpl& model);
// Per head of one layer: the stats of W_K,h^T W_Q,h (index 2h) and P_h W_V,h (index 2h + 1); the
// weights as for addHeadSpectra.
std::vector<CircuitStats> layerCircuitStats(int heads, const torch::Tensor& wq, const torch::Tensor& wk,
                                                   const torch::Tensor& wv, const torch::Tensor& wo);
// attention (L, H, T, T) from a list of per-layer (B, H, T, T) probabilities (batch mean).
void addAttention(Snapshot& s, const std::vector<torch::Tensor>& probs);

}  // namespace plateau
