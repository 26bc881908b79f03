#!/usr/bin/env bash
# tests/layering.sh must reject an upward include, a sibling include and an unknown folder, and
# accept a tree that only includes downward.
set -euo pipefail
check=$(cd "$(dirname "$0")" && pwd)/layering.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tree() {  # tree NAME FILE CONTENT: a fresh fixture with one file besides a clean core header
  rm -rf "${tmp:?}/$1"
  mkdir -p "$tmp/$1/include/curv/core" "$tmp/$1/src"
  echo '#pragma once' >"$tmp/$1/include/curv/core/shape.hpp"
  mkdir -p "$(dirname "$tmp/$1/$2")"
  printf '%s\n' "$3" >"$tmp/$1/$2"
}
expect() {  # expect STATUS NAME PATTERN
  local out status=0
  out=$("$check" "$tmp/$2" 2>&1) || status=$?
  if [[ $status != "$1" ]] || ! grep -q -- "$3" <<<"$out"; then
    echo "FAIL $2: expected exit $1 and '$3', got exit $status: $out"
    exit 1
  fi
}

tree clean src/nn/model.cpp '#include "curv/core/shape.hpp"'
expect 0 clean "include only folders below"
tree upward include/curv/nn/params.hpp '#include "curv/train/loop.hpp"'
expect 1 upward "params.hpp:1: includes curv/train/, which is above nn/"
tree relative src/curvature/kfac.cpp '#include "../optim/x.hpp"'
expect 1 relative "includes curv/optim/, which is above curvature/"
tree sibling src/io/npy.cpp '#include "curv/kernels/gemm.hpp"'
expect 1 sibling "beside (a sibling of) io/"
tree unknown src/widgets/w.cpp '#include "curv/core/shape.hpp"'
expect 1 unknown "folder 'widgets' has no place"
echo "layering self-test: 5 fixtures judged as expected"
