#!/usr/bin/env bash
# The results of experiments/batch-size/README.md, end to end: trains LeNet-5 on Fashion-MNIST by
# its recipe (recording the weights at 10 % of training; skipped when present), then runs every
# `curv spectrum` and `curv train` line of the tables, printing each command and appending its
# JSON, with the command, to results.jsonl in the output folder (the build tree's
# experiments/batch-size-out beside the binary, or, with --publish, this folder).
# Usage: experiments/batch-size/run.sh [--publish] [CURV_BINARY] [PART…]
#   parts: spectra densities predicted stable learner large damping cifar-train cifar-spectra
#   (default: all)
# Re-running a part replaces its rows of results.jsonl.
set -euo pipefail
source "$(dirname "$0")/../common/run_args.sh" batch-size "$@"
source "$(dirname "$0")/../common/run_curv.sh"
parts=(spectra densities predicted stable learner large damping cifar-train cifar-spectra)
((${#rest[@]})) && parts=("${rest[@]}")

# The trained checkpoint (the recipe: 30 epochs, 14,040 steps) and the weights after 1,404 steps
# (10 %) and at initialization, from the same run's trajectory.
checkpoints() {
  [[ -f $work/lenet5-fashion.safetensors && -f $work/lenet5-fashion-10pct.safetensors ]] && return
  rm -rf "$work/trajectory"
  echo "+ curv train --recipe lenet5-fashion --seed 0 --record trajectory --record-every 1404"
  (cd "$work" && "$curv" train --recipe lenet5-fashion --seed 0 --log-every 0 \
    --record trajectory --record-every 1404 --save lenet5-fashion.safetensors > /dev/null)
  cp "$work/trajectory/step-00001404.safetensors" "$work/lenet5-fashion-10pct.safetensors"
  cp "$work/trajectory/step-00000000.safetensors" "$work/lenet5-fashion-init.safetensors"
}

sizes=16,32,64,128,256,512,1024,2048,4096
fashion=(--data fashion-mnist)

# 1. λ_max of the batch Hessian and GGN against B, trained and at 10 %: seed 0 with the full
# set, seeds 1 and 2 the batch sizes alone (the full matrix is the same matrix).
spectra() {
  checkpoints
  local ckpt op seed
  for ckpt in lenet5-fashion lenet5-fashion-10pct; do
    for op in hessian ggn; do
      run "spectra/$ckpt/$op/seed0" spectrum --checkpoint $ckpt.safetensors "${fashion[@]}" \
        --operator $op --batch-sweep $sizes,full --batches 10 --seed 0 --plot "sweep-$ckpt-$op.png"
      for seed in 1 2; do
        run "spectra/$ckpt/$op/seed$seed" spectrum --checkpoint $ckpt.safetensors "${fashion[@]}" \
          --operator $op --batch-sweep $sizes --batches 10 --seed $seed
      done
    done
  done
}

# 1b. SLQ densities of the trained Hessian on a batch of 128, of 1024 and on 10,000 examples
# (3 probes, 30 Lanczos steps each), on a log axis: the batch's outliers beyond the bulk.
densities() {
  checkpoints
  local examples
  for examples in 0-127 0-1023 0-9999; do
    run "densities/$examples" spectrum --checkpoint lenet5-fashion.safetensors "${fashion[@]}" \
      --operator hessian --density --examples $examples --probes 3 --iterations 30 \
      --plot "density-hessian-$examples.png"
  done
}

# 2a. The largest stable rates the spectrum predicts at initialization, where experiment 2's runs
# start: SGD with heavy-ball momentum 0.9 from the Hessian, Adam (β1 0.9) from its
# preconditioned Hessian.
predicted() {
  checkpoints
  run "predicted/sgd" spectrum --checkpoint lenet5-fashion-init.safetensors "${fashion[@]}" \
    --operator hessian --batch-sweep 32,128,512,2048 --batches 5 --momentum 0.9
  run "predicted/adam" spectrum --checkpoint lenet5-fashion-init.safetensors "${fashion[@]}" \
    --operator hessian --batch-sweep 32,128,512,2048 --batches 5 --momentum 0.9 \
    --preconditioner adam
}

# 2b. The largest learning rate that keeps 100 steps from initialization stable, by bisection on
# log lr (7 halvings of the bracket). Stable: no step loss above 3× the first, nothing
# non-finite, and at least twice chance accuracy (20 %) on 1,000 test images after the 100
# steps — a rate that kills every ReLU at once leaves the loss bounded, at chance, untrained.
stable_trial() {  # OPTIMIZER B SEED LR: exit 0 when stable
  local json
  json=$("$curv" train --model lenet5 "${fashion[@]}" --optimizer "$1" --batch "$2" --seed "$3" \
    --lr "$4" --steps 100 --divergence 3 --eval test:0-999 --log-every 0 2> /dev/null |
    tail -n 1) || return 1
  jq -e '.test_accuracy >= 0.2' <<< "$json" > /dev/null
}
stable() {
  local opt B seed lo hi mid i
  for seed in 0 1 2; do
    for opt in sgd adam; do
      for B in 32 128 512 2048; do
        if [[ $opt == sgd ]]; then lo=0.001 hi=100; else lo=0.00001 hi=10; fi
        for ((i = 0; i < 7; i++)); do
          mid=$(awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.6g", sqrt(a * b) }')
          if stable_trial $opt "$B" $seed "$mid"; then lo=$mid; else hi=$mid; fi
        done
        echo "+ stable $opt B=$B seed=$seed: largest stable lr in [$lo, $hi)"
        record "stable/$opt/B$B/seed$seed" \
          "{\"optimizer\":\"$opt\",\"batch\":$B,\"seed\":$seed,\"stable\":$lo,\"unstable\":$hi,\"steps\":100}" \
          "train --model lenet5 --data fashion-mnist --optimizer $opt --batch $B --seed $seed --lr LR --steps 100 --divergence 3 --eval test:0-999 (test_accuracy >= 0.2)"
      done
    done
  done
}

# 3. The Lanczos rate learner (each measurement setting the peak, or only lowering it) against the
# tuned cosine SGD of the recipe and Adam, 10 epochs.
learner() {
  local seed
  local common=(--model lenet5 "${fashion[@]}" --epochs 10 --weight-decay 0.0001 --log-every 0)
  for seed in 0 1 2; do
    run "learner/sgd-cosine/seed$seed" train "${common[@]}" --optimizer sgd --lr 0.05 \
      --momentum 0.9 --schedule cosine --seed $seed
    run "learner/adam/seed$seed" train "${common[@]}" --optimizer adam --lr 0.001 \
      --schedule cosine --seed $seed
    run "learner/lanczos/seed$seed" train "${common[@]}" --optimizer sgd --schedule curvature \
      --curvature-decay cosine --warmup 468 --seed $seed
    run "learner/lanczos-lowest/seed$seed" train "${common[@]}" --optimizer sgd \
      --schedule curvature --curvature-peak lowest --curvature-decay cosine --warmup 468 --seed $seed
  done
}

# 4. Large batches: B = 128 against 4096 at equal epochs (10), one epoch of warm-up at 4096. SGD
# with its batch-128 rate scaled linearly (0.05 → 1.6), by √32 (0.28) and unscaled; LARS and
# LAMB with their batch-128 defaults (2 and 0.005) scaled by √32 (11.3 and 0.028), and LARS
# unscaled.
large() {
  local seed config
  local common=(--model lenet5 "${fashion[@]}" --epochs 10 --weight-decay 0.0001 --log-every 0
    --schedule cosine)
  local configs=(  # tag|arguments
    "sgd-128|--batch 128 --optimizer sgd --lr 0.05 --momentum 0.9"
    "lars-128|--batch 128 --optimizer lars"
    "lamb-128|--batch 128 --optimizer lamb"
    "sgd-4096|--batch 4096 --optimizer sgd --lr 1.6 --momentum 0.9 --warmup 14"
    "sgd-4096-sqrt|--batch 4096 --optimizer sgd --lr 0.28 --momentum 0.9 --warmup 14"
    "sgd-4096-unscaled|--batch 4096 --optimizer sgd --lr 0.05 --momentum 0.9 --warmup 14"
    "lars-4096|--batch 4096 --optimizer lars --lr 11.3 --warmup 14"
    "lars-4096-unscaled|--batch 4096 --optimizer lars --warmup 14"
    "lamb-4096|--batch 4096 --optimizer lamb --lr 0.028 --warmup 14")
  for seed in 0 1 2; do
    for config in "${configs[@]}"; do
      # shellcheck disable=SC2086  # the arguments split into words on purpose
      run "large/${config%%|*}/seed$seed" train "${common[@]}" ${config#*|} --seed $seed
    done
  done
}

# 5. The smallest damping λ that keeps 100 K-FAC steps stable, at several rates and four batch
# sizes, by bisection on log λ (8 halvings of [1e-4, 100]), from initialization and from the
# weights after 10 % of training (the paper's argument is about the curvature near a minimum,
# which section 2b found initialization is not). The step is K-FAC's bare damped one,
# θ ← θ − lr (A ⊗ G + λI)⁻¹ g with λ fixed, no KL clipping and no momentum, the update the
# paper's λ_min ∝ lr/B is derived for. Stable: no step loss above 3× the first (10× from 10 %),
# nothing non-finite. The largest λ always is (the step tends to lr/λ times the gradient), so
# unlike the rate's bisection no accuracy floor is needed; the test accuracy of the smallest
# stable λ found is recorded.
damping_trial() {  # START B SEED LR DAMPING: exit 0 when stable; the run's JSON on stdout
  local from=() bound=3
  # From 10 % of training the first batch's loss is small and varies between batches of 32 by
  # more than 3× with no step taken at all, so the bound there is 10× (a diverging run passes
  # either at once).
  [[ $1 == 10pct ]] && from=(--init-from "$work/lenet5-fashion-10pct.safetensors") bound=10
  "$curv" train --model lenet5 "${fashion[@]}" "${from[@]}" --optimizer kfac --rescale none \
    --momentum 0 --batch "$2" --seed "$3" --lr "$4" --damping "$5" --steps 100 \
    --divergence $bound --eval test:0-999 --log-every 0 2> /dev/null | tail -n 1
}
damping() {
  checkpoints
  local start lr B seed lo hi mid i json accuracy from bound rates seeds
  for start in init 10pct; do
    from="" bound=3 rates=(0.01 0.03 0.1) seeds=(0 1)
    # From 10 %, to bound the cost (a cell is eight trials of up to 100 K-FAC steps), one seed
    # and the two outer rates.
    [[ $start == 10pct ]] &&
      from=" --init-from lenet5-fashion-10pct.safetensors" bound=10 rates=(0.01 0.1) seeds=(0)
    for seed in "${seeds[@]}"; do
      for lr in "${rates[@]}"; do
        for B in 32 128 512 2048; do
          lo=0.0001 hi=100 accuracy=null
          for ((i = 0; i < 8; i++)); do
            mid=$(awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.6g", sqrt(a * b) }')
            if json=$(damping_trial $start "$B" $seed $lr "$mid"); then
              hi=$mid accuracy=$(jq '.test_accuracy' <<< "$json")
            else
              lo=$mid
            fi
          done
          echo "+ damping from $start, lr=$lr B=$B seed=$seed: smallest stable λ in ($lo, $hi]"
          record "damping/$start/lr$lr/B$B/seed$seed" \
            "{\"start\":\"$start\",\"lr\":$lr,\"batch\":$B,\"seed\":$seed,\"unstable\":$lo,\"stable\":$hi,\"test_accuracy\":$accuracy,\"steps\":100}" \
            "train --model lenet5 --data fashion-mnist$from --optimizer kfac --rescale none --momentum 0 --batch $B --seed $seed --lr $lr --damping LAMBDA --steps 100 --divergence $bound --eval test:0-999"
        done
      done
    done
  done
}

# CIFAR-10 CNN rows of experiments 1, 3 and 4, one seed, 10 epochs of the recipe (lr 0.03,
# momentum 0.9, weight decay 5e-4, augmentation, cosine): its SGD run is the baseline of both
# tables and the checkpoint of experiment 1's sweep. At 4096 one epoch (12 steps) of warm-up;
# SGD's rate scaled linearly (0.96), LAMB's by √32 (0.028), LARS unscaled (2), which did best on
# LeNet-5.
cifar_train() {
  local common=(--model cifar-cnn --data cifar10 --epochs 10 --weight-decay 0.0005 --augment
    --log-every 0 --seed 0)
  local configs=(  # tag|arguments
    "sgd-128|--batch 128 --schedule cosine --optimizer sgd --lr 0.03 --momentum 0.9 --save cifar-cnn-10ep.safetensors"
    "lanczos-128|--batch 128 --optimizer sgd --schedule curvature --curvature-decay cosine --warmup 390"
    "sgd-4096|--batch 4096 --schedule cosine --optimizer sgd --lr 0.96 --momentum 0.9 --warmup 12"
    "lamb-4096|--batch 4096 --schedule cosine --optimizer lamb --lr 0.028 --warmup 12"
    "lars-4096|--batch 4096 --schedule cosine --optimizer lars --warmup 12"
    "lamb-128|--batch 128 --schedule cosine --optimizer lamb"
    "lars-128|--batch 128 --schedule cosine --optimizer lars")
  for config in "${configs[@]}"; do  # a run that diverges is a row of the table, not an error
    # shellcheck disable=SC2086  # the arguments split into words on purpose
    run_may_fail "cifar/${config%%|*}/seed0" train "${common[@]}" ${config#*|}
  done
}

# 1c. λ_max of the CIFAR-10 CNN's batch Hessian after those 10 epochs: B ≤ 1024, 5 batches each,
# drawn from the first 10,000 training images, which are also the reference.
cifar_spectra() {
  [[ -f $work/cifar-cnn-10ep.safetensors ]] ||
    { echo "run.sh: cifar-spectra expected cifar-train's checkpoint, found none in $work" >&2; exit 2; }
  run "spectra/cifar-cnn-10ep/hessian/seed0" spectrum --checkpoint cifar-cnn-10ep.safetensors \
    --data cifar10 --examples 0-9999 --operator hessian --batch-sweep 16,32,64,128,256,512,1024,full \
    --batches 5 --seed 0 --plot sweep-cifar-cnn-10ep-hessian.png
}

for part in "${parts[@]}"; do
  case $part in
    spectra | densities | predicted | stable | learner | large | damping) "$part" ;;
    cifar-train | cifar-spectra) "${part/-/_}" ;;
    *) echo "run.sh: expected parts among ${parts[*]}, found '$part'" >&2; exit 2 ;;
  esac
done
