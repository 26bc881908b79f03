#!/usr/bin/env bash
# The curv program on bad input: a non-zero exit and exactly one line on stderr naming what was
# expected and what was found. Usage: cli_errors.sh CURV_BINARY
set -uo pipefail
curv=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

# expect CODE FRAGMENT ARGS…: curv ARGS… exits with CODE and says FRAGMENT in one stderr line.
expect() {
  local code=$1 fragment=$2; shift 2
  "$curv" "$@" >"$scratch/out" 2>"$scratch/err"
  local got=$? lines
  lines=$(wc -l < "$scratch/err")
  if [[ $got != "$code" || $lines != 1 ]] || ! grep -qF -- "$fragment" "$scratch/err"; then
    echo "FAIL: curv $*: expected exit $code and one line with '$fragment', found exit $got and:"
    cat "$scratch/err"
    failed=1
  else
    echo "ok: curv $* -> $(cat "$scratch/err")"
  fi
}

expect 1 "model: expected one of mlp, lenet5, lenet5-cifar, autoencoder, cifar-cnn, transformer, t2t (or a layer list: --model-file), found 'alexnet'" train --model alexnet
expect 1 "dataset: expected one of mnist, fashion-mnist, cifar10, moby-dick, t2t-synthetic, sine or a .npy file, found 'imagenet'" train --data imagenet
expect 1 "model lenet5 expects inputs [3,32,32], found fashion-mnist examples of [1,28,28] (models taking them: mlp, lenet5, autoencoder)" \
  train --model lenet5-cifar --data fashion-mnist --epochs 1
expect 1 "train: expected an optimizer among sgd, adam, adamw, lars, lamb, kfac, ekfac, foof, mfac, found 'lbfgs'" train --optimizer lbfgs
expect 1 "kfac: expected stats_examples >= 0 (0: the whole batch), found -1" \
  train --model t2t --data t2t-synthetic --examples 0-63 --batch 32 --epochs 1 --optimizer kfac --stats-examples -1
expect 1 "train: expected --batch >= 1, found 0" train --batch 0
expect 1 "train: expected a batch size in 1..256, found 512" train --examples 0-255 --batch 512
expect 1 "schedule: expected one of constant, step, cosine, found 'linear'" train --schedule linear --examples 0-255
expect 1 "index list '0-60000': expected indices in 0..59999 of split fashion-mnist/train, found 60000 (item '0-60000')" \
  train --examples 0-60000
expect 1 "index list 'class:x': expected class:K with a class number K >= 0 (item 'class:x')" train --examples class:x
expect 1 "index list 'val:all': expected a split among train, test of fashion-mnist, found 'val'" train --eval val:all --examples 0-255
expect 1 "--save '$scratch': expected a file path, found a directory" train --save "$scratch" --examples 0-255
expect 1 "--save '$scratch/no/such/dir/m.safetensors': expected an existing directory" \
  train --save "$scratch/no/such/dir/m.safetensors" --examples 0-255
expect 1 "mlp: expected config keys among {widths, activation, bias, norm, loss}, found 'depth'" train --config '{"depth":3}'
expect 1 "--checkpoint '$scratch/no-such.safetensors': expected a safetensors file, found no such file" eval --checkpoint "$scratch/no-such.safetensors" --data mnist
expect 1 "--checkpoint '$scratch': expected a safetensors file, found a directory" eval --checkpoint "$scratch" --data mnist
expect 1 "$scratch: expected a safetensors file, found a directory" info "$scratch"
printf 'garbage!' > "$scratch/bad.safetensors"
expect 1 "bad.safetensors: expected a safetensors file (an 8-byte header length, then a JSON header), found a header length of 2406443243860549991 in a file of 8 bytes: not a safetensors file" info "$scratch/bad.safetensors"
printf 'a text file, not a checkpoint\n' > "$scratch/notes.txt"
expect 1 "notes.txt: expected a safetensors file (an 8-byte header length, then a JSON header), found a header length of" eval --checkpoint "$scratch/notes.txt" --data mnist
expect 1 "--save '/proc/curv-test.safetensors': expected a writable place, found it cannot be written" train --save /proc/curv-test.safetensors --examples 0-255
CURV_DATA=$scratch/empty expect 1 "-images-idx3-ubyte: expected a readable IDX file, found none" train
expect 1 "data_batch_1.png: expected a readable PNG, found no file" data pack-cifar "$scratch"
expect 1 "sgd: expected lr > 0" train --lr -1 --examples 0-255
# Options that do not apply to the chosen optimizer or schedule are refused, not ignored.
expect 1 "train: --nesterov applies to sgd, found --optimizer adam" train --optimizer adam --nesterov
expect 1 "train: --momentum applies to sgd, lars, kfac, ekfac, foof, mfac, found --optimizer adamw" train --optimizer adamw --momentum 0.5
expect 1 "train: --damping applies to kfac, ekfac, foof, mfac, found --optimizer sgd" train --damping 0.1
expect 1 "train: --window applies to mfac, found --optimizer kfac" train --optimizer kfac --window 10
expect 1 "train: --beta1 applies to adam, adamw, lamb, found --optimizer sgd" train --beta1 0.5
expect 1 "train: --trust-coefficient applies to lars, lamb, found --optimizer sgd" \
  train --optimizer sgd --trust-coefficient 0.01
expect 1 "train: --momentum applies to sgd, lars, kfac, ekfac, foof, mfac, found --optimizer lamb" \
  train --optimizer lamb --momentum 0.5
# A bad trust coefficient is refused before anything is written (0 would otherwise read as the
# default in make_optimizer).
expect 1 "train: expected --trust-coefficient > 0, found 0" \
  train --optimizer lars --trust-coefficient 0 --log "$scratch/lb.jsonl" --curve "$scratch/lb.csv"
expect 1 "train: expected --trust-coefficient > 0, found -1" \
  train --optimizer lamb --trust-coefficient -1 --log "$scratch/lb.jsonl" --curve "$scratch/lb.csv"
for f in lb.jsonl lb.csv lb.csv.tmp; do
  [[ ! -e $scratch/$f ]] || { echo "FAIL: a refused --trust-coefficient left $f behind"; failed=1; }
done
expect 1 "train: expected --divergence > 1 (or 0: off), found 0.5" train --divergence 0.5
expect 1 "train: --curvature-every applies to --schedule curvature, found --schedule constant" train --curvature-every 10
expect 1 "train: expected --curvature-every T >= 1 steps, found 0" train --schedule curvature --curvature-every 0
expect 1 "train: expected --curvature-every T >= 1 steps, found -5" train --schedule curvature --curvature-every -5
# The measured batch is checked against the training examples before anything is written.
expect 1 "rate learner: expected a measured batch of 1..256 examples, found 1000" \
  train --schedule curvature --examples 0-255 --curvature-batch 1000 --log "$scratch/lr.jsonl" --curve "$scratch/lr.csv"
for f in lr.jsonl lr.csv lr.csv.tmp; do
  [[ ! -e $scratch/$f ]] || { echo "FAIL: a refused --curvature-batch left $f behind"; failed=1; }
done
expect 1 "train: expected --curvature-fraction > 0, found 0" train --schedule curvature --curvature-fraction 0
expect 1 "train: expected --curvature-decay cosine or none, found 'step'" train --schedule curvature --curvature-decay step
expect 1 "train: expected --curvature-peak latest or lowest, found 'highest'" train --schedule curvature --curvature-peak highest
expect 1 "--init-from 'no-such.safetensors': expected a safetensors checkpoint, found no such file" train --init-from no-such.safetensors
expect 1 "train: --schedule curvature learns heavy-ball momentum: expected --optimizer sgd or lars (or --fixed-momentum), found adam" train --schedule curvature --optimizer adam
expect 1 "train: --schedule curvature learns the rate: expected no --lr" train --schedule curvature --lr 0.1
expect 1 "train: expected no --record with --schedule curvature (a replay cannot restore the learned momentum; --fixed-momentum keeps it)" train --schedule curvature --record "$scratch/traj"
expect 1 "train: --kl-clip applies with --rescale kl, found --rescale qmodel" train --optimizer kfac --rescale qmodel --kl-clip 0.01
expect 1 "train: --gamma applies to --schedule step, found --schedule constant" train --gamma 0.5
expect 1 "train: expected --clip >= 0 (0: off), found -1" train --clip -1
expect 2 "--recipe: expected one of cifar-cnn, lenet5-fashion, lenet5-fashion-kfac, lenet5-mnist, mlp-fashion, mlp-mnist, t2t, transformer-moby, found 'nope'" train --recipe nope
expect 1 "--model-file '$scratch/none.json': expected a JSON layer list, found no such file" train --model-file "$scratch/none.json"
printf '{"input": [1, 28, 28], "layers": [' > "$scratch/broken.json"
expect 1 "--model-file '$scratch/broken.json': expected a JSON layer list, found invalid JSON" train --model-file "$scratch/broken.json"
printf '{"input": [1, 28, 28], "layers": [{"type": "linear", "name": "fc", "out": 10}]}' > "$scratch/unflat.json"
expect 1 "sequential: layers[0] (linear): expected a vector per example (flatten first) or a sequence, found shape [1,28,28]" train --model-file "$scratch/unflat.json"
expect 2 "--model excludes --model-file" train --model mlp --model-file "$scratch/unflat.json"
expect 1 "expected --threads >= 0 (0: all cores), found -1" eval --threads -1 --checkpoint "$scratch/no-such.safetensors"
expect 1 "train: expected --warmup >= 0 steps, found -5" train --warmup -5
expect 1 "train: expected --beta2 in [0, 1), found 1" train --optimizer adam --beta2 1
expect 2 "The following argument was not expected: --bogus" check --bogus
expect 2 "A subcommand is required" 
expect 2 "unknown subcommand 'trian': did you mean 'train'? (see curv --help)" trian
expect 2 "The following arguments were not expected: 3 --stpes: did you mean --steps? (see curv train --help)" train --stpes 3
expect 2 "Could not convert: --steps = abc (see curv train --help)" train --steps abc
expect 1 "check: expected a known subject, found 'nothing-like-this'" check --only nothing-like-this
[[ ! -e $scratch/bin ]] || { echo "FAIL: pack-cifar left $scratch/bin behind"; failed=1; }
# The help offers only what exists (it once advertised Laplace and influence before either).
for absent in unlearning continual; do
  "$curv" --help | grep -qi "$absent" && { echo "FAIL: curv --help mentions $absent"; failed=1; }
done
# Every subcommand's help ends with examples.
for sub in train eval info init curvature spectrum influence gradients prune replay check bench data; do
  # (into a variable first: grep -q stops reading at the match, and a pipe would kill the help
  # with SIGPIPE, which pipefail reports)
  help=$("$curv" "$sub" --help)
  grep -q '^Examples:' <<<"$help" || { echo "FAIL: curv $sub --help has no examples"; failed=1; }
done
# K-FAC is built from the same flags with the same defaults wherever it is built (train's
# --factors was once mc and curvature's ggn; train's damping factored and prune's eigen).
for sub in train curvature spectrum prune; do
  help=$("$curv" "$sub" --help)
  for flag in "--factors TEXT=ef" "--kfac-damping TEXT=eigen" "--no-pi"; do
    grep -qF -- "$flag" <<<"$help" || { echo "FAIL: curv $sub --help lacks '$flag'"; failed=1; }
  done
done

exit $failed
