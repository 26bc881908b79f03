#include "curv/nn/model.hpp"

#include <cmath>

namespace curv {

template <class T>
index_t Model<T>::add_affine(const std::string& name, Shape weight_shape, bool bias) {
  const index_t w = params_.add(name + ".weight", weight_shape);
  if (bias) params_.add(name + ".bias", Shape{weight_shape[0]});
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
  // Every weight has fan-in = its elements per output unit; a bias takes its weight's bound.
  double bound = 1;
  for (index_t i = 0; i < params_.count(); ++i) {
    const ParamInfo& p = params_.info(i);
    if (p.name.ends_with(".weight") && p.shape.rank() >= 2)
      bound = 1.0 / std::sqrt(double(p.shape.row_size()));
    View<T> v = params_.value(i);
    for (T& x : v) x = T((2 * rng.uniform() - 1) * bound);
  }
}

template class Model<float>;
template class Model<double>;

template <class T>
std::unique_ptr<Model<T>> make_model(const std::string& name) {
  if (name == "mlp") return make_mlp<T>({784, 256, 256, 10}, "relu");
  if (name == "lenet5") return make_lenet5<T>(1);
  if (name == "lenet5-cifar") return make_lenet5<T>(3);
  fail("model: expected one of mlp, lenet5, lenet5-cifar, found '", name, "'");
}

template std::unique_ptr<Model<float>> make_model<float>(const std::string&);
template std::unique_ptr<Model<double>> make_model<double>(const std::string&);

}  // namespace curv
