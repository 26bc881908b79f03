#!/usr/bin/env bash
# The influence results of experiments/influence/README.md, end to end: trains the checkpoints
# (skipped when present), moves them to the training objective's exact optimum, scores, and
# compares the scores with leave-one-out retraining, printing each command and appending its JSON,
# with the command, to results.jsonl in the output folder (the build tree's
# experiments/influence-out beside the binary, or, with --publish, this folder).
# Usage: experiments/influence/run.sh [--publish] [CURV_BINARY] [PART…]
#   parts: logreg (default: all)
# Re-running a part replaces its rows of results.jsonl.
set -euo pipefail
source "$(dirname "$0")/../common/run_args.sh" influence "$@"
source "$(dirname "$0")/../common/run_curv.sh"
parts=(logreg)
((${#rest[@]})) && parts=("${rest[@]}")

# logreg: Koh & Liang's multinomial logistic regression (mlp [784, 10]) on the first 5,000 MNIST
# training images, weight decay 0.01 on the mean loss. SGD brings it near the minimum, Newton's
# method to ‖∇L‖ <= 1e-10; there the exact, CG and LiSSA influence of every training image on
# the loss of test images 0-4 is scored with the Hessian (+ wd), and each test image's 50 most
# helpful and 50 most harmful training images are left out one at a time and the model retrained
# by Newton's method: Pearson and Spearman of the predicted change s/N against the actual one.
# LiSSA's scale is 1.5 × λ_max(H + wd I), λ_max by Lanczos.
logreg() {
  local data=(--data mnist --train-subset train:0-4999)
  if [[ ! -f $work/logreg.safetensors ]]; then
    echo "+ curv train --model mlp (784-10) on train:0-4999 --save logreg.safetensors"
    "$curv" train --model mlp --config '{"widths":[784,10]}' --data mnist --examples 0-4999 \
      --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 0.01 --batch 100 --epochs 30 \
      --seed 0 --log-every 0 --save "$work/logreg.safetensors" >/dev/null
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
  local m
  for m in exact cg lissa; do
    run "logreg-loo-$m" influence-eval --loo "${at[@]}" --queries test:0-4 \
      --scores "logreg-$m.npy" --top 50 --pairs "logreg-loo-$m.csv"
  done
}

for part in "${parts[@]}"; do
  case $part in
    logreg) logreg ;;
    *) echo "run.sh: expected a part among ${parts[*]}, found '$part'" >&2; exit 2 ;;
  esac
done
