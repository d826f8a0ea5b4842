package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/mailtrail/mailtrail/internal/app"
	postfixlog "github.com/mailtrail/mailtrail/internal/ingest/postfix"
	"github.com/mailtrail/mailtrail/internal/mailserver/dovecot"
	"github.com/mailtrail/mailtrail/internal/mailserver/postfix"
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
	dovecotKey    string // API key required on the Dovecot endpoints
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
	fs.StringVar(&f.syslog, "syslog", "", "receive Postfix's syslog lines on `HOST:PORT` (UDP and TCP; no authentication: keep it on loopback)")
	fs.StringVar(&f.dovecotKey, "dovecot-key", "", "require this `KEY` on the Dovecot endpoints (config prints the matching Dovecot settings)")
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
	dovecotPolicyPath = dovecot.PolicyPath
	dovecotEventsPath = dovecot.EventsPath
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
		text, err := dovecotConfig(dovecotOptions{
			BaseURL:  base,
			LogPath:  orDefault(f.dovecotLog, defaultDovecotLog),
			Nonce:    nonce,
			APIKey:   f.dovecotKey,
			FailOpen: f.failOpen,
		})
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, text)
		return err
	case "postfix":
		policy := orDefault(f.postfixPolicy, defaultPolicyAddr)
		if _, _, err := net.SplitHostPort(policy); err != nil {
			return fmt.Errorf("config: --postfix-policy %q: %w", policy, err)
		}
		text, err := postfixConfig(postfixOptions{
			PolicyAddr: policy,
			LogFile:    f.postfixLog,
			Syslog:     f.syslog,
			FailOpen:   f.failOpen,
		})
		if err != nil {
			return fmt.Errorf("config postfix: %w", err)
		}
		_, err = io.WriteString(stdout, text)
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
	APIKey   string
	FailOpen bool
}

// dovecotConfig renders the Dovecot 2.3 settings: the policy, exporter and
// log-line settings the Dovecot adapter documents (dovecot.ConfigSnippet),
// and the log file mailtrail follows to close the exporter's no-retry gap.
func dovecotConfig(o dovecotOptions) (string, error) {
	snippet, err := dovecot.ConfigSnippet(dovecot.SnippetOptions{
		BaseURL:   o.BaseURL,
		APIKey:    o.APIKey,
		HashNonce: o.Nonce,
		FailOpen:  o.FailOpen,
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`# Printed by "mailtrail config dovecot". Paste into
# /etc/dovecot/conf.d/99-mailtrail.conf (or the end of dovecot.conf) and run
# "doveadm reload". mailtrail serve must run with --dovecot --dovecot-log %s
# on the address below.
%s
# mailtrail answers a policy request once its record is on disk (fsync): allow
# more than the 2 s default for a busy disk, as Postfix's policy timeout does.
auth_policy_server_timeout_msecs = 10000

# The log mailtrail follows (mailtrail serve --dovecot-log): after an outage it
# reads on from where it stopped and stores what the exporter could not
# deliver, skipping what it did.
log_path = %s
log_timestamp = "%%Y-%%m-%%dT%%H:%%M:%%S "
`, o.LogPath, snippet, o.LogPath), nil
}

type postfixOptions struct {
	PolicyAddr string // mailtrail serve --postfix-policy
	LogFile    string // mailtrail serve --postfix-log; "" with Syslog = syslog only
	Syslog     string // mailtrail serve --syslog
	FailOpen   bool
}

// postfixConfig renders the main.cf settings of the policy server
// (postfix.MainCF) and of the log mailtrail reads (postfixlog.ConfigSnippet:
// maillog_file, or the rsyslog forwarding lines for --syslog).
func postfixConfig(o postfixOptions) (string, error) {
	policy, err := postfix.MainCF(postfix.SnippetOptions{PolicyAddr: o.PolicyAddr, FailOpen: o.FailOpen})
	if err != nil {
		return "", err
	}
	logs := postfixlog.SnippetOptions{LogFile: o.LogFile}
	if o.Syslog != "" {
		logs.SyslogTCP, logs.SyslogUDP = o.Syslog, o.Syslog
	} else if o.LogFile == "" {
		logs.LogFile = defaultPostfixLog
	}
	logText, err := postfixlog.ConfigSnippet(logs)
	if err != nil {
		return "", err
	}
	// The rsyslog lines belong in rsyslog's configuration, not main.cf:
	// print them commented, so the whole output still pastes into main.cf.
	var lines []string
	for _, l := range strings.Split(logText, "\n") {
		if strings.HasPrefix(l, "if ") {
			l = "#   " + l
		}
		lines = append(lines, l)
	}
	logText = strings.Join(lines, "\n")
	flags := "--postfix-policy " + o.PolicyAddr
	if logs.LogFile != "" {
		flags += " --postfix-log " + logs.LogFile
	}
	if o.Syslog != "" {
		flags += " --syslog " + o.Syslog
	}
	return fmt.Sprintf(`# Printed by "mailtrail config postfix". Apply to main.cf (postconf -e, or paste)
# and run "postfix reload". mailtrail serve must run with %s.
%s
%s`, flags, policy, logText), nil
}

// config turns the flags into the server's mail configuration, refusing
// the ones this build does not wire yet.
func (f *mailFlags) config() (app.MailConfig, error) {
	mc := app.MailConfig{
		Account:       f.account,
		Dovecot:       f.dovecot,
		DovecotAPIKey: f.dovecotKey,
		DovecotLog:    f.dovecotLog,
		PostfixPolicy: f.postfixPolicy,
		PostfixLog:    f.postfixLog,
	}
	mc.Syslog = f.syslog
	return mc, nil
}
