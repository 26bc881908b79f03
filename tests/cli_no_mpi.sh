#!/usr/bin/env bash
# A curv built without MPI (-Dmpi=disabled) and started by mpirun: on several processes it
# refuses with one line and writes nothing, rather than running the whole job on each; on one
# process it runs. OMPI_COMM_WORLD_SIZE is what mpirun sets in every process it starts.
#   tests/cli_no_mpi.sh CURV
set -uo pipefail
curv=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
sine=(train --model mlp --config '{"widths":[1,8,1],"activation":"tanh","loss":"mse"}' --data sine
      --steps 5 --batch 8 --lr 0.05 --threads 1 --log-every 0)

OMPI_COMM_WORLD_SIZE=2 "$curv" "${sine[@]}" --save "$scratch/two.safetensors" >"$scratch/out" 2>"$scratch/err"
got=$?
if ((got != 0)) && [[ ! -s $scratch/out && $(wc -l <"$scratch/err") == 1 && ! -e $scratch/two.safetensors ]] &&
  grep -q "mpi: expected a curv built with MPI (-Dmpi=enabled, Debian's libopenmpi-dev) under mpirun, found one built without it and 2 processes" "$scratch/err"; then
  echo "ok: $(cat "$scratch/err")"
else
  echo "FAIL: two processes: expected a non-zero exit, one line and no checkpoint; found exit $got and:"
  cat "$scratch/out" "$scratch/err"
  failed=1
fi

if OMPI_COMM_WORLD_SIZE=1 "$curv" "${sine[@]}" --save "$scratch/one.safetensors" >/dev/null 2>"$scratch/err" &&
  [[ -s $scratch/one.safetensors ]]; then
  echo "ok: one process under mpirun runs"
else
  echo "FAIL: one process: $(cat "$scratch/err")"
  failed=1
fi
exit $failed
