#include <torch/torch.h>
#include <ATen/CPUGeneratorImpl.h>

#include "run/checkpoint.h"

#include "train/trainer.h"

#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>

#include <map>
#include <mutex>

namespace plateau {

namespace {
constexpr const char* kFormat = "plateau-checkpoint";
constexpr std::int64_t kFormatVersion = 1;

using Dict = c10::impl::GenericDict;
Dict makeDict() { return Dict(c10::StringType::get(), c10::AnyType::get()); }
using TensorDict = c10::Dict<std::string, torch::Tensor>;

Result<c10::impl::GenericDict> readDict(const QString& path) {
    QFile f(path);
    if (!f.exists()) return Error{path + ": checkpoint not found"};
    if (!f.open(QIODevice::ReadOnly)) return Error{path + ": cannot read: " + f.errorString()};
    const QByteArray bytes = f.readAll();
    std::vector<char> data(bytes.begin(), bytes.end());
    c10::IValue root;
    try {
        root = torch::pickle_load(data);
    } catch (const std::exception& e) {
        const std::string what = e.what();
        return Error{path + ": truncated or corrupt checkpoint (" +
                     QString::fromStdString(what.substr(0, what.find('\n'))) + ")"};
    }
    if (!root.isGenericDict()) return Error{path + ": not a Plateau checkpoint (no dict at top)"};
    auto dict = root.toGenericDict();
    if (!dict.contains("format") || !dict.at("format").isString() ||
        dict.at("format").toStringRef() != kFormat)
        return Error{path + ": format: not a Plateau checkpoint"};
    if (!dict.contains("format_version") || !dict.at("format_version").isInt() ||
        dict.at("format_version").toInt() > kFormatVersion)
        return Error{path + ": format_version: missing or newer than this Plateau reads"};
    return dict;
}

Result<CheckpointInfo> infoOf(const c10::impl::GenericDict& dict, const QString& path) {
    CheckpointInfo info;
    if (!dict.contains("step") || !dict.at("step").isInt() || dict.at("step").toInt() < 0)
        return Error{path + ": step: missing or invalid"};
    info.step = dict.at("step").toInt();
    if (dict.contains("train_seconds") && dict.at("train_seconds").isDouble())
        info.trainSeconds = dict.at("train_seconds").toDouble();
    if (dict.contains("config") && dict.at("config").isString())
        info.configJson = QString::fromStdString(dict.at("config").toStringRef());
    return info;
}

// name -> tensor from a sub-dict, checked against the expected shapes.
Result<std::map<std::string, torch::Tensor>> tensorsOf(
    const c10::impl::GenericDict& dict, const std::string& key, const QString& path,
    const std::map<std::string, std::vector<std::int64_t>>& expected, bool requireAll) {
    if (!dict.contains(key) || !dict.at(key).isGenericDict())
        return Error{path + ": " + QString::fromStdString(key) + ": missing"};
    std::map<std::string, torch::Tensor> out;
    for (const auto& item : dict.at(key).toGenericDict()) {
        const std::string name = item.key().isString() ? item.key().toStringRef() : "?";
        const QString field = path + ": " + QString::fromStdString(key + "." + name);
        auto it = expected.find(name);
        if (it == expected.end()) return Error{field + ": unexpected entry"};
        if (!item.value().isTensor()) return Error{field + ": not a tensor"};
        const torch::Tensor t = item.value().toTensor();
        if (t.scalar_type() != torch::kFloat32) return Error{field + ": expected float32"};
        if (t.sizes().vec() != it->second) {
            std::ostringstream got, want;
            got << t.sizes();
            want << torch::IntArrayRef(it->second);
            return Error{field + ": shape " + QString::fromStdString(got.str()) + " does not match the model's " +
                         QString::fromStdString(want.str())};
        }
        out[name] = t;
    }
    if (requireAll)
        for (const auto& e : expected)
            if (!out.count(e.first))
                return Error{path + ": " + QString::fromStdString(key + "." + e.first) + ": missing"};
    return out;
}
}  // namespace

Status saveCheckpoint(Trainer& trainer, const QString& path) {
    Dict root = makeDict();
    root.insert("format", std::string(kFormat));
    root.insert("format_version", kFormatVersion);
    root.insert("step", std::int64_t(trainer.stepsDone()));
    root.insert("train_seconds", trainer.trainSeconds());
    root.insert("config", QJsonDocument(trainer.config().toJson())
                              .toJson(QJsonDocument::Compact).toStdString());
    TensorDict model, expAvg, expAvgSq;
    for (const auto& item : trainer.model()->named_parameters()) model.insert(item.key(), item.value().detach());
    for (const AdamParam& p : trainer.optimizer().params()) {
        if (!p.expAvg.defined()) continue;
        expAvg.insert(p.name, p.expAvg);
        expAvgSq.insert(p.name, p.expAvgSq);
    }
    Dict optim = makeDict();
    optim.insert("name", trainer.config().optim.name.toStdString());
    optim.insert("step", trainer.optimizer().stepCount());
    optim.insert("exp_avg", expAvg);
    optim.insert("exp_avg_sq", expAvgSq);
    Dict rng = makeDict();
    rng.insert("data_seed", std::int64_t(trainer.config().dataSeed()));
    rng.insert("data_next_step", std::int64_t(trainer.stepsDone()));
    {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        rng.insert("torch_cpu_state", gen.get_state());
    }
    root.insert("model", model);
    root.insert("optimizer", optim);
    root.insert("rng", rng);

    std::vector<char> bytes;
    try {
        bytes = torch::pickle_save(c10::IValue(root));
    } catch (const std::exception& e) {
        return Error{path + ": cannot serialise checkpoint: " + QString::fromStdString(e.what())};
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return Error{path + ": cannot write: " + f.errorString()};
    if (f.write(bytes.data(), qint64(bytes.size())) != qint64(bytes.size()) || !f.commit())
        return Error{path + ": cannot write: " + f.errorString()};
    return Status::success();
}

Result<CheckpointInfo> readCheckpointInfo(const QString& path) {
    auto dict = readDict(path);
    if (!dict) return Error{dict.error()};
    return infoOf(dict.value(), path);
}

Result<CheckpointInfo> loadCheckpoint(Trainer& trainer, const QString& path) {
    auto dictR = readDict(path);
    if (!dictR) return Error{dictR.error()};
    const auto& dict = dictR.value();
    auto info = infoOf(dict, path);
    if (!info) return info;

    std::map<std::string, std::vector<std::int64_t>> shapes;
    for (const auto& item : trainer.model()->named_parameters())
        shapes[item.key()] = item.value().sizes().vec();
    auto model = tensorsOf(dict, "model", path, shapes, true);
    if (!model) return Error{model.error()};

    if (!dict.contains("optimizer") || !dict.at("optimizer").isGenericDict())
        return Error{path + ": optimizer: missing"};
    const auto optim = dict.at("optimizer").toGenericDict();
    if (!optim.contains("step") || !optim.at("step").isInt() || optim.at("step").toInt() < 0)
        return Error{path + ": optimizer.step: missing or invalid"};
    auto expAvg = tensorsOf(optim, "exp_avg", path + ": optimizer", shapes, false);
    if (!expAvg) return Error{expAvg.error()};
    auto expAvgSq = tensorsOf(optim, "exp_avg_sq", path + ": optimizer", shapes, false);
    if (!expAvgSq) return Error{expAvgSq.error()};
    for (const auto& e : expAvg.value())
        if (!expAvgSq->count(e.first))
            return Error{path + ": optimizer.exp_avg_sq." + QString::fromStdString(e.first) + ": missing"};

    torch::Tensor torchState;
    if (dict.contains("rng") && dict.at("rng").isGenericDict()) {
        const auto rng = dict.at("rng").toGenericDict();
        if (rng.contains("torch_cpu_state") && rng.at("torch_cpu_state").isTensor())
            torchState = rng.at("torch_cpu_state").toTensor();
    }

    // Everything validated. The generator first: the only step that can still fail.
    if (torchState.defined()) {
        try {
            auto gen = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(torchState);
        } catch (const std::exception&) {
            return Error{path + ": rng.torch_cpu_state: invalid generator state"};
        }
    }
    torch::NoGradGuard noGrad;
    for (const auto& item : trainer.model()->named_parameters())
        item.value().copy_(model->at(item.key()));
    for (AdamParam& p : trainer.optimizer().params()) {
        auto it = expAvg->find(p.name);
        if (it == expAvg->end()) {
            p.expAvg = torch::Tensor();
            p.expAvgSq = torch::Tensor();
        } else {
            p.expAvg = it->second.clone();
            p.expAvgSq = expAvgSq->at(p.name).clone();
        }
    }
    trainer.optimizer().setStepCount(optim.at("step").toInt());
    trainer.restoreCounters(info->step, info->trainSeconds);
    return info;
}

}  // namespace plateau
