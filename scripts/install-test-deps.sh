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
  # Real mail servers and an SMTP client for e2e/mailserver_test.go.
  [dovecot-core]=/usr/sbin/dovecot
  [dovecot-imapd]=/usr/lib/dovecot/imap
  [dovecot-pop3d]=/usr/lib/dovecot/pop3
  [dovecot-lmtpd]=/usr/lib/dovecot/lmtp
  [postfix]=/usr/sbin/postfix
  [swaks]=/usr/bin/swaks
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
  # Postfix asks what kind of mail system this is; the tests bring their own
  # config, so none. And apt must not start the stock Dovecot and Postfix
  # (they would bind 0.0.0.0:25/110/143): a policy-rc.d that says 101
  # ("action forbidden") stops invoke-rc.d for the install only.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  own_prc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_prc=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$own_prc" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# Go modules come through the proxy; fetch them once up front so a slow
# proxy shows up here rather than as a test timeout.
go mod download
