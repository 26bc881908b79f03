#!/usr/bin/env bash
# The Laplace and OOD results of experiments/laplace/README.md, end to end: trains the
# checkpoints (documented recipes; skipped when present), then runs every `curv laplace` and
# `curv ood` line of the tables, printing each command and appending its JSON, with the
# command, to results.jsonl in the output folder (the build tree's experiments/laplace-out
# beside the binary, or, with --publish, this folder).
# Usage: experiments/laplace/run.sh [--publish] [CURV_BINARY] [PART…]
#   parts: calibration samples valnll rotated ood heldout cifar evidence regression online
#   (default: all)
# Re-running a part replaces its rows of results.jsonl.
set -euo pipefail
source "$(dirname "$0")/../common/run_args.sh" laplace "$@"
source "$(dirname "$0")/../common/run_curv.sh"
parts=(calibration samples valnll rotated ood heldout cifar evidence regression online)
((${#rest[@]})) && parts=("${rest[@]}")

# checkpoint NAME ARGS…: curv train ARGS… --save $work/NAME.safetensors, unless it exists.
checkpoint() {
  local name=$1; shift
  [[ -f $work/$name.safetensors ]] && return
  echo "+ curv train $* --save $name.safetensors"
  "$curv" train "$@" --log-every 0 --save "$work/$name.safetensors" >/dev/null
}
# The two LeNet-5 checkpoints most parts score.
lenets() {
  checkpoint lenet5-fashion --recipe lenet5-fashion --seed 0
  checkpoint lenet5-mnist --recipe lenet5-mnist --seed 0
}

# evidence: MLPs of every width, with and without LayerNorm, on the first 2,000 Fashion-MNIST
# training images (Adam, weight decay 1e-4, 30 epochs), then one Laplace fit each: the naive and
# the linearized evidence of a Kronecker posterior over the linear layers with a prior per layer,
# and the test NLL both are meant to predict — the linearized evidence once of the affine model
# f(θ*) + J(θ − θ*) and once of the Jacobian model J θ. Then each architecture trained again with
# its prior fitted during training (--marglik, no weight decay): the last fit's evidence against
# that model's own test NLL. Spearman correlations are in the README's table (evidence_table.sh).
# EVIDENCE_MODELS ("affine jacobian online") and EVIDENCE_NORMS ("none layer") restrict a rerun.
evidence() {
  local w norm name
  for norm in ${EVIDENCE_NORMS:-none layer}; do
    for w in 16 32 64 128 256 512; do
      name=mlp$w-$norm
      local mlp=(--model mlp --config "{\"widths\":[784,$w,$w,10],\"norm\":\"$norm\"}"
        --data fashion-mnist --examples 0-1999 --optimizer adam --lr 1e-3 --epochs 30 --seed 0)
      checkpoint "$name" "${mlp[@]}" --weight-decay 1e-4
      for model in affine jacobian; do
        [[ -n ${EVIDENCE_MODELS:-} && " $EVIDENCE_MODELS " != *" $model "* ]] && continue
        local tag="evidence/$name"; [[ $model == jacobian ]] && tag="evidence-jacobian/$name"
        run "$tag" laplace --checkpoint "$name.safetensors" --examples 0-1999 \
          --weights fc1,fc2,fc3 --prior layer --prior-precision linearized --linearized-model $model
      done
      [[ -n ${EVIDENCE_MODELS:-} && " $EVIDENCE_MODELS " != *" online "* ]] && continue
      run "evidence-online/$name" train "${mlp[@]}" --log-every 0 --marglik --marglik-every 5 \
        --marglik-burnin 5 --marglik-weights fc1,fc2,fc3
    done
  done
}

# regression: Laplace Redux's toy problem — an MLP 1-50-1 (tanh) fitted to the 150 points of the
# sine task by full-batch Adam (lr 1e-2, 1,000 epochs), then the noise σ and the prior precision
# fitted together by the marginal likelihood for each structure on all weights (and the last
# layer's Kronecker one), scored inside the training range (test) and beyond it (wide).
regression() {
  local s
  checkpoint sine-mlp --data sine --model mlp \
    --config '{"widths":[1,50,1],"activation":"tanh","loss":"mse"}' --optimizer adam --lr 1e-2 \
    --batch 150 --epochs 1000 --seed 0
  for s in full kron diag; do
    run "regression/$s-all/test" laplace --checkpoint sine-mlp.safetensors --weights all --structure $s
    run "regression/$s-all/wide" laplace --checkpoint sine-mlp.safetensors --weights all --structure $s \
      --eval wide:all --plot-out "regression-$s.png"
  done
  run regression/kron-last/test laplace --checkpoint sine-mlp.safetensors
  run regression/kron-last/wide laplace --checkpoint sine-mlp.safetensors --eval wide:all \
    --plot-out regression-kron-last.png
  # Subnetworks (Daxberger et al. 2021): full covariance over k of the 151 weights, the rest at
  # θ*, chosen by the largest |θ*| or the largest diagonal-Laplace variance.
  local k by
  for by in magnitude variance; do
    for k in 10 30 50; do
      run "regression/subnet-$by-$k/test" laplace --checkpoint sine-mlp.safetensors --weights subnet \
        --subnet-size $k --subnet-by $by --structure full
      run "regression/subnet-$by-$k/wide" laplace --checkpoint sine-mlp.safetensors --weights subnet \
        --subnet-size $k --subnet-by $by --structure full --eval wide:all
    done
  done
  run regression/subnet-magnitude-50/wide laplace --checkpoint sine-mlp.safetensors --weights subnet \
    --subnet-size 50 --subnet-by magnitude --structure full --eval wide:all \
    --plot-out regression-subnet-magnitude-50.png
}

# online: the prior chosen during training by the marginal likelihood (curv train --marglik,
# Immer et al. 2021) against a grid of weight decays, MLP 784-256-256-10 on the first 5,000
# Fashion-MNIST training images (Adam, lr 1e-3, 50 epochs), three seeds; online_table.sh
# averages them.
online() {
  local seed wd mlp=(--model mlp --config '{"widths":[784,256,256,10]}' --data fashion-mnist
    --examples 0-4999 --optimizer adam --lr 1e-3 --epochs 50 --batch 128 --log-every 0)
  for seed in 0 1 2; do
    for wd in 0 1e-4 3e-4 1e-3 3e-3 1e-2 3e-2; do
      run "online/wd-$wd/$seed" train "${mlp[@]}" --seed $seed --weight-decay $wd
    done
    run "online/marglik-layer/$seed" train "${mlp[@]}" --seed $seed --marglik --marglik-every 5 \
      --marglik-burnin 10
    run "online/marglik-scalar/$seed" train "${mlp[@]}" --seed $seed --marglik --marglik-every 5 \
      --marglik-burnin 10 --marglik-prior scalar
  done
}

for part in "${parts[@]}"; do
  case $part in
    calibration)
      lenets
      for d in fashion mnist; do
        ood=mnist; [[ $d == mnist ]] && ood=fashion-mnist
        run "calibration/$d/kron-last" laplace --checkpoint "lenet5-$d.safetensors" --ood $ood \
          --reliability-out "reliability-$d.png"
        run "calibration/$d/diag-last" laplace --checkpoint "lenet5-$d.safetensors" --structure diag --ood $ood
        run "calibration/$d/kron-all" laplace --checkpoint "lenet5-$d.safetensors" --weights all --prior layer --ood $ood
        # The same last-layer posterior, its GLM predictive integrated by 1,000 logit draws
        # instead of the probit approximation; and all-weights posteriors under priors 10× and
        # 100× the weight-decay prior N·wd, stronger than the marginal likelihood's.
        run "calibration/$d/kron-last-mc" laplace --checkpoint "lenet5-$d.safetensors" --ood $ood \
          --predictive mc --mc-samples 1000
        nwd=6; [[ $d == mnist ]] && nwd=30  # N·wd: 60,000 images × the recipe's 1e-4 or 5e-4
        for k in 10 100; do
          run "calibration/$d/kron-all-prior-$k" laplace --checkpoint "lenet5-$d.safetensors" \
            --weights all --prior-precision $((k * nwd)) --ood $ood
        done
      done ;;
    samples)
      lenets
      # The last-layer posterior again, predicting by 30 weight draws instead of linearizing.
      for d in fashion mnist; do
        ood=mnist; [[ $d == mnist ]] && ood=fashion-mnist
        run "calibration/$d/kron-last-sample" laplace --checkpoint "lenet5-$d.safetensors" \
          --predictive sample --samples 30 --ood $ood
      done ;;
    valnll)
      # The prior by validation NLL against the marginal likelihood, on a model trained without
      # the 6,000 validation images (the recipe with --validation 0.1).
      checkpoint lenet5-fashion-val --recipe lenet5-fashion --seed 0 --validation 0.1
      run valnll/fashion/marglik laplace --checkpoint lenet5-fashion-val.safetensors
      run valnll/fashion/val-nll laplace --checkpoint lenet5-fashion-val.safetensors \
        --prior-precision val-nll --val val:all ;;
    rotated)
      lenets
      # Rotated MNIST (Ovadia et al.'s shift): one posterior per row, scored at 0°..180°.
      angles=0,15,30,45,60,75,90,105,120,135,150,165,180
      run rotated/kron-last laplace --checkpoint lenet5-mnist.safetensors --rotations $angles \
        --rotation-plots rotated-mnist-last
      run rotated/kron-all laplace --checkpoint lenet5-mnist.safetensors --weights all --prior layer \
        --rotations $angles --rotation-plots rotated-mnist-all ;;
    cifar)
      checkpoint cifar-cnn --recipe cifar-cnn --seed 0
      run calibration/cifar10/kron-last laplace --checkpoint cifar-cnn.safetensors --reliability-out reliability-cifar10.png
      run calibration/cifar10/diag-last laplace --checkpoint cifar-cnn.safetensors --structure diag
      run calibration/cifar10/kron-all laplace --checkpoint cifar-cnn.safetensors --weights all --prior layer ;;
    ood)
      lenets
      run ood/fashion-vs-mnist ood --checkpoint lenet5-fashion.safetensors --ood mnist \
        --score maxprob,entropy,local-ensemble,laplace --plot-out ood-fashion-vs-mnist.png
      run ood/mnist-vs-fashion ood --checkpoint lenet5-mnist.safetensors --ood fashion-mnist \
        --score maxprob,entropy,local-ensemble,laplace --plot-out ood-mnist-vs-fashion.png ;;
    heldout)
      # Madras et al.'s protocol: MNIST without class K; its test images of K are the OOD ones.
      # Every curvature is measured on the examples the model was trained on.
      for k in 0 5 9; do
        checkpoint "lenet5-mnist-no$k" --recipe lenet5-mnist --seed 0 --examples "all-but:class:$k"
        run "heldout/$k" ood --checkpoint "lenet5-mnist-no$k.safetensors" --in "test:all-but:class:$k" \
          --out "test:class:$k" --score maxprob,entropy,local-ensemble,laplace \
          --examples "all-but:class:$k" --ensemble-examples "all-but:class:$k" \
          --plot-out "heldout-$k.png"
      done ;;
    evidence) evidence ;;
    regression) regression ;;
    online) online ;;
    *) echo "run.sh: expected a part among calibration, samples, valnll, rotated, ood, heldout, cifar, evidence, regression, online, found '$part'" >&2; exit 2 ;;
  esac
done
