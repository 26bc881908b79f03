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

expect 1 "model: expected one of mlp, lenet5, lenet5-cifar, autoencoder, cifar-cnn, transformer, found 'alexnet'" train --model alexnet
expect 1 "dataset: expected one of fashion-mnist, mnist, cifar10, found 'imagenet'" train --data imagenet
expect 1 "train: model lenet5-cifar expects inputs [3,32,32], found fashion-mnist examples of [1,28,28]" \
  train --model lenet5-cifar --data fashion-mnist --epochs 1
expect 1 "train: expected optimizer sgd, found 'lbfgs'" train --optimizer lbfgs
CURV_DATA=$scratch/empty expect 1 "train-images-idx3-ubyte: expected a readable IDX file, found none" train
expect 1 "data_batch_1.png: expected a readable PNG, found no file" data pack-cifar "$scratch"
expect 1 "sgd: expected lr > 0" train --lr -1 --limit 256
expect 2 "The following argument was not expected: --bogus" check --bogus
expect 2 "A subcommand is required" 
expect 1 "check: expected a known subject, found 'nothing-like-this'" check --only nothing-like-this
[[ ! -e $scratch/bin ]] || { echo "FAIL: pack-cifar left $scratch/bin behind"; failed=1; }

exit $failed
