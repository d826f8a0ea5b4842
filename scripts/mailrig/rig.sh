#!/usr/bin/env bash
# A loopback-only Dovecot 2.3 + Postfix 3.x rig that reports to mailtrail.
#
#   scripts/mailrig/rig.sh up DIR      write configs into DIR and start both servers
#   scripts/mailrig/rig.sh down DIR    stop them (only the processes this rig started)
#   scripts/mailrig/rig.sh smoke DIR   log in over IMAP and POP3 (curl), send one mail (swaks)
#
# Run as root (Dovecot and Postfix drop privileges themselves). No system
# configuration is read or written: Dovecot runs from DIR/dovecot.conf
# (dovecot -c), Postfix from DIR/postfix (postfix -c) with its own queue
# and chroot = n everywhere; both log to files under DIR/logs. Only
# 127.0.0.1 is bound. The mailtrail part of each configuration is what
# `mailtrail config dovecot|postfix` prints; this script adds the local
# bits a site already has (users, mailboxes, listeners, LMTP, SASL).
#
# Environment (defaults in brackets):
#   MAILTRAIL          mailtrail binary [mailtrail on PATH]
#   MAILTRAIL_ADDR     mailtrail serve --addr [127.0.0.1:4600]
#   MAILTRAIL_POLICY   mailtrail serve --postfix-policy [127.0.0.1:10040]
#   MAILTRAIL_FAIL_OPEN=1   print the fail-open variants of both configs
#   MAILRIG_USERS      "login:password ..." [alice@example.test:alicepw bob@example.test:bobpw]
#   MAILRIG_DOMAIN     the local mail domain [example.test]
#   IMAP_PORT POP3_PORT LMTP_PORT AUTH_PORT MX_PORT SUBMISSION_PORT
#                      [10143 10110 10024 10012 10025 10587]
#   RELAY              where all non-local mail goes, HOST:PORT [127.0.0.1:10026]
# Logs: DIR/logs/dovecot.log (Dovecot log_path) and DIR/logs/maillog
# (Postfix maillog_file): point mailtrail serve --dovecot-log / --postfix-log there.
set -eu

cmd=${1:-}
T=${2:-}
[ -n "$cmd" ] && [ -n "$T" ] || { sed -n '2,30p' "$0" >&2; exit 2; }
case $T in /*) ;; *) T=$(pwd)/$T ;; esac

MAILTRAIL=${MAILTRAIL:-mailtrail}
MAILTRAIL_ADDR=${MAILTRAIL_ADDR:-127.0.0.1:4600}
MAILTRAIL_POLICY=${MAILTRAIL_POLICY:-127.0.0.1:10040}
MAILRIG_USERS=${MAILRIG_USERS:-alice@example.test:alicepw bob@example.test:bobpw}
MAILRIG_DOMAIN=${MAILRIG_DOMAIN:-example.test}
IMAP_PORT=${IMAP_PORT:-10143} POP3_PORT=${POP3_PORT:-10110} LMTP_PORT=${LMTP_PORT:-10024}
AUTH_PORT=${AUTH_PORT:-10012} MX_PORT=${MX_PORT:-10025} SUBMISSION_PORT=${SUBMISSION_PORT:-10587}
RELAY=${RELAY:-127.0.0.1:10026}

failopen=
[ "${MAILTRAIL_FAIL_OPEN:-0}" = 1 ] && failopen=--fail-open

# pids of a master process and its direct children (Dovecot's and Postfix's
# services are children of their master).
family() {
  [ -n "$1" ] || return 0
  echo "$1"
  for s in /proc/[0-9]*/stat; do
    # field 4 of /proc/PID/stat is the parent pid; the command name (field 2)
    # has no spaces for these daemons.
    read -r p _ _ pp _ < "$s" 2>/dev/null || continue
    [ "$pp" = "$1" ] && echo "$p"
  done
  return 0
}

alive() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

up() {
  for c in dovecot doveconf doveadm postfix postconf; do
    command -v "$c" >/dev/null || { echo "rig: $c is not installed (scripts/install-test-deps.sh)" >&2; exit 1; }
  done
  [ -e "$T/running" ] && { echo "rig: already running in $T (rig.sh down first)" >&2; exit 1; }
  mkdir -p "$T/logs" "$T/mail" "$T/run" "$T/postfix" "$T/spool" "$T/pfdata"
  # Dovecot's login and mail processes run as other users: they must be able
  # to reach their sockets and mailboxes through DIR.
  chmod 755 "$T" "$T/logs"
  chown nobody:nogroup "$T/mail"
  chown postfix "$T/pfdata"

  # ---- users: Dovecot passwd-file (user:pass:uid:gid:gecos:home:shell:extra),
  # ---- Postfix virtual mailbox table
  : > "$T/users"
  : > "$T/postfix/vmailbox"
  for up in $MAILRIG_USERS; do
    login=${up%%:*} pass=${up#*:}
    name=${login%%@*}
    printf '%s:{PLAIN}%s:65534:65534::%s/mail/%s::\n' "$login" "$pass" "$T" "$name" >> "$T/users"
    printf '%s OK\n' "$login" >> "$T/postfix/vmailbox"
  done
  chmod 644 "$T/users"

  # ---- Dovecot: local bits, then what mailtrail asks for
  cat > "$T/dovecot.conf" <<EOF
# Local bits of the rig (a real site has its own).
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = $T/run
state_dir = $T/run/state
instance_name = mailrig-$(basename "$T")
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $T/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $T/users
}
service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# Postfix SASL goes through Dovecot auth (and so through mailtrail's policy).
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
# Quick retries in a test rig; the default delays failed logins by 2 s.
auth_failure_delay = 0

EOF
  "$MAILTRAIL" config dovecot --addr "$MAILTRAIL_ADDR" --dovecot-log "$T/logs/dovecot.log" \
    --nonce "mailrig" $failopen >> "$T/dovecot.conf"

  # ---- Postfix: own config dir, queue and data dir; no chroot
  relay_host=${RELAY%:*} relay_port=${RELAY##*:}
  cat > "$T/postfix/main.cf" <<EOF
# Local bits of the rig (a real site has its own).
compatibility_level = 3.6
queue_directory = $T/spool
data_directory = $T/pfdata
maillog_file_prefixes = $T
myhostname = mail.$MAILRIG_DOMAIN
mydomain = $MAILRIG_DOMAIN
myorigin = $MAILRIG_DOMAIN
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# Nothing is trusted by address: relaying needs SASL.
mynetworks = 127.0.0.2/32
relayhost = [$relay_host]:$relay_port
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
virtual_mailbox_domains = $MAILRIG_DOMAIN
virtual_mailbox_maps = texthash:$T/postfix/vmailbox
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$AUTH_PORT
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
biff = no
alias_maps =
alias_database =

EOF
  "$MAILTRAIL" config postfix --postfix-policy "$MAILTRAIL_POLICY" --postfix-log "$T/logs/maillog" \
    $failopen >> "$T/postfix/main.cf"
  cat > "$T/postfix/master.cf" <<EOF
127.0.0.1:$MX_PORT inet n - n - - smtpd
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd -o syslog_name=postfix/submission -o smtpd_sasl_auth_enable=yes -o smtpd_client_restrictions=permit_sasl_authenticated,reject
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF

  # ---- check, then start
  doveconf -c "$T/dovecot.conf" -n > "$T/doveconf.out" 2> "$T/doveconf.err" || {
    echo "rig: doveconf rejects $T/dovecot.conf:" >&2; cat "$T/doveconf.err" >&2; exit 1; }
  touch "$T/running"
  # The daemons must not keep the caller's stdout and stderr open (a caller
  # reading them to the end would wait for ever): their start-up output goes
  # to a file.
  dovecot -c "$T/dovecot.conf" < /dev/null > "$T/logs/start.out" 2>&1 || {
    cat "$T/logs/start.out" >&2; exit 1; }
  postfix -c "$T/postfix" check < /dev/null >> "$T/logs/start.out" 2>&1 || {
    cat "$T/logs/start.out" >&2; exit 1; }
  postfix -c "$T/postfix" start < /dev/null >> "$T/logs/start.out" 2>&1 || {
    cat "$T/logs/start.out" >&2; exit 1; }
  # Wait until every listener accepts (at most ~10 s).
  for port in $IMAP_PORT $POP3_PORT $LMTP_PORT $AUTH_PORT $MX_PORT $SUBMISSION_PORT; do
    i=0
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
      i=$((i + 1))
      [ $i -lt 100 ] || { echo "rig: nothing listens on 127.0.0.1:$port" >&2; exit 1; }
      sleep 0.1
    done
  done
  echo "rig: Dovecot (imap $IMAP_PORT, pop3 $POP3_PORT, lmtp $LMTP_PORT) and Postfix (mx $MX_PORT, submission $SUBMISSION_PORT) up in $T"
}

down() {
  [ -d "$T" ] || { echo "rig: nothing at $T"; return 0; }
  dpid= ppid=
  [ -f "$T/run/master.pid" ] && dpid=$(cat "$T/run/master.pid")
  [ -f "$T/spool/pid/master.pid" ] && ppid=$(tr -d ' ' < "$T/spool/pid/master.pid")
  pids="$(family "$dpid") $(family "$ppid")"
  [ -f "$T/postfix/main.cf" ] && postfix -c "$T/postfix" stop 2>/dev/null || true
  [ -f "$T/dovecot.conf" ] && doveadm -c "$T/dovecot.conf" stop 2>/dev/null || true
  # Give both masters 5 s to take their services down, then kill what is left
  # of exactly the processes this rig started.
  i=0
  # shellcheck disable=SC2086
  while alive $pids && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  # shellcheck disable=SC2086
  if alive $pids; then
    echo "rig: killing leftover processes $pids" >&2
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
  fi
  rm -f "$T/running"
  echo "rig: stopped in $T"
}

smoke() {
  first=${MAILRIG_USERS%% *}
  login=${first%%:*} pass=${first#*:}
  curl -sS --max-time 20 "imap://127.0.0.1:$IMAP_PORT/" -u "$login:$pass" > /dev/null
  echo "rig: IMAP login ok ($login)"
  curl -sS --max-time 20 "pop3://127.0.0.1:$POP3_PORT/" -u "$login:$pass" > /dev/null
  echo "rig: POP3 login ok ($login)"
  swaks --silent 2 --helo client.remote.test -s 127.0.0.1 -p "$MX_PORT" -f sender@remote.test -t "$login" \
    --header "Subject: rig smoke test"
  i=0
  until grep -q "status=sent" "$T/logs/maillog" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "rig: no delivery in $T/logs/maillog" >&2; exit 1; }
    sleep 0.1
  done
  echo "rig: inbound mail delivered to $login"
}

case $cmd in
  up) up ;;
  down) down ;;
  smoke) smoke ;;
  *) sed -n '2,30p' "$0" >&2; exit 2 ;;
esac
