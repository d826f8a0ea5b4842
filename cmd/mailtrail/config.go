package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/mailtrail/mailtrail/internal/app"
)

func init() {
	register(&command{name: "config", summary: "print the Dovecot or Postfix settings that make a mail server report to mailtrail serve", run: runConfig})
}

// mailFlags are the mail-server side of `mailtrail serve`. `mailtrail
// config` takes the same flags, so the printed settings point at exactly
// what serve listens on when both get the same values.
type mailFlags struct {
	dovecot       bool   // serve Dovecot's auth policy and event exporter on --addr
	postfixPolicy string // HOST:PORT of the Postfix policy delegation server
	postfixLog    string // Postfix maillog_file to follow
	dovecotLog    string // Dovecot log_path to follow (and catch up from)
	syslog        string // HOST:PORT for syslog (UDP and TCP) carrying Postfix lines
	account       string // AWS account whose organizations the mail servers serve
	failOpen      bool   // config only: keep mail flowing when mailtrail is down
}

func (f *mailFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.BoolVar(&f.dovecot, "dovecot", false, "serve Dovecot's auth policy and event exporter endpoints on --addr")
	fs.StringVar(&f.postfixPolicy, "postfix-policy", "", "listen on `HOST:PORT` for Postfix policy delegation (check_policy_service)")
	fs.StringVar(&f.postfixLog, "postfix-log", "", "follow Postfix's log `FILE` (maillog_file) across rotation")
	fs.StringVar(&f.dovecotLog, "dovecot-log", "", "follow Dovecot's log `FILE` (log_path), catching up on what the event exporter could not deliver")
	fs.StringVar(&f.syslog, "syslog", "", "receive Postfix's syslog lines on `HOST:PORT` (UDP and TCP; loopback only)")
	fs.StringVar(&f.account, "mail-account", "", "AWS `ACCOUNT` whose WorkMail organizations the mail servers belong to (default: the only account of the credentials, or the default account with --no-auth)")
}

// Defaults the printed configuration falls back to when a flag is not given.
const (
	defaultPolicyAddr = "127.0.0.1:10040"
	defaultDovecotLog = "/var/log/dovecot-mailtrail.log"
	defaultPostfixLog = "/var/log/postfix-mailtrail.log"
)

// Dovecot endpoint paths on mailtrail's HTTP port.
const (
	dovecotPolicyPath = "/dovecot/auth-policy"
	dovecotEventsPath = "/dovecot/events"
)

func runConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("config", "config dovecot|postfix [--addr HOST:PORT | --url URL] [--postfix-policy HOST:PORT] [--dovecot-log FILE] [--postfix-log FILE] [--syslog HOST:PORT] [--fail-open]", stderr)
	var (
		f     mailFlags
		addr  string
		url   string
		nonce string
	)
	f.register(fs)
	fs.StringVar(&addr, "addr", "127.0.0.1:4600", "the address mailtrail serve listens on (its --addr)")
	fs.StringVar(&url, "url", "", "base `URL` Dovecot reaches mailtrail at (default http://ADDR)")
	fs.BoolVar(&f.failOpen, "fail-open", false, "when mailtrail is down, let logins and mail through unchecked instead of refusing them")
	fs.StringVar(&nonce, "nonce", "", "auth_policy_hash_nonce (default: random; keep the same value once pasted)")
	// The kind may come first (config dovecot --url ...) or after the flags.
	var kind string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kind, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if kind == "" && fs.NArg() > 0 {
		kind = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "config: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	switch kind {
	case "dovecot":
		base, err := baseURL(url, addr)
		if err != nil {
			return err
		}
		if nonce == "" {
			nonce = randomNonce()
		}
		_, err = io.WriteString(stdout, dovecotConfig(dovecotOptions{
			BaseURL:  base,
			LogPath:  orDefault(f.dovecotLog, defaultDovecotLog),
			Nonce:    nonce,
			FailOpen: f.failOpen,
		}))
		return err
	case "postfix":
		policy := orDefault(f.postfixPolicy, defaultPolicyAddr)
		if _, _, err := net.SplitHostPort(policy); err != nil {
			return fmt.Errorf("config: --postfix-policy %q: %w", policy, err)
		}
		_, err := io.WriteString(stdout, postfixConfig(postfixOptions{
			PolicyAddr: policy,
			LogFile:    f.postfixLog,
			Syslog:     f.syslog,
			FailOpen:   f.failOpen,
		}))
		return err
	case "":
		fmt.Fprintln(stderr, "config: say which server: dovecot or postfix")
		return errUsage
	default:
		fmt.Fprintf(stderr, "config: unknown server %q (dovecot or postfix)\n", kind)
		return errUsage
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// baseURL is the URL Dovecot posts to: --url when given, else http://ADDR
// with an unspecified host (":4600", "0.0.0.0:4600") replaced by loopback,
// since Dovecot runs on the same machine in the documented setup.
func baseURL(url, addr string) (string, error) {
	if url != "" {
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			return "", fmt.Errorf("config: --url %q must start with http:// or https://", url)
		}
		return strings.TrimRight(url, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("config: --addr %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

func randomNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type dovecotOptions struct {
	BaseURL  string // mailtrail's HTTP base, no trailing slash
	LogPath  string // Dovecot log_path, followed by mailtrail serve --dovecot-log
	Nonce    string
	FailOpen bool
}

// dovecotEvents are the exported events mailtrail turns into records. A
// filter naming them, rather than event=*, keeps the exporter (one HTTP
// POST per event, no batching) from posting the chatty connection and cache
// events nobody reads.
var dovecotEvents = []string{
	"auth_request_finished",
	"auth_passdb_request_finished",
	"imap_command_finished",
	"mail_delivery_finished",
	"mail_expunged",
	"mail_user_session_finished",
}

// dovecotConfig renders the Dovecot 2.3 settings. Blocks are written one
// setting per line: Dovecot 2.3 does not accept `{ a = b; c = d }`.
func dovecotConfig(o dovecotOptions) string {
	var b strings.Builder
	reject := "yes"
	if o.FailOpen {
		reject = "no"
	}
	filter := make([]string, len(dovecotEvents))
	for i, e := range dovecotEvents {
		filter[i] = "event=" + e
	}
	fmt.Fprintf(&b, `# mailtrail settings for Dovecot 2.3, printed by "mailtrail config dovecot".
# Paste into /etc/dovecot/conf.d/95-mailtrail.conf (or the end of dovecot.conf)
# and run "doveadm reload". mailtrail serve must run with --dovecot (and
# --dovecot-log %s) on the address below.

## Access control: Dovecot asks mailtrail before every IMAP, POP3 and SMTP AUTH
## login (Postfix SASL goes through Dovecot), and reports the outcome after it.
auth_policy_server_url = %s%s
auth_policy_hash_nonce = %s
# %%{fail_type} is left out on purpose: Dovecot 2.3.19 does not know it and
# logs an error on every request.
auth_policy_request_attributes = login=%%{requested_username} pwhash=%%{hashed_password} remote=%%{rip} local=%%{lip} device_id=%%{client_id} protocol=%%s session_id=%%{session}
auth_policy_check_before_auth = yes
auth_policy_check_after_auth = yes
auth_policy_report_after_auth = yes
# When mailtrail cannot be reached: yes = the login fails (fail closed: no
# access without an audit record), no = the login goes on unchecked (fail open).
auth_policy_reject_on_fail = %s

## Authentication and mailbox events, live. The exporter posts each event once
## and never retries: what it loses while mailtrail is down is caught up from
## log_path below.
event_exporter mailtrail {
  format = json
  format_args = time-rfc3339
  transport = http-post
  transport_args = %s%s
  transport_timeout = 2sec
}
metric mailtrail_events {
  exporter = mailtrail
  exporter_include = name hostname timestamps categories fields
  filter = %s
}

## The log mailtrail follows and catches up from (mailtrail serve --dovecot-log).
log_path = %s
log_timestamp = "%%Y-%%m-%%dT%%H:%%M:%%S "
# Name the reason of a failed login (Password mismatch, unknown user).
auth_verbose = yes
# One log line per mailbox operation (save, copy, flag, delete, expunge, folders).
mail_plugins = $mail_plugins notify mail_log
plugin {
  mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename flag_change save mailbox_create append
  mail_log_fields = uid box msgid size from subject flags
}
`, o.LogPath,
		o.BaseURL, dovecotPolicyPath, o.Nonce, reject,
		o.BaseURL, dovecotEventsPath, strings.Join(filter, " OR "),
		o.LogPath)
	return b.String()
}

type postfixOptions struct {
	PolicyAddr string // mailtrail serve --postfix-policy
	LogFile    string // mailtrail serve --postfix-log; "" = syslog
	Syslog     string // mailtrail serve --syslog
	FailOpen   bool
}

// postfixConfig renders the main.cf settings (and, as comments, the
// master.cf and rsyslog lines they need).
func postfixConfig(o postfixOptions) string {
	var b strings.Builder
	action, actionWhy := "DEFER_IF_PERMIT", "fail closed: mail waits (451) until mailtrail is back; nothing is sent unaudited"
	if o.FailOpen {
		action, actionWhy = "DUNNO", "fail open: mail flows unchecked and without access records while mailtrail is down"
	}
	svc := fmt.Sprintf("check_policy_service { inet:%s, timeout=10s, default_action=%s }", o.PolicyAddr, action)
	fmt.Fprintf(&b, `# mailtrail settings for Postfix 3.x main.cf, printed by "mailtrail config postfix".
# Apply with "postconf -e" line by line (or paste into main.cf) and "postfix reload".
# mailtrail serve must run with --postfix-policy %s.

## Access control: Postfix asks mailtrail about every recipient and again at
## the end of each message (when the queue id and size are known).
# If you already have smtpd_recipient_restrictions, add the check_policy_service
# entry at its end (after reject_unauth_destination or your relay checks).
smtpd_recipient_restrictions = %s
smtpd_end_of_data_restrictions = %s
# When mailtrail cannot be reached: %s.
smtpd_policy_service_default_action = %s
smtpd_policy_service_timeout = 10s
smtpd_policy_service_max_idle = 300s
smtpd_policy_service_max_ttl = 1000s
# A submission service in master.cf that overrides smtpd_recipient_restrictions
# with -o needs the check_policy_service entry in its override too.
`, o.PolicyAddr, svc, svc, actionWhy, action)
	switch {
	case o.LogFile != "":
		fmt.Fprintf(&b, `
## The log mailtrail follows (mailtrail serve --postfix-log %s).
## Needs Postfix 3.4+ and this line in master.cf (postlogd writes the file):
##   postlog   unix-dgram n  -       n       -       1       postlogd
maillog_file = %s
`, o.LogFile, o.LogFile)
	case o.Syslog != "":
		fmt.Fprintf(&b, `
## Postfix logs to syslog; have the syslog daemon forward the mail facility to
## mailtrail serve --syslog %s. For rsyslog, /etc/rsyslog.d/mailtrail.conf:
##   mail.*  @@%s    # TCP (use a single @ for UDP)
`, o.Syslog, o.Syslog)
	default:
		fmt.Fprintf(&b, `
## The log mailtrail follows: run mailtrail serve --postfix-log %s, or
## forward syslog's mail facility to mailtrail serve --syslog HOST:PORT.
## maillog_file needs Postfix 3.4+ and this line in master.cf:
##   postlog   unix-dgram n  -       n       -       1       postlogd
maillog_file = %s
`, defaultPostfixLog, defaultPostfixLog)
	}
	return b.String()
}

// config turns the flags into the server's mail configuration, refusing
// the ones this build does not wire yet.
func (f *mailFlags) config() (app.MailConfig, error) {
	mc := app.MailConfig{Account: f.account, PostfixPolicy: f.postfixPolicy}
	for name, v := range map[string]string{"--postfix-log": f.postfixLog, "--dovecot-log": f.dovecotLog, "--syslog": f.syslog} {
		if v != "" {
			return mc, fmt.Errorf("serve: %s is not available in this build yet", name)
		}
	}
	if f.dovecot {
		return mc, fmt.Errorf("serve: --dovecot is not available in this build yet")
	}
	return mc, nil
}
