#!/usr/bin/env bash
# datasets/fetch.sh on a corrupted cache: one line naming the file, expected vs found, exit 1,
# and the cached files left as they were. Works on a copy of the text dataset; exits 77
# (skipped) where the data has not been fetched.
set -uo pipefail
fetch=$1
data=${CURV_DATA:-$HOME/.cache/curv}
[[ -f $data/text/.verified ]] || { echo "skipped: $data/text not fetched"; exit 77; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

check() {  # check FRAGMENT: fetch.sh text on $scratch fails with one line containing FRAGMENT
  CURV_DATA=$scratch "$fetch" text >"$scratch/out" 2>"$scratch/err"
  local code=$?
  if [[ $code != 1 || $(wc -l < "$scratch/err") != 1 ]] || ! grep -qF -- "$1" "$scratch/err"; then
    echo "FAIL: expected exit 1 and one line with '$1', found exit $code and:"; cat "$scratch/err"; failed=1
  else
    echo "ok: $(cat "$scratch/err")"
  fi
  [[ -f $scratch/text/moby-dick.txt ]] || { echo "FAIL: the cached file was removed"; failed=1; }
}

cp -r "$data/text" "$scratch/text"
printf 'x' >> "$scratch/text/moby-dick.txt"
check "moby-dick.txt: expected 1204997 bytes, found 1204998 bytes"

cp "$data/text/moby-dick.txt" "$scratch/text/moby-dick.txt"
printf 'X' | dd of="$scratch/text/moby-dick.txt" bs=1 seek=1000 conv=notrunc status=none
check "moby-dick.txt: expected sha256 fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240, found sha256"

exit $failed
