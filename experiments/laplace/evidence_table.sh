#!/usr/bin/env bash
# The evidence study's table from results.jsonl (run.sh part evidence): one row per MLP, then the
# Spearman rank correlations of each evidence with the test NLL they are meant to predict (a
# model with a higher evidence should have a lower NLL, so a perfect ranking is ρ = −1 against
# NLL; printed as ρ(log Z, −NLL) so that +1 is perfect).
# Usage: experiments/laplace/evidence_table.sh [results.jsonl]
set -euo pipefail
file=${1:-$(dirname "$0")/results.jsonl}
field() { grep -o "\"$1\":[^,}]*" <<<"$2" | head -n 1 | cut -d: -f2-; }
rows=()
while IFS= read -r line; do
  tag=$(grep -o '"tag":"evidence/[^"]*"' <<<"$line" | cut -d'"' -f4) || continue
  r=${line#*\"result\":}
  name=${tag#evidence/mlp}
  n=$(field n "$r"); n=${n%.*}
  rows+=("${name%%-*} ${name#*-} $(field parameters "$r") $n $(field map_test_accuracy "$r") \
$(field map_test_nll "$r") $(field log_marglik_naive "$r") $(field log_marglik "$r") \
$(field test_nll "$r") $(field mode_distance "$r") $(field linearized_converged "$r")")
done < <(grep '"tag":"evidence/' "$file")
((${#rows[@]})) || { echo "evidence_table.sh: no evidence rows in $file" >&2; exit 1; }
printf '%s\n' "${rows[@]}" | sort -k2,2r -k1,1n | awk '
  BEGIN {
    print "| width | norm | weights | MAP test acc | MAP test NLL | naive log Z / N | linearized log Z / N | Laplace test NLL (linearized δ) | ‖θ̂ − θ*‖ | converged |"
    print "|---|---|---|---|---|---|---|---|---|---|"
  }
  {
    printf "| %d | %s | %d | %.2f %% | %.4f | %.4f | %.4f | %.4f | %.2f | %s |\n",
      $1, $2, $3, 100 * $5, $6, $7 / $4, $8 / $4, $9, $10, $11
    norm[NR] = $2; nll[NR] = $6; naive[NR] = $7; lin[NR] = $8; lap[NR] = $9
  }
  # Spearman ρ between x and y over the rows whose norm matches `which` ("all" for every row):
  # Pearson correlation of the ranks (ties get their mean rank).
  function rank(v, idx, n, r,    i, j, less, same) {
    for (i = 1; i <= n; i++) {
      less = 0; same = 0
      for (j = 1; j <= n; j++) { if (v[idx[j]] < v[idx[i]]) less++; else if (v[idx[j]] == v[idx[i]]) same++ }
      r[i] = less + (same + 1) / 2
    }
  }
  function spearman(x, y, which,    idx, n, i, rx, ry, mx, my, sxy, sxx, syy) {
    n = 0
    for (i = 1; i <= NR; i++) if (which == "all" || norm[i] == which) idx[++n] = i
    rank(x, idx, n, rx); rank(y, idx, n, ry)
    for (i = 1; i <= n; i++) { mx += rx[i] / n; my += ry[i] / n }
    for (i = 1; i <= n; i++) {
      sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) ^ 2; syy += (ry[i] - my) ^ 2
    }
    return sxy / sqrt(sxx * syy)
  }
  END {
    for (i = 1; i <= NR; i++) { neg_nll[i] = -nll[i]; neg_lap[i] = -lap[i] }
    print ""
    print "| models | ρ(naive log Z, −MAP NLL) | ρ(linearized log Z, −MAP NLL) | ρ(linearized log Z, −Laplace NLL) |"
    print "|---|---|---|---|"
    split("none layer all", sets, " ")
    for (s = 1; s <= 3; s++)
      printf "| %s | %+.2f | %+.2f | %+.2f |\n", sets[s] == "none" ? "without norm" : sets[s] == "layer" ? "LayerNorm" : "all 12",
        spearman(naive, neg_nll, sets[s]), spearman(lin, neg_nll, sets[s]), spearman(lin, neg_lap, sets[s])
  }'
