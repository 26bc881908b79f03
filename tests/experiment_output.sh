#!/usr/bin/env bash
# The experiment programs write to the build tree unless told otherwise: a run without --out
# leaves the source tree's committed results alone and fills BUILD_EXPERIMENTS/NAME-out;
# --out and --publish together are refused.
# Usage: experiment_output.sh LENET_OPTIMIZERS_BINARY SOURCE_ROOT
set -uo pipefail
program=$1 source=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
default_out=$(dirname "$program")/lenet-optimizers-out

touch "$scratch/marker"
sleep 1  # file times have a granularity; anything written after this is newer than the marker
"$program" --optimizers sgd --sgd-lrs 0.01 --steps 2 --eval-every 2 --seeds 0 --examples 0-63 \
  > "$scratch/stdout" 2> "$scratch/stderr" || { echo "FAIL: the run failed: $(tail -n 3 "$scratch/stderr")"; failed=1; }
written=$(find "$source/experiments" -newer "$scratch/marker" -type f | head -n 5)
if [[ -n $written ]]; then
  echo "FAIL: a run without --out wrote into the source tree: $written"
  failed=1
else
  echo "ok: nothing written under $source/experiments"
fi
if [[ -f $default_out/results.jsonl && $default_out/results.jsonl -nt $scratch/marker ]]; then
  echo "ok: results in $default_out"
else
  echo "FAIL: expected fresh results in $default_out"
  failed=1
fi

"$program" --out "$scratch/out" --publish > /dev/null 2> "$scratch/err"
got=$?
if [[ $got != 2 ]] || ! grep -q -- "--out excludes --publish\|--publish excludes --out" "$scratch/err"; then
  echo "FAIL: --out with --publish: expected exit 2 naming both, found exit $got: $(cat "$scratch/err")"
  failed=1
else
  echo "ok: --out with --publish -> $(cat "$scratch/err")"
fi
exit $failed
