#include "output.hpp"

namespace curv::experiments {

void add_output_options(CLI::App& app, OutputOptions& o, const std::string& name) {
  OutputOptions published;
  published.publish = true;
  auto* out = app.add_option("--out", o.out,
                             "Output directory (default: " + output_dir(name, OutputOptions{}) +
                                 ", outside the source tree)");
  app.add_flag("--publish", o.publish,
               "Write the committed results its README shows (" + output_dir(name, published) + ")")
      ->excludes(out);
}

std::string output_dir(const std::string& name, const OutputOptions& o) {
  if (!o.out.empty()) return o.out;
  // Both roots are the configure-time absolute paths (experiments/meson.build).
  std::string dir = o.publish ? std::string(CURV_SOURCE_ROOT) + "/experiments/" + name + "/out"
                              : std::string(CURV_BUILD_EXPERIMENTS) + "/" + name + "-out";
  if (!o.sub.empty()) dir += "/" + o.sub;
  return dir;
}

}  // namespace curv::experiments
