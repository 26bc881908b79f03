#!/usr/bin/env bash
# Sets up curv on a Debian 12 machine and runs it. Idempotent: each step is skipped when its
# result is already there.
#
#   tools/setup.sh demo   packages, datasets, release build, then the flagship demo: one epoch
#                         of an MLP on Fashion-MNIST, the derivative-check table, and the cost of
#                         H·v and G·v relative to a gradient
#   tools/setup.sh test   packages, datasets, release build, the whole test suite, then the same
#                         suite under AddressSanitizer + UBSan; ends with "N passed, N failed"
#
# Environment: CURV_DATA (dataset cache, default ~/.cache/curv), BUILD (default build),
# SANITIZE_BUILD (default build-sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
SANITIZE_BUILD=${SANITIZE_BUILD:-build-sanitize}
PACKAGES=(g++ ccache meson ninja-build pkg-config libopenblas-dev liblapacke-dev libtbb-dev doctest-dev
          libstb-dev zlib1g-dev libcli11-dev nlohmann-json3-dev libbenchmark-dev
          libplplot-dev plplot-driver-cairo libopenmpi-dev openmpi-bin
          dataset-fashion-mnist ca-certificates)

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# build DIR [meson options…]: configure once (an existing directory takes the options again,
# which changes nothing unless they did), then let ninja decide what is out of date.
# TARGETS (an array, default everything) limits what is built.
build() {
  local dir=$1; shift
  if [[ -f $dir/build.ninja ]]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" --wrap-mode=nodownload "$@" >/dev/null
  fi
  # The build's own output goes to a log; a failure prints its end, with the compiler's errors.
  if ! ninja -C "$dir" "${TARGETS[@]}" >"$dir/ninja-output.log" 2>&1; then
    tail -n 60 "$dir/ninja-output.log" >&2
    echo "setup: the build in $dir failed (whole output: $dir/ninja-output.log)" >&2
    return 1
  fi
}
TARGETS=()

# What the sanitizer run needs: the fast suite's test programs and the curv program (its CLI
# tests), not the benchmarks and experiments, whose compile time would double CI's.
sanitizer_targets() {
  TARGETS=(tools/curv)
  local f n
  for f in tests/test_*.cpp; do
    n=$(basename "$f" .cpp)
    [[ $n == test_main || $n == test_datasets ]] || TARGETS+=("tests/$n")
  done
}

fetch_data() { CURV_BIN=$BUILD/tools/curv datasets/fetch.sh all; }

# count DIR: "passed failed" of the last meson test run in DIR (skipped tests count as neither).
count() {
  local log=$1/meson-logs/testlog.json
  echo "$(grep -c '"result": "OK"' "$log") $(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log")"
}

prepare() {
  install_packages
  build "$BUILD" --buildtype=release
  fetch_data
}

case ${1:-} in
  demo)
    prepare
    curv=$BUILD/tools/curv
    echo; echo "== one epoch of an MLP 784-256-256-10 on Fashion-MNIST"
    "$curv" train --model mlp --data fashion-mnist --epochs 1 --batch 128 --lr 0.05 --momentum 0.9 --log-every 0
    echo; echo "== derivative checks (float64, relative errors)"
    "$curv" check
    echo; echo "== cost of H·v and G·v relative to one gradient (batch 128, float32)"
    "$curv" bench --model mlp lenet5 --rounds 20
    ;;
  test)
    prepare
    status=0
    meson test -C "$BUILD" --print-errorlogs --num-processes 2 || status=1
    read -r pass fail < <(count "$BUILD")
    sanitizer_targets
    # Without MPI: the release build runs the MPI path, this one shows curv builds and passes
    # every fast test without it (and refuses a multi-process mpirun, tests/cli_no_mpi.sh).
    build "$SANITIZE_BUILD" --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
      -Dmpi=disabled
    TARGETS=()
    # Any UBSan finding fails the test it occurs in (ASan and LeakSanitizer always do), except
    # the third-party caches tests/lsan.supp names.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
      meson test -C "$SANITIZE_BUILD" --no-rebuild --print-errorlogs --num-processes 2 --suite fast || status=1
    read -r spass sfail < <(count "$SANITIZE_BUILD")
    echo "release: $pass passed, $fail failed; sanitizers: $spass passed, $sfail failed"
    echo "$((pass + spass)) passed, $((fail + sfail)) failed"
    exit $status
    ;;
  *)
    sed -n 2,12p "$0" >&2
    exit 2
    ;;
esac
