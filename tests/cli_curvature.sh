#!/usr/bin/env bash
# curv init, curv curvature and curv spectrum end to end on a tiny MLP and a data set given as
# .npy files (written here byte by byte, so the test needs no data and no Python): products run
# and write arrays of the right size, Lanczos and power iteration agree, and bad input — vectors,
# inputs, labels, index lists — gives one line on stderr, a non-zero exit and no output file.
# Usage: cli_curvature.sh CURV_BINARY
set -uo pipefail
curv=$1
source "$(dirname "$0")/cli_common.sh"

for op in hessian ggn ef fisher kfac ekfac diag lowrank blockdiag-ggn; do
  check "$op mv" "$curv" curvature "${model[@]}" --operator $op --damping 0.1 --product mv --vector "$scratch/v.npy" --out "$scratch/$op.npy"
  size=$(stat -c %s "$scratch/$op.npy" 2>/dev/null || echo 0)
  [[ $size == $((128 + P * 8)) ]] || { echo "FAIL: $op.npy has $size bytes, expected $((128 + P * 8))"; failed=1; }
done
check "kfac inverse, factored damping" "$curv" curvature "${model[@]}" --operator kfac --kfac-damping factored --damping 0.1 --product inverse --vector "$scratch/v.npy" --out "$scratch/kinv.npy"
# --damping λ makes every product one with M + λI: (M + 0.1 I)v − Mv = 0.1 v, v all ones.
check "hessian mv, undamped" "$curv" curvature "${model[@]}" --operator hessian --product mv --vector "$scratch/v.npy" --out "$scratch/hessian0.npy"
paste <(od -A n -v -t f8 -w8 -j 128 "$scratch/hessian.npy") <(od -A n -v -t f8 -w8 -j 128 "$scratch/hessian0.npy") \
  | awk -v P=$P '{ n++; d = $1 - $2 - 0.1; if (d < -1e-12 || d > 1e-12) bad++ } END { exit !(n == P && !bad) }' \
  || { echo "FAIL: curvature --damping 0.1 --product mv is not (M + 0.1 I)v"; failed=1; }
check "hessian inverse by CG" "$curv" curvature "${model[@]}" --operator ggn --damping 0.1 --product inverse --solver cg --vector "$scratch/v.npy" --out "$scratch/cg.npy"
repeat 21 "$one_f8" | npy '<f8' "(21,)" "$scratch/v_last.npy"  # fc2: 3×6 weights and 3 biases
check "last-layer subset" "$curv" curvature "${model[@]}" --operator ggn --subset last --vector "$scratch/v_last.npy" --out "$scratch/last.npy"

check "three of the examples (index list 0,2-3)" "$curv" curvature "${base[@]}" --examples 0,2-3 --operator ggn --vector "$scratch/v.npy" --out "$scratch/some.npy"
grep -q '"count":3' "$scratch/stdout" || { echo "FAIL: expected 3 examples in the summary"; failed=1; }
check "all but examples 1 and 3" "$curv" curvature "${base[@]}" --examples "all-but:$scratch/drop.npy" --operator ggn --vector "$scratch/v.npy" --out "$scratch/some.npy"
grep -q '"count":3' "$scratch/stdout" || { echo "FAIL: expected 3 examples left after dropping 2"; failed=1; }
check "spectrum --top 2 --method all" "$curv" spectrum "${model[@]}" --operator ggn --top 2 --method all --iterations 40
diff=$(grep -o '"lanczos_vs_power_relative_difference":[^,}]*' "$scratch/stdout" | cut -d: -f2)
awk -v d="$diff" 'BEGIN { exit !(d != "" && d < 1e-3) }' || { echo "FAIL: Lanczos and power iteration differ by '$diff'"; failed=1; }
check "spectrum --density" "$curv" spectrum "${model[@]}" --operator hessian --density --probes 3 --iterations 20 --grid 50 --out "$scratch/density.csv" --plot "$scratch/density.png"
[[ $(head -1 "$scratch/density.csv") == "eigenvalue,density" && $(wc -l < "$scratch/density.csv") == 51 && -s $scratch/density.png ]] \
  || { echo "FAIL: density.csv is not a 50-row table"; failed=1; }
# The batch-size sweep: the pool is every example without --examples (5 here); each size's mean
# over its draws, the full set drawn once, both laws fitted, the plot written.
check "spectrum --batch-sweep" "$curv" spectrum "${base[@]}" --operator ggn --batch-sweep 1,2,full --batches 3 --plot "$scratch/sweep.png"
last=$(tail -1 "$scratch/stdout")
for field in '"count":5' '"batch":1,"draws":3' '"batch":5,"draws":1' '"fit":{"c":' '"lambda_full_measured":' '"spiked_fit":{'; do
  [[ $last == *"$field"* ]] || { echo "FAIL: batch sweep JSON lacks $field: $last"; failed=1; }
done
[[ $(grep -c '^ *[0-9]' "$scratch/stdout") == 3 && -s $scratch/sweep.png ]] || { echo "FAIL: batch sweep table or plot missing"; failed=1; }
for field in '"seed":0' '"precision":"float64"' '"preconditioner":"none"' '"max_stable_lr":{"heavy_ball":' '"lr_exponent":'; do
  [[ $last == *"$field"* ]] || { echo "FAIL: batch sweep JSON lacks $field: $last"; failed=1; }
done
# Adam's preconditioned matrix: its own rate rule, 2(1 + β₁)/((1 − β₁)λ).
check "spectrum --batch-sweep --preconditioner adam" "$curv" spectrum "${base[@]}" --operator ggn --batch-sweep 1,full --batches 2 --preconditioner adam --momentum 0.5
last=$(tail -1 "$scratch/stdout")
for field in '"preconditioner":"adam"' '"adam_eps":1e-08' '"max_stable_lr":{"adam":'; do
  [[ $last == *"$field"* ]] || { echo "FAIL: Adam batch sweep JSON lacks $field: $last"; failed=1; }
done

# curv gradients: the file has [rows, columns] of the requested kind.
shape_of() { head -c 128 "$1" | tr -d '\0' | grep -o "'shape': ([0-9, ]*)"; }
check "gradients of the loss" "$curv" gradients "${model[@]}" --out "$scratch/g.npy"
[[ $(shape_of "$scratch/g.npy") == "'shape': (5, $P)" ]] || { echo "FAIL: g.npy $(shape_of "$scratch/g.npy")"; failed=1; }
check "jacobian of the last layer, float64" "$curv" gradients "${model[@]}" --measurement jacobian --subset last --precision float64 --out "$scratch/j.npy"
[[ $(shape_of "$scratch/j.npy") == "'shape': (15, 21)" ]] || { echo "FAIL: j.npy $(shape_of "$scratch/j.npy")"; failed=1; }
check "margin projected to 8 by a count sketch" "$curv" gradients "${model[@]}" --measurement margin --project 8 --projection sparse --out "$scratch/m.npy"
[[ $(shape_of "$scratch/m.npy") == "'shape': (5, 8)" ]] || { echo "FAIL: m.npy $(shape_of "$scratch/m.npy")"; failed=1; }

# curv laplace: a full posterior on the tiny model, its prior fitted, scored on the same inputs.
check "laplace, full GGN, prior by the marginal likelihood" "$curv" laplace "${base[@]}" --examples all --eval all --weights all --structure full --precision float64
# The scores are named by the evaluated split: an .npy data set has only "train".
for key in log_marglik prior_precision train_accuracy train_nll train_ece train_brier map_train_nll map_train_ece; do
  grep -q "\"$key\":" "$scratch/stdout" || { echo "FAIL: laplace printed no $key: $(cat "$scratch/stdout")"; failed=1; }
done
check "laplace, reliability diagram" "$curv" laplace "${base[@]}" --examples all --eval all --reliability-out "$scratch/rel.png"
[[ $(head -c 4 "$scratch/rel.png" | od -An -c | tr -d ' ') == '211PNG' ]] || { echo "FAIL: --reliability-out wrote no PNG"; failed=1; }
"$curv" laplace "${base[@]}" --examples all --eval all >/dev/null 2>"$scratch/quiet"
[[ ! -s $scratch/quiet ]] || { echo "FAIL: laplace wrote to stderr off a terminal: $(cat "$scratch/quiet")"; failed=1; }
if command -v script >/dev/null; then  # on a terminal: a bar over the Jacobians' inputs
  script -qec "$(printf '%q ' "$curv" laplace "${base[@]}" --examples all --eval all)" /dev/null >"$scratch/tty" 2>&1
  grep -qF "Jacobians of all 5/5" "$scratch/tty" || { echo "FAIL: laplace on a terminal showed no bar: $(tr '\r' '\n' < "$scratch/tty")"; failed=1; }
fi
grep -q '"eval":"all"' "$scratch/stdout" && grep -q '"seed":0' "$scratch/stdout" ||
  { echo "FAIL: laplace's JSON lacks its recipe: $(cat "$scratch/stdout")"; failed=1; }
check "laplace, K-FAC per-layer prior, Monte-Carlo" "$curv" laplace "${base[@]}" --examples all --eval all --weights all --prior layer --predictive mc --samples 20
check "laplace, low rank (Lanczos) on all weights" "$curv" laplace "${base[@]}" --examples all --eval all --weights all --structure lowrank --rank 4
grep -q '"rank":4' "$scratch/stdout" && grep -q '"lanczos_iterations":' "$scratch/stdout" ||
  { echo "FAIL: laplace lowrank: $(cat "$scratch/stdout")"; failed=1; }
expect "laplace: expected --structure among kron, diag, lowrank, full, found 'block'" laplace "${base[@]}" --structure block
check "laplace, prior by validation NLL" "$curv" laplace "${base[@]}" --examples 0-2 --val 3-4 --eval all --prior-precision val-nll
grep -q '"prior_trials":41' "$scratch/stdout" && grep -q '"val_nll":' "$scratch/stdout" ||
  { echo "FAIL: laplace val-nll: $(cat "$scratch/stdout")"; failed=1; }
check "laplace, weights sampled from the posterior" "$curv" laplace "${base[@]}" --examples all --eval all --weights all --predictive sample --samples 5
grep -q '"predictive":"sample"' "$scratch/stdout" && grep -q '"samples":5' "$scratch/stdout" ||
  { echo "FAIL: laplace --predictive sample: $(cat "$scratch/stdout")"; failed=1; }
expect "laplace: --predictive sample draws weights through a kron, diag or full structure's inverse root: expected one of those, found --structure lowrank" laplace "${base[@]}" --structure lowrank --predictive sample
expect "laplace: --prior-precision val-nll tunes a linearized predictive: expected --predictive probit, mc, bridge or map, found sample" laplace "${base[@]}" --prior-precision val-nll --val 3-4 --predictive sample
expect "laplace: --prior-precision val-nll needs --val LIST" laplace "${base[@]}" --prior-precision val-nll
# The linearized evidence reports both evidences; at every prior the linearized model's mode fits
# at least as well as θ*, so its maximum is not below the naive one. A saved posterior keeps the
# mode, and reloaded gives the same evidence.
check "laplace, prior by the linearized evidence" "$curv" laplace "${base[@]}" --examples all --eval all --weights all --prior layer --prior-precision linearized --precision float64 --save "$scratch/lin.safetensors"
linearized=$(grep -o '"log_marglik":[^,]*' "$scratch/stdout" | cut -d: -f2)
naive=$(grep -o '"log_marglik_naive":[^,]*' "$scratch/stdout" | cut -d: -f2)
[[ -n $linearized && -n $naive ]] && awk -v l="$linearized" -v n="$naive" 'BEGIN { exit !(l >= n) }' &&
  grep -q '"linearized_converged":true' "$scratch/stdout" && grep -q '"evidence":"linearized"' "$scratch/stdout" ||
  { echo "FAIL: laplace --prior-precision linearized: $(cat "$scratch/stdout")"; failed=1; }
check "laplace, the linearized evidence of the Jacobian model" "$curv" laplace "${base[@]}" --examples all --eval all --weights all --prior layer --prior-precision linearized --linearized-model jacobian --precision float64
grep -q '"linearized_model":"jacobian"' "$scratch/stdout" && grep -q '"linearized_converged":true' "$scratch/stdout" ||
  { echo "FAIL: laplace --linearized-model jacobian: $(cat "$scratch/stdout")"; failed=1; }
expect "laplace: --linearized-model is the model of the linearized evidence: expected --prior-precision linearized, found marglik" laplace "${base[@]}" --linearized-model jacobian
check "laplace --load of a linearized posterior" "$curv" laplace "${base[@]}" --eval all --load "$scratch/lin.safetensors" --precision float64
[[ $(grep -o '"log_marglik":[^,]*' "$scratch/stdout" | cut -d: -f2) == "$linearized" ]] ||
  { echo "FAIL: the reloaded posterior's evidence is not the saved one ($linearized): $(cat "$scratch/stdout")"; failed=1; }
# A saved posterior predicts what the fitted one did, without --examples; it belongs to its
# checkpoint: another one's weights are refused, as are options that would fit a posterior.
check "laplace --save" "$curv" laplace "${base[@]}" --examples all --eval all --weights all --save "$scratch/post.safetensors"
saved=$(grep -o '"train_nll":[^,]*' "$scratch/stdout")
check "laplace --load" "$curv" laplace "${base[@]}" --eval all --load "$scratch/post.safetensors"
[[ -n $saved && $(grep -o '"train_nll":[^,]*' "$scratch/stdout") == "$saved" ]] && grep -q '"weights":"all"' "$scratch/stdout" ||
  { echo "FAIL: laplace --load predicted otherwise than the saved run ($saved): $(cat "$scratch/stdout")"; failed=1; }
check "init another" "$curv" init --model mlp --config '{"widths":[4,6,3],"activation":"tanh"}' --seed 4 --save "$scratch/other.safetensors"
expect "$scratch/post.safetensors: expected a posterior of these weights (mlp, 51 parameters, fingerprint" laplace --checkpoint "$scratch/other.safetensors" --data "$scratch/x.npy" --labels "$scratch/y.npy" --eval all --load "$scratch/post.safetensors"
expect "laplace: --load takes the posterior as saved: expected no --structure, found it given" laplace "${base[@]}" --load "$scratch/post.safetensors" --structure diag
expect "expected a posterior saved by --save, found no such file" laplace "${base[@]}" --load "$scratch/none.safetensors"
expect "$scratch/mlp.safetensors: expected a Laplace posterior (metadata 'curv.posterior'), found none" laplace "${base[@]}" --eval all --load "$scratch/mlp.safetensors"
expect "laplace: --rotation-plots draws the scores of --rotations, found none given" laplace "${base[@]}" --rotation-plots "$scratch/rot"
expect "--rotate-test: expected image data (mnist, fashion-mnist or cifar10), found '$scratch/x.npy'" laplace "${base[@]}" --rotate-test 15
expect "laplace: --rotations turn the test split, found --eval all" laplace "${base[@]}" --eval all --rotations 15
expect "laplace: expected --prior-precision marglik, linearized, val-nll or a value > 0, found 'grid'" laplace "${base[@]}" --prior-precision grid
expect "laplace: --predictive glm and --plot-out are for regression (mse) models, found a classifier" laplace "${base[@]}" --predictive glm
# A subnetwork: the 8 weights of largest |θ*|, full covariance; saved and reloaded over them.
check "laplace on a subnetwork" "$curv" laplace "${base[@]}" --examples all --eval all --weights subnet --subnet-size 8 --subnet-by magnitude --structure full --save "$scratch/subnet.safetensors"
grep -q '"weights":"subnet"' "$scratch/stdout" && grep -q '"subnet_weights":{' "$scratch/stdout" && grep -q '"parameters":8,' "$scratch/stdout" ||
  { echo "FAIL: laplace --weights subnet: $(cat "$scratch/stdout")"; failed=1; }
subnet_nll=$(grep -o '"train_nll":[^,]*' "$scratch/stdout")
check "laplace --load of a subnetwork posterior" "$curv" laplace "${base[@]}" --eval all --load "$scratch/subnet.safetensors"
[[ -n $subnet_nll && $(grep -o '"train_nll":[^,]*' "$scratch/stdout") == "$subnet_nll" ]] && grep -q '"weights":"subnet"' "$scratch/stdout" ||
  { echo "FAIL: the reloaded subnetwork predicted otherwise ($subnet_nll): $(cat "$scratch/stdout")"; failed=1; }
expect "laplace: --load takes the posterior as saved: expected no --subnet-by, found it given" laplace "${base[@]}" --load "$scratch/subnet.safetensors" --subnet-by magnitude
expect "laplace: --weights subnet goes with --subnet-size k >= 1, found --weights subnet and --subnet-size 0" laplace "${base[@]}" --weights subnet --structure full
expect "laplace: a subnetwork holds single weights, which Kronecker blocks of whole layers cannot: expected --structure full, diag or lowrank, found kron" laplace "${base[@]}" --weights subnet --subnet-size 4
expect "laplace: expected a subnetwork of 1..51 weights, found 60" laplace "${base[@]}" --eval all --weights subnet --subnet-size 60 --structure full

# Regression: an mse network on the sine task; σ and δ fitted together, a Gaussian predictive
# scored beyond the training range, drawn, saved and reloaded with its σ.
sine=(--checkpoint "$scratch/sine.safetensors")
check "train an mse network on sine" "$curv" train --data sine --model mlp --config '{"widths":[1,8,1],"activation":"tanh","loss":"mse"}' --optimizer adam --lr 1e-2 --batch 150 --epochs 100 --log-every 0 --save "$scratch/sine.safetensors"
check "laplace on a regression model" "$curv" laplace "${sine[@]}" --weights all --structure full --eval wide:all --plot-out "$scratch/sine.png" --save "$scratch/sine-post.safetensors"
for key in wide_nll map_wide_nll wide_rmse wide_std noise_std map_noise_std log_marglik; do
  grep -q "\"$key\":" "$scratch/stdout" || { echo "FAIL: regression laplace printed no $key: $(cat "$scratch/stdout")"; failed=1; }
done
[[ -s $scratch/sine.png ]] || { echo "FAIL: laplace --plot-out wrote no PNG"; failed=1; }
noise=$(grep -o '"noise_std":[^,]*' "$scratch/stdout")
check "laplace --load of a regression posterior" "$curv" laplace "${sine[@]}" --eval wide:all --load "$scratch/sine-post.safetensors"
[[ -n $noise && $(grep -o '"noise_std":[^,]*' "$scratch/stdout") == "$noise" ]] ||
  { echo "FAIL: the reloaded posterior's noise is not the saved one ($noise): $(cat "$scratch/stdout")"; failed=1; }
check "laplace on a regression model, σ given" "$curv" laplace "${sine[@]}" --noise 0.5
grep -q '"noise_std":0.5,' "$scratch/stdout" || { echo "FAIL: laplace --noise 0.5: $(cat "$scratch/stdout")"; failed=1; }
# Online marginal likelihood: fits at the ends of epochs 2 and 4 of 4, their evidence reported.
sine_train=(train --data sine --model mlp --config '{"widths":[1,8,1],"activation":"tanh","loss":"mse"}' --optimizer adam --lr 1e-2 --batch 50 --epochs 4 --log-every 0)
check "train with --marglik" "$curv" "${sine_train[@]}" --marglik --marglik-every 2 --marglik-structure full
grep -q '"fits":2,' "$scratch/stdout" && grep -q '"marglik":{' "$scratch/stdout" && grep -q '"noise_std":' "$scratch/stdout" ||
  { echo "FAIL: train --marglik: $(cat "$scratch/stdout")"; failed=1; }
expect "train: --marglik fits the prior that weight decay would fix: expected no --weight-decay, found 0.001" "${sine_train[@]}" --marglik --weight-decay 1e-3
expect "train: a replay would not refit the --marglik prior: expected no --record with --marglik" "${sine_train[@]}" --marglik --record "$scratch/traj"
expect "marglik: expected a structure among kron, diag, full, found 'lowrank'" "${sine_train[@]}" --marglik --marglik-structure lowrank
expect "laplace: --ood scores a classifier: expected none for the mse model, found it given" laplace "${sine[@]}" --ood mnist
expect "laplace: a regression model's predictive is the linearized Gaussian: expected --predictive glm, found probit" laplace "${sine[@]}" --predictive probit
expect "laplace: expected --noise marglik or a value σ > 0, found '-1'" laplace "${sine[@]}" --noise=-1
expect "laplace: a Gaussian likelihood scales the curvature by 1/σ², which the empirical Fisher (1/σ⁴) does not follow" laplace "${sine[@]}" --curvature ef

# curv ood: a held-out part of the data set scored by every method; the keys a results page reads.
check "ood, every score" "$curv" ood "${base[@]}" --in 0-2 --out 3-4 --score maxprob,entropy,local-ensemble,laplace --eigenvectors 0,2,3 --ensemble-examples all --examples all
for key in maxprob entropy local_ensemble laplace by_eigenvectors map_out_confidence out_confidence; do
  grep -q "\"$key\":" "$scratch/stdout" || { echo "FAIL: ood printed no $key: $(cat "$scratch/stdout")"; failed=1; }
done
grep -q '"m":3' "$scratch/stdout" || { echo "FAIL: ood: no score for m = 3: $(cat "$scratch/stdout")"; failed=1; }
check "ood, Laplace with the prior by validation NLL" "$curv" ood "${base[@]}" --in 0-2 --out 3-4 --score laplace --examples 0-2 --val 3-4 --prior-precision val-nll
grep -qF '"prior_by":"val-nll on 3-4"' "$scratch/stdout" || { echo "FAIL: ood val-nll: $(cat "$scratch/stdout")"; failed=1; }
check "ood, local ensemble on a subsample" "$curv" ood "${base[@]}" --in 0-2 --out 3-4 --score local-ensemble --eigenvectors 1 --ensemble-subsample 3
grep -qF '"examples":"train:all (3 drawn)"' "$scratch/stdout" || { echo "FAIL: ood subsample: $(cat "$scratch/stdout")"; failed=1; }
check "ood, AUROC against m plotted" "$curv" ood "${base[@]}" --in 0-2 --out 3-4 --score maxprob,local-ensemble --eigenvectors 0,1,2 --plot-out "$scratch/ood.png"
[[ -s $scratch/ood.png ]] || { echo "FAIL: ood --plot-out wrote no PNG"; failed=1; }
expect "ood: --plot-out draws the local ensemble's AUROC against m: expected local-ensemble among --score, found 'maxprob'" ood "${base[@]}" --out 3-4 --score maxprob --plot-out "$scratch/none.png"
[[ ! -e $scratch/none.png ]] || { echo "FAIL: ood wrote a plot after refusing"; failed=1; }
expect "ood: expected --score among maxprob, entropy, local-ensemble, laplace, found 'energy'" ood "${base[@]}" --out 3-4 --score maxprob,energy
expect "ood: expected --gradient among predicted, min-class, found 'loss'" ood "${base[@]}" --out 3-4 --gradient loss
expect "local ensemble: expected 0..50 eigenvectors (fewer than the weights), found 5000" ood "${base[@]}" --in 0-2 --out 3-4 --score local-ensemble --eigenvectors 5000 --ensemble-examples all
expect "index list 'test:all': expected a split among train" ood "${base[@]}"
expect "laplace: expected --prior-precision marglik, linearized, val-nll or a value > 0, found '-1'" laplace "${base[@]}" --prior-precision -1

# curv prune: one-shot, the mask saved and restored.
check "prune by magnitude" "$curv" prune "${base[@]}" --examples all --eval all --sparsity 0.5 --save "$scratch/pruned.safetensors"
grep -q '"sparsity":0.5' "$scratch/stdout" || { echo "FAIL: prune: $(cat "$scratch/stdout")"; failed=1; }
check "prune by OBS (M-FAC) with saliency out" "$curv" prune "${base[@]}" --examples all --eval all --method mfac --grads 5 --damping 0.01 --sparsity 0.6 --recomputations 2 --scores-out "$scratch/scores.npy"
[[ $(shape_of "$scratch/scores.npy") == "'shape': ($P,)" ]] || { echo "FAIL: scores.npy $(shape_of "$scratch/scores.npy")"; failed=1; }
check "info on the pruned checkpoint" "$curv" info "$scratch/pruned.safetensors"
grep -q 'fc1.weight_mask' "$scratch/stdout" || { echo "FAIL: no fc1.weight_mask in the pruned checkpoint"; failed=1; }

check "prune by float32 M-FAC" "$curv" prune "${base[@]}" --examples all --eval all --method mfac --float32 --grads 5 --damping 0.01 --sparsity 0.5
grep -q '"float32":true' "$scratch/stdout" || { echo "FAIL: prune --float32: $(cat "$scratch/stdout")"; failed=1; }
expect "pruning: float32 is static M-FAC's (mfac), found 'woodfisher'" prune "${base[@]}" --examples all --eval all --method woodfisher --float32 --sparsity 0.5
check "prune by WoodFisher with one block per layer" "$curv" prune "${base[@]}" --examples all --eval all --method woodfisher --block layer --grads 5 --damping 0.01 --sparsity 0.5
grep -q '"block":"layer"' "$scratch/stdout" || { echo "FAIL: prune --block layer: $(cat "$scratch/stdout")"; failed=1; }
check "prune by K-FAC-OBS with factored damping, π off" "$curv" prune "${base[@]}" --examples all --eval all --method kfac-obs --kfac-damping factored --no-pi --grads 5 --damping 0.01 --sparsity 0.5
grep -q '"kfac_damping":"factored"' "$scratch/stdout" && grep -q '"pi":false' "$scratch/stdout" || { echo "FAIL: prune --kfac-damping factored: $(cat "$scratch/stdout")"; failed=1; }
expect "pruning: factored damping is kfac-obs's, found 'mfac'" prune "${base[@]}" --examples all --eval all --method mfac --kfac-damping factored --sparsity 0.5

# curv train --prune: gradual and AC/DC reach their sparsity; AC/DC saves its dense twin.
tr=(train --model mlp --config '{"widths":[4,6,3]}' --data "$scratch/x.npy" --labels "$scratch/y.npy" --batch 2 --log-every 0 --eval train:all)
check "train with gradual OBS pruning" "$curv" "${tr[@]}" --steps 40 --prune gradual --prune-method mfac --grads 4 --prune-damping 0.01 --sparsity 0.5
grep -q '"sparsity":0.5' "$scratch/stdout" || { echo "FAIL: gradual: $(cat "$scratch/stdout")"; failed=1; }
check "train with AC/DC" "$curv" "${tr[@]}" --steps 40 --prune acdc --sparsity 0.5 --save-dense "$scratch/twin.safetensors" --save "$scratch/sparse.safetensors"
grep -q '"dense_twin_train_accuracy"' "$scratch/stdout" || { echo "FAIL: acdc: $(cat "$scratch/stdout")"; failed=1; }
check "the dense twin has no mask" "$curv" info "$scratch/twin.safetensors"
! grep -q '_mask' "$scratch/stdout" || { echo "FAIL: the dense twin has a mask"; failed=1; }
check "train with AC/DC, momentum restarts, dense finish" "$curv" "${tr[@]}" --steps 40 --prune acdc --sparsity 0.5 --acdc-reset-momentum --acdc-dense-finish --save "$scratch/finished.safetensors"
grep -q '"dense_finish":true' "$scratch/stdout" && grep -q '"reset_momentum":true' "$scratch/stdout" || { echo "FAIL: acdc options: $(cat "$scratch/stdout")"; failed=1; }
check "a dense finish leaves no mask" "$curv" info "$scratch/finished.safetensors"
! grep -q '_mask' "$scratch/stdout" || { echo "FAIL: the dense finish has a mask"; failed=1; }
check "train K-FAC with gradual K-FAC-OBS from its running factors" "$curv" "${tr[@]}" --steps 40 --optimizer kfac --prune gradual --prune-method kfac-obs --prune-factors optimizer --prune-damping 0.01 --sparsity 0.5
grep -q '"sparsity":0.5' "$scratch/stdout" || { echo "FAIL: gradual kfac-obs: $(cat "$scratch/stdout")"; failed=1; }
expect "gradual pruning: an optimizer's factors are for kfac-obs, found 'obd'" "${tr[@]}" --steps 40 --prune gradual --prune-method obd --prune-factors optimizer
expect "--prune: expected gradual or acdc, found 'random'" "${tr[@]}" --steps 40 --prune random
expect "acdc: expected warm-up 4 + two phases of 20 + last phase 6 <= the budget of 40 steps" "${tr[@]}" --steps 40 --prune acdc --acdc-phase 20
expect "--save-dense: expected --prune acdc (the dense twin), found --prune gradual" "${tr[@]}" --steps 40 --prune gradual --save-dense "$scratch/t.safetensors"
expect "--acdc-reset-momentum, --acdc-dense-finish: expected --prune acdc, found --prune gradual" "${tr[@]}" --steps 40 --prune gradual --acdc-dense-finish
expect "--save-dense: with --acdc-dense-finish the trained model is the dense twin; expected --save instead" "${tr[@]}" --steps 40 --prune acdc --acdc-dense-finish --save-dense "$scratch/t.safetensors"
expect "gradual pruning: expected sparsities in [0, 1), found 0 and 1.5" "${tr[@]}" --steps 40 --prune gradual --sparsity 1.5

out=(--out "$scratch/out.npy")
pr=(prune "${base[@]}" --examples all --eval all)
expect "pruning: expected a sparsity in [0, 1), found 1" "${pr[@]}" --sparsity 1
expect "unknown pruning method 'random': expected one of magnitude, obd, obs-dense, woodfisher, mfac" "${pr[@]}" --sparsity 0.5 --method random
expect "--block: expected a positive number of weights or 'layer', found '0'" "${pr[@]}" --sparsity 0.5 --method woodfisher --block 0
expect "pruning: expected at least 1 gradient (m), found 0" "${pr[@]}" --sparsity 0.5 --method mfac --grads 0
expect "pruning: expected a damping λ > 0 for OBS, found 0" "${pr[@]}" --sparsity 0.5 --method obs-dense --damping 0
expect "--save '$scratch/none/p.safetensors': expected an existing directory $scratch/none, found none" "${pr[@]}" --sparsity 0.5 --save "$scratch/none/p.safetensors"
[[ ! -e $scratch/none ]] || { echo "FAIL: prune created $scratch/none"; failed=1; }
expect "unknown measurement 'curvature': expected loss, logit:C, predicted, margin or jacobian" gradients "${model[@]}" --measurement curvature "${out[@]}"
expect "measurement 'logit:3': expected a logit in 0..2 of mlp, found 3" gradients "${model[@]}" --measurement logit:3 "${out[@]}"
expect "projection: expected a dimension k in 1..$P (the gradient's length), found $((P + 1))" gradients "${model[@]}" --project $((P + 1)) "${out[@]}"
expect "expected --project k >= 1 (or 0 for no projection), found -2" gradients "${model[@]}" --project -2 "${out[@]}"
expect "unknown projection 'fourier': expected gaussian, rademacher or sparse" gradients "${model[@]}" --project 4 --projection fourier "${out[@]}"
expect "measurement 'margin': expected examples with labels, found $scratch/x.npy/train without them" \
  gradients --checkpoint "$scratch/mlp.safetensors" --data "$scratch/x.npy" --examples all --measurement margin "${out[@]}"
expect "expected an existing directory $scratch/none, found none" gradients "${model[@]}" --out "$scratch/none/g.npy"

expect "short.npy: expected $P entries per vector (the flat parameter vector of mlp), found $((P - 1))" \
  curvature "${model[@]}" --operator ggn --vector "$scratch/short.npy" "${out[@]}"
expect "nan.npy: expected finite entries, found nan at index $((P - 1))" curvature "${model[@]}" --operator ggn --vector "$scratch/nan.npy" "${out[@]}"
expect "expected --damping >= 0, found -1" curvature "${model[@]}" --operator kfac --damping -1 --vector "$scratch/v.npy" "${out[@]}"
expect "operator 'hessian' has no structured inverse: pass --solver cg" \
  curvature "${model[@]}" --operator hessian --product inverse --vector "$scratch/v.npy" "${out[@]}"
expect "lissa: diverged at step" curvature "${model[@]}" --operator ggn --product inverse --solver lissa --lissa-scale 1e-4 --vector "$scratch/v.npy" "${out[@]}"
expect "unknown --operator 'newton': expected one of hessian" curvature "${model[@]}" --operator newton --vector "$scratch/v.npy" "${out[@]}"
expect "x_bad.npy: expected inputs [N,4] for mlp, found [N,2,2]" \
  curvature --checkpoint "$scratch/mlp.safetensors" --data "$scratch/x_bad.npy" --labels "$scratch/y.npy" --operator ggn --vector "$scratch/v.npy" "${out[@]}"
expect "x.npy: expected class labels [5], found shape [5,4]" \
  curvature --checkpoint "$scratch/mlp.safetensors" --data "$scratch/x.npy" --labels "$scratch/x.npy" --operator ggn --vector "$scratch/v.npy" "${out[@]}"
expect "y_short.npy: expected 5 targets, one per input of $scratch/x.npy, found shape [4]" \
  curvature --checkpoint "$scratch/mlp.safetensors" --data "$scratch/x.npy" --labels "$scratch/y_short.npy" --operator ggn --vector "$scratch/v.npy" "${out[@]}"
expect "index list '0-9': expected indices in 0..4 of split $scratch/x.npy/train, found 9 (item '0-9')" \
  curvature "${base[@]}" --examples 0-9 --operator ggn --vector "$scratch/v.npy" "${out[@]}"
expect "index list '0-x': expected a range N-M of whole numbers (item '0-x')" \
  curvature "${base[@]}" --examples 0-x --operator ggn --vector "$scratch/v.npy" "${out[@]}"
expect "index list 'test:0': expected a split among train of $scratch/x.npy, found 'test'" \
  curvature "${base[@]}" --examples test:0 --operator ggn --vector "$scratch/v.npy" "${out[@]}"
expect "none.npy: expected a readable .npy file, found none" \
  curvature "${base[@]}" --examples "all-but:$scratch/none.npy" --operator ggn --vector "$scratch/v.npy" "${out[@]}"
expect "none.npy: expected a readable .npy file, found none" curvature "${model[@]}" --operator ggn --vector "$scratch/none.npy" "${out[@]}"
expect "lowrank: entry 0 of the damped diagonal is 0, not invertible: expected a damping > 0" \
  curvature "${model[@]}" --operator lowrank --product inverse --vector "$scratch/v.npy" "${out[@]}"
expect "--kfac-damping factored: expected --damping > 0, the λ of (A + π√λI) ⊗ (G + √λ/π I), found 0" curvature "${model[@]}" --operator kfac --kfac-damping factored --vector "$scratch/v.npy" "${out[@]}"
expect "--kfac-damping factored: expected --operator kfac (the only operator built with it), found 'ekfac'" curvature "${model[@]}" --operator ekfac --kfac-damping factored --damping 0.1 --vector "$scratch/v.npy" "${out[@]}"
expect "--no-pi: expected --kfac-damping factored (π splits its λ), found 'eigen'" curvature "${model[@]}" --operator kfac --no-pi --vector "$scratch/v.npy" "${out[@]}"
expect "spectrum: expected no --damping (the eigenvalues are M's; M + λI's are λ higher), found 0.1" spectrum "${model[@]}" --operator ggn --top 1 --damping 0.1
check "spectrum of K-FAC with factored damping" "$curv" spectrum "${model[@]}" --operator kfac --kfac-damping factored --damping 0.1 --top 1
expect "expected exactly one of --top K or --density" spectrum "${model[@]}" --operator ggn
expect "expected --top K >= 1 eigenvalues, found 0" spectrum "${model[@]}" --operator ggn --top 0
expect "--batch-sweep: batch size 9 is larger than the 5 examples (use 'full' for all of them)" spectrum "${base[@]}" --operator ggn --batch-sweep 2,9
expect "--batch-sweep: expected positive batch sizes or 'full', found '0'" spectrum "${base[@]}" --operator ggn --batch-sweep 0,2
expect "--batch-sweep: expected positive batch sizes or 'full', found ''" spectrum "${base[@]}" --operator ggn --batch-sweep 2,,4
expect "--batches: expected at least 1 batch per size, found 0" spectrum "${base[@]}" --operator ggn --batch-sweep 2,4 --batches 0
expect "--batch-sweep finds the largest eigenvalue of each batch: expected none of --top, --density, --out, --vectors-out, --trace with it" spectrum "${base[@]}" --operator ggn --batch-sweep 2 --top 1
expect "--plot belongs to --batch-sweep or --density: expected it, found none" spectrum "${model[@]}" --operator ggn --top 1 --plot "$scratch/p.png"
expect "--preconditioner: expected none or adam, found 'lamb'" spectrum "${base[@]}" --operator ggn --batch-sweep 2,4 --preconditioner lamb
expect "--momentum: expected a value in [0, 1), found 1" spectrum "${base[@]}" --operator ggn --batch-sweep 2,4 --momentum 1
expect "--adam-eps: expected a value > 0, found 0" spectrum "${base[@]}" --operator ggn --batch-sweep 2,4 --preconditioner adam --adam-eps 0
expect "--preconditioner belongs to --batch-sweep: expected it, found none" spectrum "${model[@]}" --operator ggn --top 1 --preconditioner adam
expect "--plot: expected a .png file, found 'p.svg'" spectrum "${base[@]}" --operator ggn --batch-sweep 2,4 --plot p.svg
# Outputs that cannot be written are refused before any work (/proc takes no new files, even
# for root).
expect "--out '/proc/curv-test.npy': expected a writable place, found it cannot be written" \
  curvature "${model[@]}" --operator ggn --vector "$scratch/v.npy" --out /proc/curv-test.npy
expect "--out '/proc/curv-test.npy': expected a writable place, found it cannot be written" \
  spectrum "${model[@]}" --operator ggn --top 1 --out /proc/curv-test.npy
expect "--save '/proc/curv-test.safetensors': expected a writable place, found it cannot be written" \
  prune "${model[@]}" --sparsity 0.5 --save /proc/curv-test.safetensors
# A checkpoint that does not record its data set (curv init's) needs --data.
expect "eval: expected --data, found none ($scratch/mlp.safetensors does not record its data set)" \
  eval --checkpoint "$scratch/mlp.safetensors"
# Exact diagonals and traces. A linear model (one layer, cross-entropy) has H = GGN, so the
# Hessian's diagonal built column by column (M e_i) must give the GGN's structured trace.
check "init a linear model" "$curv" init --model mlp --config '{"widths":[4,3]}' --seed 4 --save "$scratch/linear.safetensors"
lin=(--checkpoint "$scratch/linear.safetensors" --data "$scratch/x.npy" --labels "$scratch/y.npy" --examples all)
check "hessian diagonal, column by column" "$curv" curvature "${lin[@]}" --operator hessian --product diagonal --out "$scratch/hdiag.npy"
h=$(grep -o '"trace":[^,}]*' "$scratch/stdout" | cut -d: -f2)
grep -q '"diagonal":"columns"' "$scratch/stdout" || { echo "FAIL: expected the columns route: $(cat "$scratch/stdout")"; failed=1; }
[[ $(stat -c %s "$scratch/hdiag.npy") == $((128 + 15 * 8)) ]] || { echo "FAIL: expected 15 float64 entries in hdiag.npy"; failed=1; }
check "ggn trace, structured" "$curv" curvature "${lin[@]}" --operator ggn --product trace
g=$(grep -o '"trace":[^,}]*' "$scratch/stdout" | cut -d: -f2)
awk -v h="$h" -v g="$g" 'BEGIN { d = h - g; if (d < 0) d = -d; exit !(g > 0 && d <= 1e-10 * g) }' ||
  { echo "FAIL: Hessian trace $h by columns against the GGN's $g on a linear model"; failed=1; }
echo "ok: linear model: trace of H by columns $h, of the GGN $g"
expect "--product diagonal: expected --out FILE.npy, found none" curvature "${model[@]}" --operator ggn --product diagonal
check "spectrum --vectors-out" "$curv" spectrum "${model[@]}" --operator ggn --top 2 --iterations 40 --vectors-out "$scratch/vectors.npy"
[[ $(stat -c %s "$scratch/vectors.npy") == $((128 + 2 * P * 8)) ]] || { echo "FAIL: expected [2, $P] float64 in vectors.npy"; failed=1; }
# The mean gradient (--mean) is the mean of the per-example gradients' rows.
check "gradients --mean" "$curv" gradients "${model[@]}" --mean --precision float64 --out "$scratch/mean.npy"
check "gradients per example, float64" "$curv" gradients "${model[@]}" --precision float64 --out "$scratch/rows.npy"
od -j 128 -A n -t f8 -v "$scratch/mean.npy" | tr -s ' ' '\n' | grep -v '^$' > "$scratch/mean.txt"
od -j 128 -A n -t f8 -v "$scratch/rows.npy" | tr -s ' ' '\n' | grep -v '^$' > "$scratch/rows.txt"
awk -v P="$P" 'NR == FNR { m[NR - 1] = $1; n = NR; next }
  { s[(FNR - 1) % P] += $1; r = FNR }
  END { if (n != P || r != 5 * P) { print "sizes " n " " r; exit 1 }
        for (i = 0; i < P; i++) { d = s[i] / 5 - m[i]; if (d < 0) d = -d; if (d > 1e-12) { print i, s[i] / 5, m[i]; exit 1 } } }' \
  "$scratch/mean.txt" "$scratch/rows.txt" ||
  { echo "FAIL: the mean gradient is not the mean of the per-example rows"; failed=1; }
# Progress bars are for terminals: off one, stderr stays empty.
"$curv" spectrum "${model[@]}" --operator ggn --top 2 --iterations 40 >/dev/null 2>"$scratch/quiet"
[[ ! -s $scratch/quiet ]] || { echo "FAIL: spectrum wrote to stderr off a terminal: $(cat "$scratch/quiet")"; failed=1; }
"$curv" spectrum "${base[@]}" --operator ggn --batch-sweep 1,full --batches 2 >/dev/null 2>"$scratch/quiet"
[[ ! -s $scratch/quiet ]] || { echo "FAIL: spectrum --batch-sweep wrote to stderr off a terminal: $(cat "$scratch/quiet")"; failed=1; }
"$curv" prune "${base[@]}" --examples all --eval all --method mfac --grads 5 --damping 0.01 --sparsity 0.5 --recomputations 2 >/dev/null 2>"$scratch/quiet"
[[ ! -s $scratch/quiet ]] || { echo "FAIL: prune wrote to stderr off a terminal: $(cat "$scratch/quiet")"; failed=1; }
"$curv" gradients "${model[@]}" --batch 2 --out "$scratch/quiet.npy" >/dev/null 2>"$scratch/quiet"
[[ ! -s $scratch/quiet ]] || { echo "FAIL: gradients wrote to stderr off a terminal: $(cat "$scratch/quiet")"; failed=1; }
# On a terminal (script(1) gives one), prune shows each step's stages and its gradients' bar.
if command -v script >/dev/null; then
  script -qec "$(printf '%q ' "$curv" prune "${base[@]}" --examples all --eval all --method mfac --grads 5 --damping 0.01 --sparsity 0.5 --recomputations 2)" /dev/null >"$scratch/tty" 2>&1
  for stage in "step 1/2: per-example gradients 5/5" "prune: step 2/2: inverting F" "prune: evaluating the pruned model"; do
    grep -qF -- "$stage" "$scratch/tty" || { echo "FAIL: prune on a terminal did not show '$stage': $(tr '\r' '\n' < "$scratch/tty")"; failed=1; }
  done
  script -qec "$(printf '%q ' "$curv" gradients "${model[@]}" --batch 2 --out "$scratch/tty.npy")" /dev/null >"$scratch/tty" 2>&1
  grep -qF "examples 4/5" "$scratch/tty" || { echo "FAIL: gradients on a terminal showed no bar: $(tr '\r' '\n' < "$scratch/tty")"; failed=1; }
fi
# Unconverged Ritz values are an error, not results.
expect "lanczos converged 0 of 3 eigenpairs in 3 products (residual <= 1e-08 x the largest |eigenvalue|): raise --iterations (now 2) or loosen --tolerance" \
  spectrum "${model[@]}" --operator hessian --top 3 --iterations 2 --out "$scratch/out.npy"

exit $failed
