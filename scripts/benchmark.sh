#!/usr/bin/env bash
# Load-tests GET /todos?limit=100 (the seed project's interface, kept):
#   scripts/benchmark.sh <base-url> <seconds> <connections>
#   scripts/benchmark.sh http://127.0.0.1:8080 10 100
# Warms the cache first, then uses wrk, hey or autocannon, whichever is installed
# (in that order: wrk is the only one that can saturate a uWS server), and prints
# requests/s, latency percentiles and error counts.
set -euo pipefail

base="${1:-http://127.0.0.1:8080}"
seconds="${2:-10}"
conns="${3:-100}"
path="${BENCH_PATH:-/todos?limit=100}"
url="${base%/}${path}"
threads="${BENCH_THREADS:-$(( $(nproc) > 1 ? $(nproc) / 2 : 1 ))}"

# Extra request headers, one per line in BENCH_HEADERS.
hdr_args=()
curl_hdrs=()
if [ -n "${BENCH_HEADERS:-}" ]; then
  while IFS= read -r h; do
    [ -n "$h" ] || continue
    hdr_args+=(-H "$h")
    curl_hdrs+=(-H "$h")
  done <<<"$BENCH_HEADERS"
fi

case "$seconds" in ''|*[!0-9]*) echo "seconds must be a whole number (got '$seconds')" >&2; exit 2;; esac
case "$conns" in ''|*[!0-9]*) echo "connections must be a whole number (got '$conns')" >&2; exit 2;; esac

echo "warming $url"
for _ in 1 2 3 4 5; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${curl_hdrs[@]}" "$url" || true)
  [ "$code" = 200 ] && break
  sleep 1
done
if [ "$code" != 200 ]; then
  echo "GET $url answered $code, not 200: is the read fleet up (npm start)?" >&2
  exit 1
fi
bytes=$(curl -s "${curl_hdrs[@]}" "$url" | wc -c)
echo "body: $bytes bytes"

if command -v wrk >/dev/null; then
  echo "tool: wrk (${threads} threads, ${conns} connections, ${seconds}s)"
  out=$(wrk -t"$threads" -c"$conns" -d"${seconds}s" --latency "${hdr_args[@]}" "$url")
  echo "$out"
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses/ {print $NF}' <<<"$out")
  sockerr=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo
  echo "summary: ${rps} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${non2xx:-0}, socket errors ${sockerr:-0} (wrk)"
elif command -v hey >/dev/null; then
  echo "tool: hey (${conns} connections, ${seconds}s)"
  out=$(hey -z "${seconds}s" -c "$conns" -t 120 "${hdr_args[@]}" "$url")
  echo "$out"
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '/ 50% in/ {print $3 $4}' <<<"$out")
  p99=$(awk '/ 99% in/ {print $3 $4}' <<<"$out")
  ok=$(awk '/\[200\]/ {print $2}' <<<"$out")
  echo
  echo "summary: ${rps} req/s, p50 ${p50}, p99 ${p99}, 200 responses ${ok:-0} (hey; see status and error distribution above)"
elif command -v npx >/dev/null; then
  echo "tool: autocannon via npx (${conns} connections, ${seconds}s)"
  npx --yes autocannon@8 -c "$conns" -d "$seconds" -t 120 "${hdr_args[@]}" "$url"
else
  echo "no load generator found: sudo apt-get install -y wrk (or hey), or install Node.js for autocannon" >&2
  exit 1
fi
