#!/usr/bin/env bash
# The README's tables from results.jsonl (run.sh's output), as markdown on stdout.
# Usage: experiments/batch-size/tables.sh [RESULTS_JSONL]   (default: beside this script)
set -euo pipefail
results=${1:-$(dirname "$0")/results.jsonl}
[[ -f $results ]] || { echo "tables.sh: expected run.sh's results.jsonl, found none at '$results'" >&2; exit 2; }
command -v jq > /dev/null || { echo "tables.sh: expected jq (Debian package jq), found none" >&2; exit 2; }
rows() { jq -c --arg p "$1" 'select(.tag | startswith($p))' "$results"; }
# A jq definition: the least-squares line through points [{x, y}], as {intercept, slope, r2}.
line_fit='def line_fit:
  length as $n | (map(.x) | add / $n) as $mx | (map(.y) | add / $n) as $my
  | ((map((.x - $mx) * (.y - $my)) | add) / (map((.x - $mx) * (.x - $mx)) | add)) as $c
  | ($my - $c * $mx) as $a
  | {intercept: $a, slope: $c,
     r2: (1 - (map((.y - $a - $c * .x) * (.y - $a - $c * .x)) | add) / (map((.y - $my) * (.y - $my)) | add))};'

# 1. λ_max per batch size: each seed's mean ± standard error, the pooled mean over all draws, the
# linear law fitted to the pooled means (x = 1/B − 1/N) with the seed-0 full-set value.
spectra_table() {  # CKPT OP
  local prefix="spectra/$1/$2/"
  rows "$prefix" | jq -rs "$line_fit"'
    def r2: (. * 100 | round) / 100;
    (map(.result.count) | max) as $N
    | (map(select(.result.lambda_full_measured != null)) | .[0].result.lambda_full_measured) as $full
    | (map(.result.sweep[] | select(.batch < $N)) | group_by(.batch)
       | map({B: .[0].batch, seeds: map("\(.lambda_max_mean | r2) ± \(.lambda_max_se | r2)"),
              pooled: ((map(.values[]) | add) / (map(.values[]) | length))})) as $pts
    | ($pts | map({x: (1 / .B - 1 / $N), y: .pooled}) + (if $full then [{x: 0, y: $full}] else [] end)) as $fit
    | ($fit | line_fit) as $line
    | ($pts | map(.seeds | length) | max) as $k
    | "| B | \([range(0; $k) | "seed \(.)"] | join(" | ")) | pooled mean | 2(1+0.9)/λ |",
      "|---|\("---|" * $k)---|---|",
      ($pts[] | "| \(.B) | \(.seeds | join(" | ")) | \(.pooled | r2) | \(3.8 / .pooled | . * 1000 | round / 1000) |"),
      (if $full then "| full (\($N)) | \($full | r2) |\(" |" * $k) \(3.8 / $full | . * 1000 | round / 1000) |" else empty end),
      "",
      "Linear law on the pooled means\(if $full then " and the full set" else "" end): λ_full = \($line.intercept | r2), c = \($line.slope | r2), R² = \($line.r2 | . * 1000 | round / 1000)."'
  rows "$prefix" | jq -rs 'map(select(.result.spiked_fit != null) | .result) | .[] |
    "Seed \(.seed) alone: linear λ_full = \(.fit.lambda_full * 100 | round / 100), c = \(.fit.c | round), R² = \(.fit.r2 * 1000 | round / 1000); spiked λ = \(.spiked_fit.lambda_full * 100 | round / 100), v = \(.spiked_fit.v | round), R² = \(.spiked_fit.r2 * 1000 | round / 1000)\(if .lambda_full_measured then "; measured λ_full = \(.lambda_full_measured * 100 | round / 100) in \(.seconds | round) s" else "" end)."'
}

echo "### 1. λ_max against the batch size"
for ckpt in lenet5-fashion lenet5-fashion-10pct cifar-cnn-10ep; do
  for op in hessian ggn; do
    [[ -n $(rows "spectra/$ckpt/$op/") ]] || continue
    echo; echo "**$ckpt, $op**"; echo; spectra_table $ckpt $op
  done
done

if [[ -n $(rows "densities/") ]]; then
  echo; echo "### 1b. SLQ densities of the trained Hessian"; echo
  echo "| examples | lowest node | highest node | trace (SLQ) | seconds |"
  echo "|---|---|---|---|---|"
  rows "densities/" | jq -r '.result as $r | "| \(.tag | ltrimstr("densities/")) | \($r.density.min_node * 1000 | round / 1000) | \($r.density.max_node * 100 | round / 100) | \($r.density.trace | round) | \($r.density.seconds | round) |"'
fi

if [[ -n $(rows "predicted/") ]]; then
  echo; echo "### 2a. Predicted largest stable rates at initialization"; echo
  echo "| B | λ_max Hessian | SGD 2(1+0.9)/λ | λ_max D^-1/2 H D^-1/2 | Adam 2(1+0.9)/(0.1 λ) |"
  echo "|---|---|---|---|---|"
  jq -rs '
    (map(select(.tag == "predicted/sgd"))[0].result.sweep) as $s
    | (map(select(.tag == "predicted/adam"))[0].result.sweep) as $a
    | range(0; $s | length) as $i
    | "| \($s[$i].batch) | \($s[$i].lambda_max_mean * 1000 | round / 1000) | \($s[$i].max_stable_lr.heavy_ball * 1000 | round / 1000) | \($a[$i].lambda_max_mean | round) | \($a[$i].max_stable_lr.adam * 10000 | round / 10000) |"' "$results"
  echo
  jq -rs 'map(select(.tag | startswith("predicted/"))) | .[] | "Exponent of the predicted rate in B, \(.tag | ltrimstr("predicted/")): \(.result.lr_exponent * 100 | round / 100)."' "$results"
fi

if [[ -n $(rows "stable/") ]]; then
  echo; echo "### 2b. Largest stable learning rate, 100 steps from initialization"; echo
  echo "| optimizer | B | largest stable lr per seed (bracket) | geometric mean |"
  echo "|---|---|---|---|"
  rows "stable/" | jq -rs '
    group_by([.result.optimizer, .result.batch]) | .[]
    | "| \(.[0].result.optimizer) | \(.[0].result.batch) | \(map("[\(.result.stable), \(.result.unstable))") | join(", ")) | \(map(.result.stable | log) | add / length | exp | . * 10000 | round / 10000) |"'
  echo
  rows "stable/" | jq -rs "$line_fit"'
    group_by(.result.optimizer) | .[]
    | (group_by(.result.batch) | map({x: (.[0].result.batch | log), y: (map(.result.stable | log) | add / length)})) as $p
    | "Log-log slope of the largest stable rate in B, \(.[0].result.optimizer): \($p | line_fit | .slope | . * 100 | round / 100)."'
fi

# accuracy_table PREFIX LANCZOS: per method (the tag's second part), test accuracy per seed, the
# mean, the mean training seconds, and (LANCZOS true) the rate learner's share of them where it
# ran; a run recorded as failed (run_may_fail) shows as "failed" and its error follows the table.
accuracy_table() {
  rows "$1" | jq -rs '
    def mean(f): map(select(.result.failed == null) | f) | if length > 0 then add / length else null end;
    group_by(.tag | split("/")[1]) | .[]
    | "| \(.[0].tag | split("/")[1]) | \(map(if .result.failed then "failed" else .result.test_accuracy * 10000 | round / 100 | tostring end) | join(", ")) | \(mean(.result.test_accuracy) | if . then . * 10000 | round / 100 else "–" end) | \(mean(.result.seconds) | if . then round else "–" end) |"
      + (if $lanczos then " \(mean(.result.curvature_schedule.seconds // 0) | if . then . * 10 | round / 10 else "–" end) |" else "" end)' \
    --argjson lanczos "$2"
  rows "$1" | jq -rs 'map(select(.result.failed)) | if length > 0 then "", (.[] | "\(.tag): \(.result.failed)") else empty end'
}

if [[ -n $(rows "learner/") ]]; then
  echo; echo "### 3. The Lanczos rate learner against tuned SGD and Adam (10 epochs)"; echo
  echo "| method | test accuracy per seed (%) | mean (%) | training s (mean) | Lanczos s (mean) |"
  echo "|---|---|---|---|---|"
  accuracy_table "learner/" true
fi

if [[ -n $(rows "large/") ]]; then
  echo; echo "### 4. Large batches (10 epochs)"; echo
  echo "| method, batch | test accuracy per seed (%) | mean (%) | training s (mean) |"
  echo "|---|---|---|---|"
  accuracy_table "large/" false
fi

if [[ -n $(rows "cifar/") ]]; then
  echo; echo "### 3–4. CIFAR-10 CNN (10 epochs, seed 0)"; echo
  echo "| method, batch | test accuracy (%) | mean (%) | training s | Lanczos s |"
  echo "|---|---|---|---|---|"
  accuracy_table "cifar/" true
fi

# 5. Per start (initialization, 10 % of training) and (lr, B) cell: the smallest stable damping's
# bracket per seed and the geometric mean of the brackets' geometric midpoints. A bracket at an
# end of the searched [1e-4, 100] is only a bound (≤ its upper end, > its lower end): such cells
# are marked and left out of the fits. The fits, in log space: the law λ_min = κ·lr/B (log κ the
# mean of log λ − log(lr/B)) with its R², and λ_min ∝ lr^p·B^q by two-variable least squares.
for start in init 10pct; do
  [[ -n $(rows "damping/$start/") ]] || continue
  echo; echo "### 5. K-FAC's smallest stable damping (100 steps from $start)"; echo
  echo "| lr | B | smallest stable λ per seed (bracket) | geometric mean | λ·B/lr | test accuracy at λ (%) |"
  echo "|---|---|---|---|---|---|"
  rows "damping/$start/" | jq -rs '
    def g: . * 1000 | round / 1000;
    def censored: .result.unstable <= 0.0001 or .result.stable >= 100;
    group_by([.result.lr, .result.batch]) | map({lr: .[0].result.lr, B: .[0].result.batch,
      censored: any(.[]; censored),
      brackets: map(if .result.unstable <= 0.0001 then "≤ \(.result.stable)"
                    elif .result.stable >= 100 then "> \(.result.unstable)"
                    else "(\(.result.unstable), \(.result.stable)]" end),
      lam: (map(.result.unstable * .result.stable | sqrt | log) | add / length | exp),
      acc: map(if .result.test_accuracy then .result.test_accuracy * 1000 | round / 10 else "none stable" end)}) as $c
    | ($c[] | "| \(.lr) | \(.B) | \(.brackets | join(", ")) | \(if .censored then "bound" else .lam | . * 1e4 | round / 1e4 end) | \(if .censored then "–" else .lam * .B / .lr | g end) | \(.acc | map(tostring) | join(", ")) |"),
      "",
      ($c | map(select(.censored | not) | {y: (.lam | log), x: (.lr / .B | log), a: (.lr | log), b: (.B | log)})) as $p
      | ($p | length) as $n | ($p | map(.y) | add / $n) as $my
      | ($p | map((.y - $my) * (.y - $my)) | add) as $sst
      | ($p | map(.y - .x) | add / $n) as $lk
      | ($p | map(.y - .x - $lk | . * .) | add) as $ssr1
      | ($p | map(.a) | add / $n) as $ma | ($p | map(.b) | add / $n) as $mb
      | ($p | map((.a - $ma) * (.a - $ma)) | add) as $saa | ($p | map((.b - $mb) * (.b - $mb)) | add) as $sbb
      | ($p | map((.a - $ma) * (.b - $mb)) | add) as $sab
      | ($p | map((.a - $ma) * (.y - $my)) | add) as $say | ($p | map((.b - $mb) * (.y - $my)) | add) as $sby
      | ($saa * $sbb - $sab * $sab) as $det
      | (($sbb * $say - $sab * $sby) / $det) as $ea | (($saa * $sby - $sab * $say) / $det) as $eb
      | ($p | map(.y - $my - $ea * (.a - $ma) - $eb * (.b - $mb) | . * .) | add) as $ssr2
      | "λ_min = κ·lr/B: κ = \($lk | exp | g), R² = \(1 - $ssr1 / $sst | g) (log space, \($n) cells).",
        "Free fit λ_min ∝ lr^p·B^q: p = \($ea * 100 | round / 100), q = \($eb * 100 | round / 100) (the law: 1 and −1), R² = \(1 - $ssr2 / $sst | g)."'
done
