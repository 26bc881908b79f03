#!/usr/bin/env bash
# The README's tables from results.jsonl (run.sh's rows), as Markdown.
# Usage: experiments/influence/tables.sh [RESULTS_JSONL]
set -euo pipefail
results=${1:-$(dirname "$0")/results.jsonl}
[[ -f $results ]] || { echo "tables.sh: expected run.sh's results at '$results', found none" >&2; exit 2; }

# row TAG: the result of the row with this tag (null when absent).
row() { jq -c --arg t "$1" 'select(.tag == $t) | .result' "$results" | tail -n 1; }
fmt() { jq -r "$1" <<< "${2:-null}"; }

echo "Leave-one-out (logistic regression, test:0-4, 50 most helpful and 50 most harmful each):"
echo
echo "| model | inverse | H·v products | seconds | worst residual | Pearson | Spearman |"
echo "|---|---|---|---|---|---|---|"
for p in logreg binary; do
  loo=$(row "$p-loo")
  [[ -n $loo ]] || continue
  for m in exact cg lissa; do
    s=$(row "$p-$m")
    r=$(jq -c --arg f "$p-$m.npy" '.results[]? | select(.scores == $f)' <<< "${loo:-null}")
    printf '| %s | %s | %s | %.1f | %.1e | %.4f | %.4f |\n' "$p" "$m" "$(fmt '.products' "$s")" \
      "$(fmt '.seconds' "$s")" "$(fmt '.worst_relative_residual' "$s")" \
      "$(fmt '.pearson' "$r")" "$(fmt '.spearman' "$r")"
  done
done

echo
echo "A CNN against warm-started leave-one-out and the proximal Bregman response (LeNet-5 on"
echo "train:0-4999, test:0-9, the 20 most helpful and 20 most harmful by CG each, λ = 0.1):"
echo
echo "| estimator | seconds to score | LOO Pearson | LOO Spearman | LOO mean per-query Pearson | PBRF Pearson | PBRF Spearman | PBRF mean per-query Pearson |"
echo "|---|---|---|---|---|---|---|---|"
loo=$(row cnn-loo)
pbrf=$(row cnn-pbrf)
for m in cg ekfac kfac arnoldi tracin trak representer grad-dot; do
  s=$(row "cnn-score-$m")
  [[ -n $s ]] || continue
  a=$(jq -c --arg f "cnn-$m.npy" '.results[]? | select(.scores == $f)' <<< "${loo:-null}")
  b=$(jq -c --arg f "cnn-$m.npy" '.results[]? | select(.scores == $f)' <<< "${pbrf:-null}")
  printf '| %s | %.1f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n' "$m" "$(fmt '.seconds' "$s")" \
    "$(fmt '.pearson' "$a")" "$(fmt '.spearman' "$a")" "$(fmt '.mean_query_pearson' "$a")" \
    "$(fmt '.pearson' "$b")" "$(fmt '.spearman' "$b")" "$(fmt '.mean_query_pearson' "$b")"
done

echo
echo "Linear datamodeling score (logistic regression, test:0-499, 50 random halves):"
echo
echo "| estimator | seconds to score | LDS |"
echo "|---|---|---|"
lds=$(row lds)
for m in exact cg lissa arnoldi kfac ekfac diagonal grad-dot grad-cos tracin trak; do
  s=$(row "lds-score-$m")
  [[ -n $s ]] || continue
  r=$(jq -c --arg f "lds-$m.npy" '.results[]? | select(.scores == $f)' <<< "${lds:-null}")
  printf '| %s | %.1f | %.3f |\n' "$m" "$(fmt '.seconds' "$s")" "$(fmt '.lds' "$r")"
done

echo
echo "Linear datamodeling score (MLP 784-128-64-10, test:0-499, 50 random halves retrained from"
echo "scratch by the recipe, 5 seeds each):"
echo
echo "| estimator | seconds to score | LDS |"
echo "|---|---|---|"
lds=$(row lds-mlp)
for m in ekfac kfac arnoldi representer grad-dot tracin trak trak-ensemble; do
  s=$(row "lds-mlp-score-$m")
  [[ -n $s ]] || continue
  r=$(jq -c --arg f "lds-mlp-$m.npy" '.results[]? | select(.scores == $f)' <<< "${lds:-null}")
  printf '| %s | %.1f | %.3f |\n' "$m" "$(fmt '.seconds' "$s")" "$(fmt '.lds' "$r")"
done

echo
echo "Mislabel detection (Fashion-MNIST, 10 % relabeled, self-influence of train:0-9999):"
echo
echo "| model | estimator | seconds | AUC | found at 5 % | 10 % | 20 % |"
echo "|---|---|---|---|---|---|---|"
for net in mlp lenet5; do
  mis=$(row "mislabel-$net")
  for m in grad-dot tracin arnoldi diagonal kfac ekfac; do
    s=$(row "mislabel-$net-score-$m")
    [[ -n $s ]] || continue
    r=$(jq -c --arg f "mislabel-$net-$m.npy" '.results[]? | select(.scores == $f)' <<< "${mis:-null}")
    printf '| %s | %s | %.1f | %.3f | %.2f | %.2f | %.2f |\n' "$net" "$m" "$(fmt '.seconds' "$s")" \
      "$(fmt '.auc' "$r")" "$(fmt '.found_after_inspecting["5%"]' "$r")" \
      "$(fmt '.found_after_inspecting["10%"]' "$r")" "$(fmt '.found_after_inspecting["20%"]' "$r")"
  done
done

echo
echo "Corrupted test labels (LeNet-5 trained 2 epochs on clean MNIST, 20.7 % of test labels replaced):"
echo
echo "| estimator | seconds | AUC | found at 5 % | 10 % | 20 % |"
echo "|---|---|---|---|---|---|"
cor=$(row corrupt)
for m in arnoldi grad-dot; do
  s=$(row "corrupt-score-$m")
  [[ -n $s ]] || continue
  r=$(jq -c --arg f "corrupt-$m.npy" '.results[]? | select(.scores == $f)' <<< "${cor:-null}")
  printf '| %s | %.1f | %.4f | %.2f | %.2f | %.2f |\n' "$m" "$(fmt '.seconds' "$s")" \
    "$(fmt '.auc' "$r")" "$(fmt '.found_after_inspecting["5%"]' "$r")" \
    "$(fmt '.found_after_inspecting["10%"]' "$r")" "$(fmt '.found_after_inspecting["20%"]' "$r")"
done

echo
echo "Speed (LeNet-5, all 60,000 Fashion-MNIST training images, float32, alone on 2 cores):"
echo
echo "| run | seconds | loading | Arnoldi's metric (its products) | gradients | dot products | floor | ratio | peak memory, MB |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in speed-arnoldi-self speed-ekfac; do
  s=$(row "$t")
  printf '| %s | %.1f | %.1f | %s | %.1f | %.1f | %s | %s | %.0f |\n' "$t" "$(fmt '.seconds' "$s")" \
    "$(fmt '.load_seconds' "$s")" \
    "$(fmt 'if .arnoldi_product_seconds then "\(.metric_seconds * 10 | round / 10) (\(.arnoldi_product_seconds * 10 | round / 10))" else "-" end' "$s")" \
    "$(fmt '.gradient_seconds' "$s")" "$(fmt '.dot_seconds' "$s")" \
    "$(fmt 'if .floor_seconds then .floor_seconds * 10 | round / 10 else "-" end' "$s")" \
    "$(fmt 'if .floor_ratio then .floor_ratio * 100 | round / 100 else "-" end' "$s")" \
    "$(fmt '.memory.peak_rss_mb' "$s")"
done
