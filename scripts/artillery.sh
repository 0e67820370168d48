#!/usr/bin/env bash
# Runs the mixed-traffic Artillery scenario (scripts/artillery/mixed.yml) with its
# `ensure` thresholds; exits non-zero when p99 or the error rate is out of bounds.
#   scripts/artillery.sh                 # against npm start: reads :8080, writes :8081
# Artillery (~600 MB with its browser engine) is installed on first use into
# .data/tools, pinned, rather than into every `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

version=2.0.21  # the last release that supports Node 20
tools=.data/tools/artillery-$version
if [ ! -x "$tools/node_modules/.bin/artillery" ]; then
  echo "installing artillery@$version into $tools (first run only)"
  mkdir -p "$tools"
  (cd "$tools" && echo '{"private":true}' > package.json &&
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error "artillery@$version" >/dev/null)
fi

export READ_URL="${READ_URL:-http://127.0.0.1:8080}"
export WRITE_URL="${WRITE_URL:-http://127.0.0.1:8081}"
export TOKEN="${TOKEN:-$(npx tsx scripts/token.ts artillery-user)}"
mkdir -p results
exec "$tools/node_modules/.bin/artillery" run --output "results/artillery-$(date +%Y%m%d-%H%M%S).json" scripts/artillery/mixed.yml "$@"
