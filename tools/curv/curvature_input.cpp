#include "curvature_input.hpp"

#include <chrono>
#include <filesystem>

#include "curv/data/task.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/checkpoint.hpp"

namespace curv::cli {

void CurvatureInput::add_options(CLI::App* cmd) {
  cmd->add_option("--checkpoint", checkpoint, "A safetensors file")->required();
  cmd->add_option("--model", model, "The architecture, for files without curv metadata");
  cmd->add_option("--config", config, "Its JSON configuration (with --model)");
  cmd->add_option(
      "--data", data,
      "Use the first --samples training examples of mnist, fashion-mnist, cifar10, ...");
  cmd->add_option("--samples", samples, "Examples taken from --data")->capture_default_str();
  cmd->add_option("--inputs", inputs,
                  "Use exactly these examples: float32/float64 .npy in the model's input layout, "
                  "e.g. [N,1,28,28]");
  cmd->add_option("--labels", labels,
                  "Their targets: int64 class labels [N], or float targets [N,C] (bce, mse)");
  cmd->add_option("--batch", batch, "Examples per recorded batch (memory vs. speed)")
      ->capture_default_str();
  cmd->add_option("--context", context, "moby-dick: characters per window")->capture_default_str();
  cmd->add_option(
         "--operator", op,
         "hessian, ggn, ef, fisher, kfac, ekfac, diag, lowrank, blockdiag-{hessian,ggn,ef,fisher}")
      ->required();
  cmd->add_option("--subset", subset, "all, last, or comma-separated layer/parameter names")
      ->capture_default_str();
  cmd->add_option("--factors", factors,
                  "kfac, ekfac, diag: output factor ggn (exact), ef or mc (sampled Fisher)")
      ->capture_default_str();
  cmd->add_option("--mc-samples", mc_samples, "fisher and mc factors: labels drawn per example")
      ->capture_default_str();
  cmd->add_option("--kfac-damping", kfac_damping,
                  "kfac: eigen (exact (A⊗G + λI)⁻¹) or factored (π-adjusted)")
      ->capture_default_str();
  cmd->add_option("--damping", damping,
                  "λ added to the operator for inverses (lowrank: its built-in λ)")
      ->capture_default_str();
  cmd->add_option("--precision", precision,
                  "float64 or float32: the dtype the model's sweeps run in")
      ->capture_default_str();
  cmd->add_option("--seed", seed, "Seed for sampled labels and random vectors")
      ->capture_default_str();
}

void CurvatureInput::validate() const {
  CURV_CHECK(damping >= 0, "expected --damping >= 0, found ", damping);
  CURV_CHECK(precision == "float64" || precision == "float32",
             "expected --precision float64 or float32, found '", precision, "'");
  CURV_CHECK(data.empty() != inputs.empty(),
             "expected exactly one of --data or --inputs (with --labels), found ",
             data.empty() ? "neither" : "both");
  CURV_CHECK(inputs.empty() == labels.empty(), "--inputs and --labels go together: found only ",
             inputs.empty() ? "--labels" : "--inputs");
  CURV_CHECK(batch >= 1, "expected --batch >= 1, found ", batch);
  CURV_CHECK(mc_samples >= 1, "expected --mc-samples >= 1, found ", mc_samples);
  const auto names = operator_names();
  if (std::find(names.begin(), names.end(), op) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    fail("unknown --operator '", op, "': expected one of ", known);
  }
  parse_factor_kind(factors);
  parse_kfac_damping(kfac_damping);
  for (const auto* f : {&checkpoint, &inputs, &labels})
    CURV_CHECK(f->empty() || std::filesystem::exists(*f), "cannot open '", *f, "': no such file");
}

OperatorSpec CurvatureInput::spec() const {
  OperatorSpec s;
  s.name = op, s.subset = subset, s.factors = parse_factor_kind(factors), s.samples = mc_samples,
  s.seed = seed;
  s.kfac_damping = parse_kfac_damping(kfac_damping), s.damping = damping;
  return s;
}

namespace {

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (auto d : shape) s += (s.empty() ? "" : ",") + std::to_string(d);
  return "[" + s + "]";
}

// Batches of the examples in the .npy files, checked against the model's input layout and loss.
template <class T>
std::vector<CurvatureBatch<T>> npy_batches(const Model<T>& model, const CurvatureInput& in) {
  const NpyArray X = read_npy(in.inputs), Y = read_npy(in.labels);
  CURV_CHECK(X.dtype == "<f4" || X.dtype == "<f8", in.inputs,
             ": expected float32 or float64 inputs, found dtype ", X.dtype);
  const Shape per = model.input_shape();
  const index_t N = X.shape.empty() ? 0 : X.shape[0];
  bool fits = index_t(X.shape.size()) == per.rank() + 1 && N >= 1;
  for (int i = 0; fits && i < per.rank(); ++i) fits = X.shape[std::size_t(i + 1)] == per[i];
  if (!fits) {
    std::vector<std::int64_t> want;
    for (int i = 0; i < per.rank(); ++i) want.push_back(per[i]);
    fail(in.inputs, ": expected inputs [N,", shape_str(want).substr(1), " for ", model.name(),
         ", found ", shape_str(X.shape));
  }
  const bool classes = model.loss() == "cross_entropy";
  if (classes) {
    CURV_CHECK(Y.shape == std::vector<std::int64_t>{N}, in.labels, ": expected ", N,
               " int64 class labels [", N, "], found shape ", shape_str(Y.shape));
    CURV_CHECK(Y.dtype == "<i8" || Y.dtype == "<i4", in.labels,
               ": expected int64 class labels, found dtype ", Y.dtype);
  } else {
    CURV_CHECK(Y.numel() == N * model.outputs(), in.labels, ": expected float targets [", N, ",",
               model.outputs(), "] for loss ", model.loss(), ", found shape ", shape_str(Y.shape));
  }
  const std::vector<double> x = X.to_double();
  std::vector<std::int64_t> y;
  std::vector<double> yv;
  if (classes) {
    y = Y.to_int64();
    for (auto l : y)
      CURV_CHECK(l >= 0 && l < model.outputs(), in.labels, ": expected labels in [0,",
                 model.outputs(), "), found ", l);
  } else {
    yv = Y.to_double();
  }
  std::vector<CurvatureBatch<T>> out;
  const index_t row = per.numel(), C = model.outputs();
  for (index_t i = 0; i < N; i += in.batch) {
    const index_t n = std::min(in.batch, N - i);
    CurvatureBatch<T> b;
    Shape s{n};
    for (int k = 0; k < per.rank(); ++k) s.push_back(per[k]);
    b.x = Tensor<T>(s);
    for (index_t j = 0; j < n * row; ++j) b.x[j] = T(x[std::size_t(i * row + j)]);
    if (classes) {
      b.y.labels.assign(y.begin() + i, y.begin() + i + n);
    } else {
      b.y.values = Tensor<T>(Shape{n, C});
      for (index_t j = 0; j < n * C; ++j) b.y.values[j] = T(yv[std::size_t(i * C + j)]);
    }
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace

template <class T>
CurvatureSetup<T> load_curvature(const CurvatureInput& in) {
  const auto t0 = std::chrono::steady_clock::now();
  CurvatureSetup<T> s;
  s.model = load_checkpoint<T>(in.checkpoint, in.model, in.config);
  std::vector<CurvatureBatch<T>> batches;
  if (!in.inputs.empty()) {
    batches = npy_batches(*s.model, in);
  } else {
    TaskOptions topt;
    topt.context = in.context;
    topt.limit = in.samples;
    auto task = make_task<T>(in.data, s.model->loss(), topt);
    task->check_model(*s.model);
    batches = task_batches(*task, std::min(in.samples, task->train_size()), in.batch);
  }
  s.data = std::make_unique<CurvatureData<T>>(*s.model, std::move(batches));
  s.op = make_operator(*s.data, in.spec());
  s.seconds_setup = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

template <class T>
nlohmann::json CurvatureSetup<T>::describe() const {
  return {{"model", model->name()},
          {"operator", op->name()},
          {"size", op->size()},
          {"parameters", model->params().size()},
          {"examples", data->examples()},
          {"loss", data->loss()},
          {"reduction", "mean over examples"},
          {"setup_seconds", seconds_setup}};
}

template struct CurvatureSetup<float>;
template struct CurvatureSetup<double>;
template CurvatureSetup<float> load_curvature(const CurvatureInput&);
template CurvatureSetup<double> load_curvature(const CurvatureInput&);

}  // namespace curv::cli
