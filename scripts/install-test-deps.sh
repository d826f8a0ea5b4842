#!/usr/bin/env bash
# Installs what mailtrail's tests need on a fresh Debian machine with Go:
# the real clients and servers the end-to-end tests drive. Idempotent: it
# installs only what is missing, so a warm machine pays nothing.
set -euo pipefail

# Debian packages the tests use, each with the command that proves it is there.
declare -A want=(
  [awscli]=/usr/bin/aws              # AWS CLI v2 (the e2e API tests drive it)
  [python3-boto3]=/usr/lib/python3/dist-packages/boto3/__init__.py
  [jq]=/usr/bin/jq
  [curl]=/usr/bin/curl
)

missing=()
for pkg in "${!want[@]}"; do
  [ -e "${want[$pkg]}" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-test-deps: missing ${missing[*]} and not root; install them with apt-get" >&2
    exit 1
  fi
  echo "install-test-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go modules come through the proxy; fetch them once up front so a slow
# proxy shows up here rather than as a test timeout.
go mod download
