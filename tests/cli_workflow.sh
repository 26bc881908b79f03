#!/usr/bin/env bash
# curv train → save → info → eval on real data, and a failed run that must not overwrite an
# existing checkpoint. Exits 77 (skipped) where MNIST has not been fetched.
set -uo pipefail
curv=$1
source_root=${2:-$(cd "$(dirname "$0")/.." && pwd)}
data=${CURV_DATA:-$HOME/.cache/curv}
[[ -f $data/mnist/.verified ]] || { echo "skipped: $data/mnist not fetched"; exit 77; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

summary=$("$curv" train --model mlp --config '{"widths":[784,32,10]}' --data mnist --examples 0-2047 --epochs 2 \
  --optimizer adam --lr 0.003 --schedule cosine --warmup 5 --clip 5 --save "$scratch/m.safetensors" \
  --log "$scratch/log.jsonl" --curve "$scratch/curve.csv" 2>/dev/null) || fail "train exited $?"
echo "train: $summary"
[[ $summary == *'"test_accuracy":'* && $summary == *'"epochs":2'* && $summary == *'"seconds":'* ]] ||
  fail "expected a JSON summary with test_accuracy, epochs and seconds"
# The run's record: start (command, commit, recipe), one evaluation per epoch, end.
[[ $(wc -l < "$scratch/log.jsonl") == 4 ]] || fail "expected start, two evaluations and end in the log"
head -1 "$scratch/log.jsonl" | grep -q '"data_fingerprints":{"test":"[0-9a-f]\{16\}","train":"[0-9a-f]\{16\}"}.*"event":"start".*"git_commit":.*"threads":[1-9]' ||
  fail "expected the start line with data fingerprints, commit and threads, found $(head -1 "$scratch/log.jsonl")"
[[ $("$curv" --version) == "curv "*" ("*")" ]] || fail "expected curv --version to name version and commit"
grep -q '"recipe":{.*"examples":"0-2047"' "$scratch/log.jsonl" || fail "expected the recipe in the log"
[[ $(head -1 "$scratch/curve.csv") == step,epoch,seconds,lr,batch_loss,damping,test_accuracy,test_loss ]] ||
  fail "expected the curve's header, found $(head -1 "$scratch/curve.csv")"
[[ $(wc -l < "$scratch/curve.csv") == 3 ]] || fail "expected a curve row per epoch"
acc=$(sed 's/.*"test_accuracy":\([0-9.]*\).*/\1/' <<< "$summary")

info=$("$curv" info --checkpoint "$scratch/m.safetensors") || fail "info exited $?"
grep -q "fc1.weight *F32 *\[32,784\]" <<< "$info" || fail "info: expected fc1.weight F32 [32,784], found: $info"
evaluated=$("$curv" eval --checkpoint "$scratch/m.safetensors" --data mnist) || fail "eval exited $?"
echo "eval: $evaluated"
[[ $evaluated == *"\"test_accuracy\":$acc"* ]] || fail "eval: expected test_accuracy $acc as in training"
# Training continues from the saved weights: one step at a negligible rate scores as they do.
continued=$("$curv" train --model mlp --config '{"widths":[784,32,10]}' --data mnist --examples 0-2047 \
  --steps 1 --optimizer sgd --lr 1e-12 --momentum 0 --init-from "$scratch/m.safetensors" --log-every 0 \
  2>/dev/null) || fail "train --init-from exited $?"
[[ $continued == *"\"test_accuracy\":$acc"* ]] ||
  fail "train --init-from: expected test_accuracy $acc as the saved weights, found $continued"
# The outputs as an array: 100 test examples × 10 logits, float32.
"$curv" eval --checkpoint "$scratch/m.safetensors" --examples test:0-99 --out "$scratch/logits.npy" >/dev/null ||
  fail "eval --out exited $?"
[[ $(stat -c %s "$scratch/logits.npy") == $((128 + 100 * 10 * 4)) ]] || fail "expected logits [100, 10] float32"
# The checkpoint remembers its data set: eval needs no --data, and warns on another one.
evaluated=$("$curv" eval --checkpoint "$scratch/m.safetensors") || fail "eval without --data exited $?"
[[ $evaluated == *"\"test_accuracy\":$acc"* && $evaluated == *'"data":"mnist"'* ]] ||
  fail "eval without --data: expected mnist and test_accuracy $acc, found $evaluated"
if [[ -f $data/fashion-mnist/.verified ]]; then
  warning=$("$curv" eval --checkpoint "$scratch/m.safetensors" --data fashion-mnist 2>&1 >/dev/null)
  [[ $warning == "eval: warning: $scratch/m.safetensors was trained on mnist, used here with fashion-mnist" ]] ||
    fail "expected a warning for another data set, found '$warning'"
fi
# A last-layer Kronecker Laplace posterior of the checkpoint, scored on MNIST and against
# Fashion-MNIST as out of distribution: the keys a results page reads.
if [[ -f $data/fashion-mnist/.verified ]]; then
  out=$("$curv" laplace --checkpoint "$scratch/m.safetensors" --examples 0-4095 --eval test:0-999 \
    --ood fashion-mnist) || fail "laplace exited $?"
  for key in log_marglik prior_precision test_accuracy test_nll test_ece test_brier map_test_nll \
    map_test_ece ood_auroc map_ood_auroc; do
    [[ $out == *"\"$key\":"* ]] || fail "laplace printed no $key: $out"
  done
fi
# Rotated MNIST under one posterior: the 0° row is the unrotated score, a quarter turn costs
# accuracy, and both plots are drawn; curv eval turns the test split the same way.
out=$("$curv" laplace --checkpoint "$scratch/m.safetensors" --examples 0-4095 --eval test:0-999 \
  --rotations 0,90 --rotation-plots "$scratch/rot") || fail "laplace --rotations exited $?"
# Keys sort: map_… scores appear at the top level, then for 0° and 90° ("rotations"); test_…
# ones for 0° and 90°, then at the top level.
values() { grep -o "\"$1\":[^,}]*" <<<"$out" | cut -d: -f2 | tr '\n' ' '; }
read -r nll0 _ nll <<<"$(values test_nll)"
read -r acc acc0 acc90 <<<"$(values map_test_accuracy)"
[[ $(values degrees) == "0.0 90.0 " && $nll0 == "$nll" && $acc0 == "$acc" ]] ||
  fail "laplace --rotations: expected rows for 0 and 90 degrees, the first the unrotated scores: $out"
awk -v a="$acc90" -v b="$acc" 'BEGIN { exit !(a < b - 0.3) }' ||
  fail "laplace --rotations: expected a quarter turn to cost accuracy, found $acc90 against $acc"
[[ -s $scratch/rot-nll.png && -s $scratch/rot-ece.png ]] || fail "laplace --rotation-plots drew no PNGs"
upright=$("$curv" eval --checkpoint "$scratch/m.safetensors") || fail "eval exited $?"
turned=$("$curv" eval --checkpoint "$scratch/m.safetensors" --rotate-test 90) || fail "eval --rotate-test exited $?"
[[ $upright != "$turned" ]] || fail "eval --rotate-test 90 scored as upright: $turned"
# A checkpoint trained with a validation carve keeps it: its "val" split exists for the
# commands that read it, and its "train" is the examples it was trained on.
"$curv" train --model mlp --config '{"widths":[784,8,10]}' --data mnist --validation 0.1 --examples 0-511 \
  --epochs 1 --save "$scratch/v.safetensors" >/dev/null 2>&1 || fail "train --validation exited $?"
out=$("$curv" laplace --checkpoint "$scratch/v.safetensors" --examples 0-511 --val val:0-255 \
  --prior-precision val-nll --eval test:0-255) || fail "laplace on a carved checkpoint exited $?"
[[ $out == *'"val":"val:0-255"'* && $out == *'"prior_trials":41'* ]] ||
  fail "laplace --val on the recorded carve: $out"
# 60,000 training images less the 6,000 carved out: index 59,999 is past the end.
err=$("$curv" eval --checkpoint "$scratch/v.safetensors" --examples train:59999 2>&1 >/dev/null) &&
  fail "eval on train:59999 of a carved checkpoint succeeded"
[[ $err == *"expected indices in 0..53999"* ]] || fail "expected the carved train split's 54000 examples named, found: $err"
# So do the commands that take the model's data: curvature, spectrum, gradients and prune.
"$curv" spectrum --checkpoint "$scratch/m.safetensors" --examples 0-63 --operator ggn --top 1 >/dev/null ||
  fail "spectrum without --data exited $?"
"$curv" gradients --checkpoint "$scratch/m.safetensors" --examples 0-7 --out "$scratch/g8.npy" >/dev/null ||
  fail "gradients without --data exited $?"
pruned=$("$curv" prune --checkpoint "$scratch/m.safetensors" --sparsity 0.5 --eval test:0-999) ||
  fail "prune without --data exited $?"
[[ $pruned == *'"sparsity":0.5'* ]] || fail "prune without --data: found $pruned"

# A run that fails (unknown schedule) leaves the existing checkpoint untouched.
before=$(sha256sum < "$scratch/m.safetensors")
"$curv" train --model mlp --data mnist --examples 0-255 --schedule nope --save "$scratch/m.safetensors" 2>/dev/null &&
  fail "expected the bad run to fail"
[[ $(sha256sum < "$scratch/m.safetensors") == "$before" ]] || fail "a failed run changed the checkpoint"
# A checkpoint of another architecture is refused, naming the first mismatching tensor.
err=$("$curv" eval --checkpoint "$scratch/m.safetensors" --data mnist --model mlp --config '{}' 2>&1 >/dev/null)
[[ $err == *"expected 'fc1.weight' of shape [256,784], found [32,784]"* ]] || fail "expected a shape mismatch, found: $err"
# Every second-order optimizer trains from the command line (a small LeNet-5 run each), ends
# with a finite accuracy clearly above chance (10 %) and logs its damping.
for opt in kfac ekfac foof mfac; do
  out=$("$curv" train --model lenet5 --data mnist --examples 0-1023 --epochs 2 --batch 64 --optimizer $opt \
    --log "$scratch/$opt.jsonl" 2>/dev/null) || fail "train --optimizer $opt exited $?"
  echo "$opt: $out"
  a=$(sed 's/.*"test_accuracy":\([0-9.]*\).*/\1/' <<< "$out")
  awk -v a="$a" 'BEGIN { exit !(a > 0.15) }' || fail "$opt: expected test accuracy above 0.15, found $a"
  grep -q '"damping":' "$scratch/$opt.jsonl" || fail "$opt: expected the damping in the log"
done

# A recorded trajectory replays bit for bit, from its start and from a snapshot; a replay past
# its end is refused.
small=(--model mlp --config '{"widths":[784,16,10]}' --data mnist --examples 0-999 --log-every 0)
"$curv" train "${small[@]}" --steps 25 --batch 50 --optimizer sgd --lr 0.05 --momentum 0.9 \
  --record "$scratch/traj" --record-every 10 >/dev/null 2>&1 || fail "train --record exited $?"
ls "$scratch/traj"/step-00000010.safetensors "$scratch/traj"/steps-00000021-00000025.npy >/dev/null ||
  fail "expected snapshots and step files in the trajectory"
out=$("$curv" replay "$scratch/traj") || fail "replay exited $?"
echo "replay: $out"
[[ $out == *'"matches_snapshot":true'* ]] || fail "expected the replay from step 0 to match step 25"
out=$("$curv" replay "$scratch/traj" --from 10 --to 20) || fail "replay --from 10 exited $?"
[[ $out == *'"matches_snapshot":true'* ]] || fail "expected the replay from step 10 to match step 20"
"$curv" replay "$scratch/traj" --to 26 >/dev/null 2>&1 && fail "expected a replay past the end to fail"

# A validation split carved from train is scored beside the test split's first 100 examples.
out=$("$curv" train "${small[@]}" --validation 0.2 --steps 4 --eval val:all test:0-99 2>/dev/null) ||
  fail "train --validation exited $?"
[[ $out == *'"val_accuracy":'* && $out == *'"test_accuracy":'* ]] ||
  fail "expected val_accuracy and test_accuracy, found $out"
# eval takes any index list: the test images of class 3.
out=$("$curv" eval --checkpoint "$scratch/m.safetensors" --data mnist --examples test:class:3) ||
  fail "eval --examples exited $?"
[[ $out == *'"test_accuracy":'* && $out == *'"examples":"test:class:3"'* ]] || fail "eval: found $out"

# data info knows every data set, the sequence ones included.
if [[ -f $data/text/.verified ]]; then
  out=$("$curv" data info moby-dick) || fail "data info moby-dick exited $?"
  [[ $out == *"moby-dick: train "*" examples of [64]"* ]] || fail "data info moby-dick: found $out"
fi

# A model from a layer list: docs/models/lenet5.json trains to the built-in lenet5's curve, bit
# for bit (seconds aside), and its checkpoint rebuilds it for eval and the curvature commands.
if [[ -f $data/fashion-mnist/.verified ]]; then
  common=(--data fashion-mnist --examples 0-2047 --epochs 2 --eval-every 8 --log-every 0)
  "$curv" train --model lenet5 "${common[@]}" --curve "$scratch/builtin.csv" >/dev/null 2>&1 ||
    fail "built-in lenet5 exited $?"
  "$curv" train --model-file "$source_root/docs/models/lenet5.json" "${common[@]}" \
    --curve "$scratch/listed.csv" --save "$scratch/listed.safetensors" >/dev/null 2>&1 ||
    fail "lenet5.json exited $?"
  [[ $(cut -d, -f3 --complement "$scratch/builtin.csv") == $(cut -d, -f3 --complement "$scratch/listed.csv") ]] ||
    fail "expected lenet5.json's curve to equal lenet5's: $(diff "$scratch/builtin.csv" "$scratch/listed.csv")"
  [[ $(wc -l < "$scratch/listed.csv") -ge 4 ]] || fail "expected at least three evaluations"
  out=$("$curv" eval --checkpoint "$scratch/listed.safetensors") || fail "eval of the model file's checkpoint exited $?"
  [[ $out == *'"model":"sequential"'* ]] || fail "eval: found $out"
  out=$("$curv" spectrum --checkpoint "$scratch/listed.safetensors" --data fashion-mnist --examples 0-255 \
    --operator kfac --top 2) || fail "spectrum on the model file's checkpoint exited $?"
  "$curv" train --model-file "$source_root/docs/models/lenet5.json" --data fashion-mnist --examples 0-511 \
    --steps 5 --optimizer kfac --log-every 0 >/dev/null 2>&1 || fail "kfac on lenet5.json exited $?"
fi

# docs/models/transformer.json is the built-in transformer as a layer list: the same curve, bit
# for bit; K-FAC trains it too (its linear layers over positions as rows).
if [[ -f $data/text/.verified ]]; then
  common=(--data moby-dick --steps 20 --batch 16 --optimizer adamw --lr 0.002 --eval-every 10 --log-every 0)
  "$curv" train --model transformer "${common[@]}" --curve "$scratch/tf-builtin.csv" >/dev/null 2>&1 ||
    fail "built-in transformer exited $?"
  "$curv" train --model-file "$source_root/docs/models/transformer.json" "${common[@]}" \
    --curve "$scratch/tf-listed.csv" >/dev/null 2>&1 || fail "transformer.json exited $?"
  [[ $(cut -d, -f3 --complement "$scratch/tf-builtin.csv") == $(cut -d, -f3 --complement "$scratch/tf-listed.csv") ]] ||
    fail "expected transformer.json's curve to equal transformer's: $(diff "$scratch/tf-builtin.csv" "$scratch/tf-listed.csv")"
  [[ $(wc -l < "$scratch/tf-listed.csv") -ge 3 ]] || fail "expected two evaluations of transformer.json"
  "$curv" train --model-file "$source_root/docs/models/transformer.json" --data moby-dick --steps 3 \
    --batch 8 --optimizer kfac --log-every 0 >/dev/null 2>&1 || fail "kfac on transformer.json exited $?"
fi

# Mislabel detection: 10 % of the training labels replaced (--label-noise, recorded in the
# checkpoint, so influence rebuilds the same labels), self-influence by Grad-Dot and K-FAC, and
# the relabeled examples ranked near the top: 1000 × 0.1 ≈ 105 of them in train:0-999.
"$curv" train --model mlp --config '{"widths":[784,10]}' --data mnist --examples 0-999 --epochs 5 \
  --optimizer sgd --lr 0.1 --label-noise 0.1 --log-every 0 --save "$scratch/noisy.safetensors" \
  >/dev/null 2>&1 || fail "train --label-noise exited $?"
for m in grad-dot kfac; do
  "$curv" influence --checkpoint "$scratch/noisy.safetensors" --train-subset 0-999 --method $m \
    --self --out "$scratch/self-$m.npy" >/dev/null 2>&1 || fail "influence --self --method $m exited $?"
done
mis=$("$curv" influence-eval --mislabel --checkpoint "$scratch/noisy.safetensors" --train-subset 0-999 \
  --scores "$scratch/self-grad-dot.npy,$scratch/self-kfac.npy" --plot "$scratch/mislabel.png" 2>/dev/null) ||
  fail "influence-eval --mislabel exited $?"
echo "mislabel: $mis"
jq -e '.relabeled > 50 and .relabeled < 150 and (.results | length) == 2 and
  all(.results[]; .auc > 0.8 and .found_after_inspecting["20%"] > 0.5)' <<< "$mis" >/dev/null ||
  fail "expected both self-influences to find the relabeled examples, found $mis"
[[ -s $scratch/mislabel.png ]] || fail "influence-eval --mislabel --plot wrote no PNG"
short=$("$curv" influence-eval --mislabel --checkpoint "$scratch/noisy.safetensors" --train-subset 0-499 \
  --scores "$scratch/self-kfac.npy" 2>&1 >/dev/null)
[[ $? == 1 && $short == *"expected the [500] self-influence of --train-subset 0-499 (curv influence --self), found shape [1000]"* ]] ||
  fail "expected --mislabel scores of the wrong length refused, found $short"
# Test-split label noise (a data option, not the recipe's): 20 % of the test labels replaced,
# found by Grad-Dot self-influence of test:0-999 under the clean model's loss.
"$curv" influence --checkpoint "$scratch/noisy.safetensors" --train-subset test:0-999 --method grad-dot \
  --self --test-label-noise 0.2 --out "$scratch/self-test.npy" >/dev/null 2>&1 ||
  fail "influence --self --test-label-noise exited $?"
tmis=$("$curv" influence-eval --mislabel --checkpoint "$scratch/noisy.safetensors" --train-subset test:0-999 \
  --test-label-noise 0.2 --scores "$scratch/self-test.npy" 2>/dev/null) || fail "influence-eval --mislabel on test exited $?"
jq -e '.relabeled > 150 and .relabeled < 250 and .results[0].auc > 0.8' <<< "$tmis" >/dev/null ||
  fail "expected test-split self-influence to find the relabeled test examples, found $tmis"
# --show: a query's image beside its most helpful and most harmful training images, as a PNG
# (1,320 × 700 pixels for 4 per row: pngcairo's header says so at bytes 16-23).
shown=$("$curv" influence --checkpoint "$scratch/noisy.safetensors" --train-subset 0-999 --queries test:0-4 \
  --method grad-dot --show 4 --show-query 2 --show-out "$scratch/show.png" --out "$scratch/show.npy" 2>/dev/null) ||
  fail "influence --show exited $?"
[[ $(jq -r .show <<< "$shown") == "$scratch/show.png" && $(head -c 4 "$scratch/show.png" | tail -c 3) == PNG ]] ||
  fail "expected influence --show to write a PNG, found $shown"
far=$("$curv" influence --checkpoint "$scratch/noisy.safetensors" --train-subset 0-999 --queries test:0-4 \
  --method grad-dot --show 4 --show-query 5 --show-out "$scratch/far.png" --out "$scratch/far.npy" 2>&1 >/dev/null)
[[ $? == 1 && $far == *"expected --show-query in 0..4 (a position in --queries test:0-4), found 5"* &&
  ! -e $scratch/far.png && ! -e $scratch/far.npy ]] ||
  fail "expected --show-query 5 of 5 queries refused with no files, found $far"
label=$("$curv" train --model mlp --config '{"widths":[784,10]}' --data mnist --examples 0-99 --steps 1 \
  --label-noise 1.5 --log-every 0 2>&1 >/dev/null)
[[ $? == 1 && $label == *"--label-noise: expected a fraction in [0, 1), found 1.5"* ]] ||
  fail "expected --label-noise 1.5 refused, found $label"
clean=$("$curv" influence-eval --mislabel --checkpoint "$scratch/m.safetensors" --train-subset 0-999 \
  --scores "$scratch/self-kfac.npy" 2>&1 >/dev/null)
[[ $? == 1 && $clean == *"needs relabeled examples in the train split: a checkpoint trained with --label-noise"* ]] ||
  fail "expected --mislabel on a clean checkpoint refused, found $clean"

# A documented recipe by name; flags on the line take precedence over the recipe's.
if [[ -f $data/fashion-mnist/.verified ]]; then
  out=$("$curv" train --recipe lenet5-fashion --examples 0-255 --steps 2 --lr 0.01 \
    --log "$scratch/recipe.jsonl" 2>/dev/null) || fail "train --recipe exited $?"
  [[ $out == *'"lr":0.01'* && $out == *'"model":"lenet5"'* ]] || fail "train --recipe: found $out"
  head -1 "$scratch/recipe.jsonl" | grep -q '"kind":"cosine"' || fail "expected the recipe's cosine schedule"
  head -1 "$scratch/recipe.jsonl" | grep -q '"weight_decay":0.0001' || fail "expected the recipe's weight decay"
fi

# Defaults that work: K-FAC with no other flag beats SGD's defaults after one epoch of LeNet-5 on
# Fashion-MNIST (its defaults are the LeNet-5 experiment's recipe; the adapted λ of the quadratic
# model used to collapse to 4.5e-8 here and reach 76.8 %).
if [[ -f $data/fashion-mnist/.verified ]]; then
  accuracy() { sed 's/.*"test_accuracy":\([0-9.]*\).*/\1/' <<< "$1"; }
  sgd=$("$curv" train --model lenet5 --data fashion-mnist --epochs 1 --optimizer sgd 2>/dev/null) ||
    fail "sgd exited $?"
  kfac=$("$curv" train --model lenet5 --data fashion-mnist --epochs 1 --optimizer kfac 2>/dev/null) ||
    fail "kfac exited $?"
  echo "one epoch of LeNet-5: sgd $(accuracy "$sgd"), kfac $(accuracy "$kfac")"
  awk -v k="$(accuracy "$kfac")" -v s="$(accuracy "$sgd")" 'BEGIN { exit !(k > s) }' ||
    fail "expected kfac's defaults ahead of sgd's, found kfac $(accuracy "$kfac") and sgd $(accuracy "$sgd")"
fi
echo ok
