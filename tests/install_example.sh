#!/usr/bin/env bash
# The installed library as a user sees it: `meson install` into a scratch root, then
# examples/kfac_inverse.cpp built with `pkg-config --cflags --libs curv` against that copy alone
# (not the build tree) and run on a checkpoint written by the installed `curv init`.
# Exits 77 (skipped) where Fashion-MNIST has not been fetched.
# Usage: install_example.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 source=$2
data=${CURV_DATA:-$HOME/.cache/curv}
[[ -f $data/fashion-mnist/.verified ]] || { echo "skipped: $data/fashion-mnist not fetched"; exit 77; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

meson install -C "$build" --no-rebuild --quiet --destdir "$root" >/dev/null || fail "meson install exited $?"
pc=$(find "$root" -name curv.pc | head -1)
[[ -n $pc ]] || fail "expected curv.pc among the installed files"
[[ -f $(dirname "$pc")/../libcurv.so ]] || fail "expected libcurv.so beside the pkgconfig directory"
inc=$(find "$root" -path '*/include/curv/train/run.hpp' | head -1)
[[ -n $inc ]] || fail "expected the headers under include/curv"
# The copy lives under the scratch root, so its prefix moves there too: what installing with
# --prefix=ROOT/usr/local would have written (every other path in curv.pc derives from it).
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed -i "s#^prefix=.*#prefix=$root$prefix#" "$pc"
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs curv) ||
  fail "pkg-config --cflags --libs curv failed"
echo "pkg-config: $flags"
[[ $flags == *"-I$root"* && $flags == *"-L$root"* && $flags == *-lcurv* ]] ||
  fail "expected include and library paths inside the installed copy, found: $flags"
g++ -std=c++20 -O1 "$source/examples/kfac_inverse.cpp" $flags -o "$root/kfac_inverse" ||
  fail "the example does not build against the installed library"
lib=$(dirname "$(dirname "$pc")")
bin=$(find "$root" -type f -name curv -perm -u+x | head -1)
[[ -n $bin ]] || fail "expected the curv program among the installed files"
LD_LIBRARY_PATH=$lib "$bin" init --model lenet5 --seed 1 --save "$root/l5.safetensors" >/dev/null ||
  fail "the installed curv init exited $?"
# The example must resolve libcurv from the installed copy, not the build tree.
linked=$(LD_LIBRARY_PATH=$lib ldd "$root/kfac_inverse" | grep libcurv)
[[ $linked == *"$lib/libcurv.so"* ]] ||
  fail "the example did not link against the installed libcurv: $linked"
out=$(LD_LIBRARY_PATH=$lib OPENBLAS_NUM_THREADS=1 "$root/kfac_inverse" "$root/l5.safetensors" fashion-mnist 0-255) ||
  fail "the example exited $?: $out"
echo "example: $out"
[[ $out == *'"examples":256'* ]] || fail "expected 256 examples, found $out"
echo ok
