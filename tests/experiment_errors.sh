#!/usr/bin/env bash
# The experiment programs on bad settings: a non-zero exit and exactly one line on
# stderr naming what was expected and what was found, before any data is read or run written.
# Usage: experiment_errors.sh PROGRAM…
set -uo pipefail
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

# expect FRAGMENT PROGRAM ARGS…: PROGRAM ARGS… exits with 1 and says FRAGMENT in one stderr line.
expect() {
  local fragment=$1 program=$2; shift 2
  "$program" "$@" --out "$scratch/out" >/dev/null 2>"$scratch/err"
  local got=$? lines
  lines=$(wc -l < "$scratch/err")
  if [[ $got != 1 || $lines != 1 ]] || ! grep -qF -- "$fragment" "$scratch/err" || [[ -e $scratch/out ]]; then
    echo "FAIL: $(basename "$program") $*: expected exit 1, one line with '$fragment' and no output, found exit $got and:"
    cat "$scratch/err"
    failed=1
  else
    echo "ok: $(basename "$program") $* -> $(cat "$scratch/err")"
  fi
}

for program in "$@"; do
  if [[ $(basename "$program") == pruning ]]; then
    expect "pruning: --parts: expected one-shot, spread, gradual or acdc, found 'bogus'" \
      "$program" --parts bogus
    expect "pruning: --data: expected fashion-mnist or mnist, found 'cifar10'" \
      "$program" --data cifar10
    continue
  fi
  expect "$(basename "$program"): unknown curvature factor 'bogus': expected ggn (exact), ef (empirical Fisher) or mc (sampled Fisher)" \
    "$program" --optimizers kfac --factors bogus
  expect "$(basename "$program"): unknown K-FAC damping 'bogus': expected eigen (exact damped inverse) or factored (π-adjusted Tikhonov)" \
    "$program" --optimizers kfac --kfac-damping bogus
  expect "$(basename "$program"): unknown tuning rule 'bogus': expected first (the first seed tunes) or median (every rate on every seed)" \
    "$program" --tuning bogus
  expect "index list '0-9999999': expected indices in 0.." "$program" --examples 0-9999999
done
exit $failed
