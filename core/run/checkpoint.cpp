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
// 1: matrix completion with Adam (before experiments); 2: adds "experiment" and per-optimiser
// state names (SGD's momentum_buffer). Both read.
constexpr std::int64_t kFormatVersion = 2;

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
    const std::map<std::string, std::vector<std::int64_t>>& expected, bool requireAll,
    torch::ScalarType dtype = torch::kFloat32) {
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
        if (t.scalar_type() != dtype)
            return Error{field + ": expected " + QString::fromStdString(std::string(c10::toString(dtype)))};
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
// The checkpoint's experiment against the run's, then its "model" section against `params`.
Result<std::map<std::string, torch::Tensor>> modelTensors(const c10::impl::GenericDict& dict, const QString& path,
                                                          const QString& experimentId,
                                                          const std::vector<NamedParameter>& params) {
    const std::string experiment = dict.contains("experiment") && dict.at("experiment").isString()
                                       ? dict.at("experiment").toStringRef() : std::string("matrix_completion");
    if (QString::fromStdString(experiment) != experimentId)
        return Error{path + ": experiment: the checkpoint is of " + QString::fromStdString(experiment) + ", the run is " +
                     experimentId};
    std::map<std::string, std::vector<std::int64_t>> shapes;
    torch::ScalarType dtype = torch::kFloat32;
    for (const NamedParameter& p : params) {
        shapes[p.name] = p.tensor.sizes().vec();
        dtype = p.tensor.scalar_type();
    }
    return tensorsOf(dict, "model", path, shapes, true, dtype);
}
}  // namespace

Result<CheckpointInfo> loadModelWeights(Experiment& e, const QString& path) {
    auto dict = readDict(path);
    if (!dict) return Error{dict.error()};
    auto info = infoOf(dict.value(), path);
    if (!info) return info;
    const std::vector<NamedParameter> params = e.parameters();
    auto model = modelTensors(dict.value(), path, e.config().experiment, params);
    if (!model) return Error{model.error()};
    torch::NoGradGuard noGrad;
    for (const NamedParameter& p : params) p.tensor.copy_(model->at(p.name));
    return info;
}

Status saveCheckpoint(Trainer& trainer, const QString& path) {
    Dict root = makeDict();
    root.insert("format", std::string(kFormat));
    root.insert("format_version", kFormatVersion);
    root.insert("step", std::int64_t(trainer.stepsDone()));
    root.insert("train_seconds", trainer.trainSeconds());
    root.insert("config", QJsonDocument(trainer.config().toJson())
                              .toJson(QJsonDocument::Compact).toStdString());
    root.insert("experiment", trainer.config().experiment.toStdString());
    TensorDict model;
    for (const NamedParameter& p : trainer.parameters()) model.insert(p.name, p.tensor.detach());
    const std::vector<std::string> stateNames = trainer.optimizer().stateNames();
    std::vector<TensorDict> states(stateNames.size());
    for (const OptParam& p : trainer.optimizer().params())
        for (std::size_t k = 0; k < stateNames.size(); ++k)
            if (p.state[k].defined()) states[k].insert(p.name, p.state[k]);
    Dict optim = makeDict();
    optim.insert("name", trainer.config().optim.name.toStdString());
    optim.insert("step", trainer.optimizer().stepCount());
    for (std::size_t k = 0; k < stateNames.size(); ++k) optim.insert(stateNames[k], states[k]);
    Dict rng = makeDict();
    rng.insert("data_seed", std::int64_t(trainer.config().dataSeed()));
    rng.insert("data_next_step", std::int64_t(trainer.stepsDone()));
    {
        torch::Generator gen = trainer.experiment().generator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        rng.insert("torch_cpu_state", gen.get_state());  // the experiment's own generator
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

    auto model = modelTensors(dict, path, trainer.config().experiment, trainer.parameters());
    if (!model) return Error{model.error()};
    std::map<std::string, std::vector<std::int64_t>> shapes;
    torch::ScalarType dtype = torch::kFloat32;
    for (const NamedParameter& p : trainer.parameters()) {
        shapes[p.name] = p.tensor.sizes().vec();
        dtype = p.tensor.scalar_type();
    }

    if (!dict.contains("optimizer") || !dict.at("optimizer").isGenericDict())
        return Error{path + ": optimizer: missing"};
    const auto optim = dict.at("optimizer").toGenericDict();
    if (!optim.contains("step") || !optim.at("step").isInt() || optim.at("step").toInt() < 0)
        return Error{path + ": optimizer.step: missing or invalid"};
    const std::string optimName = optim.contains("name") && optim.at("name").isString() ? optim.at("name").toStringRef() : "adam";
    const std::string wantName = trainer.config().optim.name.toStdString();
    const bool adamFamily = [](const std::string& n) { return n == "adam" || n == "adamw"; }(optimName);
    if (optimName != wantName && !(adamFamily && (wantName == "adam" || wantName == "adamw")))
        return Error{path + ": optimizer.name: the checkpoint's state is " + QString::fromStdString(optimName) +
                     "'s, the run uses " + trainer.config().optim.name};
    const std::vector<std::string> stateNames = trainer.optimizer().stateNames();
    std::vector<std::map<std::string, torch::Tensor>> states;
    for (const std::string& sn : stateNames) {
        auto st = tensorsOf(optim, sn, path + ": optimizer", shapes, false, dtype);
        if (!st) return Error{st.error()};
        states.push_back(std::move(st.value()));
    }
    for (std::size_t k = 1; k < states.size(); ++k)
        for (const auto& e : states[0])
            if (!states[k].count(e.first))
                return Error{path + ": optimizer." + QString::fromStdString(stateNames[k] + "." + e.first) + ": missing"};

    torch::Tensor torchState;
    if (dict.contains("rng") && dict.at("rng").isGenericDict()) {
        const auto rng = dict.at("rng").toGenericDict();
        if (rng.contains("torch_cpu_state") && rng.at("torch_cpu_state").isTensor())
            torchState = rng.at("torch_cpu_state").toTensor();
    }

    // Everything validated. The generator first: the only step that can still fail.
    if (torchState.defined()) {
        try {
            torch::Generator gen = trainer.experiment().generator();
            std::lock_guard<std::mutex> lock(gen.mutex());
            gen.set_state(torchState);
        } catch (const std::exception&) {
            return Error{path + ": rng.torch_cpu_state: invalid generator state"};
        }
    }
    torch::NoGradGuard noGrad;
    for (const NamedParameter& p : trainer.parameters()) p.tensor.copy_(model->at(p.name));
    for (OptParam& p : trainer.optimizer().params())
        for (std::size_t k = 0; k < stateNames.size(); ++k) {
            auto it = states[k].find(p.name);
            p.state[k] = it == states[k].end() ? torch::Tensor() : it->second.clone();
        }
    trainer.optimizer().setStepCount(optim.at("step").toInt());
    trainer.restoreCounters(info->step, info->trainSeconds);
    return info;
}

}  // namespace plateau
