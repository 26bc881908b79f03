#include "curvature_input.hpp"

#include "curv/distributed/sharded_operator.hpp"

#include <sys/resource.h>

#include <chrono>
#include <filesystem>

#include "checks.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/nn/checkpoint.hpp"
#include "progress.hpp"

namespace curv::cli {

void CurvatureInput::add_options(CLI::App* cmd) {
  add_checkpoint_options(cmd);
  cmd->add_option("--examples", examples,
                  "The examples the curvature is defined on: an index list (docs/data.md)")
      ->capture_default_str();
  cmd->add_option("--batch", batch, "Examples per recorded batch (memory vs. speed)")
      ->capture_default_str();
  cmd->add_option("--cache-mb", cache_mb,
                  "Recorded batches kept between products (MiB); the rest are recorded again")
      ->capture_default_str();
  cmd->add_option("--context", task.context, "moby-dick: characters per window")
      ->capture_default_str();
  cmd->add_option("--operator", op,
                  "hessian, ggn, ef, fisher, kfac, ekfac, diag, lowrank, "
                  "blockdiag-{hessian,ggn,ef,fisher}")
      ->required();
  cmd->add_option("--subset", subset, "all, last, or comma-separated layer/parameter names")
      ->capture_default_str();
  cmd->add_option("--mc-samples", mc_samples, "fisher and mc factors: labels drawn per example")
      ->capture_default_str();
  cmd->add_option("--damping", damping,
                  "λ: products and inverses with M + λI for every operator; with --kfac-damping "
                  "factored, part of K-FAC's matrix instead")
      ->capture_default_str();
  kfac.add(cmd, "kfac");
  cmd->get_option("--factors")
      ->description(
          "kfac, ekfac: the output factor G from ef (the gradient's own sweep), mc "
          "(sampled labels: the true Fisher) or ggn (exact); diag: the exact diagonal "
          "of the ef, the mc Fisher or the ggn");
  cmd->add_option("--precision", precision,
                  "float64 or float32: the dtype the model's sweeps run in")
      ->capture_default_str();
  cmd->add_option("--seed", seed, "Seed for sampled labels and random vectors")
      ->capture_default_str();
}

void CurvatureInput::validate(bool with_operator) const {
  CURV_CHECK(damping >= 0, "expected --damping >= 0, found ", damping);
  CURV_CHECK(precision == "float64" || precision == "float32",
             "expected --precision float64 or float32, found '", precision, "'");
  CURV_CHECK(batch >= 1, "expected --batch >= 1, found ", batch);
  CURV_CHECK(mc_samples >= 1, "expected --mc-samples >= 1, found ", mc_samples);
  if (!task.labels.empty()) check_readable(task.labels, "--labels", "an .npy file");
  if (!with_operator) return;
  auto names = operator_names();
  // kfac-factored is --operator kfac --kfac-damping factored here, with train's and prune's flags.
  names.erase(std::find(names.begin(), names.end(), "kfac-factored"));
  if (std::find(names.begin(), names.end(), op) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    fail("unknown --operator '", op, "': expected one of ", known);
  }
  kfac.check();
  const bool factored_asked = kfac.damping_kind() == KfacDamping::Factored;
  CURV_CHECK(!factored_asked || op == "kfac",
             "--kfac-damping factored: expected --operator kfac (the only operator built with "
             "it), found '",
             op, "'");
  CURV_CHECK(!factored_asked || damping > 0,
             "--kfac-damping factored: expected --damping > 0, the λ of (A + π√λI) ⊗ "
             "(G + √λ/π I), found ",
             damping);
}

OperatorSpec CurvatureInput::spec() const {
  OperatorSpec s;
  s.name = op, s.subset = subset, s.factors = kfac.factor_kind(), s.samples = mc_samples;
  s.seed = seed;
  if (factored())
    s.name = "kfac-factored", s.factored_damping = damping, s.pi_adjusted = kfac.pi_adjusted();
  return s;
}

bool CurvatureInput::factored() const {
  return op == "kfac" && kfac.damping_kind() == KfacDamping::Factored;
}

template <class T>
CurvatureSetup<T> load_curvature(const CurvatureInput& in, bool shard) {
  const auto t0 = std::chrono::steady_clock::now();
  CurvatureSetup<T> s;
  distributed::Communicator& comm = distributed::Communicator::world();
  const bool sharded = shard && comm.distributed();
  // The data is read here: every process goes on, or none does.
  distributed::agreed(comm, [&] {
    CURV_CHECK(!sharded || distributed::distributed_operator_supported(in.op), "--operator ", in.op,
               ": expected a mean over examples on several MPI processes ",
               "(hessian, ggn, ef, fisher, diag, blockdiag-*), found one that is not");
    s.model = load_checkpoint<T>(in.checkpoint, in.model, in.config);
    s.task = make_task<T>(in.data, s.model->loss(), in.task);
    s.task->check_model(*s.model);
    const IndexList list = parse_index_list(in.examples, *s.task);
    s.examples = list.spec;
    s.total_examples = list.size();
    typename CurvatureData<T>::Options options;
    options.cache_bytes = in.cache_mb << 20;
    std::vector<index_t> mine =
        sharded ? distributed::shard_of(list.indices, comm.rank(), comm.size()) : list.indices;
    const index_t local = index_t(mine.size());
    s.data = std::make_unique<CurvatureData<T>>(*s.model, s.task->split(list.split),
                                                std::move(mine), in.batch, options);
    s.op = make_operator(*s.data, in.spec());
    if (sharded)
      s.op = std::make_unique<distributed::ShardedOperator>(comm, std::move(s.op), local,
                                                            s.total_examples);
  });
  s.seconds_setup = seconds_since(t0);
  return s;
}

template <class T>
nlohmann::json CurvatureSetup<T>::describe() const {
  return {{"model", model->name()},
          {"operator", op->name()},
          {"size", op->size()},
          {"parameters", model->params().size()},
          {"examples", examples},
          {"count", total_examples},
          // The mean over every process's examples: each part's mean weighed by its size.
          {"loss",
           data->examples() == total_examples
               ? data->loss()
               : distributed::Communicator::world().sum(data->loss() * double(data->examples())) /
                     double(total_examples)},
          {"reduction", "mean over examples"},
          {"setup_seconds", seconds_setup}};
}

template <class T>
nlohmann::json CurvatureSetup<T>::memory() const {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return {{"peak_rss_mb", double(u.ru_maxrss) / 1024.0},  // this process's
          {"batches", data->batches()},
          {"cached_batches", data->cached_batches()},
          {"cached_mb", double(data->cached_bytes()) / double(1 << 20)},
          {"recordings", data->recordings()}};
}

template struct CurvatureSetup<float>;
template struct CurvatureSetup<double>;
template CurvatureSetup<float> load_curvature(const CurvatureInput&, bool);
template CurvatureSetup<double> load_curvature(const CurvatureInput&, bool);

}  // namespace curv::cli
