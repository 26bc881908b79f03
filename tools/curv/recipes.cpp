#include "recipes.hpp"

#include <algorithm>
#include <sstream>

#include "curv/core/error.hpp"

namespace curv::cli {

const std::map<std::string, std::string>& train_recipes() {
  static const std::map<std::string, std::string> recipes = {
      {"mlp-mnist",
       "--model mlp --data mnist --epochs 20 --optimizer sgd --lr 0.05 --momentum 0.9 "
       "--schedule cosine"},
      {"lenet5-mnist",
       "--model lenet5 --data mnist --epochs 20 --optimizer sgd --lr 0.05 --momentum 0.9 "
       "--weight-decay 0.0005 --schedule cosine"},
      {"mlp-fashion",
       "--model mlp --data fashion-mnist --epochs 30 --optimizer sgd --lr 0.05 --momentum 0.9 "
       "--weight-decay 0.0001 --schedule cosine"},
      {"lenet5-fashion",
       "--model lenet5 --data fashion-mnist --epochs 30 --optimizer sgd --lr 0.05 --momentum 0.9 "
       "--weight-decay 0.0001 --schedule cosine"},
      {"lenet5-fashion-kfac",  // experiments/lenet-optimizers: K-FAC's recipe, 10 epochs
       "--model lenet5 --data fashion-mnist --epochs 10 --optimizer kfac --lr 0.003 "
       "--damping 0.03 --factors ef --kfac-damping factored --rescale kl --schedule cosine"},
      {"transformer-moby",
       "--model transformer --data moby-dick --batch 32 --epochs 12 --optimizer adamw --lr 0.002 "
       "--weight-decay 0.05 --warmup 200 --schedule cosine --clip 1"},
      {"t2t",
       "--model t2t --data t2t-synthetic --batch 64 --epochs 16 --optimizer adamw --lr 0.002 "
       "--weight-decay 0.01 --warmup 300 --schedule cosine --clip 1"},
      {"cifar-cnn",
       "--model cifar-cnn --data cifar10 --epochs 30 --optimizer sgd --lr 0.03 --momentum 0.9 "
       "--weight-decay 0.0005 --schedule cosine --augment"}};
  return recipes;
}

void expand_recipe(std::vector<std::string>& args) {
  const auto train = std::find(args.begin(), args.end(), "train");
  if (train == args.end()) return;
  std::string name;
  bool found = false;
  for (auto it = train + 1; it != args.end(); ++it) {
    if (*it == "--recipe" && it + 1 != args.end()) {
      name = *(it + 1), found = true;
      args.erase(it, it + 2);
      break;
    }
    if (it->rfind("--recipe=", 0) == 0) {
      name = it->substr(9), found = true;
      args.erase(it);
      break;
    }
  }
  if (!found) return;
  const auto& recipes = train_recipes();
  const auto r = recipes.find(name);
  if (r == recipes.end()) {
    std::string known;
    for (const auto& [k, v] : recipes) known += (known.empty() ? "" : ", ") + k;
    fail("--recipe: expected one of ", known, ", found '", name, "'");
  }
  // The recipe's flags, each with the values up to the next flag, unless the line gives it.
  std::vector<std::string> tokens, out;
  std::istringstream in(r->second);
  for (std::string t; in >> t;) tokens.push_back(t);
  const auto given = [&](const std::string& flag) {
    const auto at = std::find(args.begin(), args.end(), "train");
    return std::any_of(at + 1, args.end(), [&](const std::string& a) {
      return a == flag || a.rfind(flag + "=", 0) == 0;
    });
  };
  for (std::size_t i = 0; i < tokens.size();) {
    std::size_t j = i + 1;
    while (j < tokens.size() && tokens[j].rfind("--", 0) != 0) ++j;
    const bool model_file = tokens[i] == "--model" && given("--model-file");
    if (!given(tokens[i]) && !model_file)
      out.insert(out.end(), tokens.begin() + long(i), tokens.begin() + long(j));
    i = j;
  }
  const auto at = std::find(args.begin(), args.end(), "train");
  args.insert(at + 1, out.begin(), out.end());
}

}  // namespace curv::cli
