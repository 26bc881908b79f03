#!/usr/bin/env bash
# The scaling model of docs/distributed.md: what one process measures on this machine (compute
# per step at each per-process batch, K-FAC's factor and inversion work, one GGN product over
# the training set) and the bytes a two-process run reports (--mpi-stats), turned into
# predicted step times on R = 8 … 512 processes for a network of BANDWIDTH Gb/s and LATENCY µs
# with ring allreduces:
#   allreduce(n bytes) = 2(R−1)·α + 2(R−1)/R · n/β,   broadcast(n) = ⌈log₂R⌉·α + 2(R−1)/R · n/β
# (a broadcast as scatter + allgather). Compute is measured with one thread per process. A last
# table sets KAISA's gradient-worker fraction against the decompositions each process keeps.
#
#   bench/scaling_model.sh [-b GLOBAL_BATCH] [-w BANDWIDTH_GBPS] [-l LATENCY_US] CURV CHECKPOINT
# CHECKPOINT: a LeNet-5 Fashion-MNIST checkpoint (the Lanczos workload). Needs mpirun and data.
set -euo pipefail
B=4096 gbps=25 latency_us=5
while getopts b:w:l: f; do
  case $f in b) B=$OPTARG ;; w) gbps=$OPTARG ;; l) latency_us=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
curv=${1:?usage: bench/scaling_model.sh [-b B] [-w Gb/s] [-l µs] CURV CHECKPOINT}
checkpoint=${2:?a LeNet-5 Fashion-MNIST checkpoint}
field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2; }
lenet=(--model lenet5 --data fashion-mnist --lr 0.01 --momentum 0.9 --eval test:0-9 --log-every 0
       --threads 1 --seed 1)

# Seconds per step at per-process batch b (the training loop's own clock).
per_step() {  # per_step b steps [flags…]
  local b=$1 n=$2; shift 2
  "$curv" train "${lenet[@]}" --batch "$b" --steps "$n" "$@" 2>/dev/null | field seconds |
    awk -v n="$n" '{ print $1 / n }'
}
echo "# measured, one process, one thread"
declare -A sgd kfac
for R in 8 16 32 64 128 256 512; do
  b=$((B / R)); ((b >= 1)) || continue
  sgd[$R]=$(per_step "$b" 40)
  kfac[$R]=$(per_step "$b" 40 --optimizer kfac --inverse-every 1000000)
  echo "per-process batch $b: sgd step ${sgd[$R]} s, kfac step without inversions ${kfac[$R]} s"
done
# One refresh of every layer: K-FAC inverting at every step, less K-FAC inverting once.
b=$((B / 8))
every=$(per_step "$b" 20 --optimizer kfac --inverse-every 1)
once=$(per_step "$b" 20 --optimizer kfac --inverse-every 1000000)
inversion=$(awk -v a="$every" -v b="$once" 'BEGIN { print (a > b ? a - b : 0) }')
echo "one refresh of all layers' decompositions: $inversion s"
# The bytes of one step, as a two-process run reports them.
mpi=(mpirun --oversubscribe -q -np 2 --bind-to none)
out=$("${mpi[@]}" "$curv" train "${lenet[@]}" --batch 64 --steps 10 --mpi-stats 2>/dev/null)
grad_bytes=$(field allreduce_bytes_per_step <<<"$out")
out=$("${mpi[@]}" "$curv" train "${lenet[@]}" --batch 64 --steps 10 --optimizer kfac --inverse-every 5 --mpi-stats 2>/dev/null)
kfac_bytes=$(field allreduce_bytes_per_step <<<"$out")
kfac_bcast=$(field broadcast_bytes <<<"$out")
out=$("${mpi[@]}" "$curv" train "${lenet[@]}" --batch 64 --steps 10 --optimizer kfac --inverse-every 5 --gradient-workers 0.5 --mpi-stats 2>/dev/null)
step_bcast=$(field broadcast_bytes <<<"$out" | awk '{ print $1 / 10 }')
echo "bytes each process sends into allreduces per step: sgd $grad_bytes, kfac $kfac_bytes"
echo "kfac, gradient workers 1: broadcasts of 2 refreshes (every layer's share): $kfac_bcast bytes"
echo "kfac, gradient workers 1/2: preconditioned gradients broadcast per step: $step_bcast bytes"
# One GGN product over the training set (float32 sweeps, float64 vectors).
out=$("$curv" spectrum --checkpoint "$checkpoint" --data fashion-mnist --examples train:all --operator ggn \
      --top 1 --iterations 5 --tolerance 0.99 --precision float32 --batch 500 --threads 1 2>/dev/null)
product=$(grep -o '"lanczos":{[^}]*}' <<<"$out" | field seconds | awk '{ print $1 / 5 }')
params=$(field parameters <<<"$out")
echo "one GGN product over 60,000 images: $product s; P = $params"

echo
echo "# predicted, global batch $B, $gbps Gb/s, $latency_us µs (times in ms; efficiency against one process)"
echo "| R | per-process batch | sgd compute | sgd allreduce | sgd step | sgd efficiency | kfac step (f = 1, inverse every 10) | lanczos product | lanczos efficiency |"
echo "|---|---|---|---|---|---|---|---|---|"
for R in 8 16 32 64 128 256 512; do
  [[ -n ${sgd[$R]:-} ]] || continue
  awk -v R="$R" -v B="$B" -v t="${sgd[$R]}" -v k="${kfac[$R]}" -v t1="${sgd[8]}" -v inv="$inversion" \
      -v gb="$grad_bytes" -v kb="$kfac_bytes" -v bc="$kfac_bcast" -v prod="$product" -v P="$params" \
      -v beta="$(awk -v g="$gbps" 'BEGIN { print g * 1e9 / 8 }')" -v alpha="$(awk -v l="$latency_us" 'BEGIN { print l * 1e-6 }')" '
    function ar(n) { return 2 * (R - 1) * alpha + 2 * (R - 1) / R * n / beta }
    function bc_(n) { return log(R) / log(2) * alpha + 2 * (R - 1) / R * n / beta }
    BEGIN {
      comm = ar(gb); step = t + comm
      # efficiency: 8 processes at batch B/8 stand for one process at B (8 × its compute)
      eff = (8 * t1) / (R * step)
      # K-FAC: factors and gradients allreduced every step. A refresh is dealt by layer, and
      # LeNet-5 fc1 (din 401, out 120) is 66.2 M of the layers din³ + out³ of 72.6 M: whoever
      # owns it does at least that share, however many processes there are.
      share = 66.2 / 72.6; invr = inv * (share > 1 / R ? share : 1 / R)
      kstep = k + ar(kb) + (invr + bc_(bc / 2)) / 10
      p = prod / R + ar(8 * P); peff = prod / (R * p)
      printf "| %d | %d | %.2f | %.3f | %.2f | %.2f | %.2f | %.1f | %.2f |\n", R, B / R, 1e3 * t, 1e3 * comm, 1e3 * step, eff, 1e3 * kstep, 1e3 * p, peff
    }'
done

# KAISA's gradient-worker fraction f = 1/c at R = 64: each layer's refresh goes to the R/c
# processes of its owner's column, and at every step each gradient worker sends the layer's
# preconditioned gradient to the c − 1 others of its row. LeNet-5's five layers are dealt to
# processes 0…4 by din³ + out³, largest first: fc1, conv2, fc2, fc3, conv1. A process keeps the
# decompositions of the layers whose owner shares its column (p mod c), 4(din² + out²) + 8·out·din
# bytes each (bases and scaling); at a refresh its column broadcasts them, three messages per
# layer; at a step its row broadcasts every layer's weight and bias, ten messages. Rows, and
# columns, run side by side.
R=64
if [[ -n ${kfac[$R]:-} ]]; then
  echo
  echo "# KAISA's fraction at R = $R, global batch $B (ms; decompositions: the most one process keeps)"
  echo "| f | step broadcasts | refresh broadcasts | kfac step (inverse every 10) | decompositions kept |"
  echo "|---|---|---|---|---|"
  for c in 1 2 4 8 16 32 64; do
    awk -v R="$R" -v c="$c" -v k="${kfac[$R]}" -v inv="$inversion" -v kb="$kfac_bytes" -v sb="$step_bcast" \
        -v beta="$(awk -v g="$gbps" 'BEGIN { print g * 1e9 / 8 }')" -v alpha="$(awk -v l="$latency_us" 'BEGIN { print l * 1e-6 }')" '
      function ar(n, q) { return 2 * (q - 1) * alpha + 2 * (q - 1) / q * n / beta }
      # m messages of n bytes in all, each a broadcast among q processes
      function bcast(n, m, q) { return q == 1 ? 0 : m * log(q) / log(2) * alpha + 2 * (q - 1) / q * n / beta }
      BEGIN {
        split("401 151 121 85 26", din, " "); split("120 16 84 10 6", out, " ")
        most = 0; refresh = 0
        for (col = 0; col < c; ++col) {
          kept = 0; layers = 0
          for (l = 1; l <= 5; ++l)
            if ((l - 1) % c == col) { kept += 4 * (din[l]^2 + out[l]^2) + 8 * out[l] * din[l]; ++layers }
          if (kept > most) most = kept
          t = bcast(kept, 3 * layers, R / c); if (t > refresh) refresh = t
        }
        share = 66.2 / 72.6; invr = inv * (share > 1 / R ? share : 1 / R)
        step = bcast(sb, 10, c)
        kstep = k + ar(kb, R) + step + (invr + refresh) / 10
        printf "| 1/%d | %.3f | %.3f | %.2f | %.0f kB |\n", c, 1e3 * step, 1e3 * refresh, 1e3 * kstep, most / 1e3
      }'
  done
fi
