#!/usr/bin/env bash
# The documented default training recipes, one `curv train` each. Prints each run's JSON
# summary and appends it, with the command, to results.jsonl in the output folder: the build
# tree's experiments/train-recipes-out beside the binary, or, with --publish, this folder (the
# committed results docs/training.md quotes).
# Usage: experiments/train-recipes/run.sh [--publish] [CURV_BINARY] [RECIPE…]   (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
publish=0
[[ ${1:-} == --publish ]] && { publish=1; shift; }
curv=${1:-build/tools/curv}; shift || true
[[ -x $curv ]] || { echo "run.sh: expected the curv binary, found none at '$curv'" >&2; exit 2; }
if ((publish)); then out=$here; else out=$(cd "$(dirname "$curv")/.." && pwd)/experiments/train-recipes-out; fi
mkdir -p "$out"

declare -A recipe=(
  [mlp-mnist]="--model mlp --data mnist --epochs 20 --optimizer sgd --lr 0.05 --momentum 0.9 --schedule cosine"
  [lenet5-mnist]="--model lenet5 --data mnist --epochs 20 --optimizer sgd --lr 0.05 --momentum 0.9 --weight-decay 0.0005 --schedule cosine"
  [mlp-fashion]="--model mlp --data fashion-mnist --epochs 30 --optimizer sgd --lr 0.05 --momentum 0.9 --weight-decay 0.0001 --schedule cosine"
  [lenet5-fashion]="--model lenet5 --data fashion-mnist --epochs 30 --optimizer sgd --lr 0.05 --momentum 0.9 --weight-decay 0.0001 --schedule cosine"
  [transformer-moby]="--model transformer --data moby-dick --batch 32 --epochs 12 --optimizer adamw --lr 0.002 --weight-decay 0.05 --warmup 200 --schedule cosine --clip 1"
  [t2t]="--model t2t --data t2t-synthetic --batch 64 --epochs 16 --optimizer adamw --lr 0.002 --weight-decay 0.01 --warmup 300 --schedule cosine --clip 1"
  [cifar-cnn]="--model cifar-cnn --data cifar10 --epochs 30 --optimizer sgd --lr 0.03 --momentum 0.9 --weight-decay 0.0005 --schedule cosine --augment"
)
order=(mlp-mnist lenet5-mnist mlp-fashion lenet5-fashion transformer-moby t2t cifar-cnn)
(($#)) && order=("$@")

for name in "${order[@]}"; do
  [[ -n ${recipe[$name]:-} ]] || { echo "run.sh: expected a recipe among ${!recipe[*]}, found '$name'" >&2; exit 2; }
  args=${recipe[$name]}
  # shellcheck disable=SC2086
  summary=$("$curv" train $args --seed 0 --log-every 0 --log "$out/$name.log.jsonl" 2>/dev/null | tail -n 1)
  echo "$name: $summary"
  printf '{"recipe":"%s","command":"curv train %s --seed 0","summary":%s}\n' "$name" "$args" "$summary" >> "$out/results.jsonl"
done
