# Sourced by the experiments' run.sh scripts after run_args.sh (which sets curv, out and work):
# the two ways a script records a result in $out/results.jsonl, one JSON row per tag.
# record TAG JSON COMMAND: one row of results.jsonl (an earlier row of the tag gives way).
record() {
  local tag=$1 json=$2 command=$3
  if [[ -f $out/results.jsonl ]]; then
    grep -vF "{\"tag\":\"$tag\"," "$out/results.jsonl" > "$out/results.jsonl.tmp" || true
    mv "$out/results.jsonl.tmp" "$out/results.jsonl"
  fi
  printf '{"tag":"%s","command":"curv %s","result":%s}\n' "$tag" "$command" "$json" >> "$out/results.jsonl"
}
# run TAG ARGS…: curv ARGS… in the work folder (checkpoints and plots named relative to it), its
# JSON recorded and its plots moved to the output folder. A failing command stops the script.
run() {
  local tag=$1; shift
  echo "+ curv $*"
  local json
  json=$(cd "$work" && "$curv" "$@" | tail -n 1) || { echo "run.sh: curv $* failed" >&2; exit 1; }
  echo "$json"
  record "$tag" "$json" "$*"
  if [[ $out != "$work" ]]; then
    local png
    for png in "$work"/*.png; do [[ -e $png ]] && mv "$png" "$out/"; done
  fi
  return 0
}

# run_may_fail TAG ARGS…: as run, for a row whose failure is a result (a training run that may
# diverge): a failing command is recorded as {"failed": its error line} and the script goes on.
run_may_fail() {
  local tag=$1; shift
  local err
  err=$(mktemp)
  if ! (run "$tag" "$@" 2> "$err"); then
    record "$tag" "$(jq -cn --arg e "$(grep '^curv: ' "$err" | tail -n 1)" '{failed: $e}')" "$*"
    echo "run.sh: recorded the failure of curv $*"
  fi
  rm -f "$err"
}

