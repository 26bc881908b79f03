#!/usr/bin/env bash
# curv under mpirun: a data-parallel `curv train` on two processes against one process drawing
# the same two shards, its JSON and files from rank 0 alone, and bad input as one line with a
# non-zero exit and nothing written. Needs mpirun (Open MPI); no data sets (the sine task).
#   tests/cli_mpi.sh CURV
set -uo pipefail
curv=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
mpi=(mpirun --oversubscribe -q)
net=(--model mlp --config '{"widths":[1,16,1],"activation":"tanh","loss":"mse"}' --data sine
     --steps 40 --seed 2 --threads 1 --log-every 0)
sine=("${net[@]}" --lr 0.05 --momentum 0.9)

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; failed=1; }
field() { grep -o "\"$1\":[^,}]*" "$2" | tail -1 | cut -d: -f2; }

# Two processes take the steps one process takes on the same two shards (float32 sums of two
# shards differ from one sweep's by rounding only).
"${mpi[@]}" -np 2 "$curv" train "${sine[@]}" --batch 16 --mpi-stats --save "$scratch/two.safetensors" \
  --log "$scratch/two.jsonl" >"$scratch/two.out" 2>"$scratch/two.err" || bad "mpirun -np 2 train: exit $?"
"$curv" train "${sine[@]}" --batch 16 --shards 2 >"$scratch/one.out" 2>/dev/null || bad "train --shards 2"
"$curv" train "${sine[@]}" --batch 16 >"$scratch/plain.out" 2>/dev/null || bad "train"
a=$(field test_loss "$scratch/two.out") b=$(field test_loss "$scratch/one.out") c=$(field test_loss "$scratch/plain.out")
if awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-4 * b) }'; then
  ok "two processes: test loss $a, one process with two shards: $b"
else bad "two processes: test loss '$a', one process with two shards: '$b'"; fi
# The shards are another draw than the unsharded one: a comparison that could not tell them
# apart would prove nothing.
[[ $c != "$b" ]] && ok "unsharded draw differs ($c)" || bad "unsharded draw gives the same loss $c"
[[ $(wc -l < "$scratch/two.out") == 1 ]] && ok "one JSON line, from rank 0" || bad "$(cat "$scratch/two.out")"
grep -q '"processes":2' "$scratch/two.out" && grep -q '"mpi":{' "$scratch/two.out" && grep -q '"shards":2' "$scratch/two.out" \
  && ok "processes, shards and mpi stats in the JSON" || bad "JSON: $(cat "$scratch/two.out")"
[[ -s $scratch/two.safetensors && $(grep -c '"event":"start"' "$scratch/two.jsonl") == 1 ]] \
  && ok "one checkpoint, one log start" || bad "checkpoint or log: $(cat "$scratch/two.jsonl")"

# expect NP FRAGMENT ARGS…: mpirun -np NP curv ARGS… fails with one line holding FRAGMENT and
# writes no checkpoint.
expect() {
  local np=$1 fragment=$2; shift 2
  rm -f "$scratch/out.safetensors"
  "${mpi[@]}" -np "$np" "$curv" "$@" >/dev/null 2>"$scratch/err"
  local got=$?
  if [[ $got == 0 || $(wc -l < "$scratch/err") != 1 || -e $scratch/out.safetensors ]] ||
     ! grep -qF -- "$fragment" "$scratch/err"; then
    bad "mpirun -np $np curv $*: expected a non-zero exit, one line with '$fragment', no checkpoint; found exit $got and:"
    cat "$scratch/err"
  else ok "$(cat "$scratch/err")"; fi
}
expect 2 "expected a batch divisible by the 2 MPI processes" train "${sine[@]}" --batch 15 --save "$scratch/out.safetensors"
expect 4 "expected a batch divisible by the 4 MPI processes" train "${sine[@]}" --batch 2 --save "$scratch/out.safetensors"
expect 2 "expected --shards 2 (the MPI processes)" train "${sine[@]}" --batch 16 --shards 4 --save "$scratch/out.safetensors"
expect 2 "expected an optimizer that reads only the gradient" train "${sine[@]}" --batch 16 --optimizer kfac --save "$scratch/out.safetensors"
expect 2 "no --prune, --marglik or --schedule curvature" train "${net[@]}" --batch 16 --schedule curvature --save "$scratch/out.safetensors"
expect 2 "expected no --record with 2 shards" train "${sine[@]}" --batch 16 --record "$scratch/rec" --save "$scratch/out.safetensors"
expect 2 "missing.safetensors" train "${sine[@]}" --batch 16 --init-from "$scratch/missing.safetensors" --save "$scratch/out.safetensors"
expect 2 "eval: expected one process" eval --checkpoint "$scratch/two.safetensors" --data sine
"$curv" train "${sine[@]}" --batch 16 --mpi-stats >/dev/null 2>"$scratch/err" \
  && bad "--mpi-stats without mpirun accepted" || ok "$(cat "$scratch/err")"
exit $failed
