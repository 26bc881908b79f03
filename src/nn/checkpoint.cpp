#include "curv/nn/checkpoint.hpp"

#include <vector>

#include "curv/core/error.hpp"
#include "curv/io/safetensors.hpp"

namespace curv {

template <class T>
void save_checkpoint(const Model<T>& model, const std::string& path,
                     const std::map<std::string, std::string>& extra_metadata,
                     const std::vector<TensorToWrite>& extra) {
  const ParamStore<T>& ps = model.params();
  const char* dtype = sizeof(T) == 8 ? "F64" : "F32";
  std::vector<TensorToWrite> tensors;
  for (const ParamInfo& p : ps.info())
    tensors.push_back({p.name, dtype, p.shape, ps.data() + p.offset});
  // A pruned parameter's mask under PyTorch's pruning name, <param>_mask, 1 kept / 0 pruned.
  // `masks` is sized first: the tensors point into its elements.
  std::vector<index_t> masked;
  for (index_t i = 0; i < ps.count(); ++i)
    if (ps.masked_count(i) > 0) masked.push_back(i);
  std::vector<std::vector<T>> masks(masked.size());
  for (std::size_t k = 0; k < masked.size(); ++k) {
    const ParamInfo& p = ps.info(masked[k]);
    masks[k].assign(ps.mask().begin() + p.offset, ps.mask().begin() + p.offset + p.shape.numel());
    tensors.push_back({p.name + "_mask", dtype, p.shape, masks[k].data()});
  }
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  std::map<std::string, std::string> meta = extra_metadata;
  meta["format"] = "pt";
  meta["curv.model"] = model.name();
  meta["curv.config"] = model.config();
  write_safetensors(path, tensors, meta);
}

template <class T>
std::unique_ptr<Model<T>> load_checkpoint(const std::string& path, const std::string& model_name,
                                          const std::string& config) {
  const Safetensors st = read_safetensors(path);
  const auto meta = [&](const char* k) {
    const auto it = st.metadata.find(k);
    return it == st.metadata.end() ? std::string() : it->second;
  };
  std::string name = meta("curv.model"), cfg = meta("curv.config");
  if (!model_name.empty()) {
    CURV_CHECK(name.empty() || name == model_name, path, ": expected a checkpoint of ", model_name,
               ", found one of ", name);
    name = model_name;
    if (!config.empty()) cfg = config;
  }
  CURV_CHECK(!name.empty(), path,
             ": expected curv metadata naming the model, found none (name it with --model)");
  auto model = make_model<T>(name, cfg.empty() ? "{}" : cfg);
  load_parameters(st, path, name, model->params());
  return model;
}

template <class T>
void load_parameters(const Safetensors& st, const std::string& path, const std::string& name,
                     ParamStore<T>& ps) {
  // Everything is checked and converted before the first value is written, so a file that fails
  // leaves the parameters as they were.
  for (const auto& [n, t] : st.tensors) {
    if (n.rfind("optimizer.", 0) == 0) continue;  // an optimizer's state rides along
    bool known = false;
    for (const ParamInfo& p : ps.info()) known |= p.name == n || p.name + "_mask" == n;
    CURV_CHECK(known, path, ": expected only tensors of ", name, ", found unexpected '", n, "'");
  }
  // Masks: the parameter's shape, entries 0 or 1.
  std::vector<std::uint8_t> keep;
  for (const ParamInfo& p : ps.info()) {
    const auto it = st.tensors.find(p.name + "_mask");
    if (it == st.tensors.end()) continue;
    CURV_CHECK(it->second.shape == p.shape, path, ": expected '", it->first, "' of shape ",
               p.shape.str(), ", found ", it->second.shape.str());
    const std::vector<double> m = it->second.as<double>(path + ": '" + it->first + "'");
    if (keep.empty()) keep.assign(std::size_t(ps.size()), 1);
    for (std::size_t j = 0; j < m.size(); ++j) {
      CURV_CHECK(m[j] == 0 || m[j] == 1, path, ": expected mask entries 0 or 1 in '", it->first,
                 "', found ", m[j], " at index ", j);
      keep[std::size_t(p.offset) + j] = m[j] != 0;
    }
  }
  std::vector<std::vector<T>> values;
  for (const ParamInfo& p : ps.info()) {
    const auto it = st.tensors.find(p.name);
    CURV_CHECK(it != st.tensors.end(), path, ": expected tensor '", p.name, "' of ", name,
               ", found none");
    CURV_CHECK(it->second.shape == p.shape, path, ": expected '", p.name, "' of shape ",
               p.shape.str(), ", found ", it->second.shape.str());
    values.push_back(it->second.as<T>(path + ": '" + p.name + "'"));
  }
  for (std::size_t i = 0; i < values.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), ps.data() + ps.info()[i].offset);
  ps.set_mask(std::move(keep));  // empty: dense
}

template void save_checkpoint<float>(const Model<float>&, const std::string&,
                                     const std::map<std::string, std::string>&,
                                     const std::vector<TensorToWrite>&);
template void save_checkpoint<double>(const Model<double>&, const std::string&,
                                      const std::map<std::string, std::string>&,
                                      const std::vector<TensorToWrite>&);
template void load_parameters(const Safetensors&, const std::string&, const std::string&,
                              ParamStore<float>&);
template void load_parameters(const Safetensors&, const std::string&, const std::string&,
                              ParamStore<double>&);
template std::unique_ptr<Model<float>> load_checkpoint<float>(const std::string&,
                                                              const std::string&,
                                                              const std::string&);
template std::unique_ptr<Model<double>> load_checkpoint<double>(const std::string&,
                                                                const std::string&,
                                                                const std::string&);

}  // namespace curv
