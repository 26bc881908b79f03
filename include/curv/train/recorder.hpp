// The run recorder: what every training run leaves behind, in one format for `curv train`, the
// experiments and the methods built on training.
//   CURVE.csv    one row per evaluation: step, epoch, seconds, lr, batch_loss, damping and every
//                metric, sorted by name; written to a temporary file and renamed when the run
//                ends, so a curve that exists is a finished run (one that failed keeps the
//                rows it had, and its log says it failed)
//   LOG.jsonl    appended: {"event":"start", "command", "git_commit", "recipe"}, one
//                {"event":"evaluation", …} per evaluation, then {"event":"end", …} or
//                {"event":"failure", "error"}
// The recipe is complete: read back with recipe_from_json it reruns the same numbers.
#pragma once

#include <fstream>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "curv/train/run.hpp"

namespace curv {

// The command line of this process, set once by main() (curv and every experiment program).
void set_command_line(int argc, char** argv);
const std::string& command_line();

nlohmann::json to_json(const Recipe& r);
// Every field to_json writes; a missing one keeps Recipe's default, an unknown one throws.
Recipe recipe_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Evaluation& e);
nlohmann::json to_json(const SecondOrderConfig& c);
SecondOrderConfig second_order_from_json(const nlohmann::json& j);

class RunRecorder {
 public:
  // Either path may be empty (not recorded). `extra` joins the start line (e.g. the grid point).
  RunRecorder(std::string curve_csv, std::string jsonl, const Recipe& recipe,
              const nlohmann::json& extra);
  ~RunRecorder();
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  void evaluation(const Evaluation& e);
  // Ends the run: the summary line, and the curve renamed into place.
  void finish(const nlohmann::json& summary);
  // Ends a run that failed: the error line, and the curve of the evaluations it had.
  void failure(const std::string& error);

 private:
  void line(const nlohmann::json& j);
  void close_curve();
  std::string curve_, tmp_;
  std::ofstream log_, csv_;
  std::vector<std::string> columns_;
  bool done_ = false;
};

// Curves read back: one column per name of the header line, in order.
struct Curve {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;
  // The column named `name`; throws curv::Error naming the file and the columns there are.
  std::vector<double> column(const std::string& name) const;
  bool has(const std::string& name) const;
  std::string source;
};
Curve read_curve(const std::string& path);

}  // namespace curv
