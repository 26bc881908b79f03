#!/usr/bin/env bash
# Training-step speed of curv against PyTorch on the same architectures, side by side:
# `curv bench --train` and bench/torch_reference.py alternate K times with 1 and with 2 threads
# (PyTorch with OMP_WAIT_POLICY=PASSIVE, the setting where its 2-thread runs are at their best).
# Prints each model's median step time per setting and the speed ratio torch/curv (> 1: curv is
# faster), against PyTorch's better setting too.
# Usage: bench/compare_torch_train.sh [-r ROUNDS] [-k REPEATS] [CURV_BINARY]
set -euo pipefail
rounds=20 repeats=3
while getopts r:k: o; do case $o in r) rounds=$OPTARG ;; k) repeats=$OPTARG ;; *) exit 2 ;; esac; done
shift $((OPTIND - 1))
curv=${1:-build/tools/curv}
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/usr/bin/python3}
"$py" -c 'import torch' 2>/dev/null || { echo "compare_torch_train.sh: python3 with PyTorch is needed (apt-get install python3-torch)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Lines "SETTING MODEL STEP_MS" from one run of each side.
for ((k = 1; k <= repeats; k++)); do
  for t in 1 2; do
    "$curv" bench --train --threads "$t" --rounds "$rounds" |
      awk -v s="curv-$t" '$1 ~ /^(mlp|lenet5|autoencoder|transformer)$/ {print s, $1, $3}' >> "$out"
    env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS="$t" OPENBLAS_NUM_THREADS="$t" \
      "$py" "$here/torch_reference.py" --threads "$t" --rounds "$rounds" |
      awk -v s="torch-$t" '$1 ~ /^(mlp|lenet5|autoencoder|transformer)$/ {print s, $1, $3}' >> "$out"
  done
done

awk -v k="$repeats" '
  { t[$1 " " $2] = t[$1 " " $2] " " $3 }
  function median(list,   a, n, i, j, x) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    printf "median step time [ms] over %d alternating runs; ratio = torch / curv (> 1: curv faster)\n", k
    printf "%-12s %9s %9s %9s %9s %9s %9s %12s\n", "model", "curv-1", "torch-1", "ratio-1", "curv-2", "torch-2", "ratio-2", "best/best"
    split("mlp lenet5 autoencoder transformer", models, " ")
    for (m = 1; m <= 4; m++) {
      M = models[m]
      c1 = median(t["curv-1 " M]); p1 = median(t["torch-1 " M]); c2 = median(t["curv-2 " M]); p2 = median(t["torch-2 " M])
      cb = c1 < c2 ? c1 : c2; pb = p1 < p2 ? p1 : p2
      printf "%-12s %9.3f %9.3f %9.2f %9.3f %9.3f %9.2f %12.2f\n", M, c1, p1, p1 / c1, c2, p2, p2 / c2, pb / cb
    }
  }' "$out"
