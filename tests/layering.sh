#!/usr/bin/env bash
# The layering rule: a library folder includes only folders below it in this order (and itself).
# Folders on one line are siblings and do not include each other.
#
#   core
#   kernels io report
#   autodiff
#   ops
#   loss
#   nn
#   check
#   data
#   linalg
#   curvature
#   optim
#   train
#   prune laplace spectra influence continual unlearning metrics     (methods)
#   distributed                                                       (them, on MPI)
#
# tools/, experiments/, examples/, bench/ and tests/ sit above everything and are not checked.
#
#   tests/layering.sh [ROOT]   checks ROOT/include/curv and ROOT/src (default: the checkout);
#                              prints every offending #include and exits 1 if there is one.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}

declare -A rank=(
  [core]=0
  [kernels]=1 [io]=1 [report]=1
  [autodiff]=2 [ops]=3 [loss]=4 [nn]=5 [check]=6 [data]=7 [linalg]=8 [curvature]=9 [optim]=10
  [train]=11
  [prune]=12 [laplace]=12 [spectra]=12 [influence]=12 [continual]=12 [unlearning]=12 [metrics]=12
  [distributed]=13
)

bad=0
checked=0
while IFS= read -r -d '' file; do
  rel=${file#"$root"/}
  case $rel in
    include/curv/*) folder=${rel#include/curv/} ;;
    src/*) folder=${rel#src/} ;;
  esac
  folder=${folder%%/*}
  [[ $folder == *.* ]] && continue  # a file directly in include/curv or src (meson.build)
  if [[ -z ${rank[$folder]+x} ]]; then
    echo "$rel: folder '$folder' has no place in the layering (add it to tests/layering.sh)"
    bad=1
    continue
  fi
  checked=$((checked + 1))
  # #include "curv/X/…" names folder X; a relative "../X/…" from src/F/ does too.
  while IFS=: read -r line target; do
    [[ $target == "$folder" ]] && continue
    if [[ -z ${rank[$target]+x} ]]; then
      echo "$rel:$line: includes from unknown folder '$target'"
      bad=1
    elif ((rank[$target] >= rank[$folder])); then
      relation=above
      ((rank[$target] == rank[$folder])) && relation="beside (a sibling of)"
      echo "$rel:$line: includes curv/$target/, which is $relation $folder/"
      bad=1
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(curv/|\.\./)[a-z_]+/' "$file" |
           sed -E 's/^([0-9]+):.*"(curv\/|\.\.\/)([a-z_]+)\/.*/\1:\3/')
done < <(find "$root/include/curv" "$root/src" -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' \) -print0)

if ((checked == 0)); then
  echo "layering: no source files found under $root/include/curv or $root/src"
  exit 1
fi
((bad)) && exit 1
echo "layering: $checked files include only folders below their own"
