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
close() {  # close TOLERANCE WHAT A B: the numbers in the lists A (under mpirun) and B (one process)
  if awk -v t="$1" -v a="$3" -v b="$4" 'BEGIN { n = split(a, x, ","); m = split(b, y, ",");
      if (n != m || n == 0) exit 1
      for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; s = y[i] < 0 ? -y[i] : y[i]
        if (d > t * s) exit 1 } }'; then ok "$2: $3 under mpirun, $4 on one process"
  else bad "$2: '$3' under mpirun, '$4' on one process"; fi
}

# Two processes take the steps one process takes on the same two shards (float32 sums of two
# shards differ from one sweep's by rounding only).
"${mpi[@]}" -np 2 "$curv" train "${sine[@]}" --batch 16 --mpi-stats --save "$scratch/two.safetensors" \
  --log "$scratch/two.jsonl" >"$scratch/two.out" 2>"$scratch/two.err" || bad "mpirun -np 2 train: exit $?"
"$curv" train "${sine[@]}" --batch 16 --shards 2 >"$scratch/one.out" 2>/dev/null || bad "train --shards 2"
"$curv" train "${sine[@]}" --batch 16 >"$scratch/plain.out" 2>/dev/null || bad "train"
a=$(field test_loss "$scratch/two.out") b=$(field test_loss "$scratch/one.out") c=$(field test_loss "$scratch/plain.out")
close 1e-4 "test loss (one process: two shards)" "$a" "$b"
# The shards are another draw than the unsharded one: a comparison that could not tell them
# apart would prove nothing.
[[ $c != "$b" ]] && ok "unsharded draw differs ($c)" || bad "unsharded draw gives the same loss $c"
[[ $(wc -l < "$scratch/two.out") == 1 ]] && ok "one JSON line, from rank 0" || bad "$(cat "$scratch/two.out")"
grep -q '"processes":2' "$scratch/two.out" && grep -q '"mpi":{' "$scratch/two.out" && grep -q '"shards":2' "$scratch/two.out" \
  && ok "processes, shards and mpi stats in the JSON" || bad "JSON: $(cat "$scratch/two.out")"
[[ -s $scratch/two.safetensors && $(grep -c '"event":"start"' "$scratch/two.jsonl") == 1 ]] \
  && ok "one checkpoint, one log start" || bad "checkpoint or log: $(cat "$scratch/two.jsonl")"

# Distributed K-FAC (KAISA) with every gradient-worker fraction of two processes, and the one
# between 1/R and 1 of four, against one process drawing as many shards.
kfac=("${net[@]}" --batch 16 --optimizer kfac --inverse-every 5)
for run in "2 1" "2 0.5" "4 0.5"; do
  read -r np f <<<"$run"
  "$curv" train "${kfac[@]}" --shards "$np" >"$scratch/k1.out" 2>/dev/null || bad "train kfac --shards $np"
  "${mpi[@]}" -np "$np" "$curv" train "${kfac[@]}" --gradient-workers "$f" >"$scratch/k2.out" 2>"$scratch/k2.err" \
    || bad "mpirun -np $np train kfac: $(cat "$scratch/k2.err")"
  close 1e-4 "kfac on $np processes, gradient workers $f: test loss (one process: $np shards)" \
    "$(field test_loss "$scratch/k2.out")" "$(field test_loss "$scratch/k1.out")"
done

# Sharded curvature: two processes' products are one process's (float64, to rounding).
curv_on=(--checkpoint "$scratch/two.safetensors" --data sine --examples train:all --batch 32 --threads 1)
list() { grep -o "\"$1\":\[[^]]*\]" "$2" | head -1 | sed 's/.*\[//; s/\]//'; }
"${mpi[@]}" -np 2 "$curv" spectrum "${curv_on[@]}" --operator ggn --top 3 --out "$scratch/top2.csv" \
  >"$scratch/s2.out" 2>"$scratch/s2.err" || bad "mpirun -np 2 spectrum: $(cat "$scratch/s2.err")"
"$curv" spectrum "${curv_on[@]}" --operator ggn --top 3 >"$scratch/s1.out" 2>/dev/null || bad "spectrum"
close 1e-9 "GGN top eigenvalues" "$(list eigenvalues "$scratch/s2.out")" "$(list eigenvalues "$scratch/s1.out")"
[[ $(wc -l < "$scratch/s2.out") == 1 && -s $scratch/top2.csv ]] && ok "spectrum: one JSON line, the table written" \
  || bad "spectrum output: $(cat "$scratch/s2.out")"
"${mpi[@]}" -np 2 "$curv" curvature "${curv_on[@]}" --operator hessian --product trace >"$scratch/t2.out" 2>/dev/null \
  || bad "mpirun -np 2 curvature --product trace"
"$curv" curvature "${curv_on[@]}" --operator hessian --product trace >"$scratch/t1.out" 2>/dev/null || bad "curvature"
close 1e-9 "Hessian trace" "$(field trace "$scratch/t2.out")" "$(field trace "$scratch/t1.out")"
close 1e-9 "mean loss" "$(field loss "$scratch/t2.out")" "$(field loss "$scratch/t1.out")"

# Sharded influence: blocks of 16 training examples per process, gathered bit for bit.
infl=(--checkpoint "$scratch/two.safetensors" --data sine --train-subset train:all --gradient-batch 16 --threads 1)
for m in "--method cg --queries test:0-4" "--method grad-dot --self"; do
  # shellcheck disable=SC2086
  "${mpi[@]}" -np 2 "$curv" influence "${infl[@]}" $m --out "$scratch/i2.npy" >/dev/null 2>"$scratch/i2.err" \
    || bad "mpirun -np 2 influence $m: $(cat "$scratch/i2.err")"
  # shellcheck disable=SC2086
  "$curv" influence "${infl[@]}" $m --out "$scratch/i1.npy" >/dev/null 2>&1 || bad "influence $m"
  cmp -s "$scratch/i1.npy" "$scratch/i2.npy" && ok "influence $m: two processes' scores bit for bit" \
    || bad "influence $m: the two processes' scores differ from one process's"
done

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
expect 2 "ekfac: expected kfac or foof on several processes" train "${net[@]}" --batch 16 --optimizer ekfac --save "$scratch/out.safetensors"
expect 4 "expected a gradient-worker fraction 1/c with c dividing the 4 processes (1, 1/2, 1/4), found 0.3" train "${net[@]}" --batch 16 --optimizer kfac --gradient-workers 0.3 --save "$scratch/out.safetensors"
expect 2 "no --prune, --marglik or --schedule curvature" train "${net[@]}" --batch 16 --schedule curvature --save "$scratch/out.safetensors"
expect 2 "expected no --record with 2 shards" train "${sine[@]}" --batch 16 --record "$scratch/rec" --save "$scratch/out.safetensors"
expect 2 "missing.safetensors" train "${sine[@]}" --batch 16 --init-from "$scratch/missing.safetensors" --save "$scratch/out.safetensors"
expect 2 "--operator kfac: expected a mean over examples" spectrum "${curv_on[@]}" --operator kfac --top 1
expect 2 "--batch-sweep: expected one process" spectrum "${curv_on[@]}" --operator ggn --batch-sweep 8,16
expect 2 "influence: --method representer: expected one that maps gradients" influence "${infl[@]}" --method representer --self --out "$scratch/out.npy"
expect 2 "eval: expected one process" eval --checkpoint "$scratch/two.safetensors" --data sine
"$curv" train "${sine[@]}" --batch 16 --mpi-stats >/dev/null 2>"$scratch/err" \
  && bad "--mpi-stats without mpirun accepted" || ok "$(cat "$scratch/err")"
exit $failed
