# Shared by the CLI scripts (cli_curvature.sh, cli_influence.sh), sourced after setting curv:
# a scratch folder removed on exit, .npy files written byte by byte (no data, no Python), the
# check/expect helpers, and a tiny MLP checkpoint with its .npy data set.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

# npy DESCR SHAPE OUT < raw little-endian bytes: an .npy version 1.0 file.
npy() {
  local dict="{'descr': '$1', 'fortran_order': False, 'shape': $2, }"
  local len=$(( ${#dict} + 1 ))
  local pad=$(( (64 - (10 + len) % 64) % 64 ))
  len=$(( len + pad ))
  { printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((len % 256)))\\x$(printf %02x $((len / 256)))"
    printf '%s' "$dict"; printf "%${pad}s" ''; printf '\n'
    cat; } > "$3"
}
# repeat N BYTES: the escaped byte string BYTES, N times.
repeat() { for ((i = 0; i < $1; i++)); do printf "$2"; done; }

one_f8='\x00\x00\x00\x00\x00\x00\xf0\x3f'
nan_f8='\x00\x00\x00\x00\x00\x00\xf8\x7f'
half_f4='\x00\x00\x00\x3f'

check() {  # check DESCRIPTION COMMAND…: the command succeeds
  local what=$1; shift
  if "$@" >"$scratch/stdout" 2>"$scratch/stderr"; then echo "ok: $what"; else
    echo "FAIL: $what"; cat "$scratch/stderr"; failed=1; fi
}
expect() {  # expect FRAGMENT ARGS…: curv ARGS… exits 1 with one stderr line containing FRAGMENT, no out file
  local fragment=$1; shift
  rm -f "$scratch/out.npy"
  "$curv" "$@" >/dev/null 2>"$scratch/err"
  local got=$? lines
  lines=$(wc -l < "$scratch/err")
  if [[ $got != 1 || $lines != 1 || -e $scratch/out.npy ]] || ! grep -qF -- "$fragment" "$scratch/err"; then
    echo "FAIL: curv $*: expected exit 1, one line with '$fragment' and no output; found exit $got and:"
    cat "$scratch/err"; failed=1
  else
    echo "ok: $(cat "$scratch/err")"
  fi
}

base=(--checkpoint "$scratch/mlp.safetensors" --data "$scratch/x.npy" --labels "$scratch/y.npy")
model=("${base[@]}" --examples all)
check "init" "$curv" init --model mlp --config '{"widths":[4,6,3],"activation":"tanh"}' --seed 3 --save "$scratch/mlp.safetensors"
P=51
repeat 20 "$half_f4" | npy '<f4' '(5, 4)' "$scratch/x.npy"
printf '\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00' \
  | npy '<i8' '(5,)' "$scratch/y.npy"
repeat $P "$one_f8" | npy '<f8' "($P,)" "$scratch/v.npy"
repeat $((P - 1)) "$one_f8" | npy '<f8' "($((P - 1)),)" "$scratch/short.npy"
{ repeat $((P - 1)) "$one_f8"; printf "$nan_f8"; } | npy '<f8' "($P,)" "$scratch/nan.npy"
repeat 20 "$half_f4" | npy '<f4' '(5, 2, 2)' "$scratch/x_bad.npy"
printf '\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' \
  | npy '<i8' '(4,)' "$scratch/y_short.npy"
printf '\x01\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00' | npy '<i8' '(2,)' "$scratch/drop.npy"
