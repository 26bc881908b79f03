#!/usr/bin/env bash
# The online marginal-likelihood table from results.jsonl (run.sh part online): per prior —
# each weight decay of the grid, and the priors fitted during training — the mean ± standard
# deviation over seeds of the test accuracy and NLL, the seconds, and for the fitted priors the
# last fit's log Z and δ (seed 0).
# Usage: experiments/laplace/online_table.sh [results.jsonl]
set -euo pipefail
file=${1:-$(dirname "$0")/results.jsonl}
grep -q '"tag":"online/' "$file" || { echo "online_table.sh: no online rows in $file" >&2; exit 1; }
field() { { grep -o "\"$1\":[^,}]*" <<<"$2" || true; } | head -n 1 | cut -d: -f2-; }
while IFS= read -r line; do
  tag=$(grep -o '"tag":"online/[^"]*"' <<<"$line" | cut -d'"' -f4)
  r=${line#*\"result\":}
  name=${tag#online/}; seed=${name##*/}; name=${name%/*}
  z=$(field log_marglik "$r"); prior=$({ grep -o '"prior_precision":{[^}]*}' <<<"$r" || true; } | tail -n 1 | cut -d: -f2- | tr -d '{}"' | tr ',' ' ')
  echo "$name $seed $(field test_accuracy "$r") $(field test_loss "$r") $(field seconds "$r") ${z:--} ${prior:--}"
done < <(grep '"tag":"online/' "$file") | awk '
  {
    key = $1; if (!(key in n)) order[++k] = key
    n[key]++; acc[key] += $3; acc2[key] += $3 * $3; nll[key] += $4; nll2[key] += $4 * $4
    sec[key] += $5
    if ($2 == 0) { z[key] = $6; p = ""; for (i = 7; i <= NF; i++) p = p (p == "" ? "" : ", ") $i; prior[key] = p }
  }
  function sd(s, s2, m) { v = s2 / m - (s / m) ^ 2; return m > 1 && v > 0 ? sqrt(v * m / (m - 1)) : 0 }
  END {
    print "| prior | seeds | test accuracy | test NLL | log Z (seed 0) | fitted δ (seed 0) | seconds |"
    print "|---|---|---|---|---|---|---|"
    for (i = 1; i <= k; i++) {
      key = order[i]; m = n[key]
      label = key; sub(/^wd-/, "weight decay ", label)
      sub(/^marglik-layer$/, "fitted in training, one δ per layer", label)
      sub(/^marglik-scalar$/, "fitted in training, one δ", label)
      printf "| %s | %d | %.2f ± %.2f %% | %.4f ± %.4f | %s | %s | %.1f |\n", label, m,
        100 * acc[key] / m, 100 * sd(acc[key], acc2[key], m), nll[key] / m, sd(nll[key], nll2[key], m),
        z[key] == "-" ? "—" : z[key], prior[key] == "-" ? "—" : prior[key], sec[key] / m
    }
  }'
