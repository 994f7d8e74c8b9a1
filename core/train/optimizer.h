// The optimisers behind one small interface: Adam / AdamW (matching torch.optim.Adam(W)
// arithmetic in one fused pass per tensor; PyTorch 1.13 on CPU makes ~6 passes with temporaries)
// and SGD with optional heavy-ball momentum (torch.optim.SGD, no dampening). Each parameter has its
// own weight decay; the state is plain named tensors per parameter ("exp_avg", "exp_avg_sq";
// "momentum_buffer") so checkpoints stay readable from Python. Used by the trainer thread only.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace plateau {

struct OptParam {
    std::string name;
    torch::Tensor param;
    double weightDecay = 0.0;
    std::vector<torch::Tensor> state;  // one per Optimizer::stateNames(); undefined until the first step
};

class Optimizer {
public:
    virtual ~Optimizer() = default;
    void add(const std::string& name, torch::Tensor param, double weightDecay);
    // One update with learning rate lr; parameters without a gradient are skipped.
    virtual void step(double lr) = 0;
    // Names of the per-parameter state tensors, in OptParam::state order.
    virtual std::vector<std::string> stateNames() const = 0;
    std::int64_t stepCount() const { return m_step; }
    void setStepCount(std::int64_t s) { m_step = s; }
    std::vector<OptParam>& params() { return m_params; }
    const std::vector<OptParam>& params() const { return m_params; }

protected:
    std::int64_t m_step = 0;
    std::vector<OptParam> m_params;
};

class Adam : public Optimizer {
public:
    Adam(double beta1, double beta2, double eps, bool decoupled);
    void step(double lr) override;
    std::vector<std::string> stateNames() const override { return {"exp_avg", "exp_avg_sq"}; }
    bool decoupled() const { return m_decoupled; }

private:
    double m_beta1, m_beta2, m_eps;
    bool m_decoupled;
};

// w <- w - lr * b with g = grad + wd * w, b = momentum * b + g (b = g at the first step), or
// b = g without momentum (no state then).
class Sgd : public Optimizer {
public:
    explicit Sgd(double momentum);
    void step(double lr) override;
    std::vector<std::string> stateNames() const override;

private:
    double m_momentum;
};

// clip_grad_norm_: returns the global L2 norm before clipping; clips if maxNorm > 0.
double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm);

}  // namespace plateau
