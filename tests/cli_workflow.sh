#!/usr/bin/env bash
# curv train → save → info → eval on real data, and a failed run that must not overwrite an
# existing checkpoint. Exits 77 (skipped) where MNIST has not been fetched.
set -uo pipefail
curv=$1
data=${CURV_DATA:-$HOME/.cache/curv}
[[ -f $data/mnist/.verified ]] || { echo "skipped: $data/mnist not fetched"; exit 77; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

summary=$("$curv" train --model mlp --config '{"widths":[784,32,10]}' --data mnist --limit 2048 --epochs 2 \
  --optimizer adam --lr 0.003 --schedule cosine --warmup 5 --clip 5 --save "$scratch/m.safetensors" \
  --log "$scratch/log.jsonl" 2>/dev/null) || fail "train exited $?"
echo "train: $summary"
[[ $summary == *'"test_accuracy":'* && $summary == *'"epochs":2'* && $summary == *'"seconds":'* ]] ||
  fail "expected a JSON summary with test_accuracy, epochs and seconds"
[[ $(wc -l < "$scratch/log.jsonl") == 2 ]] || fail "expected one log line per epoch"
acc=$(sed 's/.*"test_accuracy":\([0-9.]*\).*/\1/' <<< "$summary")

info=$("$curv" info "$scratch/m.safetensors") || fail "info exited $?"
grep -q "fc1.weight *F32 *\[32,784\]" <<< "$info" || fail "info: expected fc1.weight F32 [32,784], found: $info"
evaluated=$("$curv" eval --checkpoint "$scratch/m.safetensors" --data mnist) || fail "eval exited $?"
echo "eval: $evaluated"
[[ $evaluated == *"\"test_accuracy\":$acc"* ]] || fail "eval: expected test_accuracy $acc as in training"

# A run that fails (unknown schedule) leaves the existing checkpoint untouched.
before=$(sha256sum < "$scratch/m.safetensors")
"$curv" train --model mlp --data mnist --limit 256 --schedule nope --save "$scratch/m.safetensors" 2>/dev/null &&
  fail "expected the bad run to fail"
[[ $(sha256sum < "$scratch/m.safetensors") == "$before" ]] || fail "a failed run changed the checkpoint"
# A checkpoint of another architecture is refused, naming the first mismatching tensor.
err=$("$curv" eval --checkpoint "$scratch/m.safetensors" --data mnist --model mlp --config '{}' 2>&1 >/dev/null)
[[ $err == *"expected 'fc1.weight' of shape [256,784], found [32,784]"* ]] || fail "expected a shape mismatch, found: $err"
# Every second-order optimizer trains from the command line (a small LeNet-5 run each), ends
# with a finite accuracy clearly above chance (10 %) and logs its damping.
for opt in kfac ekfac foof mfac; do
  out=$("$curv" train --model lenet5 --data mnist --limit 1024 --epochs 2 --batch 64 --optimizer $opt \
    --log "$scratch/$opt.jsonl" 2>/dev/null) || fail "train --optimizer $opt exited $?"
  echo "$opt: $out"
  a=$(sed 's/.*"test_accuracy":\([0-9.]*\).*/\1/' <<< "$out")
  awk -v a="$a" 'BEGIN { exit !(a > 0.15) }' || fail "$opt: expected test accuracy above 0.15, found $a"
  grep -q '"damping":' "$scratch/$opt.jsonl" || fail "$opt: expected the damping in the log"
done
echo ok
