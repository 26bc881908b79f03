#include "curv/curvature/gradients.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "curv/core/error.hpp"
#include "curv/data/batch_source.hpp"
#include "curv/io/npy.hpp"
#include "curv/nn/objective.hpp"

namespace curv {

Measurement Measurement::parse(const std::string& spec) {
  Measurement m;
  if (spec == "loss") return m;
  if (spec == "margin") return m.kind = Kind::Margin, m;
  if (spec == "predicted") return m.kind = Kind::Predicted, m;
  if (spec == "jacobian") return m.kind = Kind::Jacobian, m;
  if (spec.rfind("logit:", 0) == 0) {
    const std::string c = spec.substr(6);
    CURV_CHECK(!c.empty() && c.find_first_not_of("0123456789") == std::string::npos,
               "measurement '", spec, "': expected logit:C with C a whole number, found '", c, "'");
    m.kind = Kind::Logit, m.logit = std::stoll(c);
    return m;
  }
  fail("unknown measurement '", spec, "': expected loss, logit:C, predicted, margin or jacobian");
}

std::string Measurement::name() const {
  switch (kind) {
    case Kind::Loss:
      return "loss";
    case Kind::Logit:
      return "logit:" + std::to_string(logit);
    case Kind::Predicted:
      return "predicted";
    case Kind::Margin:
      return "margin";
    case Kind::Jacobian:
      return "jacobian";
  }
  return "?";
}

template <class T>
struct GradientStream<T>::LinearInputs final : LayerObserver<T> {
  LayerEvent<T> last;  // the last linear layer's forward event
  bool seen = false;
  // While discovering factored layers: each linear and conv2d layer's forward events, counted.
  bool discovering = false;
  std::map<index_t, std::pair<int, LayerEvent<T>>> discovered;
  // The factored layers (pointers unset), by weight offset; the current batch's a and g.
  std::vector<LayerFactors<T>> layers;
  std::map<index_t, std::size_t> index;
  std::vector<std::vector<T>> a, g;
  index_t output = -1, outputs = 0;  // the sweep's output c of C; -1 outside the sweeps

  void on_forward(const LayerEvent<T>& e) override {
    if (e.kind == "linear") last = e, seen = true;
    if (discovering) {
      auto& [count, event] = discovered[e.weight_offset];
      ++count, event = e;
    }
    if (const auto it = index.find(e.weight_offset); it != index.end())
      a[it->second].assign(e.a.data, e.a.data + e.a.numel());
  }
  void on_backward(const LayerEvent<T>& e) override {
    const auto it = index.find(e.weight_offset);
    if (output < 0 || it == index.end()) return;
    const LayerFactors<T>& f = layers[it->second];
    const index_t block = f.rows_per_example * f.out, n = e.g.rows() / f.rows_per_example;
    T* dst = g[it->second].data();  // (n·C·R, out): example i's rows for c at (i·C + c)·R
    for (index_t i = 0; i < n; ++i)
      std::copy(e.g.data + i * block, e.g.data + (i + 1) * block,
                dst + (i * outputs + output) * block);
  }
  bool reads_output_adjoints() const override { return !index.empty(); }
  // Factoring: the factored layers only (a conv2d layer's events cost an im2col); otherwise
  // linear layers, whose last forward event the output layer's rows come from.
  bool observes(std::string_view kind, index_t offset) const override {
    if (discovering) return kind == "linear" || kind == "conv2d";
    return index.empty() ? kind == "linear" : index.contains(offset);
  }
};

namespace {
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

template <class T>
GradientStream<T>::GradientStream(const Model<T>& model, const Split<T>& split,
                                  std::vector<index_t> indices, GradientOptions options)
    : model_(model), split_(split), indices_(std::move(indices)), opt_(std::move(options)) {
  check_example_indices(split, indices_);
  CURV_CHECK(opt_.batch >= 1, "gradients: expected a batch size >= 1, found ", opt_.batch);
  CURV_CHECK(!opt_.measurement.needs_labels() || split.labelled(), "measurement '",
             opt_.measurement.name(), "': expected examples with labels, found ", split.name(),
             " without them (logit:C, predicted and jacobian need none)");
  subset_ = ParamSubset::parse(opt_.subset, model.params().info());
  // A subset of single entries: rows over the tensors it touches, then its entries gathered.
  support_ = subset_.support();
  CURV_CHECK(!subset_.partial() || (!opt_.layer_factors && !opt_.inputs_for_output_layer),
             "gradients: a subset of single entries gives its rows' entries, not factored layers ",
             "or the output layer's inputs");
  outputs_ = model.outputs();
  if (opt_.measurement.kind == Measurement::Kind::Logit)
    CURV_CHECK(opt_.measurement.logit >= 0 && opt_.measurement.logit < outputs_, "measurement '",
               opt_.measurement.name(), "': expected a logit in 0..", outputs_ - 1, " of ",
               model.name(), ", found ", opt_.measurement.logit);
  CURV_CHECK(!opt_.inputs_for_output_layer || opt_.project == 0,
             "gradients: the output layer's inputs are given instead of rows, not projected");
  if (opt_.project != 0) {
    CURV_CHECK(opt_.project >= 1 && opt_.project <= subset_.size(),
               "projection: expected a dimension k in 1..", subset_.size(),
               " (the gradient's length), found ", opt_.project);
    CURV_CHECK(opt_.chunk >= 1, "gradients: expected a chunk of >= 1 examples, found ", opt_.chunk);
    projection_ = std::make_unique<RandomProjection<T>>(opt_.projection, subset_.size(),
                                                        opt_.project, opt_.seed, opt_.cache_bytes);
  }
  loss_ = make_loss<T>(model.loss());
  obj_ = std::make_unique<Objective<T>>(model, *loss_);
  if (opt_.measurement.kind == Measurement::Kind::Jacobian) {
    linear_inputs_ = std::make_unique<LinearInputs>();
    obj_->tape().set_observer(linear_inputs_.get());
  }
  std::set<index_t> factored;  // parameters the factored layers give instead of columns
  if (opt_.layer_factors) {
    factor_layers();
    for (const LayerFactors<T>& f : linear_inputs_->layers)
      factored.insert({f.weight_offset, f.bias_offset});
  }
  for (const ParamInfo& p : model.params().info())
    if (support_.contains(p.offset) && !factored.contains(p.offset))
      columns_.emplace_back(p.offset, width_), width_ += p.shape.numel();
  if (subset_.partial()) {  // each entry's column among the support's
    std::vector<double> position(std::size_t(support_.size())),
        full(std::size_t(subset_.full_size()));
    for (std::size_t i = 0; i < position.size(); ++i) position[i] = double(i);
    support_.scatter(position.data(), full.data());
    std::vector<double> picked(std::size_t(subset_.size()));
    subset_.gather(full.data(), picked.data());
    for (double c : picked) picks_.push_back(index_t(c));
  }
}

template <class T>
void GradientStream<T>::factor_layers() {
  CURV_CHECK(opt_.measurement.kind == Measurement::Kind::Jacobian,
             "gradients: layers are given in factored form for the jacobian only, found '",
             opt_.measurement.name(), "'");
  // (Unprojected, a block is one batch: the factors a batch's sweeps gather are its own.)
  CURV_CHECK(opt_.project == 0 && !opt_.inputs_for_output_layer,
             "gradients: factored layers are given instead of rows, neither projected nor with "
             "the output layer's inputs; found a projection to ",
             opt_.project,
             opt_.inputs_for_output_layer ? " and the output layer's inputs asked for" : "");
  LinearInputs& obs = *linear_inputs_;
  obs.discovering = true;
  split_.fill(std::span<const index_t>(indices_.data(), 1), nullptr, batch_);
  obj_->record(batch_.x.view());
  obs.discovering = false;
  const index_t C = obj_->outputs();
  // A layer applied twice (shared weights) stays in the rows; so does one whose R rows per
  // example hold more numbers than the C·out·in entries of its Jacobian rows.
  for (const auto& [offset, seen] : obs.discovered) {
    const auto& [count, e] = seen;
    const index_t R = e.a.rows(), in = e.a.row_size(), out = e.fan_out;
    if (count != 1 || !subset_.contains(offset) || R * (C * out + in) > C * out * in) continue;
    LayerFactors<T> f;
    f.kind = e.kind, f.weight_offset = offset, f.in = in, f.out = out, f.rows_per_example = R;
    f.bias_offset = e.bias_offset >= 0 && subset_.contains(e.bias_offset) ? e.bias_offset : -1;
    obs.index[offset] = obs.layers.size();
    obs.layers.push_back(f);
  }
  obs.discovered.clear();
  obs.a.resize(obs.layers.size()), obs.g.resize(obs.layers.size());
}

template <class T>
const std::vector<LayerFactors<T>>& GradientStream<T>::factored_layers() const {
  static const std::vector<LayerFactors<T>> none;
  return linear_inputs_ ? linear_inputs_->layers : none;
}

template <class T>
GradientStream<T>::~GradientStream() = default;

template <class T>
index_t GradientStream<T>::rows_per_example() const {
  return opt_.measurement.kind == Measurement::Kind::Jacobian ? outputs_ : 1;
}

template <class T>
index_t GradientStream<T>::columns() const {
  return projection_ ? opt_.project : picks_.empty() ? width_ : index_t(picks_.size());
}

template <class T>
typename GradientStream<T>::Timings GradientStream<T>::timings() const {
  Timings t;
  t.gradients = gradient_seconds_;
  if (projection_)
    t.projection = projection_->seconds_applying(),
    t.generation = projection_->seconds_generating();
  return t;
}

template <class T>
bool GradientStream<T>::output_layer_jacobian(index_t n, T* rows, index_t at) {
  // The output must be the value the last recorded op, a linear layer with one row per example,
  // produced — then the last linear event seen is that op's.
  Tape<T>& tape = obj_->tape();
  if (!linear_inputs_->seen || tape.size() == 0) return false;
  const Node<T>& last = tape.node(tape.size() - 1);
  const LayerEvent<T>& e = linear_inputs_->last;
  if (last.name() != "linear" || last.output != obj_->output_value().id || e.a.rows() != n ||
      e.fan_out != outputs_ || obj_->outputs() != outputs_)
    return false;
  index_t w_column = -1, b_column = -1;
  for (const auto& [offset, column] : columns_) {
    if (offset == e.weight_offset)
      w_column = column;
    else if (offset == e.bias_offset)
      b_column = column;
    else
      return false;  // a parameter of another layer: it needs the sweeps
  }
  const index_t C = outputs_, H = e.a.row_size(), d = width_;
  const index_t din = (w_column >= 0 ? H : 0) + (b_column >= 0 ? 1 : 0);
  if (at == 0) input_size_ = din;
  if (layer_inputs_.size() < std::size_t((at + n) * din))
    layer_inputs_.resize(std::size_t((at + n) * din));
  const bool write_rows = !opt_.inputs_for_output_layer;
  if (write_rows) std::fill(rows, rows + n * C * d, T(0));
  for (index_t i = 0; i < n; ++i) {
    const T* a = e.a.data + i * H;  // (H)
    for (index_t c = 0; c < C && write_rows; ++c) {
      T* row = rows + (i * C + c) * d;  // (d)
      if (w_column >= 0) std::copy(a, a + H, row + w_column + c * H);
      if (b_column >= 0) row[b_column + c] = T(1);
    }
    T* ahat = layer_inputs_.data() + (at + i) * din;  // [a | 1], as far as the subset holds them
    if (w_column >= 0) std::copy(a, a + H, ahat);
    if (b_column >= 0) ahat[din - 1] = T(1);
  }
  return true;
}

template <class T>
void GradientStream<T>::gradients_of(index_t first, index_t n, T* rows, index_t at) {
  const auto t0 = std::chrono::steady_clock::now();
  const index_t d = width_, r = rows_per_example();
  Batch<T>& batch = batch_;
  split_.fill(std::span<const index_t>(indices_.data() + first, std::size_t(n)), nullptr, batch);
  Objective<T>& obj = *obj_;
  const Measurement& m = opt_.measurement;
  if (linear_inputs_) linear_inputs_->seen = false;  // this batch's recording sets it
  if (m.needs_labels())
    obj.set_batch(batch.x.view(), batch.targets());
  else
    obj.record(batch.x.view());
  const index_t C = obj.outputs();  // per example (positions × vocabulary for sequence models)
  const View<const T> z = obj.output();
  output_size_ = C;
  if (block_outputs_.size() < std::size_t((at + n) * C))
    block_outputs_.resize(std::size_t((at + n) * C));
  std::copy(z.data, z.data + n * C, block_outputs_.begin() + at * C);
  // (Factored layers take the sweeps, which stop at the output layer when it is all they need.)
  if (m.kind == Measurement::Kind::Jacobian && !opt_.layer_factors && picks_.empty() &&
      output_layer_jacobian(n, rows, at)) {
    gradient_seconds_ += since(t0);
    return;
  }
  std::fill(rows, rows + n * r * d, T(0));
  std::vector<T> u(std::size_t(n * C), T(0));
  // The sweeps go down to the subset's earliest layer only.
  const auto wanted = [&](index_t offset) { return support_.contains(offset); };
  switch (m.kind) {
    case Measurement::Kind::Loss: {
      // The loss's adjoint is ∇ℓₙ/N (the batch mean's); per-example rows are ∇ℓₙ.
      loss_->grad(u.data());
      for (auto& x : u) x *= T(n);
      break;
    }
    case Measurement::Kind::Logit:
      for (index_t e = 0; e < n; ++e) u[std::size_t(e * C + m.logit)] = T(1);
      break;
    case Measurement::Kind::Predicted: {
      for (index_t e = 0; e < n; ++e) {
        const T* ze = z.data + e * C;
        u[std::size_t(e * C + (std::max_element(ze, ze + C) - ze))] = T(1);
      }
      break;
    }
    case Measurement::Kind::Margin: {
      CURV_CHECK(index_t(batch.labels.size()) == n && C == outputs_,
                 "measurement 'margin': expected one class label per example, found ",
                 batch.labels.size(), " for ", n, " examples");
      // ∂/∂z of z_y − log Σ_{c≠y} exp z_c: 1 at y, minus the softmax over the others elsewhere.
      for (index_t e = 0; e < n; ++e) {
        const index_t y = index_t(batch.labels[std::size_t(e)]);
        const T* ze = z.data + e * C;
        double top = -std::numeric_limits<double>::infinity(), s = 0;
        for (index_t c = 0; c < C; ++c)
          if (c != y) top = std::max(top, double(ze[c]));
        for (index_t c = 0; c < C; ++c)
          if (c != y) s += std::exp(double(ze[c]) - top);
        for (index_t c = 0; c < C; ++c)
          u[std::size_t(e * C + c)] = c == y ? T(1) : T(-std::exp(double(ze[c]) - top) / s);
      }
      break;
    }
    case Measurement::Kind::Jacobian:
      input_size_ = 0;
      // One sweep per output c; example e's row for c is row e·C + c, so the sweep writes rows
      // with stride C·d starting at row c.
      // Factored layers take their adjoints from the same sweeps (LinearInputs::on_backward).
      const bool factors = linear_inputs_ && !linear_inputs_->layers.empty();
      if (factors) {
        LinearInputs& obs = *linear_inputs_;
        for (std::size_t i = 0; i < obs.layers.size(); ++i)
          obs.g[i].assign(std::size_t(n * C * obs.layers[i].rows_per_example * obs.layers[i].out),
                          T(0));
        obs.outputs = C;
      }
      for (index_t c = 0; c < C; ++c) {
        std::fill(u.begin(), u.end(), T(0));
        for (index_t e = 0; e < n; ++e) u[std::size_t(e * C + c)] = T(1);
        if (factors) linear_inputs_->output = c;
        obj.pullback(u.data(), ParamGrad<T>::per_example(rows + c * d, C * d, &columns_), factors,
                     wanted);
      }
      if (factors) linear_inputs_->output = -1;
      gradient_seconds_ += since(t0);
      return;
  }
  obj.pullback(u.data(), ParamGrad<T>::per_example(rows, d, &columns_), false, wanted);
  gradient_seconds_ += since(t0);
}

template <class T>
void GradientStream<T>::run(const std::function<void(const GradientBlock<T>&)>& f) {
  const index_t d = width_, r = rows_per_example(), N = examples();
  // Examples held together: a batch, or a projection chunk when R is regenerated per apply.
  const index_t hold =
      projection_ && !projection_->cached()
          ? std::max(opt_.batch, (opt_.chunk + opt_.batch - 1) / opt_.batch * opt_.batch)
          : opt_.batch;
  std::vector<T> G(std::size_t(std::min(hold, N) * r * d)), out;
  if (projection_) out.resize(std::size_t(std::min(hold, N) * r * opt_.project));
  for (index_t first = 0; first < N; first += hold) {
    const index_t n = std::min(hold, N - first);
    for (index_t b = 0; b < n; b += opt_.batch)
      gradients_of(first + b, std::min(opt_.batch, n - b), G.data() + b * r * d, b);
    GradientBlock<T> block;
    block.first = first, block.examples = n, block.rows = n * r;
    block.indices = std::span<const index_t>(indices_.data() + first, std::size_t(n));
    block.outputs = block_outputs_.data(), block.output_size = output_size_;
    if (input_size_ > 0)
      block.output_layer_inputs = layer_inputs_.data(), block.input_size = input_size_;
    if (linear_inputs_ && !linear_inputs_->layers.empty()) {
      block_factors_ = linear_inputs_->layers;
      for (std::size_t i = 0; i < block_factors_.size(); ++i)
        block_factors_[i].a = linear_inputs_->a[i].data(),
        block_factors_[i].g = linear_inputs_->g[i].data();
      block.factors = block_factors_;
    }
    if (!picks_.empty()) {  // the entries' columns, in place: each row moves left
      const index_t k = index_t(picks_.size());
      for (index_t row = 0; row < n * r; ++row) {
        const T* from = G.data() + row * d;
        T* to = G.data() + row * k;
        for (index_t j = 0; j < k; ++j) to[j] = from[picks_[std::size_t(j)]];
      }
    }
    const index_t width = picks_.empty() ? d : index_t(picks_.size());
    if (projection_) {
      projection_->apply(G.data(), n * r, out.data());
      block.columns = opt_.project, block.data = out.data();
    } else {
      block.columns = width;
      block.data = input_size_ > 0 && opt_.inputs_for_output_layer ? nullptr : G.data();
    }
    f(block);
  }
}

template <class T>
void GradientStream<T>::write_npy(const std::string& path,
                                  const std::function<void(index_t)>& progress) {
  NpyWriter w(path, sizeof(T) == 8 ? "<f8" : "<f4",
              {std::int64_t(examples() * rows_per_example()), std::int64_t(columns())});
  index_t rows = 0;
  run([&](const GradientBlock<T>& b) {
    w.write(b.data, std::uint64_t(b.rows * b.columns) * sizeof(T));
    rows += b.rows;
    if (progress) progress(rows / rows_per_example());
  });
  w.finish();
}

template class GradientStream<float>;
template class GradientStream<double>;

}  // namespace curv
