#!/usr/bin/env bash
# The evidence study's tables from results.jsonl (run.sh part evidence): one row per MLP — the
# naive and linearized (affine model) evidences, then the linearized evidence of the Jacobian
# model and the evidence of the prior fitted during training — and the Spearman rank
# correlations of each evidence with the test NLL it is meant to predict (a model with a higher
# evidence should have a lower NLL, so a perfect ranking is ρ = −1 against NLL; printed as
# ρ(log Z, −NLL) so that +1 is perfect). Evidences are per training example (log Z / N).
# Usage: experiments/laplace/evidence_table.sh [results.jsonl]
set -euo pipefail
file=${1:-$(dirname "$0")/results.jsonl}
field() { { grep -o "\"$1\":[^,}]*" <<<"$2" || true; } | head -n 1 | cut -d: -f2-; }
declare -A jac online
while IFS= read -r line; do
  tag=$(grep -o '"tag":"evidence-[a-z]*/[^"]*"' <<<"$line" | cut -d'"' -f4)
  r=${line#*\"result\":}
  name=${tag#*/mlp}
  case $tag in
    evidence-jacobian/*) jac[$name]="$(field log_marglik "$r") $(field test_nll "$r")" ;;
    evidence-online/*) online[$name]="$(field test_accuracy "$r") $(field test_loss "$r") $(field log_marglik "$r")" ;;
  esac
done < <(grep '"tag":"evidence-' "$file" || true)
rows=()
while IFS= read -r line; do
  tag=$(grep -o '"tag":"evidence/[^"]*"' <<<"$line" | cut -d'"' -f4)
  r=${line#*\"result\":}
  name=${tag#evidence/mlp}
  n=$(field n "$r"); n=${n%.*}
  rows+=("${name%%-*} ${name#*-} $(field parameters "$r") $n $(field map_test_accuracy "$r") \
$(field map_test_nll "$r") $(field log_marglik_naive "$r") $(field log_marglik "$r") \
$(field test_nll "$r") $(field mode_distance "$r") $(field linearized_converged "$r") \
${jac[$name]:-nan nan} ${online[$name]:-nan nan nan}")
done < <(grep '"tag":"evidence/' "$file")
((${#rows[@]})) || { echo "evidence_table.sh: no evidence rows in $file" >&2; exit 1; }
printf '%s\n' "${rows[@]}" | sort -k2,2r -k1,1n | awk '
  {
    w[NR] = $1; norm[NR] = $2; par[NR] = $3; n[NR] = $4; acc[NR] = $5; nll[NR] = $6
    naive[NR] = $7 / $4; lin[NR] = $8 / $4; lap[NR] = $9; dist[NR] = $10; conv[NR] = $11
    jz[NR] = $12 / $4; jnll[NR] = $13; oacc[NR] = $14; onll[NR] = $15; oz[NR] = $16 / $4
    nojac[NR] = $12 == "nan"; noonline[NR] = $14 == "nan"  # rows the run has not reached
  }
  # Spearman ρ between x and y over the rows whose norm matches `which` ("all" for every row)
  # and that `skip` does not mark: Pearson correlation of the ranks (ties get their mean rank).
  function rank(v, idx, m, r,    i, j, less, same) {
    for (i = 1; i <= m; i++) {
      less = 0; same = 0
      for (j = 1; j <= m; j++) { if (v[idx[j]] < v[idx[i]]) less++; else if (v[idx[j]] == v[idx[i]]) same++ }
      r[i] = less + (same + 1) / 2
    }
  }
  function spearman(x, y, which, skip,    idx, m, i, rx, ry, mx, my, sxy, sxx, syy) {
    m = 0
    for (i = 1; i <= NR; i++) if ((which == "all" || norm[i] == which) && !skip[i]) idx[++m] = i
    if (m < 3) return "—"
    rank(x, idx, m, rx); rank(y, idx, m, ry)
    for (i = 1; i <= m; i++) { mx += rx[i] / m; my += ry[i] / m }
    for (i = 1; i <= m; i++) {
      sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) ^ 2; syy += (ry[i] - my) ^ 2
    }
    return sxx * syy > 0 ? sxy / sqrt(sxx * syy) : 0
  }
  function signed(r) { return r == "—" ? r : sprintf("%+.2f", r) }
  END {
    print "| width | norm | weights | MAP test acc | MAP test NLL | naive log Z / N | linearized log Z / N | Laplace test NLL (linearized δ) | ‖θ̂ − θ*‖ | converged |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= NR; i++)
      printf "| %d | %s | %d | %.2f %% | %.4f | %.4f | %.4f | %.4f | %.2f | %s |\n",
        w[i], norm[i], par[i], 100 * acc[i], nll[i], naive[i], lin[i], lap[i], dist[i], conv[i]
    print ""
    print "| width | norm | Jacobian-model log Z / N | Laplace test NLL (its δ) | fitted in training: test acc | test NLL | log Z / N |"
    print "|---|---|---|---|---|---|---|"
    for (i = 1; i <= NR; i++)
      printf "| %d | %s | %.4f | %.4f | %.2f %% | %.4f | %.4f |\n",
        w[i], norm[i], jz[i], jnll[i], 100 * oacc[i], onll[i], oz[i]
    for (i = 1; i <= NR; i++) { neg_nll[i] = -nll[i]; neg_lap[i] = -lap[i]; neg_jnll[i] = -jnll[i]; neg_onll[i] = -onll[i] }
    print ""
    print "| models | ρ(naive log Z, −MAP NLL) | ρ(linearized log Z, −MAP NLL) | ρ(linearized log Z, −Laplace NLL) | ρ(Jacobian-model log Z, −MAP NLL) | ρ(Jacobian-model log Z, −its Laplace NLL) | ρ(log Z fitted in training, −that model'"'"'s NLL) |"
    print "|---|---|---|---|---|---|---|"
    split("none layer all", sets, " ")
    for (s = 1; s <= 3; s++)
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", sets[s] == "none" ? "without norm" : sets[s] == "layer" ? "LayerNorm" : "all 12",
        signed(spearman(naive, neg_nll, sets[s], none)), signed(spearman(lin, neg_nll, sets[s], none)),
        signed(spearman(lin, neg_lap, sets[s], none)), signed(spearman(jz, neg_nll, sets[s], nojac)),
        signed(spearman(jz, neg_jnll, sets[s], nojac)), signed(spearman(oz, neg_onll, sets[s], noonline))
  }'
