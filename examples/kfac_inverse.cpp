// A program built against the installed library (pkg-config curv): it loads a checkpoint,
// builds the K-FAC operator of its model on examples of a data set, solves one damped inverse
// product (K + λI)⁻¹ g for the gradient g on those examples, and checks the solve by
// multiplying back. Build and run:
//
//   g++ -std=c++20 -O2 kfac_inverse.cpp $(pkg-config --cflags --libs curv) -o kfac_inverse
//   ./kfac_inverse CHECKPOINT DATA [INDEX_LIST]    e.g. l5.safetensors fashion-mnist 0-511
#include <cmath>
#include <cstdio>
#include <vector>

#include "curv/curvature/kfac.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/data/task.hpp"
#include "curv/nn/checkpoint.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT DATA [INDEX_LIST]\n", argv[0]);
    return 2;
  }
  try {
    using namespace curv;
    auto model = load_checkpoint<double>(argv[1]);
    auto task = make_task<double>(argv[2], model->loss(), {});
    task->check_model(*model);
    const IndexList list = parse_index_list(argc > 3 ? argv[3] : "0-511", *task);

    // The examples, recorded batch by batch, and K-FAC's blocks on them (exact output factors).
    CurvatureData<double> data(*model, collect_batches(task->split(list.split), list.indices, 128));
    const ParamSubset all = ParamSubset::all(model->params().info());
    auto kfac = make_kfac(data, all, KfacOptions{});

    // g: the mean-loss gradient over the same examples (size-weighted over batches).
    const index_t P = model->params().size();
    std::vector<double> g(static_cast<std::size_t>(P), 0.0), gb(g.size());
    for (index_t b = 0; b < data.batches(); ++b) {
      data.objective(b).gradient(gb.data());
      for (index_t i = 0; i < P; ++i) g[i] += data.weight(b) * gb[i];
    }

    const double lambda = 1e-3;
    std::vector<double> x(g.size()), back(g.size());
    kfac->inverse_mv(g.data(), lambda, x.data());
    kfac->mv(x.data(), back.data());
    double err = 0, norm = 0;
    for (index_t i = 0; i < P; ++i) {
      const double r = back[i] + lambda * x[i] - g[i];
      err += r * r, norm += g[i] * g[i];
    }
    std::printf(
        "{\"model\":\"%s\",\"parameters\":%ld,\"examples\":%ld,\"loss\":%.6f,"
        "\"damping\":%g,\"relative_residual\":%.3e}\n",
        model->name().c_str(), long(P), long(data.examples()), data.loss(), lambda,
        std::sqrt(err / norm));
    return std::sqrt(err / norm) < 1e-8 ? 0 : 1;
  } catch (const curv::Error& e) {
    std::fprintf(stderr, "kfac_inverse: %s\n", e.what());
    return 1;
  }
}
