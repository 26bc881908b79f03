#include "curv/train/trajectory.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "curv/core/version.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/checkpoint.hpp"
#include "curv/train/recorder.hpp"

namespace curv {
namespace fs = std::filesystem;
namespace {

std::string hex(std::uint64_t v) {
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::string numbered(const std::string& dir, const char* stem, index_t a, index_t b = -1) {
  char name[96];
  if (b < 0)
    std::snprintf(name, sizeof name, "/%s-%08lld.safetensors", stem, (long long)a);
  else
    std::snprintf(name, sizeof name, "/%s-%08lld-%08lld.npy", stem, (long long)a, (long long)b);
  return dir + name;
}

std::uint64_t list_hash(const std::vector<index_t>& v) {
  return fnv1a(v.data(), v.size() * sizeof(index_t));
}

void draw_to_row(const Rng::State& s, std::int64_t* row) {
  for (int i = 0; i < 4; ++i) std::memcpy(row + i, &s.words[i], 8);
  std::memcpy(row + 4, &s.spare, 8);
  row[5] = s.has_spare ? 1 : 0;
}

Rng::State row_to_draw(const std::int64_t* row) {
  Rng::State s{};
  for (int i = 0; i < 4; ++i) std::memcpy(&s.words[i], row + i, 8);
  std::memcpy(&s.spare, row + 4, 8);
  s.has_spare = row[5] != 0;
  return s;
}

}  // namespace

template <class T>
struct TrajectoryRecorder<T>::Impl {
  std::string dir;
  index_t every;
  nlohmann::json manifest;
  std::vector<index_t> snapshots;
  nlohmann::json segments = nlohmann::json::array();
  index_t batch = 0, first = 1;  // the pending segment starts at step `first`
  std::vector<std::int64_t> indices, draws;
  std::vector<double> lrs;
};

template <class T>
TrajectoryRecorder<T>::TrajectoryRecorder(std::string dir, index_t every)
    : impl_(std::make_unique<Impl>()) {
  CURV_CHECK(every >= 1, "trajectory: expected a snapshot every >= 1 steps, found ", every);
  CURV_CHECK(!fs::exists(dir + "/trajectory.json"), "trajectory: expected a directory without a ",
             "trajectory, found one in '", dir, "'");
  std::error_code ec;
  fs::create_directories(dir, ec);
  CURV_CHECK(fs::is_directory(dir), "trajectory: expected a directory to record into, found '", dir,
             "' cannot be created");
  impl_->dir = std::move(dir), impl_->every = every;
}

template <class T>
TrajectoryRecorder<T>::~TrajectoryRecorder() = default;

template <class T>
void TrajectoryRecorder<T>::begin(const Recipe& r, const Task<T>& task, const IndexList& train,
                                  TrainLoop<T>& loop) {
  // A step is recorded as one list of examples and one generator state: unsharded draws.
  CURV_CHECK(loop.shards() == 1, "trajectory: expected an unsharded run to record, found ",
             loop.shards(), " shards");
  const Split<T>& split = task.split("train");
  const Model<T>& model = loop.model();
  impl_->batch = loop.batch_size();
  impl_->manifest = {{"format", "curv-trajectory-1"},
                     {"command", command_line()},
                     {"git_commit", git_commit()},
                     {"recipe", to_json(r)},
                     {"model", model.name()},
                     {"config", nlohmann::json::parse(model.config())},
                     {"parameters", model.params().size()},
                     {"optimizer", loop.optimizer().name()},
                     {"dtype", sizeof(T) == 8 ? "float64" : "float32"},
                     {"data",
                      {{"split", split.name()},
                       {"fingerprint", hex(split.fingerprint())},
                       {"examples", train.spec},
                       {"examples_hash", hex(list_hash(train.indices))},
                       {"count", train.size()}}},
                     {"batch", impl_->batch},
                     {"every", impl_->every}};
  snapshot(loop);
  write_manifest();
}

template <class T>
void TrajectoryRecorder<T>::after_step(TrainLoop<T>& loop, double lr) {
  const Batch<T>& b = loop.batch();
  impl_->indices.insert(impl_->indices.end(), b.indices.begin(), b.indices.end());
  impl_->draws.resize(impl_->draws.size() + 6);
  draw_to_row(loop.batch_state(), impl_->draws.data() + impl_->draws.size() - 6);
  impl_->lrs.push_back(lr);
  if (loop.steps() % impl_->every == 0) {
    flush_segment(loop.steps());
    snapshot(loop);
    write_manifest();
  }
}

template <class T>
void TrajectoryRecorder<T>::end(TrainLoop<T>& loop) {
  if (!impl_->lrs.empty()) flush_segment(loop.steps());
  if (impl_->snapshots.empty() || impl_->snapshots.back() != loop.steps()) snapshot(loop);
  write_manifest();
}

template <class T>
void TrajectoryRecorder<T>::flush_segment(index_t last) {
  Impl& m = *impl_;
  const std::int64_t k = std::int64_t(m.lrs.size());
  write_npy(numbered(m.dir, "steps", m.first, last), m.indices.data(), {k, std::int64_t(m.batch)});
  write_npy(numbered(m.dir, "draws", m.first, last), m.draws.data(), {k, 6});
  write_npy(numbered(m.dir, "lr", m.first, last), m.lrs.data(), {k});
  m.segments.push_back({{"first", m.first}, {"last", last}});
  m.first = last + 1;
  m.indices.clear(), m.draws.clear(), m.lrs.clear();
}

template <class T>
void TrajectoryRecorder<T>::snapshot(TrainLoop<T>& loop) {
  const index_t step = loop.steps();
  const OptimizerState<T> s = loop.optimizer().state();
  const index_t P = loop.model().params().size();
  std::vector<TensorToWrite> extra;
  for (const auto& [name, buf] : s.buffers) {
    CURV_CHECK(index_t(buf.size()) == P, "trajectory: expected optimizer buffer '", name, "' of ",
               P, " entries, found ", buf.size());
    extra.push_back({"optimizer." + name, sizeof(T) == 8 ? "F64" : "F32", Shape{P}, buf.data()});
  }
  const std::map<std::string, std::string> meta = {
      {"curv.step", std::to_string(step)},
      {"curv.optimizer", loop.optimizer().name()},
      {"curv.optimizer_scalars", nlohmann::json(s.scalars).dump()},
      {"curv.optimizer_complete", s.complete ? "1" : "0"}};
  save_checkpoint(loop.model(), numbered(impl_->dir, "step", step), meta, extra);
  impl_->snapshots.push_back(step);
}

template <class T>
void TrajectoryRecorder<T>::write_manifest() {
  nlohmann::json j = impl_->manifest;
  j["snapshots"] = impl_->snapshots;
  j["segments"] = impl_->segments;
  j["steps"] = impl_->segments.empty() ? 0 : impl_->segments.back()["last"].template get<index_t>();
  const std::string path = impl_->dir + "/trajectory.json", tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << j.dump(1) << "\n";
    CURV_CHECK(f.good(), "trajectory: failed writing '", tmp, "'");
  }
  fs::rename(tmp, path);
}

template class TrajectoryRecorder<float>;
template class TrajectoryRecorder<double>;

Trajectory::Trajectory(std::string dir) : dir_(std::move(dir)) {
  const std::string path = dir_ + "/trajectory.json";
  std::ifstream f(path);
  CURV_CHECK(f.good(), "trajectory: cannot open '", path, "'");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
    CURV_CHECK(j.at("format") == "curv-trajectory-1", path,
               ": expected format curv-trajectory-1, found ", j.at("format").dump());
    recipe_ = recipe_from_json(j.at("recipe"));
    snapshots_ = j.at("snapshots").get<std::vector<index_t>>();
    for (const auto& s : j.at("segments"))
      segments_.push_back({s.at("first").get<index_t>(), s.at("last").get<index_t>()});
    steps_ = j.at("steps").get<index_t>();
    batch_ = j.at("batch").get<index_t>();
    model_ = j.at("model").get<std::string>();
    const auto& d = j.at("data");
    split_ = d.at("split").get<std::string>();
    examples_ = d.at("examples").get<std::string>();
    fingerprint_ = std::stoull(d.at("fingerprint").get<std::string>(), nullptr, 16);
    examples_hash_ = std::stoull(d.at("examples_hash").get<std::string>(), nullptr, 16);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": expected a trajectory manifest, found ", e.what());
  }
}

std::string Trajectory::snapshot_path(index_t step) const {
  CURV_CHECK(std::find(snapshots_.begin(), snapshots_.end(), step) != snapshots_.end(),
             "trajectory ", dir_, ": expected a snapshot step among those recorded, found ", step);
  return numbered(dir_, "step", step);
}

Trajectory::Step Trajectory::step(index_t s) const {
  for (const Segment& g : segments_) {
    if (s < g.first || s > g.last) continue;
    const NpyArray idx = read_npy(numbered(dir_, "steps", g.first, g.last));
    const NpyArray draws = read_npy(numbered(dir_, "draws", g.first, g.last));
    const NpyArray lr = read_npy(numbered(dir_, "lr", g.first, g.last));
    const std::int64_t k = g.last - g.first + 1;
    const bool fits = idx.shape == std::vector<std::int64_t>{k, batch_} &&
                      draws.shape == std::vector<std::int64_t>{k, 6} &&
                      lr.shape == std::vector<std::int64_t>{k};
    CURV_CHECK(fits, "trajectory ", dir_, ": expected steps ", g.first, "..", g.last, " of batch ",
               batch_, ", found files of other shapes");
    const std::size_t r = std::size_t(s - g.first);
    const std::vector<std::int64_t> all = idx.to_int64(), d = draws.to_int64();
    Step out;
    out.indices.assign(all.begin() + std::ptrdiff_t(r * batch_),
                       all.begin() + std::ptrdiff_t((r + 1) * batch_));
    out.draw = row_to_draw(d.data() + r * 6);
    out.lr = lr.to_double()[r];
    return out;
  }
  fail("trajectory ", dir_, ": expected a recorded step in 1..", steps_, ", found ", s);
}

template <class T>
void Trajectory::check_data(const Task<T>& task) const {
  const Split<T>& split = task.split("train");
  CURV_CHECK(split.name() == split_ && split.fingerprint() == fingerprint_, "trajectory ", dir_,
             ": expected training data ", split_, " with fingerprint ", hex(fingerprint_),
             ", found ", split.name(), " with ", hex(split.fingerprint()),
             " (the data changed since the run was recorded)");
  const IndexList list = parse_index_list(examples_, task);
  CURV_CHECK(list_hash(list.indices) == examples_hash_, "trajectory ", dir_,
             ": expected the training examples '", examples_, "' as recorded (hash ",
             hex(examples_hash_), "), found ", hex(list_hash(list.indices)));
}

template <class T>
void Trajectory::load(index_t step, Model<T>& model, Optimizer<T>& opt) const {
  const std::string path = snapshot_path(step);
  const Safetensors st = read_safetensors(path);
  CURV_CHECK(model.name() == model_, path, ": expected a snapshot of ", model.name(),
             ", found one of ", model_);
  load_parameters(st, path, model.name(), model.params());
  OptimizerState<T> s;
  for (const auto& [name, t] : st.tensors)
    if (name.rfind("optimizer.", 0) == 0)
      s.buffers[name.substr(10)] = t.template as<T>(path + ": " + name);
  const auto meta = [&](const char* k) {
    const auto it = st.metadata.find(k);
    CURV_CHECK(it != st.metadata.end(), path, ": expected metadata '", k, "', found none");
    return it->second;
  };
  CURV_CHECK(meta("curv.optimizer") == opt.name(), path, ": expected a snapshot of optimizer ",
             opt.name(), ", found ", meta("curv.optimizer"));
  s.scalars = nlohmann::json::parse(meta("curv.optimizer_scalars"))
                  .template get<std::map<std::string, double>>();
  s.complete = meta("curv.optimizer_complete") == "1";
  if (step == 0) return;  // the optimizer starts empty, as it did
  CURV_CHECK(s.complete, path, ": expected a complete optimizer state to resume ", opt.name(),
             " at step ", step, ", found a partial one (replay from step 0)");
  opt.load_state(s);
}

template <class T>
void replay(const Trajectory& t, const Task<T>& task, index_t from, index_t to, Model<T>& model,
            Optimizer<T>& opt, const RunHooks<T>& hooks) {
  t.check_data(task);
  CURV_CHECK(to >= from && to <= t.steps(), "trajectory ", t.dir(),
             ": expected steps to replay in ", from, "..", t.steps(), ", found ", to);
  t.load(from, model, opt);
  const Recipe& r = t.recipe();
  TrainLoop<T> loop(model, opt, task.split("train"), parse_index_list(r.examples, task).indices,
                    r.batch, r.data_seed, r.clip_norm);
  for (const Regularizer<T>* reg : hooks.regularizers) loop.add_regularizer(*reg);
  for (TrainHook<T>* h : hooks.hooks) loop.add_hook(*h);
  for (index_t s = from + 1; s <= to; ++s) {
    const Trajectory::Step st = t.step(s);
    loop.replay_step(st.indices, st.draw, st.lr);
  }
}

template void Trajectory::check_data(const Task<float>&) const;
template void Trajectory::check_data(const Task<double>&) const;
template void Trajectory::load(index_t, Model<float>&, Optimizer<float>&) const;
template void Trajectory::load(index_t, Model<double>&, Optimizer<double>&) const;
template void replay(const Trajectory&, const Task<float>&, index_t, index_t, Model<float>&,
                     Optimizer<float>&, const RunHooks<float>&);
template void replay(const Trajectory&, const Task<double>&, index_t, index_t, Model<double>&,
                     Optimizer<double>&, const RunHooks<double>&);

}  // namespace curv
