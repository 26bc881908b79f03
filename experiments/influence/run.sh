#!/usr/bin/env bash
# The influence results of experiments/influence/README.md, end to end: trains the checkpoints
# (skipped when present), moves them to the training objective's exact optimum, scores, and
# compares the scores with leave-one-out retraining, printing each command and appending its JSON,
# with the command, to results.jsonl in the output folder (the build tree's
# experiments/influence-out beside the binary, or, with --publish, this folder).
# Usage: experiments/influence/run.sh [--publish] [CURV_BINARY] [PART…]
#   parts: logreg lds (default: all)
# Re-running a part replaces its rows of results.jsonl.
set -euo pipefail
source "$(dirname "$0")/../common/run_args.sh" influence "$@"
source "$(dirname "$0")/../common/run_curv.sh"
parts=(logreg lds)
((${#rest[@]})) && parts=("${rest[@]}")

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
  local top
  top=$(cd "$work" && "$curv" spectrum "${at[@]/--train-subset/--examples}" --operator hessian \
    --top 1 --precision float64 | tail -n 1 | jq '.eigenvalues[0]')
  local scale
  scale=$(jq -n "1.5 * ($top + 0.01)")
  local score=(influence "${at[@]}" --operator hessian --queries test:0-4)
  run logreg-exact "${score[@]}" --method exact --exact-limit 8000 --out logreg-exact.npy
  run logreg-cg "${score[@]}" --method cg --tolerance 1e-8 --out logreg-cg.npy
  run logreg-lissa "${score[@]}" --method lissa --lissa-scale "$scale" --lissa-depth 2000 \
    --out logreg-lissa.npy
  run logreg-loo influence-eval --loo "${at[@]}" --queries test:0-4 \
    --scores logreg-exact.npy,logreg-cg.npy,logreg-lissa.npy --top 50 --pairs logreg-loo.csv \
    --plot logreg-loo-exact.png
}

# lds: dattri's setup on the same model (5,000 training, 500 test images): every estimator's
# scores of test:0-499 at the optimum, and the linear datamodeling score over 50 random halves of
# the training set, each retrained by Newton's method. TracIn sums over the SGD run's snapshots.
lds() {
  [[ -f $work/logreg-optimum.safetensors ]] || logreg
  local at=(--checkpoint logreg-optimum.safetensors --data mnist --train-subset train:0-4999)
  local q=(--queries test:0-499)
  run lds-score-exact influence "${at[@]}" "${q[@]}" --operator hessian --method exact \
    --exact-limit 8000 --out lds-exact.npy
  run lds-score-arnoldi influence "${at[@]}" "${q[@]}" --operator hessian --method arnoldi \
    --arnoldi-iterations 200 --arnoldi-rank 50 --out lds-arnoldi.npy
  local m
  for m in kfac ekfac diagonal grad-dot grad-cos; do
    run "lds-score-$m" influence "${at[@]}" "${q[@]}" --method "$m" --out "lds-$m.npy"
  done
  run lds-score-tracin influence --checkpoint logreg.safetensors --data mnist \
    --train-subset train:0-4999 "${q[@]}" --method tracin --trajectory logreg-trajectory \
    --out lds-tracin.npy
  local files=()
  for m in exact arnoldi kfac ekfac diagonal grad-dot grad-cos tracin; do files+=("lds-$m.npy"); done
  run lds influence-eval --lds "${at[@]}" "${q[@]}" --scores "$(IFS=,; echo "${files[*]}")" \
    --subsets 50 --fraction 0.5 --plot lds-exact.png
}

for part in "${parts[@]}"; do
  case $part in
    logreg) logreg ;;
    lds) lds ;;
    *) echo "run.sh: expected a part among ${parts[*]}, found '$part'" >&2; exit 2 ;;
  esac
done
