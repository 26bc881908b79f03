#include "curv/nn/model.hpp"

#include <cmath>

#include "models/registry.hpp"

namespace curv {

template <class T>
index_t Model<T>::add_param(const std::string& name, Shape shape, InitRule rule) {
  rules_.push_back(rule);
  return params_.add(name, shape);
}

template <class T>
index_t Model<T>::add_affine(const std::string& name, Shape weight_shape, bool bias) {
  const InitRule rule{InitRule::Kind::Uniform, 1.0 / std::sqrt(double(weight_shape.row_size()))};
  const index_t w = add_param(name + ".weight", weight_shape, rule);
  if (bias) add_param(name + ".bias", Shape{weight_shape[0]}, rule);
  return w;
}

template <class T>
index_t Model<T>::add_linear(const std::string& name, index_t out, index_t in, InitRule rule) {
  const index_t w = add_param(name + ".weight", Shape{out, in}, rule);
  add_param(name + ".bias", Shape{out}, {InitRule::Kind::Constant, 0});
  return w;
}

template <class T>
index_t Model<T>::add_layer_norm(const std::string& name, index_t d) {
  const index_t w = add_param(name + ".weight", Shape{d}, {InitRule::Kind::Constant, 1});
  add_param(name + ".bias", Shape{d}, {InitRule::Kind::Constant, 0});
  return w;
}

template <class T>
ParamRef<T> Model<T>::bias(index_t w) const {
  const index_t b = w + 1;
  if (b < params_.count() && params_.info(b).name.ends_with(".bias")) return params_.ref(b);
  return {};
}

template <class T>
void Model<T>::init(Rng& rng) {
  for (index_t i = 0; i < params_.count(); ++i) {
    const InitRule& r = rules_[static_cast<std::size_t>(i)];
    for (T& x : params_.value(i)) {
      switch (r.kind) {
        case InitRule::Kind::Uniform:
          x = T((2 * rng.uniform() - 1) * r.value);
          break;
        case InitRule::Kind::Normal:
          x = T(rng.normal() * r.value);
          break;
        case InitRule::Kind::Constant:
          x = T(r.value);
          break;
      }
    }
  }
}

template class Model<float>;
template class Model<double>;

namespace detail {
void expect_keys(const Config& cfg, const char* model, std::initializer_list<const char*> known) {
  CURV_CHECK(cfg.is_object(), model, ": expected a JSON object as configuration, found ",
             cfg.dump());
  for (const auto& [k, v] : cfg.items()) {
    bool ok = false;
    std::string list;
    for (const char* n : known) ok |= k == n, list += (list.empty() ? "" : ", ") + std::string(n);
    CURV_CHECK(ok, model, ": expected config keys among {", list, "}, found '", k, "'");
  }
}
}  // namespace detail

std::vector<std::string> model_names() {
  return {"mlp", "lenet5", "lenet5-cifar", "autoencoder", "cifar-cnn", "transformer", "t2t"};
}

template <class T>
std::unique_ptr<Model<T>> make_model(const std::string& name, const std::string& config) {
  detail::Config cfg;
  try {
    cfg = nlohmann::json::parse(config.empty() ? "{}" : config);
  } catch (const nlohmann::json::exception& e) {
    fail(name, ": expected a JSON object as configuration, found '", config, "'");
  }
  if (name == "mlp") return detail::make_mlp_model<T>(cfg);
  if (name == "lenet5") return detail::make_lenet5_model<T>(cfg);
  if (name == "lenet5-cifar") {
    if (!cfg.contains("channels")) cfg["channels"] = 3;
    return detail::make_lenet5_model<T>(cfg);
  }
  if (name == "autoencoder") return detail::make_autoencoder_model<T>(cfg);
  if (name == "cifar-cnn") return detail::make_cifar_cnn_model<T>(cfg);
  if (name == "transformer") return detail::make_transformer_model<T>(cfg);
  if (name == "t2t") return detail::make_t2t_model<T>(cfg);
  if (name == "sequential") return detail::make_sequential_model<T>(cfg);
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  fail("model: expected one of ", known, " (or a layer list: --model-file), found '", name, "'");
}

template <class T>
std::unique_ptr<Model<T>> make_mlp(const std::vector<index_t>& widths,
                                   const std::string& activation) {
  return detail::make_mlp_model<T>(detail::Config{{"widths", widths}, {"activation", activation}});
}

template std::unique_ptr<Model<float>> make_model<float>(const std::string&, const std::string&);
template std::unique_ptr<Model<double>> make_model<double>(const std::string&, const std::string&);
template std::unique_ptr<Model<float>> make_mlp<float>(const std::vector<index_t>&,
                                                       const std::string&);
template std::unique_ptr<Model<double>> make_mlp<double>(const std::vector<index_t>&,
                                                         const std::string&);

}  // namespace curv
