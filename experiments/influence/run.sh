#!/usr/bin/env bash
# The influence results of experiments/influence/README.md, end to end: trains the checkpoints
# (skipped when present), moves them to the training objective's exact optimum, scores, and
# compares the scores with leave-one-out retraining, printing each command and appending its JSON,
# with the command, to results.jsonl in the output folder (the build tree's
# experiments/influence-out beside the binary, or, with --publish, this folder).
# Usage: experiments/influence/run.sh [--publish] [CURV_BINARY] [PART…]
#   parts: logreg binary cnn lds lds-mlp mislabel corrupt speed (default: all)
# Re-running a part replaces its rows of results.jsonl.
set -euo pipefail
source "$(dirname "$0")/../common/run_args.sh" influence "$@"
source "$(dirname "$0")/../common/run_curv.sh"
all_parts=(logreg binary cnn lds lds-mlp mislabel corrupt speed)
parts=("${all_parts[@]}")
((${#rest[@]})) && parts=("${rest[@]}")

# lissa_scale ARGS…: LiSSA's scale 1.5 × λ_max(H + wd·I), wd = 0.01, for the checkpoint and
# --train-subset in ARGS; λ_max of the Hessian by Lanczos.
lissa_scale() {
  local top
  top=$(cd "$work" && "$curv" spectrum "${@/--train-subset/--examples}" --operator hessian \
    --top 1 --precision float64 | tail -n 1 | jq '.eigenvalues[0]')
  jq -n "1.5 * ($top + 0.01)"
}

# logreg: Koh & Liang's multinomial logistic regression (mlp [784, 10]) on the first 5,000 MNIST
# training images, weight decay 0.01 on the mean loss. SGD brings it near the minimum, Newton's
# method to ‖∇L‖ <= 1e-10; there the exact, CG and LiSSA influence of every training image on
# the loss of test images 0-4 is scored with the Hessian (+ wd), and each test image's 50 most
# helpful and 50 most harmful training images are left out one at a time and the model retrained
# by Newton's method: Pearson and Spearman of the predicted change s/N against the actual one.
# LiSSA's scale is 1.5 × λ_max(H + wd I), λ_max by Lanczos. The SGD run is recorded for TracIn.
logreg() {
  local data=(--data mnist --train-subset train:0-4999)
  if [[ ! -f $work/logreg.safetensors ]]; then
    echo "+ curv train --model mlp (784-10) on train:0-4999 --save logreg.safetensors"
    "$curv" train --model mlp --config '{"widths":[784,10]}' --data mnist --examples 0-4999 \
      --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 0.01 --batch 100 --epochs 30 \
      --seed 0 --log-every 0 --record "$work/logreg-trajectory" --record-every 150 \
      --save "$work/logreg.safetensors" >/dev/null
  fi
  run logreg-optimum influence-eval --optimum --checkpoint logreg.safetensors "${data[@]}" \
    --save logreg-optimum.safetensors
  local at=(--checkpoint logreg-optimum.safetensors "${data[@]}")
  local scale
  scale=$(lissa_scale "${at[@]}")
  local score=(influence "${at[@]}" --operator hessian --queries test:0-4)
  run logreg-exact "${score[@]}" --method exact --exact-limit 8000 --out logreg-exact.npy
  run logreg-cg "${score[@]}" --method cg --tolerance 1e-8 --out logreg-cg.npy
  run logreg-lissa "${score[@]}" --method lissa --lissa-scale "$scale" --lissa-depth 2000 \
    --out logreg-lissa.npy
  run logreg-loo influence-eval --loo "${at[@]}" --queries test:0-4 \
    --scores logreg-exact.npy,logreg-cg.npy,logreg-lissa.npy --top 50 --pairs logreg-loo.csv \
    --plot logreg-loo-exact.png
}

# binary: Koh & Liang's binary logistic regression, MNIST ones against sevens (--classes 1,7:
# ones are class 0 and sevens class 1, a two-way softmax, which is logistic regression on the
# difference of its two weight rows), on the first 5,000 of the 13,007 training ones and sevens,
# weight decay 0.01; otherwise as logreg. The data option is recorded in the checkpoint, so the
# commands below read the same two classes without --data.
binary() {
  if [[ ! -f $work/binary.safetensors ]]; then
    echo "+ curv train --model mlp (784-2) --data mnist --classes 1,7 --save binary.safetensors"
    "$curv" train --model mlp --config '{"widths":[784,2]}' --data mnist --classes 1,7 \
      --examples 0-4999 --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 0.01 --batch 100 \
      --epochs 30 --seed 0 --log-every 0 --save "$work/binary.safetensors" >/dev/null
  fi
  run binary-optimum influence-eval --optimum --checkpoint binary.safetensors \
    --train-subset train:0-4999 --save binary-optimum.safetensors
  local at=(--checkpoint binary-optimum.safetensors --train-subset train:0-4999)
  local scale
  scale=$(lissa_scale "${at[@]}")
  local score=(influence "${at[@]}" --operator hessian --queries test:0-4)
  run binary-exact "${score[@]}" --method exact --out binary-exact.npy
  run binary-cg "${score[@]}" --method cg --tolerance 1e-8 --out binary-cg.npy
  run binary-lissa "${score[@]}" --method lissa --lissa-scale "$scale" --lissa-depth 2000 \
    --out binary-lissa.npy
  run binary-loo influence-eval --loo "${at[@]}" --queries test:0-4 \
    --scores binary-exact.npy,binary-cg.npy,binary-lissa.npy --top 50 --pairs binary-loo.csv \
    --plot binary-loo-exact.png
}

# cnn: Koh & Liang's CNN experiment, with Bae et al.'s ground truth beside leave-one-out. LeNet-5
# trained on the first 5,000 MNIST training images (the lenet5-mnist recipe, 30 epochs; ten
# snapshots recorded for TracIn); queries test:0-9; every estimator at λ = 0.1 (+ wd) on the GGN.
# Each query's 20 most helpful and 20 most harmful training images by the exact damped-GGN
# influence (CG) are taken out one at a time, and every estimator is measured on those pairs
# against (a) warm-started leave-one-out retraining and (b) the example's proximal Bregman
# response at the same λ. Both solve by 500 SGD steps from the checkpoint (lr 0.01, momentum 0.9,
# batch 64, one data order), ending at the mean of the last 250 iterates.
cnn() {
  if [[ ! -f $work/cnn.safetensors ]]; then
    echo "+ curv train --recipe lenet5-mnist --examples 0-4999 --epochs 30 --save cnn.safetensors"
    "$curv" train --recipe lenet5-mnist --examples 0-4999 --epochs 30 --seed 0 --log-every 0 \
      --record "$work/cnn-trajectory" --record-every 117 \
      --save "$work/cnn.safetensors" >/dev/null 2>&1
  fi
  local at=(--checkpoint cnn.safetensors --train-subset train:0-4999 --queries test:0-9)
  local score=(influence "${at[@]}" --precision float32)
  local m files=()
  run cnn-score-cg "${score[@]}" --method cg --operator ggn --damping 0.1 --tolerance 1e-6 \
    --out cnn-cg.npy
  for m in ekfac kfac; do
    run "cnn-score-$m" "${score[@]}" --method "$m" --damping 0.1 --out "cnn-$m.npy"
  done
  run cnn-score-arnoldi "${score[@]}" --method arnoldi --operator ggn --damping 0.1 \
    --arnoldi-iterations 200 --arnoldi-rank 50 --out cnn-arnoldi.npy
  run cnn-score-tracin "${score[@]}" --method tracin --trajectory cnn-trajectory \
    --out cnn-tracin.npy
  run cnn-score-trak "${score[@]}" --method trak --projection-dim 2048 --out cnn-trak.npy
  run cnn-score-representer "${score[@]}" --method representer --damping 1e-3 \
    --out cnn-representer.npy
  run cnn-score-grad-dot "${score[@]}" --method grad-dot --out cnn-grad-dot.npy
  for m in cg ekfac kfac arnoldi tracin trak representer grad-dot; do files+=("cnn-$m.npy"); done
  local solve=(--select-by cnn-cg.npy --top 20 --steps 500 --average-last 250 --retrain-batch 64
               --lr 0.01 --momentum 0.9 --scores "$(IFS=,; echo "${files[*]}")")
  run cnn-loo influence-eval --loo --retrain warm "${at[@]}" "${solve[@]}" --pairs cnn-loo.csv \
    --plot cnn-loo.png
  run cnn-pbrf influence-eval --pbrf --damping 0.1 "${at[@]}" "${solve[@]}" \
    --pairs cnn-pbrf.csv --plot cnn-pbrf.png
}

# lds: dattri's setup on the same model (5,000 training, 500 test images): every estimator's
# scores of test:0-499 at the optimum, and the linear datamodeling score over 50 random halves of
# the training set, each retrained by Newton's method. TracIn sums over the SGD run's snapshots;
# TRAK projects to k = 2048 of the 7,850 dimensions.
lds() {
  [[ -f $work/logreg-optimum.safetensors ]] || logreg
  local at=(--checkpoint logreg-optimum.safetensors --data mnist --train-subset train:0-4999)
  local q=(--queries test:0-499)
  run lds-score-exact influence "${at[@]}" "${q[@]}" --operator hessian --method exact \
    --exact-limit 8000 --out lds-exact.npy
  run lds-score-cg influence "${at[@]}" "${q[@]}" --operator hessian --method cg \
    --tolerance 1e-8 --out lds-cg.npy
  # LiSSA as Koh & Liang run it: each of its 1,000 recursion steps on the next batch of 500.
  local scale
  scale=$(lissa_scale "${at[@]}")
  run lds-score-lissa influence "${at[@]}" "${q[@]}" --operator hessian --method lissa \
    --lissa-scale "$scale" --lissa-depth 1000 --fresh-batches --batch 500 --out lds-lissa.npy
  run lds-score-arnoldi influence "${at[@]}" "${q[@]}" --operator hessian --method arnoldi \
    --arnoldi-iterations 200 --arnoldi-rank 50 --out lds-arnoldi.npy
  local m
  for m in kfac ekfac diagonal grad-dot grad-cos; do
    run "lds-score-$m" influence "${at[@]}" "${q[@]}" --method "$m" --out "lds-$m.npy"
  done
  run lds-score-tracin influence --checkpoint logreg.safetensors --data mnist \
    --train-subset train:0-4999 "${q[@]}" --method tracin --trajectory logreg-trajectory \
    --out lds-tracin.npy
  run lds-score-trak influence "${at[@]}" "${q[@]}" --method trak --projection-dim 2048 \
    --out lds-trak.npy
  local files=()
  for m in exact cg lissa arnoldi kfac ekfac diagonal grad-dot grad-cos tracin trak; do
    files+=("lds-$m.npy")
  done
  run lds influence-eval --lds "${at[@]}" "${q[@]}" --scores "$(IFS=,; echo "${files[*]}")" \
    --subsets 50 --fraction 0.5 --plot lds-exact.png
}

# lds-mlp: dattri's MLP (784-128-64-10, ReLU; dattri adds dropout 0.1, curv's MLP has none) on
# the same 5,000 training images, trained by dattri's recipe (SGD, rate 0.01, momentum 0.9,
# batch 64, 50 epochs, no weight decay) from seeds 0-9. The scores of test:0-499's losses come
# from seed 0's model: K-FAC and EK-FAC (λ = 0.1 × mean eigenvalue), Arnoldi on the GGN (200
# products, 50 pairs), representer points (the last layer refitted with λ = 1e-3: the recipe has
# no weight decay), Grad-Dot, TracIn over its run (a snapshot every 5 epochs) and TRAK at
# k = 2048 — alone, and averaged over the ten models. The ground truth retrains from scratch:
# 50 random halves, each trained by the same recipe 5 times (seeds shared by every half) and
# the query losses averaged.
lds_mlp() {
  local recipe=(--model mlp --config '{"widths":[784,128,64,10]}' --data mnist --examples 0-4999
                --epochs 50 --batch 64 --lr 0.01 --momentum 0.9 --log-every 0 --eval test:all)
  local s ensemble=()
  for s in 0 1 2 3 4 5 6 7 8 9; do
    if [[ ! -f $work/lds-mlp-$s.safetensors ]]; then
      local record=()
      ((s == 0)) && record=(--record "$work/lds-mlp-trajectory" --record-every 390)
      echo "+ curv train ${recipe[*]} --seed $s ${record[*]} --save lds-mlp-$s.safetensors"
      "$curv" train "${recipe[@]}" --seed "$s" "${record[@]}" \
        --save "$work/lds-mlp-$s.safetensors" >/dev/null
    fi
    ((s > 0)) && ensemble+=("lds-mlp-$s.safetensors")
  done
  local at=(--checkpoint lds-mlp-0.safetensors --train-subset train:0-4999 --queries test:0-499
            --precision float32)
  local m files=()
  for m in ekfac kfac grad-dot; do
    run "lds-mlp-score-$m" influence "${at[@]}" --method "$m" --out "lds-mlp-$m.npy"
    files+=("lds-mlp-$m.npy")
  done
  run lds-mlp-score-arnoldi influence "${at[@]}" --method arnoldi --operator ggn \
    --arnoldi-iterations 200 --arnoldi-rank 50 --out lds-mlp-arnoldi.npy
  run lds-mlp-score-representer influence "${at[@]}" --method representer --damping 1e-3 \
    --out lds-mlp-representer.npy
  run lds-mlp-score-tracin influence "${at[@]}" --method tracin \
    --trajectory lds-mlp-trajectory --out lds-mlp-tracin.npy
  run lds-mlp-score-trak influence "${at[@]}" --method trak --projection-dim 2048 \
    --out lds-mlp-trak.npy
  run lds-mlp-score-trak-ensemble influence "${at[@]}" --method trak --projection-dim 2048 \
    --ensemble "$(IFS=,; echo "${ensemble[*]}")" --out lds-mlp-trak-ensemble.npy
  files+=(lds-mlp-arnoldi.npy lds-mlp-representer.npy lds-mlp-tracin.npy lds-mlp-trak.npy
          lds-mlp-trak-ensemble.npy)
  run lds-mlp influence-eval --lds --retrain recipe --retrain-seeds 5 \
    --checkpoint lds-mlp-0.safetensors --train-subset train:0-4999 --queries test:0-499 \
    --scores "$(IFS=,; echo "${files[*]}")" --subsets 50 --fraction 0.5 --plot lds-mlp-ekfac.png
}

# mislabel: 10 % of Fashion-MNIST's 60,000 training labels replaced by another class
# (--label-noise 0.1), the MLP and LeNet-5 trained on all of them (their recipes, 10 epochs, each
# epoch's weights recorded for TracIn), then the self-influence of the first 10,000 training
# examples (about 1,000 of them relabeled) by each estimator, and how well ranking by it finds the
# relabeled ones (AUC; fraction found after inspecting 5, 10, 20 %). Arnoldi takes 200 products,
# each on a fresh batch of 2,560 of all 60,000, and keeps 50 pairs; the diagonal, K-FAC and EK-FAC
# are fitted on the 10,000 scored. K-FAC and EK-FAC rotate every per-example gradient into their
# eigenbases densely, O(d_in² d_out + d_in d_out²) per layer and example, which LeNet-5's small
# layers afford and the MLP's 784 × 256 layer does not (hours for 10,000 examples).
mislabel() {
  local net
  for net in mlp lenet5; do
    if [[ ! -f $work/noisy-$net.safetensors ]]; then
      echo "+ curv train --recipe $net-fashion --label-noise 0.1 --save noisy-$net.safetensors"
      "$curv" train --recipe "$net-fashion" --label-noise 0.1 --epochs 10 --seed 0 --log-every 0 \
        --record "$work/noisy-$net-trajectory" --record-every 469 \
        --save "$work/noisy-$net.safetensors" >/dev/null 2>&1
    fi
    local at=(--checkpoint "noisy-$net.safetensors" --train-subset train:0-9999 --self)
    local methods=(grad-dot tracin arnoldi diagonal) m files=()
    [[ $net == lenet5 ]] && methods+=(kfac ekfac)
    for m in "${methods[@]}"; do
      local extra=()
      case $m in
        tracin) extra=(--trajectory "noisy-$net-trajectory") ;;
        arnoldi) extra=(--examples train:all --batch 2560 --fresh-batches --arnoldi-iterations 200
                        --arnoldi-rank 50) ;;
      esac
      run "mislabel-$net-score-$m" influence "${at[@]}" --method "$m" "${extra[@]}" \
        --out "mislabel-$net-$m.npy"
      files+=("mislabel-$net-$m.npy")
    done
    run "mislabel-$net" influence-eval --mislabel --checkpoint "noisy-$net.safetensors" \
      --train-subset train:0-9999 --scores "$(IFS=,; echo "${files[*]}")" \
      --plot "mislabel-$net.png"
  done
}

# corrupt: jax-influence's tutorial protocol. LeNet-5 trained 2 epochs on clean MNIST (the
# lenet5-mnist recipe shortened), then 20.7 % of the 10,000 test labels replaced by another class
# (--test-label-noise 0.207, a data option, seed 0), and every test image's self-influence under
# the clean model: Arnoldi on the training GGN (200 products, each on a fresh batch of 2,560
# training images; the top 20 pairs), and Grad-Dot beside it.
corrupt() {
  if [[ ! -f $work/corrupt-lenet5.safetensors ]]; then
    echo "+ curv train --recipe lenet5-mnist --epochs 2 --save corrupt-lenet5.safetensors"
    "$curv" train --recipe lenet5-mnist --epochs 2 --seed 0 --log-every 0 \
      --save "$work/corrupt-lenet5.safetensors" >/dev/null 2>&1
  fi
  local at=(--checkpoint corrupt-lenet5.safetensors --train-subset test:all --test-label-noise 0.207)
  run corrupt-score-arnoldi influence "${at[@]}" --self --method arnoldi --examples train:all \
    --batch 2560 --fresh-batches --arnoldi-iterations 200 --arnoldi-rank 20 --precision float32 \
    --out corrupt-arnoldi.npy
  run corrupt-score-grad-dot influence "${at[@]}" --self --method grad-dot --precision float32 \
    --out corrupt-grad-dot.npy
  run corrupt influence-eval --mislabel "${at[@]}" \
    --scores corrupt-arnoldi.npy,corrupt-grad-dot.npy --plot corrupt.png
}

# speed: the two timed targets on LeNet-5 trained on Fashion-MNIST (its recipe): Arnoldi
# self-influence of all 60,000 training images (200 products on fresh batches of 2,560, 50 pairs),
# and EK-FAC influence of 100 test images on all 60,000, the factors fitted on all of them.
# load_seconds, metric_seconds and scoring_seconds split each run into its phases.
speed() {
  if [[ ! -f $work/lenet5-fashion.safetensors ]]; then
    echo "+ curv train --recipe lenet5-fashion --save lenet5-fashion.safetensors"
    "$curv" train --recipe lenet5-fashion --seed 0 --log-every 0 \
      --save "$work/lenet5-fashion.safetensors" >/dev/null 2>&1
  fi
  local at=(--checkpoint lenet5-fashion.safetensors --train-subset train:all --examples train:all)
  run speed-arnoldi-self influence "${at[@]}" --method arnoldi --self --batch 2560 \
    --fresh-batches --arnoldi-iterations 200 --arnoldi-rank 50 --precision float32 \
    --out speed-arnoldi-self.npy
  run speed-ekfac influence "${at[@]}" --method ekfac --queries test:0-99 --precision float32 \
    --out speed-ekfac.npy
}

for part in "${parts[@]}"; do
  case $part in
    logreg) logreg ;;
    binary) binary ;;
    cnn) cnn ;;
    lds) lds ;;
    lds-mlp) lds_mlp ;;
    mislabel) mislabel ;;
    corrupt) corrupt ;;
    speed) speed ;;
    *) echo "run.sh: expected a part among ${all_parts[*]}, found '$part'" >&2; exit 2 ;;
  esac
done
