#!/usr/bin/env bash
# The documented training recipes, one `curv train --recipe NAME` each. Prints each run's JSON
# summary and appends it, with the command, to results.jsonl in the output folder: the build
# tree's experiments/train-recipes-out beside the binary, or, with --publish, this folder (the
# committed results docs/training.md quotes).
# Usage: experiments/train-recipes/run.sh [--publish] [CURV_BINARY] [RECIPE…]   (default: all)
set -euo pipefail
source "$(dirname "$0")/../common/run_args.sh" train-recipes "$@"

order=(mlp-mnist lenet5-mnist mlp-fashion lenet5-fashion transformer-moby t2t cifar-cnn)
((${#rest[@]})) && order=("${rest[@]}")

for name in "${order[@]}"; do
  # The recipe's flags live in curv (tools/curv/recipes.cpp); the log's start line records them.
  summary=$("$curv" train --recipe "$name" --seed 0 --log-every 0 --log "$out/$name.log.jsonl" | tail -n 1) ||
    { echo "run.sh: curv train --recipe $name failed" >&2; exit 1; }
  echo "$name: $summary"
  printf '{"recipe":"%s","command":"curv train --recipe %s --seed 0","summary":%s}\n' "$name" "$name" "$summary" >> "$out/results.jsonl"
done
