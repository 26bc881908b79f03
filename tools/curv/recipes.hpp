// The documented training recipes (docs/training.md): `curv train --recipe NAME` is the recipe's
// flags, with any flag given on the command line taking precedence over the recipe's.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace curv::cli {

// Name → the `curv train` flags of the recipe.
const std::map<std::string, std::string>& train_recipes();

// Rewrites argv-style `args` (args[0] the program): a `train … --recipe NAME` (or
// --recipe=NAME) becomes `train <the recipe's flags not given on the line> …`. Unknown names
// throw a curv::Error listing the recipes.
void expand_recipe(std::vector<std::string>& args);

}  // namespace curv::cli
