#!/usr/bin/env bash
# Fuzzes both APIs from shared/openapi.yaml with Schemathesis, against the native
# stack this script starts itself (private Postgres, Redis and Kafka on free ports,
# the worker, the write adapter, the read fleet) and stops afterwards.
#
#   scripts/schemathesis.sh                       # about a minute and a half
#   SCHEMATHESIS_EXAMPLES=200 scripts/schemathesis.sh
#   SCHEMATHESIS_SEED=1234 scripts/schemathesis.sh   # replay a run (the seed is printed)
#
# Two runs, because two processes serve the document's one origin (on AWS the
# CDN/API Gateway routes by method): the read fleet gets the GET/HEAD operations,
# the write adapter the POST/PUT/PATCH/DELETE ones with a valid bearer token. Each
# run sees only its own half of the document, so "405 + Allow" checks are exact.
# Every check is on except `use_after_free` on writes: writes are asynchronous
# commands, so a PATCH after a DELETE is rightly 202 (the worker rejects it
# `not_found`), where that check expects a 404. Afterwards every process must
# still be the same one, alive and healthy.
#
# Schemathesis comes from PyPI into a venv under .data/ (git-ignored), pinned.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="4.32.5"
venv="${SCHEMATHESIS_VENV:-$root/.data/schemathesis-venv}"
examples="${SCHEMATHESIS_EXAMPLES:-100}"
seed="${SCHEMATHESIS_SEED:-$RANDOM$RANDOM}"

if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$version"; then
  echo "== installing schemathesis $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work="$root/.data/schemathesis/run-$$"
mkdir -p "$work"
launcher=""
cleanup() {
  if [ -n "$launcher" ] && kill -0 "$launcher" 2>/dev/null; then
    kill -TERM "$launcher"
    wait "$launcher" || true
  fi
  rm -rf "$work/.schemathesis"
}
trap cleanup EXIT

echo "== starting the native stack (log: $work/stack.log)"
cd "$root"
node --import tsx scripts/soak/serve-stack.ts --state "$work/state.json" >"$work/stack.log" 2>&1 &
launcher=$!
for _ in $(seq 1 360); do
  [ -s "$work/state.json" ] && break
  if ! kill -0 "$launcher" 2>/dev/null; then
    cat "$work/stack.log"
    echo "the stack did not start" >&2
    exit 1
  fi
  sleep 0.5
done
[ -s "$work/state.json" ] || { cat "$work/stack.log"; echo "the stack did not start in 180 s" >&2; exit 1; }
state() { "$venv/bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/state.json" "$1"; }
read_url="$(state readUrl)"
write_url="$(state writeUrl)"
token="$(state token)"

# Each process's half of the document (see above).
"$venv/bin/python" - "$root/shared/openapi.yaml" "$work" <<'PY'
import sys, yaml
source, out = sys.argv[1], sys.argv[2]
METHODS = {"get", "head", "post", "put", "patch", "delete", "options", "trace"}
SIDES = {
    # The write adapter's /healthz is local-only (API Gateway has none): not part of the write API.
    "read": ({"get", "head"}, set()),
    "write": ({"post", "put", "patch", "delete"}, {"/healthz", "/readyz", "/openapi.yaml"}),
}
for side, (keep, skip_paths) in SIDES.items():
    doc = yaml.safe_load(open(source))
    paths = {}
    for path, item in doc["paths"].items():
        ops = {k: v for k, v in item.items() if k not in METHODS or k in keep}
        if path not in skip_paths and any(k in METHODS for k in ops):
            paths[path] = ops
    doc["paths"] = paths
    with open(f"{out}/{side}.yaml", "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False, allow_unicode=True)
PY

# QUERY is left out of the undeclared methods: uWS's parser does not know it and closes
# the connection, a clean refusal the quality bar allows (bad-input tests check it).
cat >"$work/read.toml" <<'TOML'
[phases.coverage]
unexpected-methods = ["get", "put", "post", "delete", "options", "patch", "trace"]
generate-duplicate-query-parameters = true
TOML
# Writes: Schemathesis draws Idempotency-Key values from a small space ("0", "A", ...)
# and sends the same key with different bodies, which the document answers with 422
# (the key was already used for another request; the first one stands). That answer
# depends on an earlier request, not on this one's shape, so "valid data accepted"
# allows it beside Schemathesis's defaults; every other check stays as it is.
{
  cat "$work/read.toml"
  cat <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
TOML
} >"$work/write.toml"

# Each run's report goes to a file. A passing run shows its SUMMARY section without
# the "=====" banners: Schemathesis closes with "=== 1 warning in 25.79s ===", the shape
# of pytest's closing line, which CI reads as a test run that executed no test. A failing
# run shows its whole report.
st() {
  local side="$1"
  shift
  local report="$work/$side-report.txt"
  if (cd "$work" && "$venv/bin/st" --no-color --config-file "$work/$side.toml" run "$work/$side.yaml" "$@" \
    --checks all --max-examples "$examples" --seed "$seed" --workers 1 --request-timeout 10 \
    --report junit --report-junit-path "$work/$side.xml") >"$report" 2>&1; then
    sed -n '/^=* SUMMARY =*$/,$p' "$report" | grep -v -e '^===' -e '^Reports:' -e '- JUnit: ' || true
  else
    cat "$report"
    return 1
  fi
}

status=0
echo "== schemathesis: read fleet $read_url (GET, HEAD), seed $seed, $examples examples per operation"
st read --url "$read_url" || status=1
echo "== schemathesis: write adapter $write_url (POST, PUT, PATCH, DELETE), seed $seed"
st write --url "$write_url" -H "Authorization: Bearer $token" --exclude-checks use_after_free || status=1

echo "== every process still alive and the same"
node --import tsx scripts/soak/check-stack.ts "$work/state.json" || status=1
if [ "$status" = 0 ]; then
  echo "schemathesis: no 5xx, no schema violation, no crash"
  rm -rf "$work"
else
  echo "schemathesis: FAILED (stack logs: $(state logDir))" >&2
fi
exit "$status"
