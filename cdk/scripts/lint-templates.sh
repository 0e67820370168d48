#!/usr/bin/env bash
# Synthesizes the CDK app offline (no AWS account, no Docker: esbuild bundles the
# Lambdas locally, container images are only recorded as assets) for the profiles
# DEPLOY.md documents, then runs cfn-lint on every template. Without credentials
# the app synthesizes for the stand-in account and region committed in cdk.json
# (three AZs and the lookups a deploy makes), so these are the deployed shapes;
# cdk-nag runs in every synth and fails it on an unaccepted finding.
#
#   cdk/scripts/lint-templates.sh            # from anywhere
#
# cfn-lint comes from PyPI into a venv under .data/ (git-ignored), pinned.
set -euo pipefail
cdk_dir="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$cdk_dir/.." && pwd)"
version="1.58.0"
venv="${CFN_LINT_VENV:-$root/.data/cfn-lint-venv}"

if ! "$venv/bin/cfn-lint" --version 2>/dev/null | grep -qF "$version"; then
  if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    echo "cfn-lint needs python3 with venv support (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  echo "== installing cfn-lint $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$version"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$cdk_dir"
# Offline: no "newer version" lookup (telemetry and notices are off in cdk.json).
export CDK_DISABLE_VERSION_CHECK=1

synth() {
  local name="$1"
  shift
  echo "== cdk synth ($name) $*"
  npx cdk synth --quiet --output "$out/$name" "$@" >"$out/$name.log" 2>&1
}

# The synths run side by side; each log is shown if it fails.
unset CDK_DEFAULT_ACCOUNT CDK_DEFAULT_REGION
pids=()
synth small & pids+=($!)
synth million -c profile=million -c alarmEmail=oncall@example.com & pids+=($!)
# Every optional branch: JWKS instead of the generated secret, custom CDN domain,
# narrowed NLB ingress, retained data with deletion protection.
synth hardened -c profile=million -c retainData=true -c readAllowedCidr=203.0.113.0/24 \
  -c jwksUrl=https://id.example.com/.well-known/jwks.json -c jwtIssuer=https://id.example.com/ \
  -c jwtAudience=todos -c cdnDomainName=todos.example.com \
  -c cdnCertificateArn=arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000 \
  -c alarmEmail=oncall@example.com &
pids+=($!)
# Outside us-east-1: the CDN alarms move to a second stack in us-east-1.
synth eu-west-1 -c profile=million -c alarmEmail=oncall@example.com -c offlineRegion=eu-west-1 &
pids+=($!)
names=(small million hardened eu-west-1)
failed=0
for i in 0 1 2 3; do
  name=${names[$i]}
  if ! wait "${pids[$i]}"; then
    cat "$out/$name.log"
    echo "cdk synth ($name) failed" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1

echo "== cfn-lint $version"
"$venv/bin/cfn-lint" --config-file "$cdk_dir/.cfnlintrc" -- "$out"/*/*.template.json
echo "cfn-lint: templates clean"
