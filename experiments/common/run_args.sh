# Sourced by the experiments' run.sh scripts, as `source …/run_args.sh NAME "$@"`: reads
# [--publish] [CURV_BINARY] from the arguments and sets
#   curv   the binary's absolute path (default build/tools/curv; checked)
#   out    where results go: the experiment's folder with --publish, else the build tree's
#          experiments/NAME-out beside the binary
#   work   the build tree's experiments/NAME-out (checkpoints and other large files)
#   rest   the remaining arguments, an array
name=$1; shift
publish=0
[[ ${1:-} == --publish ]] && { publish=1; shift; }
curv=${1:-build/tools/curv}; shift || true
[[ -x $curv ]] || { echo "run.sh: expected the curv binary, found none at '$curv'" >&2; exit 2; }
curv=$(cd "$(dirname "$curv")" && pwd)/$(basename "$curv")
work=$(cd "$(dirname "$curv")/.." && pwd)/experiments/$name-out
if ((publish)); then out=$(cd "$(dirname "${BASH_SOURCE[0]}")/../$name" && pwd); else out=$work; fi
mkdir -p "$work" "$out"
rest=("$@")
