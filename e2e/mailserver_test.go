package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The mail-server end-to-end test runs the real Debian Dovecot and Postfix
// on loopback (scripts/mailrig/rig.sh, configured from `mailtrail config`
// output), drives them with real clients (curl for IMAP and POP3, swaks for
// SMTP), manages the organization with the AWS CLI's `aws workmail`, and
// checks the seed documents' Insights queries through `aws logs
// start-query`.

// Programs the test drives; scripts/install-test-deps.sh installs them.
var mailPrograms = []string{
	"/usr/sbin/dovecot", "/usr/bin/doveconf", "/usr/bin/doveadm",
	"/usr/lib/dovecot/imap", "/usr/lib/dovecot/pop3", "/usr/lib/dovecot/lmtp",
	"/usr/sbin/postfix", "/usr/sbin/postconf",
	"/usr/bin/swaks", "/usr/bin/curl", awsCLI,
}

// Users of the rig: Dovecot's passwd-file and the WorkMail organization.
const (
	mailDomain = "example.test"
	alice      = "alice@" + mailDomain
	alicePW    = "alicepw-1"
	bob        = "bob@" + mailDomain
	bobPW      = "bobpw-1"
)

// mailRig is one running Dovecot + Postfix pair and its ports.
type mailRig struct {
	t                                  *testing.T
	dir                                string
	imap, pop3, lmtp, auth, mx, submit string // ports
	dovecotLog, maillog                string
	env                                []string // of rig.sh; nil until up
}

func portOf(t *testing.T) string {
	_, p, _ := net.SplitHostPort(freePort(t))
	return p
}

// fakeMX is the "remote" mail server outbound mail goes to: it accepts
// recipients at accept.test and answers 550 to every other one, so Postfix
// sends the first and bounces the rest.
type fakeMX struct {
	ln       net.Listener
	mu       sync.Mutex
	accepted []string // RCPT TO addresses of delivered messages
	wg       sync.WaitGroup
}

func startFakeMX(t *testing.T) *fakeMX {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &fakeMX{ln: ln}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			m.wg.Add(1)
			go func() { defer m.wg.Done(); m.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); m.wg.Wait() })
	return m
}

func (m *fakeMX) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	say := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
	say("220 mx.remote.test ESMTP fake")
	var rcpts []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(cmd, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			say("250 mx.remote.test")
		case "MAIL":
			rcpts = nil
			say("250 2.1.0 Ok")
		case "RCPT":
			addr := cmd
			if i, j := strings.IndexByte(cmd, '<'), strings.IndexByte(cmd, '>'); i >= 0 && j > i {
				addr = cmd[i+1 : j]
			}
			if strings.HasSuffix(strings.ToLower(addr), "@accept.test") {
				rcpts = append(rcpts, strings.ToLower(addr))
				say("250 2.1.5 Ok")
			} else {
				say("550 5.1.1 <" + addr + ">: Recipient address rejected: User unknown")
			}
		case "DATA":
			say("354 End data with <CR><LF>.<CR><LF>")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if strings.TrimRight(l, "\r\n") == "." {
					break
				}
			}
			m.mu.Lock()
			m.accepted = append(m.accepted, rcpts...)
			m.mu.Unlock()
			say("250 2.0.0 Ok: queued as FAKE1")
		case "QUIT":
			say("221 2.0.0 Bye")
			return
		default:
			say("250 2.0.0 Ok")
		}
	}
}

func (m *fakeMX) got() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.accepted)
}

// newRig makes the rig's directory and picks its ports; t.Cleanup stops
// the servers (also when the test fails), checks that none of their
// processes is left and removes the directory.
func newRig(t *testing.T) *mailRig {
	t.Helper()
	dir, err := os.MkdirTemp("", "mailtrail-rig-")
	if err != nil {
		t.Fatal(err)
	}
	// Dovecot's and Postfix's unprivileged processes must reach their
	// sockets and mailboxes under it.
	os.Chmod(dir, 0o755)
	rg := &mailRig{t: t, dir: dir,
		imap: portOf(t), pop3: portOf(t), lmtp: portOf(t), auth: portOf(t), mx: portOf(t), submit: portOf(t),
		dovecotLog: filepath.Join(dir, "logs", "dovecot.log"), maillog: filepath.Join(dir, "logs", "maillog")}
	t.Cleanup(func() {
		if t.Failed() {
			for _, f := range []string{rg.dovecotLog, rg.maillog} {
				b, _ := os.ReadFile(f)
				t.Logf("--- %s:\n%s", f, b)
			}
		}
		before := rigProcesses(dir)
		if rg.env != nil {
			if out, err := rg.run("down"); err != nil {
				t.Errorf("rig down: %v\n%s", err, out)
			}
		}
		if len(before) == 0 && rg.env != nil {
			t.Errorf("found no process of the rig before stopping it: the leftover check below sees nothing")
		}
		if left := rigProcesses(dir); len(left) > 0 {
			t.Errorf("processes of the rig still running after rig down: %v", left)
		}
		os.RemoveAll(dir)
	})
	return rg
}

func (rg *mailRig) run(verb string) (string, error) {
	script, _ := filepath.Abs("../scripts/mailrig/rig.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, script, verb, rg.dir)
	cmd.Env = rg.env
	// A daemon that kept the output pipe open must not hang the test.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// up writes the rig's configuration (mailtrail's part from `mailtrail
// config`) and starts Dovecot and Postfix.
func (rg *mailRig) up(mailtrailAddr, policyAddr, relay string) {
	rg.t.Helper()
	rg.env = append(os.Environ(),
		"MAILTRAIL="+binPath,
		"MAILTRAIL_ADDR="+mailtrailAddr,
		"MAILTRAIL_POLICY="+policyAddr,
		"MAILRIG_USERS="+alice+":"+alicePW+" "+bob+":"+bobPW,
		"MAILRIG_DOMAIN="+mailDomain,
		"IMAP_PORT="+rg.imap, "POP3_PORT="+rg.pop3, "LMTP_PORT="+rg.lmtp,
		"AUTH_PORT="+rg.auth, "MX_PORT="+rg.mx, "SUBMISSION_PORT="+rg.submit,
		"RELAY="+relay,
	)
	if out, err := rg.run("up"); err != nil {
		rg.t.Fatalf("rig up: %v\n%s", err, out)
	}
}

// rigProcesses lists the running processes of the rig: Dovecot's and
// Postfix's masters (from their pid files) and their children, and every
// process whose command line names the rig (Dovecot's carry its
// instance_name, which holds the directory's name).
func rigProcesses(dir string) []string {
	masters := map[string]bool{}
	for _, f := range []string{filepath.Join(dir, "run", "master.pid"), filepath.Join(dir, "spool", "pid", "master.pid")} {
		if b, err := os.ReadFile(f); err == nil {
			masters[strings.TrimSpace(string(b))] = true
		}
	}
	var left []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid := e.Name()
		cmdline, err := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", pid, "stat"))
		// stat: pid (comm) state ppid ...; comm may hold spaces, so read
		// after the last ')'.
		var state, ppid string
		if k := strings.LastIndexByte(string(stat), ')'); k >= 0 {
			if f := strings.Fields(string(stat[k+1:])); len(f) >= 2 {
				state, ppid = f[0], f[1]
			}
		}
		if state == "Z" {
			continue // exited, waiting to be reaped
		}
		if masters[pid] || masters[ppid] || strings.Contains(string(cmdline), filepath.Base(dir)) {
			left = append(left, pid+":"+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return left
}

// client runs a mail client and returns its exit code and output.
func client(t *testing.T, name string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatalf("%s: %v", name, err)
	}
	return 0, string(out)
}

// want runs a client and checks its exit code.
func (rg *mailRig) want(code int, what, name string, args ...string) string {
	rg.t.Helper()
	got, out := client(rg.t, name, args...)
	if got != code {
		rg.t.Errorf("%s: %s exited %d, want %d\n%s", what, name, got, code, out)
	}
	return out
}

func (rg *mailRig) curl(code int, what, url, user, pass string, extra ...string) string {
	rg.t.Helper()
	args := append([]string{"-sS", "--max-time", "30", url, "-u", user + ":" + pass}, extra...)
	return rg.want(code, what, "/usr/bin/curl", args...)
}

func (rg *mailRig) imapURL(path string) string { return "imap://127.0.0.1:" + rg.imap + "/" + path }
func (rg *mailRig) pop3URL(path string) string { return "pop3://127.0.0.1:" + rg.pop3 + "/" + path }

func (rg *mailRig) swaks(code int, what string, args ...string) string {
	rg.t.Helper()
	return rg.want(code, what, "/usr/bin/swaks", append([]string{"--timeout", "30", "--helo", "client.remote.test", "-s", "127.0.0.1"}, args...)...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// queryGroups runs an Insights query over several log groups through the
// AWS CLI and returns its rows as "field=value" cells (skipping @ptr).
func queryGroups(c cli, groups []string, q string, start, end int64) [][]string {
	c.t.Helper()
	var sq struct {
		QueryID string `json:"queryId"`
	}
	args := []string{"logs", "start-query", "--start-time", itoa(start), "--end-time", itoa(end), "--query-string", q, "--log-group-names"}
	c.ok(&sq, append(args, groups...)...)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var r queryResults
		c.ok(&r, "logs", "get-query-results", "--query-id", sq.QueryID)
		if r.Status != "Running" && r.Status != "Scheduled" {
			if r.Status != "Complete" {
				c.t.Fatalf("query %q ended %s", q, r.Status)
			}
			return rowsOf(r, "@ptr")
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("query %q still %s after 60s", q, r.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rowMatches compares a row with a wanted one whose cells may offer
// alternatives ("auth_failed_reason=InvalidPassword|InvalidCredentials").
func rowMatches(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		field, alts, _ := strings.Cut(want[i], "=")
		ok := false
		for _, a := range strings.Split(alts, "|") {
			if got[i] == field+"="+a {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// rowsMatch compares result rows with wanted rows: in order, or as a
// multiset when ordered is false (queries without a sort).
func rowsMatch(got, want [][]string, ordered bool) bool {
	if len(got) != len(want) {
		return false
	}
	if ordered {
		for i := range got {
			if !rowMatches(got[i], want[i]) {
				return false
			}
		}
		return true
	}
	used := make([]bool, len(got))
next:
	for _, w := range want {
		for i, g := range got {
			if !used[i] && rowMatches(g, w) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}

func fmtRows(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("  " + strings.Join(r, "  ") + "\n")
	}
	return b.String()
}

func TestMailServers(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the mail-server test runs Dovecot and Postfix and needs root")
		}
		t.Skip("needs root to run Dovecot and Postfix")
	}
	for _, p := range mailPrograms {
		need(t, p)
	}
	testStart := time.Now()

	mx := startFakeMX(t)
	rg := newRig(t)
	policyAddr := freePort(t)
	// mailtrail first: with the fail-closed configuration Dovecot refuses
	// every login while its policy server is unreachable.
	s := startServer(t, "", "--mail-account", accountA, "--dovecot", "--dovecot-log", rg.dovecotLog,
		"--postfix-policy", policyAddr, "--postfix-log", rg.maillog)
	a := cli{t, s, keyA, secretA}

	// The organization, its users and the rule, with the AWS CLI.
	var created struct{ OrganizationId string }
	a.ok(&created, "workmail", "create-organization", "--alias", "acme", "--domains", "DomainName="+mailDomain)
	orgID := created.OrganizationId
	userIDs := map[string]string{}
	for _, u := range []struct{ name, pw string }{{"alice", alicePW}, {"bob", bobPW}} {
		var cu struct{ UserId string }
		a.ok(&cu, "workmail", "create-user", "--organization-id", orgID, "--name", u.name, "--display-name", u.name, "--password", u.pw)
		userIDs[u.name] = cu.UserId
	}
	a.ok(nil, "workmail", "put-access-control-rule", "--organization-id", orgID,
		"--name", "deny-imap-bob", "--effect", "DENY", "--description", "bob may not use IMAP",
		"--actions", "IMAP", "--ip-ranges", "0.0.0.0/0", "--user-ids", userIDs["bob"])
	var eff struct{ Effect string }
	a.ok(&eff, "workmail", "get-access-control-effect", "--organization-id", orgID, "--ip-address", "127.0.0.1", "--action", "IMAP", "--user-id", userIDs["bob"])
	if eff.Effect != "DENY" {
		t.Fatalf("get-access-control-effect for bob over IMAP: %s, want DENY", eff.Effect)
	}

	rg.up(s.addr, policyAddr, mx.ln.Addr().String())
	t.Logf("rig up in %s after %s", rg.dir, time.Since(testStart).Round(time.Millisecond))

	// --- Logins over IMAP, POP3 and SMTP submission.
	rg.curl(0, "alice IMAP login", rg.imapURL(""), alice, alicePW)
	rg.curl(67, "alice IMAP wrong password", rg.imapURL(""), alice, "wrong")
	rg.curl(67, "unknown user IMAP", rg.imapURL(""), "ghost@"+mailDomain, "whatever")
	rg.curl(0, "alice POP3 login", rg.pop3URL(""), alice, alicePW)
	rg.curl(67, "alice POP3 wrong password", rg.pop3URL(""), alice, "wrong")
	if out := rg.curl(67, "bob IMAP denied by rule", rg.imapURL(""), bob, bobPW, "-v"); !strings.Contains(out, "denied by access control rule deny-imap-bob") {
		t.Errorf("bob's IMAP refusal does not name the rule:\n%s", out)
	}
	rg.curl(0, "bob POP3 allowed", rg.pop3URL(""), bob, bobPW)
	sub := []string{"-p", rg.submit, "-a", "PLAIN"}
	rg.swaks(28, "alice submission wrong password", slices.Concat(sub, []string{"-au", alice, "-ap", "wrong", "-f", alice, "-t", "x@accept.test"})...)

	// --- Inbound mail through the MX port, delivered over LMTP.
	in := []string{"-p", rg.mx, "-f", "sender@remote.test"}
	rg.swaks(0, "inbound 1 to alice", slices.Concat(in, []string{"-t", alice, "--header", "Subject: inbound 1", "--header", "Message-Id: <inbound-1@remote.test>"})...)
	rg.swaks(0, "inbound 2 to alice", slices.Concat(in, []string{"-t", alice, "--header", "Subject: inbound 2", "--header", "Message-Id: <inbound-2@remote.test>"})...)
	rg.swaks(0, "inbound to bob", slices.Concat(in, []string{"-t", bob, "--header", "Subject: inbound bob", "--header", "Message-Id: <inbound-3@remote.test>"})...)

	// --- Outbound: sent to the fake remote MX, and bounced by it.
	rg.swaks(0, "alice sends", slices.Concat(sub, []string{"-au", alice, "-ap", alicePW, "-f", alice, "-t", "friend@accept.test", "--header", "Subject: outbound ok"})...)
	rg.swaks(0, "alice sends to a bouncing address", slices.Concat(sub, []string{"-au", alice, "-ap", alicePW, "-f", alice, "-t", "nobody@bounce.test", "--header", "Subject: will bounce"})...)
	rg.swaks(0, "bob sends", slices.Concat(sub, []string{"-a", "LOGIN", "-au", bob, "-ap", bobPW, "-f", bob, "-t", "pal@accept.test", "--header", "Subject: from bob"})...)

	waitFor(t, "both accepted messages at the fake MX", 60*time.Second, func() bool { return len(mx.got()) == 2 })
	if got := mx.got(); !slices.Contains(got, "friend@accept.test") || !slices.Contains(got, "pal@accept.test") {
		t.Errorf("fake MX got %v, want friend@ and pal@accept.test", got)
	}
	// Alice's INBOX: two inbound messages and the bounce notice.
	waitFor(t, "3 messages in alice's INBOX", 60*time.Second, func() bool {
		_, out := client(t, "/usr/bin/curl", "-sS", "--max-time", "30", rg.imapURL(""), "-u", alice+":"+alicePW, "-X", "EXAMINE INBOX")
		return strings.Contains(out, "* 3 EXISTS")
	})

	// --- Mailbox operations over IMAP.
	msg := filepath.Join(t.TempDir(), "append.eml")
	os.WriteFile(msg, []byte("Subject: appended by curl\r\nFrom: "+alice+"\r\nMessage-ID: <append-1@example.test>\r\n\r\nbody\r\n"), 0o644)
	rg.curl(0, "APPEND", rg.imapURL("INBOX"), alice, alicePW, "-T", msg)
	rg.curl(0, "CREATE", rg.imapURL(""), alice, alicePW, "-X", "CREATE Projects")
	rg.curl(0, "COPY", rg.imapURL("INBOX"), alice, alicePW, "-X", "UID COPY 1:2 Projects")
	rg.curl(0, "STORE flags", rg.imapURL("INBOX"), alice, alicePW, "-X", `UID STORE 1 +FLAGS (\Flagged)`)
	rg.curl(0, "STORE deleted", rg.imapURL("INBOX"), alice, alicePW, "-X", `UID STORE 2 +FLAGS (\Deleted)`)
	rg.curl(0, "EXPUNGE", rg.imapURL("INBOX"), alice, alicePW, "-X", "EXPUNGE")
	rg.curl(0, "RENAME", rg.imapURL(""), alice, alicePW, "-X", "RENAME Projects Archive")
	rg.curl(0, "DELETE folder", rg.imapURL(""), alice, alicePW, "-X", "DELETE Archive")
	if out := rg.curl(0, "FETCH", rg.imapURL("INBOX;UID=1"), alice, alicePW); !strings.Contains(out, "Subject: inbound 1") {
		t.Errorf("FETCH of UID 1 is not the first inbound message:\n%s", out)
	}
	// --- POP3: bob retrieves and deletes his message.
	if out := rg.curl(0, "POP3 RETR", rg.pop3URL("1"), bob, bobPW); !strings.Contains(out, "Subject: inbound bob") {
		t.Errorf("POP3 RETR 1 is not bob's inbound message:\n%s", out)
	}
	rg.curl(0, "POP3 DELE", rg.pop3URL("1"), bob, bobPW, "-X", "DELE", "-I")
	t.Logf("clients done after %s", time.Since(testStart).Round(time.Millisecond))

	// --- The seed documents' queries.
	start, end := testStart.Add(-5*time.Minute).Unix(), time.Now().Add(5*time.Minute).Unix()
	events := []string{"/aws/workmail/emailevents/acme"}
	audit := []string{
		"/aws/vendedlogs/workmail/acme/ACCESS_CONTROL_LOGS",
		"/aws/vendedlogs/workmail/acme/AUTHENTICATION_LOGS",
		"/aws/vendedlogs/workmail/acme/WORKMAIL_MAILBOX_ACCESS_LOGS",
	}
	badPassword := "InvalidPassword|InvalidCredentials"
	seeds := []struct {
		name    string
		groups  []string
		query   string
		skip    []string
		ordered bool
		want    [][]string
	}{
		{"000 scenario 1: mail received from a domain", events,
			`fields @timestamp, event.eventName
| sort @timestamp asc
| filter (event.from like "remote.test" and event.eventName = "ORGANIZATION_EMAIL_RECEIVED")`,
			[]string{"@timestamp"}, true, [][]string{
				{"event.eventName=ORGANIZATION_EMAIL_RECEIVED"},
				{"event.eventName=ORGANIZATION_EMAIL_RECEIVED"},
				{"event.eventName=ORGANIZATION_EMAIL_RECEIVED"},
			}},
		{"000 scenario 2: mail per recipient", events,
			`stats count(*) as c by event.recipient
| filter event.eventName = "MAILBOX_EMAIL_DELIVERED"
| sort c desc`, nil, true, [][]string{
				{"event.recipient=" + alice, "c=3"},
				{"event.recipient=" + bob, "c=1"},
			}},
		{"000 scenario 2: mail per sender", events,
			`stats count(*) as c by event.from
| filter event.eventName = "OUTGOING_EMAIL_SUBMITTED"
| sort c desc`, nil, true, [][]string{
				{"event.from=" + alice, "c=2"},
				{"event.from=" + bob, "c=1"},
			}},
		{"000 scenario 3 / 002: failed logins", audit,
			`fields user, source_ip, protocol, auth_successful, auth_failed_reason | filter auth_successful = 0`,
			nil, false, [][]string{
				{"user=" + alice, "source_ip=127.0.0.1", "protocol=IMAP", "auth_successful=0", "auth_failed_reason=" + badPassword},
				{"user=ghost@" + mailDomain, "source_ip=127.0.0.1", "protocol=IMAP", "auth_successful=0", "auth_failed_reason=UnknownUser|InvalidCredentials"},
				{"user=" + alice, "source_ip=127.0.0.1", "protocol=POP3", "auth_successful=0", "auth_failed_reason=" + badPassword},
				{"user=" + bob, "source_ip=127.0.0.1", "protocol=IMAP", "auth_successful=0", "auth_failed_reason=AccessDenied"},
				{"user=" + alice, "source_ip=127.0.0.1", "protocol=SMTP", "auth_successful=0", "auth_failed_reason=" + badPassword},
			}},
		{"000 scenario 4 / 002: access denied by a rule", audit,
			`fields user_id, source_ip, protocol, rule_id, access_granted | filter access_granted = 0`,
			nil, false, [][]string{
				{"user_id=" + userIDs["bob"], "source_ip=127.0.0.1", "protocol=IMAP", "rule_id=deny-imap-bob", "access_granted=0"},
			}},
	}
	for _, sd := range seeds {
		t.Run(sd.name, func(t *testing.T) {
			c := cli{t, s, keyA, secretA}
			var got [][]string
			// Log followers store a few seconds behind the servers: poll.
			deadline := time.Now().Add(30 * time.Second)
			for {
				got = queryGroups(c, sd.groups, sd.query, start, end)
				got = dropCells(got, sd.skip)
				if rowsMatch(got, sd.want, sd.ordered) || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Second)
			}
			if !rowsMatch(got, sd.want, sd.ordered) {
				t.Errorf("query\n%s\nreturned\n%swant\n%s", sd.query, fmtRows(got), fmtRows(sd.want))
			}
		})
	}

	// --- Every email event of the mail flow: 3 inbound messages and the
	// bounce notice Postfix sent to alice are received and delivered; 3
	// submissions, 2 sent and 1 bounced by the remote MX.
	t.Run("email events", func(t *testing.T) {
		c := cli{t, s, keyA, secretA}
		q := `stats count(*) as n by event.eventName | sort event.eventName asc`
		want := [][]string{
			{"event.eventName=MAILBOX_EMAIL_DELIVERED", "n=4"},
			{"event.eventName=ORGANIZATION_EMAIL_RECEIVED", "n=4"},
			{"event.eventName=OUTGOING_EMAIL_BOUNCED", "n=1"},
			{"event.eventName=OUTGOING_EMAIL_SENT", "n=2"},
			{"event.eventName=OUTGOING_EMAIL_SUBMITTED", "n=3"},
		}
		var got [][]string
		deadline := time.Now().Add(30 * time.Second)
		for {
			got = queryGroups(c, events, q, start, end)
			if rowsMatch(got, want, true) || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		if !rowsMatch(got, want, true) {
			t.Errorf("email events:\n%swant\n%s", fmtRows(got), fmtRows(want))
		}
		sent := queryGroups(c, events, `filter event.eventName = "OUTGOING_EMAIL_SENT" | stats count(*) as n by event.recipient | sort event.recipient asc`, start, end)
		if want := [][]string{{"event.recipient=friend@accept.test", "n=1"}, {"event.recipient=pal@accept.test", "n=1"}}; !rowsMatch(sent, want, true) {
			t.Errorf("sent:\n%swant\n%s", fmtRows(sent), fmtRows(want))
		}
	})

	// --- Mailbox access records of the IMAP operations.
	t.Run("mailbox access log", func(t *testing.T) {
		c := cli{t, s, keyA, secretA}
		q := `filter user_id = "` + userIDs["alice"] + `" and protocol = "IMAP" | stats count(*) as n by action, object_type, folder_path`
		want := [][]string{
			{"action=create", "object_type=Message", "folder_path=/INBOX"},    // APPEND
			{"action=create", "object_type=Folder", "folder_path=/Projects"},  // CREATE
			{"action=copy", "object_type=Message", "folder_path=/INBOX"},      // COPY (source)
			{"action=copy_to", "object_type=Folder", "folder_path=/Projects"}, // COPY (destination)
			{"action=update", "object_type=Message", "folder_path=/INBOX"},    // STORE \Flagged
			{"action=delete", "object_type=Message", "folder_path=/INBOX"},    // STORE \Deleted, EXPUNGE
			{"action=update", "object_type=Folder", "folder_path=/Projects"},  // RENAME
			{"action=delete", "object_type=Folder", "folder_path=/Archive"},   // DELETE
			{"action=read", "object_type=Message", "folder_path=/INBOX"},      // FETCH
		}
		var got [][]string
		deadline := time.Now().Add(30 * time.Second)
		for {
			got = dropCells(queryGroups(c, audit[2:], q, start, end), []string{"n"})
			if missing := missingRows(got, want); len(missing) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		if missing := missingRows(got, want); len(missing) > 0 {
			t.Errorf("mailbox access log lacks\n%shas\n%s", fmtRows(missing), fmtRows(got))
		}
		q = `filter user_id = "` + userIDs["bob"] + `" and protocol = "POP3" | stats count(*) as n by action, object_type, folder_path`
		want = [][]string{
			{"action=read", "object_type=Message", "folder_path=/INBOX"},   // RETR
			{"action=delete", "object_type=Message", "folder_path=/INBOX"}, // DELE
		}
		deadline = time.Now().Add(30 * time.Second)
		for {
			got = dropCells(queryGroups(c, audit[2:], q, start, end), []string{"n"})
			if missing := missingRows(got, want); len(missing) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		if missing := missingRows(got, want); len(missing) > 0 {
			t.Errorf("mailbox access log of POP3 lacks\n%shas\n%s", fmtRows(missing), fmtRows(got))
		}
	})

	// --- mailtrail down: new logins are refused (fail closed), an open
	// session goes on, and its events, which the exporter cannot deliver,
	// come back from the Dovecot log when mailtrail is up again.
	t.Run("down and catch-up", func(t *testing.T) {
		imap := dialIMAP(t, "127.0.0.1:"+rg.imap)
		imap.cmd("LOGIN " + alice + " " + alicePW)
		if err := s.stop(); err != nil {
			t.Fatalf("stopping mailtrail: %v\n%s", err, s.log())
		}
		rg.curl(67, "alice IMAP login while mailtrail is down", rg.imapURL(""), alice, alicePW)
		imap.cmd("CREATE Gapfolder")
		imap.cmd("DELETE Gapfolder")
		imap.cmd("LOGOUT")
		s2 := restartServer(t, s)
		c := cli{t, s2, keyA, secretA}
		q := `filter user_id = "` + userIDs["alice"] + `" and folder_path = "/Gapfolder" | stats count(*) as n by action, object_type, folder_path`
		want := [][]string{
			{"action=create", "object_type=Folder", "folder_path=/Gapfolder", "n=1"},
			{"action=delete", "object_type=Folder", "folder_path=/Gapfolder", "n=1"},
		}
		var got [][]string
		deadline := time.Now().Add(30 * time.Second)
		for {
			got = queryGroups(c, audit[2:], q, start, time.Now().Add(5*time.Minute).Unix())
			if rowsMatch(got, want, false) || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		if !rowsMatch(got, want, false) {
			t.Errorf("records of the session's operations while mailtrail was down:\n%swant\n%s", fmtRows(got), fmtRows(want))
		}
		// The catch-up read on from where the last run stopped: nothing
		// stored before was stored again.
		rows := queryGroups(c, audit, `filter access_granted = 0 | stats count(*) as n`, start, time.Now().Add(5*time.Minute).Unix())
		if want := [][]string{{"n=1"}}; !rowsMatch(rows, want, true) {
			t.Errorf("access denials after the restart:\n%swant\n%s", fmtRows(rows), fmtRows(want))
		}
		// The login refused while mailtrail was down is in the audit log
		// too, from the Dovecot log, next to the five earlier failures.
		fails := []string{}
		for _, r := range queryGroups(c, audit, `filter auth_successful = 0 | stats count(*) as n by protocol, user, auth_failed_reason`, start, time.Now().Add(5*time.Minute).Unix()) {
			fails = append(fails, strings.Join(r, " "))
		}
		slices.Sort(fails)
		wantFails := []string{
			"protocol=IMAP user=" + alice + " auth_failed_reason=InvalidCredentials n=1",
			"protocol=IMAP user=" + alice + " auth_failed_reason=PolicyServerUnavailable n=1",
			"protocol=IMAP user=" + bob + " auth_failed_reason=AccessDenied n=1",
			"protocol=IMAP user=ghost@" + mailDomain + " auth_failed_reason=InvalidCredentials n=1",
			"protocol=POP3 user=" + alice + " auth_failed_reason=InvalidCredentials n=1",
			"protocol=SMTP user=" + alice + " auth_failed_reason=InvalidCredentials n=1",
		}
		// The passdb's finer reasons may arrive before the report: accept them.
		for i, f := range fails {
			f = strings.Replace(f, "reason=InvalidPassword", "reason=InvalidCredentials", 1)
			fails[i] = strings.Replace(f, "reason=UnknownUser", "reason=InvalidCredentials", 1)
		}
		slices.Sort(fails)
		if !slices.Equal(fails, wantFails) {
			t.Errorf("failed logins after the restart:\n  %s\nwant\n  %s", strings.Join(fails, "\n  "), strings.Join(wantFails, "\n  "))
		}
	})
	t.Logf("done after %s", time.Since(testStart).Round(time.Millisecond))
}

// imapConn is a raw IMAP session: one that stays open while mailtrail
// stops and starts again.
type imapConn struct {
	t   *testing.T
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialIMAP(t *testing.T, addr string) *imapConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	m := &imapConn{t: t, c: c, r: bufio.NewReader(c)}
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	if l, err := m.r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "* OK") {
		t.Fatalf("IMAP greeting %q: %v", l, err)
	}
	return m
}

// cmd sends one command and fails the test unless it is answered OK.
func (m *imapConn) cmd(command string) {
	m.t.Helper()
	m.tag++
	tag := fmt.Sprintf("g%d", m.tag)
	fmt.Fprintf(m.c, "%s %s\r\n", tag, command)
	for {
		l, err := m.r.ReadString('\n')
		if err != nil {
			m.t.Fatalf("IMAP %s: %v", command, err)
		}
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				m.t.Fatalf("IMAP %s: %s", command, strings.TrimSpace(l))
			}
			return
		}
	}
}

// restartServer starts `mailtrail serve` again with the arguments and the
// address of a stopped one (Dovecot and Postfix are configured with that
// address), and waits until it accepts connections.
func restartServer(t *testing.T, old *server) *server {
	t.Helper()
	s := &server{t: t, addr: old.addr, data: old.data, done: make(chan error, 1)}
	s.cmd = exec.Command(binPath, old.cmd.Args[1:]...)
	pr, pw, _ := os.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited early: %v\n%s", err, s.log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not listen on %s\n%s", s.addr, s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dropCells removes the named fields from every row.
func dropCells(rows [][]string, fields []string) [][]string {
	if len(fields) == 0 {
		return rows
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		var keep []string
		for _, c := range r {
			f, _, _ := strings.Cut(c, "=")
			if !slices.Contains(fields, f) {
				keep = append(keep, c)
			}
		}
		out = append(out, keep)
	}
	return out
}

// missingRows lists the wanted rows that are not among got.
func missingRows(got, want [][]string) [][]string {
	var missing [][]string
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g []string) bool { return rowMatches(g, w) }) {
			missing = append(missing, w)
		}
	}
	return missing
}
