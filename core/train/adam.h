// Adam / AdamW with per-parameter weight decay, matching torch.optim.Adam(W) arithmetic, in one
// fused pass per tensor (PyTorch 1.13 on CPU makes ~6 passes with temporaries). Its state is
// plain named tensors so checkpoints stay readable from Python. Used by the trainer thread only.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace plateau {

struct AdamParam {
    std::string name;
    torch::Tensor param;
    double weightDecay = 0.0;
    torch::Tensor expAvg, expAvgSq;  // created lazily at the first step, as in PyTorch
};

class Adam {
public:
    Adam(double beta1, double beta2, double eps, bool decoupled);

    void add(const std::string& name, torch::Tensor param, double weightDecay);
    // One update with learning rate lr; parameters without a gradient are skipped.
    void step(double lr);
    std::int64_t stepCount() const { return m_step; }
    void setStepCount(std::int64_t s) { m_step = s; }
    std::vector<AdamParam>& params() { return m_params; }
    const std::vector<AdamParam>& params() const { return m_params; }
    bool decoupled() const { return m_decoupled; }

private:
    double m_beta1, m_beta2, m_eps;
    bool m_decoupled;
    std::int64_t m_step = 0;
    std::vector<AdamParam> m_params;
};

// clip_grad_norm_: returns the global L2 norm before clipping; clips if maxNorm > 0.
double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm);

}  // namespace plateau
