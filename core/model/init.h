// PyTorch's default nn.Linear initialisation (LinearImpl::reset_parameters: Kaiming-uniform weight
// with a = sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))) drawn from a given generator, with
// the library's own arithmetic for the bounds so the values are bit for bit those of the library
// given the same generator state. Any thread (the generator is the caller's).
#pragma once

#include <torch/torch.h>

#include <cmath>

namespace plateau {

inline void pytorchLinearInit(torch::Tensor& weight, torch::Tensor* bias, c10::optional<torch::Generator> gen) {
    torch::NoGradGuard noGrad;
    const std::int64_t fanIn = weight.size(1);
    const double a = std::sqrt(5.0);
    const double gain = std::sqrt(2.0 / (1 + std::pow(a, 2)));          // calculate_gain(leaky_relu, a)
    const double bound = std::sqrt(3.0) * (gain / std::sqrt(double(fanIn)));  // kaiming_uniform_
    weight.uniform_(-bound, bound, gen);
    if (bias && bias->defined()) {
        const double b = 1 / std::sqrt(double(fanIn));
        bias->uniform_(-b, b, gen);
    }
}

}  // namespace plateau
