#!/usr/bin/env bash
# curv influence and curv influence-eval end to end on the tiny MLP and .npy data set of
# cli_common.sh: score matrices of the right shape, estimators that must agree agreeing, the
# ground truths' JSON, and bad input giving one line on stderr, a non-zero exit and no file.
# Usage: cli_influence.sh CURV_BINARY
set -uo pipefail
curv=$1
source "$(dirname "$0")/cli_common.sh"
# curv influence: the (queries, train) float32 score matrix; exact and CG agree; bad input.
inf=(influence "${base[@]}" --operator ggn --damping 0.1 --train-subset all --queries 0-1)
check "influence, exact" "$curv" "${inf[@]}" --method exact --out "$scratch/inf_exact.npy"
check "influence, cg" "$curv" "${inf[@]}" --method cg --tolerance 1e-10 --out "$scratch/inf_cg.npy"
[[ $(stat -c %s "$scratch/inf_exact.npy") == $((128 + 2 * 5 * 4)) ]] ||
  { echo "FAIL: influence scores are not float32 [2, 5]"; failed=1; }
paste <(od -A n -v -t f4 -w4 -j 128 "$scratch/inf_exact.npy") <(od -A n -v -t f4 -w4 -j 128 "$scratch/inf_cg.npy") \
  | awk '{ n++; d = $1 - $2; if (d < 0) d = -d; m = $1 < 0 ? -$1 : $1; if (m > big) big = m; if (d > worst) worst = d }
         END { exit !(n == 10 && big > 0 && worst <= 1e-5 * big) }' ||
  { echo "FAIL: influence --method exact and cg disagree"; failed=1; }
grep -qF '"method":"cg"' "$scratch/stdout" && grep -qF '"query_count":2' "$scratch/stdout" &&
  grep -qF '"tolerance":1e-10' "$scratch/stdout" ||
  { echo "FAIL: influence summary: $(cat "$scratch/stdout")"; failed=1; }
# Arnoldi keeping every pair (p = n = P = 51) is the exact inverse on the scores.
check "influence, arnoldi" "$curv" "${inf[@]}" --method arnoldi --arnoldi-iterations 51 --arnoldi-rank 51 --out "$scratch/inf_arnoldi.npy"
paste <(od -A n -v -t f4 -w4 -j 128 "$scratch/inf_exact.npy") <(od -A n -v -t f4 -w4 -j 128 "$scratch/inf_arnoldi.npy") \
  | awk '{ n++; d = $1 - $2; if (d < 0) d = -d; m = $1 < 0 ? -$1 : $1; if (m > big) big = m; if (d > worst) worst = d }
         END { exit !(n == 10 && big > 0 && worst <= 1e-4 * big) }' ||
  { echo "FAIL: influence --method arnoldi with p = P and exact disagree"; failed=1; }
jq -e '.arnoldi_products >= 1 and .arnoldi_product_seconds > 0 and .floor_seconds >= .arnoldi_product_seconds and .floor_ratio >= 1' "$scratch/stdout" >/dev/null || { echo "FAIL: arnoldi summary: $(cat "$scratch/stdout")"; failed=1; }
# LiSSA on fresh batches: with one batch of all five examples it is the plain recursion; with
# batches of two it cycles through three (which, with this data set's identical inputs, share
# one Hessian).
lissa=("${inf[@]}" --method lissa --lissa-scale 20 --lissa-depth 1500)
check "influence, lissa" "$curv" "${lissa[@]}" --out "$scratch/inf_lissa.npy"
check "influence, lissa --fresh-batches (one batch)" "$curv" "${lissa[@]}" --fresh-batches --out "$scratch/inf_lissa1.npy"
cmp -s "$scratch/inf_lissa.npy" "$scratch/inf_lissa1.npy" && jq -e '.fresh_batches == true' "$scratch/stdout" >/dev/null || { echo "FAIL: lissa --fresh-batches over one batch differs from lissa"; failed=1; }
check "influence, lissa --fresh-batches --batch 2" "$curv" "${lissa[@]}" --fresh-batches --batch 2 --out "$scratch/inf_lissa2.npy"
jq -e '.fresh_batches == true and .products == 2 * 1501' "$scratch/stdout" >/dev/null || { echo "FAIL: lissa --fresh-batches --batch 2: $(cat "$scratch/stdout")"; failed=1; }
expect "influence: --fresh-batches is for --method arnoldi and lissa, found --method cg" "${inf[@]}" --method cg --fresh-batches --out "$scratch/never.npy"
# Low-rank query gradients (their truncation is checked in test_influence.cpp; this data set's
# identical inputs make every mapped weight gradient rank one already).
check "influence, exact --query-rank 1" "$curv" "${inf[@]}" --method exact --query-rank 1 --out "$scratch/inf_rank1.npy"
jq -e '.query_rank == 1' "$scratch/stdout" >/dev/null || { echo "FAIL: --query-rank summary: $(cat "$scratch/stdout")"; failed=1; }
expect "influence: --query-rank truncates the mapped query gradients of exact, cg, lissa, arnoldi, kfac, ekfac, diagonal, grad-dot and grad-cos, found --self" influence "${base[@]}" --method exact --self --query-rank 2 --out "$scratch/never.npy"
# Self-influence: one float32 score per training example, s(z, z) >= 0 for a PD metric.
check "influence --self, exact" "$curv" influence "${base[@]}" --damping 0.1 --method exact --self --out "$scratch/inf_self.npy"
[[ $(stat -c %s "$scratch/inf_self.npy") == $((128 + 5 * 4)) ]] &&
  od -A n -v -t f4 -w4 -j 128 "$scratch/inf_self.npy" | awk '{ if ($1 <= 0) bad = 1 } END { exit bad }' ||
  { echo "FAIL: influence --self is not 5 positive float32 scores"; failed=1; }
check "influence, kfac" "$curv" influence "${base[@]}" --method kfac --queries 0-1 --out "$scratch/inf_kfac.npy" --per-layer "$scratch/inf_kfac_layers.npy"
# The per-layer parts: [2 layers, 2 queries, 5 examples], summing to the scores.
[[ $(stat -c %s "$scratch/inf_kfac_layers.npy") == $((128 + 2 * 2 * 5 * 4)) ]] && jq -e '.layers | length == 2' "$scratch/stdout" >/dev/null ||
  { echo "FAIL: kfac --per-layer is not float32 [2, 2, 5]: $(cat "$scratch/stdout")"; failed=1; }
paste <(od -A n -v -t f4 -w4 -j 128 "$scratch/inf_kfac.npy") \
      <(od -A n -v -t f4 -w4 -j 128 "$scratch/inf_kfac_layers.npy" | head -n 10) \
      <(od -A n -v -t f4 -w4 -j 128 "$scratch/inf_kfac_layers.npy" | tail -n 10) \
  | awk '{ n++; d = $1 - $2 - $3; if (d < 0) d = -d; m = $1 < 0 ? -$1 : $1; if (m > big) big = m; if (d > worst) worst = d }
         END { exit !(n == 10 && big > 0 && worst <= 1e-5 * big) }' ||
  { echo "FAIL: kfac's per-layer parts do not sum to its scores"; failed=1; }
grep -qF '"damping_rule":"0.1 × mean eigenvalue"' "$scratch/stdout" || { echo "FAIL: kfac's damping rule: $(cat "$scratch/stdout")"; failed=1; }
check "influence, grad-cos" "$curv" influence "${base[@]}" --method grad-cos --queries 0-1 --out "$scratch/inf_cos.npy"
od -A n -v -t f4 -w4 -j 128 "$scratch/inf_cos.npy" | awk '{ n++; if ($1 > 1.00001 || $1 < -1.00001) bad = 1 } END { exit bad || n != 10 }' ||
  { echo "FAIL: grad-cos scores are not 10 cosines"; failed=1; }
# TracIn over a recorded run: its snapshots after step 0, each with its step's rate.
check "train with a recorded trajectory" "$curv" train --model mlp --config '{"widths":[4,6,3]}' --data "$scratch/x.npy" --labels "$scratch/y.npy" --batch 2 --epochs 2 --lr 0.1 --log-every 0 --eval train:all --record "$scratch/traj" --record-every 2 --save "$scratch/traj.safetensors"
check "influence, tracin" "$curv" influence --checkpoint "$scratch/traj.safetensors" --data "$scratch/x.npy" --labels "$scratch/y.npy" --method tracin --trajectory "$scratch/traj" --queries 0-1 --out "$scratch/inf_tracin.npy"
grep -qF '"checkpoints":[{"lr":0.1,"step":2}' "$scratch/stdout" || { echo "FAIL: tracin summary: $(cat "$scratch/stdout")"; failed=1; }
# TRAK: projected margin gradients; an ensemble of one checkpoint twice is that checkpoint.
trak=(influence "${base[@]}" --method trak --damping 0.1)
check "influence, trak" "$curv" "${trak[@]}" --projection-dim 8 --queries 0-1 --out "$scratch/inf_trak.npy"
jq -e '.projection_dim == 8 and .projection == "rademacher" and .training_sweeps == 1 and .lambda == 0.1 and (.ensemble | length) == 1' "$scratch/stdout" >/dev/null ||
  { echo "FAIL: trak summary: $(cat "$scratch/stdout")"; failed=1; }
check "influence, trak ensemble" "$curv" "${trak[@]}" --projection-dim 8 --queries 0-1 --ensemble "$scratch/mlp.safetensors" --out "$scratch/inf_trak2.npy"
cmp -s "$scratch/inf_trak.npy" "$scratch/inf_trak2.npy" || { echo "FAIL: trak's ensemble of one model twice differs from the model"; failed=1; }
check "influence --self, trak" "$curv" "${trak[@]}" --projection-dim 8 --self --out "$scratch/inf_trak_self.npy"
od -A n -v -t f4 -w4 -j 128 "$scratch/inf_trak_self.npy" | awk '{ n++; if ($1 <= 0) bad = 1 } END { exit bad || n != 5 }' ||
  { echo "FAIL: trak --self is not 5 positive scores"; failed=1; }
# Representer points: the last layer refitted to ∇F = 0 with L2 weight λ = 0.1.
check "influence, representer" "$curv" influence "${base[@]}" --method representer --damping 0.1 --queries 0-1 --out "$scratch/inf_rep.npy"
jq -e '.lambda == 0.1 and .last_layer_fit.gradient_norm <= 1e-10 and .last_layer_fit.newton_steps >= 1' "$scratch/stdout" >/dev/null ||
  { echo "FAIL: representer summary: $(cat "$scratch/stdout")"; failed=1; }
[[ $(stat -c %s "$scratch/inf_rep.npy") == $((128 + 2 * 5 * 4)) ]] || { echo "FAIL: representer scores are not float32 [2, 5]"; failed=1; }
check "influence --self, representer" "$curv" influence "${base[@]}" --method representer --damping 0.1 --self --out "$scratch/inf_rep_self.npy"
od -A n -v -t f4 -w4 -j 128 "$scratch/inf_rep_self.npy" | awk '{ n++; if ($1 <= 0) bad = 1 } END { exit bad || n != 5 }' ||
  { echo "FAIL: representer --self is not 5 positive scores"; failed=1; }
# Queries from .npy files: two rows like the data's with labels 1 and 0 score as --queries 1,0
# (and not as 0,1: the labels are read from the file).
repeat 8 "$half_f4" | npy '<f4' '(2, 4)' "$scratch/qx.npy"
printf '\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' | npy '<i8' '(2,)' "$scratch/qy.npy"
check "influence, grad-dot on 1,0" "$curv" influence "${base[@]}" --method grad-dot --queries 1,0 --out "$scratch/inf_10.npy"
check "influence, grad-dot on 0,1" "$curv" influence "${base[@]}" --method grad-dot --queries 0,1 --out "$scratch/inf_01.npy"
check "influence, --query-inputs" "$curv" influence "${base[@]}" --method grad-dot --query-inputs "$scratch/qx.npy" --query-labels "$scratch/qy.npy" --out "$scratch/inf_file.npy"
cmp -s "$scratch/inf_10.npy" "$scratch/inf_file.npy" && ! cmp -s "$scratch/inf_01.npy" "$scratch/inf_file.npy" ||
  { echo "FAIL: --query-inputs of rows labelled 1, 0 differs from --queries 1,0"; failed=1; }
check "init a smaller model" "$curv" init --model mlp --config '{"widths":[4,3]}' --seed 1 --save "$scratch/small.safetensors"
out=(--out "$scratch/out.npy")
expect "influence: expected --projection-dim >= 1, found 0" "${trak[@]}" --queries 0-1 --projection-dim 0 "${out[@]}"
expect "unknown projection 'dense': expected gaussian, rademacher or sparse" "${trak[@]}" --projection-dim 8 --queries 0-1 --projection dense "${out[@]}"
expect "projection: expected a dimension k in 1..51" "${trak[@]}" --queries 0-1 --projection-dim 60 "${out[@]}"
expect "influence: --ensemble, --projection-dim and --projection are for --method trak, found --method grad-dot" influence "${base[@]}" --method grad-dot --queries 0-1 --ensemble "$scratch/mlp.safetensors" "${out[@]}"
expect "influence: --show draws images: expected --train-subset examples of shape (1 or 3 channels, height, width), found [4]" influence "${base[@]}" --queries 0-1 --method grad-dot --show 2 --show-out "$scratch/show.png" "${out[@]}"
expect "influence: --show needs --show-out FILE.png" influence "${base[@]}" --queries 0-1 --method grad-dot --show 2 "${out[@]}"
expect "influence: --show-out is for --show K, found no --show" influence "${base[@]}" --queries 0-1 --method grad-dot --show-out "$scratch/show.png" "${out[@]}"
expect "influence: --per-layer splits the scores of exact, cg, lissa, arnoldi, kfac, ekfac, diagonal, grad-dot and grad-cos over the layers, found --self" influence "${base[@]}" --method kfac --self --per-layer "$scratch/layers.npy" "${out[@]}"
expect "influence: --query-labels labels --query-inputs, found no --query-inputs" influence "${base[@]}" --method grad-dot --queries 0-1 --query-labels "$scratch/y.npy" "${out[@]}"
expect "influence: --query-inputs gives queries: expected no --self, found it" influence "${base[@]}" --method grad-dot --self --query-inputs "$scratch/x.npy" "${out[@]}"
expect "inf_exact.npy: expected inputs [N,4] for mlp, found [N,5]" influence "${base[@]}" --method grad-dot --query-inputs "$scratch/inf_exact.npy" "${out[@]}"
expect "representer: expected the last-layer fit's λ > 0 (weight decay + --damping), found 0" influence "${base[@]}" --method representer --queries 0-1 "${out[@]}"
expect "raise --damping (k > N leaves it singular)" influence "${base[@]}" --method trak --projection-dim 8 --queries 0-1 "${out[@]}"
expect "influence: --ensemble $scratch/small.safetensors: expected a model of 51 parameters like --checkpoint, found 15" "${trak[@]}" --projection-dim 8 --queries 0-1 --ensemble "$scratch/small.safetensors" "${out[@]}"
expect "influence: expected --operator hessian or ggn, found 'kfac'" influence "${base[@]}" --operator kfac --queries 0-1 "${out[@]}"
expect "influence: --method ekfac sets its own curvature: expected no --operator, found 'ggn'" "${inf[@]}" --method ekfac "${out[@]}"
expect "influence: expected --method among exact, cg, lissa, arnoldi, kfac, ekfac, diagonal, grad-dot, grad-cos, tracin, trak, representer, found 'trek'" "${inf[@]}" --method trek "${out[@]}"
expect "influence: expected --measurement loss or margin, found 'logit:0'" "${inf[@]}" --measurement logit:0 "${out[@]}"
expect "influence: --method lissa needs --lissa-scale" "${inf[@]}" --method lissa "${out[@]}"
expect "influence: expected --weight-decay >= 0, found -1" "${inf[@]}" --weight-decay -1 "${out[@]}"
expect "influence: expected --tolerance > 0, found 0" "${inf[@]}" --tolerance 0 "${out[@]}"
expect "influence: expected --max-iterations >= 1, found 0" "${inf[@]}" --max-iterations 0 "${out[@]}"
expect "influence: expected --lissa-depth >= 1, found 0" "${inf[@]}" --method lissa --lissa-scale 10 --lissa-depth 0 "${out[@]}"
expect "influence: expected 1 <= --arnoldi-rank <= --arnoldi-iterations = 10, found 20" "${inf[@]}" --method arnoldi --arnoldi-iterations 10 --arnoldi-rank 20 "${out[@]}"
expect "influence: expected either --self or --queries, found both" "${inf[@]}" --self "${out[@]}"
expect "influence: expected --queries (an index list) or --self" influence "${base[@]}" "${out[@]}"
expect "influence: --self scores the training loss on both sides" influence "${base[@]}" --self --measurement margin "${out[@]}"
expect "influence: --method tracin needs --trajectory DIR" influence "${base[@]}" --method tracin --queries 0-1 "${out[@]}"
expect "influence: --trajectory is for --method tracin" "${inf[@]}" --trajectory "$scratch/traj" "${out[@]}"
expect "traj0" influence "${base[@]}" --method tracin --trajectory "$scratch/traj0" --queries 0-1 "${out[@]}"
expect "0-9" influence "${base[@]}" --operator ggn --queries 0-9 "${out[@]}"

# curv influence-eval: a linear softmax model (convex with wd > 0) moved to its exact optimum,
# then each chosen example's leave-one-out retraining against the exact scores s/N computed
# there (the top and bottom 2 of 5 for either query: 4 distinct retrainings, shared by the
# exact scores and Grad-Dot's).
lin=(--data "$scratch/x.npy" --labels "$scratch/y.npy" --weight-decay 0.1)
check "init a linear model" "$curv" init --model mlp --config '{"widths":[4,3]}' --seed 4 --save "$scratch/lin.safetensors"
check "influence-eval --optimum" "$curv" influence-eval --optimum --checkpoint "$scratch/lin.safetensors" "${lin[@]}" --save "$scratch/opt.safetensors"
jq -e '.gradient_norm <= 1e-10 and .steps >= 1' "$scratch/stdout" >/dev/null || { echo "FAIL: influence-eval --optimum: $(cat "$scratch/stdout")"; failed=1; }
check "influence at the optimum, exact Hessian" "$curv" influence --checkpoint "$scratch/opt.safetensors" "${lin[@]}" --operator hessian --method exact --queries 0-1 --out "$scratch/lin_scores.npy"
check "influence at the optimum, grad-dot" "$curv" influence --checkpoint "$scratch/opt.safetensors" "${lin[@]}" --method grad-dot --queries 0-1 --out "$scratch/lin_dot.npy"
check "influence-eval --loo, exact and grad-dot scores" "$curv" influence-eval --loo --checkpoint "$scratch/opt.safetensors" "${lin[@]}" --queries 0-1 --scores "$scratch/lin_scores.npy,$scratch/lin_dot.npy" --top 2 --pairs "$scratch/pairs.csv" --plot "$scratch/loo.png"
jq -e '.retrainings == 4 and .worst_gradient_norm <= 1e-10 and (.results | length) == 2 and .results[0].pearson > 0.9' "$scratch/stdout" >/dev/null || { echo "FAIL: influence-eval --loo: $(cat "$scratch/stdout")"; failed=1; }
[[ $(wc -l < "$scratch/pairs.csv") == 17 && -s $scratch/loo.png ]] || { echo "FAIL: --pairs is not a header and 2 × 2 × 4 rows, or no --plot"; failed=1; }
# The linear datamodeling score: retrained on 10 random subsets of 3, ranked like −Σ_{z∈S} s,
# for two score files at once.
ie=(influence-eval --checkpoint "$scratch/opt.safetensors" "${lin[@]}")
check "influence-eval --lds" "$curv" influence-eval --lds --checkpoint "$scratch/opt.safetensors" "${lin[@]}" --queries 0-1 --scores "$scratch/lin_scores.npy,$scratch/lin_dot.npy" --subsets 10 --fraction 0.6 --pairs "$scratch/lds.csv"
jq -e '.subset_size == 3 and (.results | length) == 2 and .results[0].queries_counted == 2 and .results[0].lds > 0.9 and .results[1].scores == "'"$scratch/lin_dot.npy"'"' "$scratch/stdout" >/dev/null || { echo "FAIL: influence-eval --lds: $(cat "$scratch/stdout")"; failed=1; }
[[ $(wc -l < "$scratch/lds.csv") == 41 ]] || { echo "FAIL: --lds --pairs is not a header and 2 × 10 × 2 rows"; failed=1; }
# --retrain recipe: the recorded run's recipe (batch 2, 2 epochs) from scratch on each subset of
# round(0.6 × 5) = 3 examples: 1 full batch per epoch, 2 steps per model, 2 models per subset.
check "influence-eval --lds --retrain recipe" "$curv" influence-eval --lds --retrain recipe --retrain-seeds 2 --checkpoint "$scratch/traj.safetensors" --data "$scratch/x.npy" --labels "$scratch/y.npy" --queries 0-1 --scores "$scratch/inf_tracin.npy" --subsets 4 --fraction 0.6
jq -e '.retrain == "recipe" and .retrain_seeds == 2 and .training_steps == 16 and .subset_size == 3 and .recipe.batch == 2 and (.results | length) == 1' "$scratch/stdout" >/dev/null || { echo "FAIL: influence-eval --lds --retrain recipe: $(cat "$scratch/stdout")"; failed=1; }
expect "influence-eval: --retrain recipe needs the recipe $scratch/opt.safetensors was trained with" "${ie[@]}" --lds --retrain recipe --queries 0-1 --scores "$scratch/lin_scores.npy"
expect "influence-eval: --retrain recipe is for --lds, found --loo" "${ie[@]}" --loo --retrain recipe --queries 0-1 --scores "$scratch/lin_scores.npy"
expect "influence-eval: expected --retrain newton, warm or recipe, found 'sgd'" "${ie[@]}" --lds --retrain sgd --queries 0-1 --scores "$scratch/lin_scores.npy"
expect "influence-eval: expected --retrain-seeds >= 1, found 0" "${ie[@]}" --lds --retrain recipe --retrain-seeds 0 --queries 0-1 --scores "$scratch/lin_scores.npy"
expect "influence-eval: expected one of --optimum, --loo, --pbrf, --lds or --mislabel, found none" "${ie[@]}"
expect "influence-eval: expected one of --optimum, --loo, --pbrf, --lds or --mislabel, found 2" "${ie[@]}" --optimum --loo --save "$scratch/out.npy"
expect "influence-eval: --loo needs --queries and --scores" "${ie[@]}" --loo --queries 0-1
expect "influence-eval: --lds needs --queries and --scores" "${ie[@]}" --lds --scores "$scratch/lin_scores.npy"
expect "influence-eval: expected --fraction in (0, 1), found 1" "${ie[@]}" --lds --queries 0-1 --scores "$scratch/lin_scores.npy" --fraction 1
expect "influence-eval: expected --subsets >= 2, found 1" "${ie[@]}" --lds --queries 0-1 --scores "$scratch/lin_scores.npy" --subsets 1
expect "expected a [1, 5] score matrix for --queries 0 and --train-subset train:all, found shape [2, 5]" "${ie[@]}" --loo --queries 0 --scores "$scratch/lin_scores.npy"
expect "influence-eval: expected 2 × --top <= 5 training examples, found --top 3" "${ie[@]}" --loo --queries 0-1 --scores "$scratch/lin_scores.npy" --top 3
expect "is not at the training objective's minimum" influence-eval --loo --checkpoint "$scratch/lin.safetensors" "${lin[@]}" --queries 0-1 --scores "$scratch/lin_scores.npy" --top 2
expect "influence-eval: expected --measurement loss or margin, found 'predicted'" "${ie[@]}" --loo --queries 0-1 --scores "$scratch/lin_scores.npy" --measurement predicted

# Networks' ground truths from the recorded run's checkpoint: warm-started leave-one-out (a full
# run, then one per removed example, 50 full-batch steps each) and the proximal Bregman response,
# whose solution the exact damped-GGN scores linearize: with full batches and 2,000 steps the two
# agree.
tr=(--checkpoint "$scratch/traj.safetensors" --data "$scratch/x.npy" --labels "$scratch/y.npy" --queries 0-1)
check "influence, exact GGN at the recorded run's end" "$curv" influence "${tr[@]}" --operator ggn --damping 0.1 --method exact --out "$scratch/traj_ggn.npy"
check "influence-eval --loo --retrain warm" "$curv" influence-eval --loo --retrain warm "${tr[@]}" --scores "$scratch/traj_ggn.npy,$scratch/inf_tracin.npy" --select-by "$scratch/traj_ggn.npy" --top 1 --steps 50 --retrain-batch 5 --lr 0.1 --average-last 10
jq -e '.retrain == "warm" and .method == "loo" and .steps == 50 and .average_last == 10 and .training_steps == 50 * (.retrainings + 1) and (.results | length) == 2 and .results[0].mean_query_pearson != null' "$scratch/stdout" >/dev/null || { echo "FAIL: influence-eval --loo --retrain warm: $(cat "$scratch/stdout")"; failed=1; }
check "influence-eval --pbrf" "$curv" influence-eval --pbrf --damping 0.1 "${tr[@]}" --scores "$scratch/traj_ggn.npy" --top 2 --steps 2000 --retrain-batch 5 --lr 0.1 --momentum 0.9 --precision float64 --plot "$scratch/pbrf.png"
jq -e '.method == "pbrf" and .retrain == "pbrf" and .lambda == 0.1 and .training_steps == 2000 * .retrainings and .results[0].pearson > 0.99' "$scratch/stdout" >/dev/null && [[ -s $scratch/pbrf.png ]] || { echo "FAIL: influence-eval --pbrf against the exact GGN: $(cat "$scratch/stdout")"; failed=1; }
wie=(influence-eval "${tr[@]}" --scores "$scratch/traj_ggn.npy" --top 1)
expect "influence-eval: --pbrf solves its own response function, found --retrain warm" "${wie[@]}" --pbrf --retrain warm
expect "influence-eval: --select-by is for --loo and --pbrf" influence-eval --lds "${tr[@]}" --scores "$scratch/traj_ggn.npy" --select-by "$scratch/traj_ggn.npy"
expect "--select-by '$scratch/inf_self.npy': expected a [2, 5] score matrix" "${wie[@]}" --pbrf --select-by "$scratch/inf_self.npy"
expect "influence-eval: expected --steps >= 1, found 0" "${wie[@]}" --pbrf --steps 0
expect "influence-eval: expected --damping >= 0, found -1" "${wie[@]}" --pbrf --damping -1
expect "proximal Bregman response: expected the averaged tail in 0..5 steps, found 6" "${wie[@]}" --pbrf --steps 5 --average-last 6
expect "warm leave-out: expected a batch in 1..5, found 6" "${wie[@]}" --loo --retrain warm --retrain-batch 6
expect "influence-eval: expected --precision among float32, float64, found 'float16'" "${wie[@]}" --pbrf --precision float16

exit $failed
