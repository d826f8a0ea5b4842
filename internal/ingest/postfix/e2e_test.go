package postfixlog

// End-to-end check against the real Postfix 3.7 and Dovecot 2.3 binaries on
// loopback: mailtrail's policy server decides, Postfix logs, Follow reads
// the log. It runs only with MAILTRAIL_POSTFIX_E2E=1, as root, with postfix,
// dovecot and swaks installed (Debian: postfix dovecot-core swaks); it starts
// its own instances (own config, queue and base directories, random ports)
// and stops exactly those.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/mailserver/postfix"
	"github.com/mailtrail/mailtrail/internal/store"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// fakeMX answers like a remote MX: 550 to every recipient outside accept.test.
func fakeMX(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				say := func(s string) { io.WriteString(c, s+"\r\n") }
				say("220 mx.remote.test ESMTP fake")
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
						say("250 mx.remote.test")
					case strings.HasPrefix(cmd, "RCPT"):
						if strings.Contains(cmd, "@ACCEPT.TEST") {
							say("250 2.1.5 ok")
						} else {
							say("550 5.1.1 " + strings.TrimSpace(line[8:]) + ": Recipient address rejected: User unknown")
						}
					case cmd == "DATA":
						say("354 go ahead")
						for {
							l, err := br.ReadString('\n')
							if err != nil || strings.TrimRight(l, "\r\n") == "." {
								break
							}
						}
						say("250 2.0.0 Ok: queued as FAKE1")
					case cmd == "QUIT":
						say("221 2.0.0 bye")
						return
					default:
						say("250 2.0.0 ok")
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// run runs a command with its output in a temp file, not a pipe: daemons
// (dovecot, postfix) fork children that inherit stdout, and waiting for a
// pipe's EOF would wait for them.
func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	f, err := os.CreateTemp("", "mailtrail-pf-e2e-out-")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return string(out), err
}

func TestRealPostfix(t *testing.T) {
	if os.Getenv("MAILTRAIL_POSTFIX_E2E") != "1" {
		t.Skip("set MAILTRAIL_POSTFIX_E2E=1 (root, postfix, dovecot, swaks) to run against the real servers")
	}
	for _, bin := range []string{"postfix", "dovecot", "doveadm", "swaks"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	e := newEnv(t)
	e.cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	T, err := os.MkdirTemp("", "mailtrail-pf-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(T) })
	for _, d := range []string{"logs", "mail", "run", "postfix", "spool", "pfdata"} {
		os.MkdirAll(filepath.Join(T, d), 0o755)
	}
	os.Chmod(T, 0o755)
	run(t, "chown", "nobody:nogroup", filepath.Join(T, "mail"))
	run(t, "chown", "postfix", filepath.Join(T, "pfdata"))

	// Access rules: bob may not send (SMTP) from anywhere.
	rules, err := access.Open(filepath.Join(e.dir, "access"), e.users, access.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rules.PutRule(acct, e.org.ID, access.Rule{Name: "deny-smtp-bob", Effect: access.Deny, Description: "no SMTP for bob",
		Actions: []access.Action{access.ActionSMTP}, IpRanges: []string{"0.0.0.0/0"}, UserIds: []string{e.bob.ID}}); err != nil {
		t.Fatal(err)
	}
	srv, err := postfix.NewPolicyServer(postfix.Config{Account: acct, Directory: e.users, Rules: rules, Sink: e.sink, Logger: e.cfg.Logger})
	if err != nil {
		t.Fatal(err)
	}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(pln)
	t.Cleanup(func() { srv.Close() })

	smtpPort, submPort, authPort, deadPort, mxPort := freePort(t), freePort(t), freePort(t), freePort(t), fakeMX(t)
	snippet, err := postfix.MainCF(postfix.SnippetOptions{PolicyAddr: pln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(T, "users"), []byte(fmt.Sprintf(
		"alice@example.test:{PLAIN}alicepw:65534:65534::%[1]s/mail/alice::\nbob@example.test:{PLAIN}bobpw:65534:65534::%[1]s/mail/bob::\n", T)), 0o644)
	dconf := filepath.Join(T, "dovecot.conf")
	os.WriteFile(dconf, []byte(fmt.Sprintf(`protocols = none
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/run/state
instance_name = mailtrail-pf-e2e
log_path = %[1]s/logs/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/users
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = %[2]d
  }
}
`, T, authPort)), 0o644)
	os.WriteFile(filepath.Join(T, "postfix/vmailbox"), []byte("alice@example.test alice/\nbob@example.test bob/\n"), 0o644)
	os.WriteFile(filepath.Join(T, "postfix/transport"), []byte(fmt.Sprintf("bounce.test smtp:[127.0.0.1]:%d\naccept.test smtp:[127.0.0.1]:%d\n", mxPort, mxPort)), 0o644)
	maillog := filepath.Join(T, "logs/maillog")
	os.WriteFile(filepath.Join(T, "postfix/main.cf"), []byte(fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/spool
data_directory = %[1]s/pfdata
maillog_file = %[2]s
maillog_file_prefixes = %[1]s
myhostname = mail.example.test
mydomain = example.test
myorigin = example.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.2/32
relayhost = [127.0.0.1]:%[3]d
transport_maps = texthash:%[1]s/postfix/transport
smtp_dns_support_level = disabled
virtual_mailbox_domains = example.test
virtual_mailbox_maps = texthash:%[1]s/postfix/vmailbox
virtual_mailbox_base = %[1]s/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:%[4]d
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
%[5]s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
biff = no
alias_maps =
alias_database =
`, T, maillog, deadPort, authPort, snippet)), 0o644)
	os.WriteFile(filepath.Join(T, "postfix/master.cf"), []byte(fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
127.0.0.1:%d inet n - n - - smtpd -o syslog_name=postfix/submission -o smtpd_sasl_auth_enable=yes -o smtpd_client_restrictions=permit_sasl_authenticated,reject
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
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
`, smtpPort, submPort)), 0o644)

	if out, err := run(t, "dovecot", "-c", dconf); err != nil {
		t.Fatalf("dovecot: %v\n%s", err, out)
	}
	t.Cleanup(func() { run(t, "doveadm", "-c", dconf, "stop") })
	pfdir := filepath.Join(T, "postfix")
	if out, err := run(t, "postfix", "-c", pfdir, "start"); err != nil {
		t.Fatalf("postfix start: %v\n%s", err, out)
	}
	t.Cleanup(func() { run(t, "postfix", "-c", pfdir, "stop") })

	ctx, cancel := context.WithCancel(context.Background())
	p := e.processor(t)
	// Real time: the classic timestamps are this year's.
	p.cfg.Clock = Clock{Location: time.Local}
	done := make(chan error, 1)
	go func() {
		done <- Follow(ctx, p, FollowConfig{Path: maillog, Checkpoint: filepath.Join(T, "cp.json"), Poll: 20 * time.Millisecond, Logger: e.cfg.Logger})
	}()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(time.Second) // postfix master binds its listeners

	swaks := func(port int, args ...string) string {
		a := append([]string{"--server", fmt.Sprintf("127.0.0.1:%d", port), "--helo", "client.remote.test", "--timeout", "20"}, args...)
		out, _ := run(t, "swaks", a...)
		return out
	}
	in := swaks(smtpPort, "--from", "sender@remote.test", "--to", "alice@example.test")
	if !strings.Contains(in, "250 2.0.0 Ok: queued") {
		t.Errorf("inbound not accepted:\n%s", in)
	}
	swaks(smtpPort, "--from", "sender@remote.test", "--to", "nosuch@example.test")
	auth := func(user, pw string) []string {
		return []string{"--auth", "PLAIN", "--auth-user", user, "--auth-password", pw}
	}
	sent := swaks(submPort, append(auth("alice@example.test", "alicepw"), "--from", "alice@example.test", "--to", "friend@accept.test")...)
	if !strings.Contains(sent, "250 2.0.0 Ok: queued") {
		t.Errorf("submission not accepted:\n%s", sent)
	}
	swaks(submPort, append(auth("alice@example.test", "alicepw"), "--from", "alice@example.test", "--to", "nobody@bounce.test")...)
	denied := swaks(submPort, append(auth("bob@example.test", "bobpw"), "--from", "bob@example.test", "--to", "alice@example.test")...)
	if !strings.Contains(denied, "550 5.7.1") || strings.Contains(denied, "deny-smtp-bob") {
		t.Errorf("bob's submission: want a 550 5.7.1 without the rule name:\n%s", denied)
	}
	swaks(submPort, append(auth("alice@example.test", "wrong"), "--from", "alice@example.test", "--to", "friend@accept.test")...)

	want := []string{
		"ORGANIZATION_EMAIL_RECEIVED alice@example.test",
		"MAILBOX_EMAIL_DELIVERED alice@example.test",
		"INCOMING_EMAIL_BOUNCED nosuch@example.test",
		"OUTGOING_EMAIL_SUBMITTED friend@accept.test",
		"OUTGOING_EMAIL_SENT friend@accept.test",
		"OUTGOING_EMAIL_SUBMITTED nobody@bounce.test",
		"OUTGOING_EMAIL_BOUNCED nobody@bounce.test",
		"ORGANIZATION_EMAIL_RECEIVED alice@example.test <>", // the bounce to alice
		"AUTH alice@example.test true",
		"AUTH alice@example.test false",
		"ACCESS " + e.alice.ID + " true",
		"ACCESS " + e.bob.ID + " false",
	}
	var have map[string]bool
	deadline := time.Now().Add(60 * time.Second)
	for {
		have = e.summaries(t)
		missing := 0
		for _, w := range want {
			if !have[w] {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("missing %q", w)
		}
	}
	// bob's refused submission is no inbound bounce for alice.
	if have["INCOMING_EMAIL_BOUNCED alice@example.test"] {
		t.Error("bob's denied submission reported as INCOMING_EMAIL_BOUNCED for alice")
	}
	// mailtrail down: the snippet's default_action fails closed with a
	// temporary error, and the client is told to retry.
	srv.Close()
	down := swaks(submPort, append(auth("alice@example.test", "alicepw"), "--from", "alice@example.test", "--to", "friend@accept.test")...)
	t.Logf("submission with the policy server down:\n%s", down)
	if !strings.Contains(down, "<** 4") {
		t.Errorf("with the policy server down, want a 4xx reply:\n%s", down)
	}
	if t.Failed() {
		log, _ := os.ReadFile(maillog)
		t.Logf("maillog:\n%s", log)
		for k := range have {
			t.Logf("have %s", k)
		}
	}
}

// summaries describes every stored record of the organization briefly.
func (e *env) summaries(t *testing.T) map[string]bool {
	out := map[string]bool{}
	for _, typ := range []event.LogType{event.LogTypeEmailEvent, event.LogTypeAuthentication, event.LogTypeAccessControl} {
		e.st.GetLogEvents(acct, mailserver.GroupFor(e.org.Alias, typ), e.org.ID, 0, 1<<62, func(ts, ingest int64, msg []byte) bool {
			var r struct {
				Event   event.EmailEventDetail `json:"event"`
				User    string                 `json:"user"`
				UserID  string                 `json:"user_id"`
				AuthOK  *bool                  `json:"auth_successful"`
				Granted *bool                  `json:"access_granted"`
			}
			json.Unmarshal(msg, &r)
			switch {
			case r.AuthOK != nil:
				out[fmt.Sprintf("AUTH %s %v", r.User, *r.AuthOK)] = true
			case r.Granted != nil:
				out[fmt.Sprintf("ACCESS %s %v", r.UserID, *r.Granted)] = true
			default:
				d := r.Event
				who := d.Recipient + strings.Join(d.Recipients, ",")
				if d.BouncedRecipient != nil {
					who = d.BouncedRecipient.EmailAddress
				}
				out[string(d.EventName)+" "+who] = true
				if d.From == "<>" {
					out[string(d.EventName)+" "+who+" <>"] = true
				}
			}
			return true
		})
	}
	return out
}

var _ = store.ErrNotFound
