#include "curv/train/recorder.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "curv/core/version.hpp"

namespace curv {
namespace {

std::string& command_storage() {
  static std::string s;
  return s;
}

// The shortest decimal that reads back as exactly v ("0.003", not "0.0030000000000000001").
std::string shortest(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// Reads the keys of j into fields with `get`, refusing keys that no field takes.
struct Reader {
  const nlohmann::json& j;
  const char* what;
  std::vector<std::string> seen;
  template <class V>
  void get(const char* key, V& into) {
    seen.push_back(key);
    if (j.contains(key)) into = j.at(key).get<V>();
  }
  void done() const {
    for (const auto& [k, v] : j.items())
      CURV_CHECK(std::find(seen.begin(), seen.end(), k) != seen.end(), what,
                 ": expected known recipe fields, found '", k, "'");
  }
};

}  // namespace

void set_command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    const bool quote = a.empty() || a.find_first_of(" \t'\"{}[]*?$") != std::string::npos;
    s += (i ? " " : "") + (quote ? "'" + a + "'" : a);
  }
  command_storage() = s;
}

const std::string& command_line() { return command_storage(); }

nlohmann::json to_json(const SecondOrderConfig& c) {
  return {{"damping", c.damping},
          {"damping_min", c.damping_min},
          {"weight_decay", c.weight_decay},
          {"decay", c.decay},
          {"inverse_every", c.inverse_every},
          {"factors", factor_kind_name(c.factors)},
          {"kfac_damping", kfac_damping_name(c.kfac_damping)},
          {"kfac_pi", c.kfac_pi},
          {"rescale", c.rescale},
          {"momentum", c.momentum},
          {"kl_clip", c.kl_clip},
          {"scheduled_clip", c.scheduled_clip},
          {"carry_scaling", c.carry_scaling},
          {"adapt_damping", c.adapt_damping},
          {"adapt_every", c.adapt_every},
          {"adapt_factor", c.adapt_factor},
          {"stats_examples", c.stats_examples},
          {"qmodel_examples", c.qmodel_examples},
          {"fallback_lr", c.fallback_lr},
          {"window", c.window},
          {"seed", c.seed}};
}

SecondOrderConfig second_order_from_json(const nlohmann::json& j) {
  SecondOrderConfig c;
  Reader r{j, "second_order", {}};
  std::string factors = factor_kind_name(c.factors), damping = kfac_damping_name(c.kfac_damping);
  r.get("damping", c.damping), r.get("damping_min", c.damping_min);
  r.get("weight_decay", c.weight_decay), r.get("decay", c.decay);
  r.get("inverse_every", c.inverse_every), r.get("factors", factors);
  r.get("kfac_damping", damping), r.get("kfac_pi", c.kfac_pi);
  r.get("rescale", c.rescale), r.get("momentum", c.momentum);
  r.get("kl_clip", c.kl_clip), r.get("scheduled_clip", c.scheduled_clip);
  r.get("carry_scaling", c.carry_scaling), r.get("adapt_damping", c.adapt_damping);
  r.get("adapt_every", c.adapt_every), r.get("adapt_factor", c.adapt_factor);
  r.get("stats_examples", c.stats_examples), r.get("qmodel_examples", c.qmodel_examples);
  r.get("fallback_lr", c.fallback_lr), r.get("window", c.window), r.get("seed", c.seed);
  r.done();
  c.factors = parse_factor_kind(factors);
  c.kfac_damping = parse_kfac_damping(damping);
  return c;
}

nlohmann::json to_json(const Recipe& r) {
  const Schedule& s = r.schedule;
  return {
      {"model", r.model},
      {"config", nlohmann::json::parse(r.config)},
      {"data", r.data},
      {"task",
       {{"augment", r.task.augment},
        {"context", r.task.context},
        {"validation", r.task.validation},
        {"validation_seed", r.task.validation_seed},
        {"labels", r.task.labels},
        {"standardize", r.task.standardize},
        {"label_noise", r.task.label_noise},
        {"label_noise_seed", r.task.label_noise_seed},
        {"classes", r.task.classes}}},
      {"examples", r.examples},
      {"evaluate", r.evaluate},
      {"optimizer", r.optimizer},
      {"lr", r.lr},
      {"momentum", r.momentum},
      {"nesterov", r.nesterov},
      {"second_order", to_json(r.second_order)},
      {"adam", {{"beta1", r.adam.beta1}, {"beta2", r.adam.beta2}, {"eps", r.adam.eps}}},
      {"large_batch", {{"trust", r.large_batch.trust}, {"exclude_1d", r.large_batch.exclude_1d}}},
      {"schedule",
       {{"kind", Schedule::kind_name(s.kind)},
        {"warmup_steps", s.warmup_steps},
        {"total_steps", s.total_steps},
        {"step_size", s.step_size},
        {"gamma", s.gamma},
        {"min_lr", s.min_lr}}},
      {"clip_norm", r.clip_norm},
      {"divergence", r.divergence},
      {"epochs", r.epochs},
      {"steps", r.steps},
      {"batch", r.batch},
      {"shards", r.shards},
      {"eval_every", r.eval_every},
      {"eval_at_start", r.eval_at_start},
      {"eval_batch", r.eval_batch},
      {"seed", r.seed},
      {"data_seed", r.data_seed}};
}

Recipe recipe_from_json(const nlohmann::json& j) {
  Recipe r;
  Reader rd{j, "recipe", {}};
  nlohmann::json config = nlohmann::json::object(), task = nlohmann::json::object(),
                 second = nlohmann::json::object(), schedule = nlohmann::json::object(),
                 adam = nlohmann::json::object(), large_batch = nlohmann::json::object();
  rd.get("model", r.model), rd.get("config", config), rd.get("data", r.data), rd.get("task", task);
  rd.get("examples", r.examples), rd.get("evaluate", r.evaluate), rd.get("optimizer", r.optimizer);
  rd.get("lr", r.lr), rd.get("momentum", r.momentum), rd.get("nesterov", r.nesterov);
  rd.get("second_order", second), rd.get("schedule", schedule), rd.get("clip_norm", r.clip_norm);
  rd.get("adam", adam);  // absent in records older than Adam's settings: the defaults
  rd.get("large_batch", large_batch), rd.get("divergence", r.divergence);  // likewise
  rd.get("epochs", r.epochs), rd.get("steps", r.steps), rd.get("batch", r.batch);
  rd.get("shards", r.shards);  // absent in records older than sharded draws: 1
  rd.get("eval_every", r.eval_every), rd.get("eval_at_start", r.eval_at_start);
  rd.get("eval_batch", r.eval_batch), rd.get("seed", r.seed), rd.get("data_seed", r.data_seed);
  rd.done();
  r.config = config.dump();
  Reader t{task, "recipe.task", {}};
  t.get("augment", r.task.augment), t.get("context", r.task.context);
  t.get("validation", r.task.validation), t.get("validation_seed", r.task.validation_seed);
  t.get("labels", r.task.labels);
  t.get("standardize", r.task.standardize);
  t.get("label_noise", r.task.label_noise), t.get("label_noise_seed", r.task.label_noise_seed);
  t.get("classes", r.task.classes);
  t.done();
  r.second_order = second_order_from_json(second);
  Reader a{adam, "recipe.adam", {}};
  a.get("beta1", r.adam.beta1), a.get("beta2", r.adam.beta2), a.get("eps", r.adam.eps);
  a.done();
  Reader lb{large_batch, "recipe.large_batch", {}};
  lb.get("trust", r.large_batch.trust), lb.get("exclude_1d", r.large_batch.exclude_1d);
  lb.done();
  Reader s{schedule, "recipe.schedule", {}};
  std::string kind = Schedule::kind_name(r.schedule.kind);
  s.get("kind", kind), s.get("warmup_steps", r.schedule.warmup_steps);
  s.get("total_steps", r.schedule.total_steps), s.get("step_size", r.schedule.step_size);
  s.get("gamma", r.schedule.gamma), s.get("min_lr", r.schedule.min_lr);
  s.done();
  r.schedule.kind = Schedule::kind_from(kind);
  r.schedule.base_lr = r.lr;
  return r;
}

nlohmann::json to_json(const Evaluation& e) {
  nlohmann::json j = {{"step", e.step},
                      {"epoch", e.epoch},
                      {"seconds", e.seconds},
                      {"lr", e.lr},
                      {"batch_loss", finite_or_null(e.batch_loss)}};
  if (e.damping > 0) j["damping"] = e.damping;
  for (const auto& [k, v] : e.metrics) j[k] = finite_or_null(v);
  return j;
}

RunRecorder::RunRecorder(std::string curve_csv, std::string jsonl, const Recipe& recipe,
                         const nlohmann::json& extra)
    : curve_(std::move(curve_csv)) {
  if (!jsonl.empty()) {
    log_.open(jsonl, std::ios::app);
    CURV_CHECK(log_.good(), jsonl, ": expected a writable log file, found it cannot be opened");
  }
  if (!curve_.empty()) {
    tmp_ = curve_ + ".tmp";
    csv_.open(tmp_, std::ios::trunc);
    CURV_CHECK(csv_.good(), curve_, ": expected a writable curve file, found '", tmp_,
               "' cannot be opened");
  }
  nlohmann::json start = {{"event", "start"},
                          {"command", command_line()},
                          {"git_commit", git_commit()},
                          {"recipe", to_json(recipe)}};
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) start[k] = v;
  line(start);
}

RunRecorder::~RunRecorder() {
  if (done_ || tmp_.empty()) return;
  csv_.close();
  std::remove(tmp_.c_str());  // a run interrupted by an exception it did not record leaves none
}

void RunRecorder::line(const nlohmann::json& j) {
  if (log_.is_open()) log_ << j.dump() << "\n" << std::flush;
}

void RunRecorder::evaluation(const Evaluation& e) {
  nlohmann::json j = to_json(e);
  j["event"] = "evaluation";
  line(j);
  if (tmp_.empty()) return;
  if (columns_.empty()) {
    columns_ = {"step", "epoch", "seconds", "lr", "batch_loss", "damping"};
    for (const auto& [k, v] : e.metrics) columns_.push_back(k);
    for (std::size_t i = 0; i < columns_.size(); ++i) csv_ << (i ? "," : "") << columns_[i];
    csv_ << "\n";
  }
  const double fixed[] = {double(e.step), e.epoch, e.seconds, e.lr, e.batch_loss, e.damping};
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    double v = i < 6 ? fixed[i] : NAN;
    if (i >= 6) {
      const auto it = e.metrics.find(columns_[i]);
      if (it != e.metrics.end()) v = it->second;
    }
    csv_ << (i ? "," : "") << shortest(v);
  }
  csv_ << "\n";
}

void RunRecorder::finish(const nlohmann::json& summary) {
  nlohmann::json j = summary.is_object() ? summary : nlohmann::json::object();
  j["event"] = "end";
  line(j);
  close_curve();
}

void RunRecorder::failure(const std::string& error) {
  line({{"event", "failure"}, {"error", error}});
  close_curve();
}

void RunRecorder::close_curve() {
  if (!tmp_.empty()) {
    if (columns_.empty()) csv_ << "step,epoch,seconds,lr,batch_loss,damping\n";  // no evaluation
    csv_.close();
    CURV_CHECK(!csv_.fail(), curve_, ": failed writing '", tmp_, "'");
    std::filesystem::rename(tmp_, curve_);
  }
  done_ = true;
}

std::vector<double> Curve::column(const std::string& name) const {
  for (std::size_t c = 0; c < columns.size(); ++c)
    if (columns[c] == name) {
      std::vector<double> v;
      for (const auto& r : rows) v.push_back(c < r.size() ? r[c] : NAN);
      return v;
    }
  std::string known;
  for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c;
  fail(source, ": expected a column '", name, "', found ", known);
}

bool Curve::has(const std::string& name) const {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

Curve read_curve(const std::string& path) {
  std::ifstream f(path);
  CURV_CHECK(f.good(), "cannot open curve '", path, "'");
  Curve c;
  c.source = path;
  std::string line;
  CURV_CHECK(std::getline(f, line) && !line.empty(), path, ": expected a header line, found none");
  std::stringstream header(line);
  for (std::string col; std::getline(header, col, ',');) c.columns.push_back(col);
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) {
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      CURV_CHECK(end != cell.c_str(), path, ": expected numbers, found '", cell, "'");
      row.push_back(v);
    }
    c.rows.push_back(std::move(row));
  }
  return c;
}

}  // namespace curv
