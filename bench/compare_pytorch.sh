#!/usr/bin/env bash
# Side-by-side timings: `curv bench` against the PyTorch reference
# (bench/pytorch_reference.py) with 1 and with 2 threads.
#
# Optional: needs python3 with PyTorch (Debian: apt-get install python3-torch).
#
# Usage: bench/compare_pytorch.sh [-r ROUNDS] [-k REPEATS] [CURV_BINARY]
#   CURV_BINARY  default build/tools/curv
#   -r ROUNDS    interleaved rounds per run, medians reported (default 30)
#   -k REPEATS   how many times the sequence curv, torch-1, torch-2 runs (default 3)
#   PYTHON=...   interpreter to use (default: the first of python3,
#                /usr/bin/python3 that can import torch)
#
# Runs alternate (curv, torch-1, torch-2, curv, ...) so that drifts in machine
# load hit all three alike. Every line of a run's output is prefixed by the
# run's name, e.g. "[torch-2 #1]". The PyTorch runs get OMP_WAIT_POLICY=PASSIVE
# and their thread count for both torch and OpenBLAS; curv runs with the
# environment as given.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rounds=30
repeats=3
curv=build/tools/curv

usage() { sed -n '7,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while (($#)); do
  case "$1" in
    -r|--rounds) rounds="$2"; shift 2 ;;
    -k|--repeats) repeats="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) curv="$1"; shift ;;
  esac
done

[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "-r needs a positive integer" >&2; exit 2; }
[[ "$repeats" =~ ^[1-9][0-9]*$ ]] || { echo "-k needs a positive integer" >&2; exit 2; }
[[ -x "$curv" ]] || { echo "curv binary not found or not executable: $curv" >&2; exit 2; }

py=""
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch' >/dev/null 2>&1; then
    py="$cand"
    break
  fi
done
if [[ -z "$py" ]]; then
  echo "python3 with PyTorch not found: apt-get install python3-torch is needed" >&2
  exit 1
fi

models=(mlp lenet5)

run() {  # run LABEL CMD...: run CMD, prefix each output line with [LABEL]
  local label="$1"; shift
  echo "[$label] \$ $*"
  "$@" 2>&1 | sed -u "s/^/[$label] /"
  echo
}

for ((k = 1; k <= repeats; k++)); do
  run "curv #$k" "$curv" bench --model "${models[@]}" --rounds "$rounds"
  for t in 1 2; do
    check=()  # the correctness check runs once, in the first PyTorch run
    ((k == 1 && t == 1)) || check=(--no-check)
    run "torch-$t #$k" env OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS="$t" \
      OPENBLAS_NUM_THREADS="$t" \
      "$py" "$here/pytorch_reference.py" --threads "$t" --rounds "$rounds" \
      --model "${models[@]}" "${check[@]}"
  done
done
