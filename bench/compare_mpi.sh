#!/usr/bin/env bash
# Two MPI processes of one thread against one process of two threads, on this machine's two
# cores, interleaved round by round (docs/distributed.md). Prints each round, then the medians
# and their ratio, for
#   train    LeNet-5 on Fashion-MNIST, STEPS steps at batch 128 (the JSON's training seconds)
#   lanczos  ITERATIONS Lanczos products of the GGN over all 60,000 training images of a LeNet-5
#            checkpoint, float32 (the JSON's lanczos seconds)
# and with --mpi-stats the bytes each process sent per training step.
#
#   bench/compare_mpi.sh [-r ROUNDS] [-s STEPS] [-i ITERATIONS] CURV CHECKPOINT
# Needs mpirun (Open MPI) and the data sets (CURV_DATA, datasets/fetch.sh).
set -euo pipefail
rounds=5 steps=300 iterations=10
while getopts r:s:i: f; do
  case $f in r) rounds=$OPTARG ;; s) steps=$OPTARG ;; i) iterations=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
curv=${1:?usage: bench/compare_mpi.sh [-r ROUNDS] [-s STEPS] [-i ITERATIONS] CURV CHECKPOINT}
checkpoint=${2:?a LeNet-5 Fashion-MNIST checkpoint}
mpi=(mpirun --oversubscribe -q -np 2 --bind-to none)

train=(train --model lenet5 --data fashion-mnist --steps "$steps" --batch 128 --lr 0.05
       --momentum 0.9 --eval test:0-99 --log-every 0 --seed 1)
lanczos=(spectrum --checkpoint "$checkpoint" --data fashion-mnist --examples train:all
         --operator ggn --top 1 --iterations "$iterations" --precision float32 --batch 500 --tolerance 0.99)
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2; }
lanczos_seconds() { grep -o '"lanczos":{[^}]*}' | field seconds; }

declare -A t
for ((k = 1; k <= rounds; k++)); do
  t[train1]+="$("$curv" "${train[@]}" --threads 2 2>/dev/null | field seconds) "
  out=$("${mpi[@]}" "$curv" "${train[@]}" --threads 1 --mpi-stats 2>/dev/null)
  t[train2]+="$(field seconds <<<"$out") "
  bytes=$(field gradient_bytes_per_step <<<"$out")
  t[lanczos1]+="$("$curv" "${lanczos[@]}" --threads 2 2>/dev/null | lanczos_seconds) "
  t[lanczos2]+="$("${mpi[@]}" "$curv" "${lanczos[@]}" --threads 1 2>/dev/null | lanczos_seconds) "
  last() { awk '{ print $NF }' <<<"$1"; }
  echo "round $k: train $(last "${t[train1]}") s vs $(last "${t[train2]}") s," \
    "lanczos $(last "${t[lanczos1]}") s vs $(last "${t[lanczos2]}") s (1×2 vs 2×1)"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for w in train lanczos; do
  one=$(median <<<"${t[${w}1]}") two=$(median <<<"${t[${w}2]}")
  printf '%-8s 1 process × 2 threads %8.3f s   2 processes × 1 thread %8.3f s   ratio %.3f\n' \
    "$w" "$one" "$two" "$(awk -v a="$two" -v b="$one" 'BEGIN { print a / b }')"
  echo "  rounds, 1×2: ${t[${w}1]}"
  echo "  rounds, 2×1: ${t[${w}2]}"
done
echo "gradient bytes each process sends per training step: $bytes"
