package dovecot

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
	ingest "github.com/mailtrail/mailtrail/internal/ingest/dovecot"
)

// TestLiveDovecot runs the real Dovecot (Debian's dovecot-imapd and
// dovecot-pop3d) on loopback with the configuration ConfigSnippet prints,
// logs in with curl, and checks what reaches the store: the policy
// endpoint's decisions, the exporter's events (with the API key sent as
// Dovecot sends it) and a log catch-up that adds nothing twice. It needs
// root, dovecot and curl, and runs only with MAILTRAIL_DOVECOT_LIVE=1.
func TestLiveDovecot(t *testing.T) {
	if os.Getenv("MAILTRAIL_DOVECOT_LIVE") != "1" {
		t.Skip("set MAILTRAIL_DOVECOT_LIVE=1 to run against a real Dovecot (needs root, dovecot, curl)")
	}
	for _, bin := range []string{"dovecot", "doveadm", "curl"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("Dovecot's rig needs root")
	}
	const key = "live-s3cret"
	e := newEnv(t, key)
	e.h.cfg.Now = time.Now

	dir, err := os.MkdirTemp("", "mailtrail-dovecot-live-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"logs", "mail", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chown", "nobody:nogroup", filepath.Join(dir, "mail")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	users := fmt.Sprintf("alice@example.test:{PLAIN}alicepw:65534:65534::%[1]s/mail/alice::\nbob@example.test:{PLAIN}bobpw:65534:65534::%[1]s/mail/bob::\n", dir)
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}
	imapPort, pop3Port := freePort(t), freePort(t)
	snippet, err := ConfigSnippet(SnippetOptions{BaseURL: e.srv.URL, APIKey: key, HashNonce: "live-nonce"})
	if err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`protocols = imap pop3
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/run/state
instance_name = mailtrail-live-%[2]d
log_path = %[1]s/logs/dovecot.log
log_timestamp = "%%Y-%%m-%%dT%%H:%%M:%%S "
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = passwd-file
  args = username_format=%%u %[1]s/users
}
service imap-login {
  inet_listener imap {
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[3]d
  }
  inet_listener pop3s {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0600
  }
}
%[4]s`, dir, imapPort, pop3Port, snippet)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// dovecot daemonizes and its children keep the output descriptors: a
	// file, not a pipe, or waiting for the command never ends.
	startLog, err := os.Create(filepath.Join(dir, "logs", "start.log"))
	if err != nil {
		t.Fatal(err)
	}
	start := exec.Command("dovecot", "-c", confPath)
	start.Stdout, start.Stderr = startLog, startLog
	err = start.Run()
	startLog.Close()
	if err != nil {
		out, _ := os.ReadFile(startLog.Name())
		t.Fatalf("starting dovecot: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("doveadm", "-c", confPath, "stop").Run() })

	curl := func(url, user string, args ...string) error {
		cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "20", "--url", url, "--user", user}, args...)...)
		out, err := cmd.CombinedOutput()
		t.Logf("curl %s as %s: %v %s", url, user, err, strings.TrimSpace(string(out)))
		return err
	}
	imap := fmt.Sprintf("imap://127.0.0.1:%d/", imapPort)
	waitPort(t, imapPort)
	if err := curl(imap, "alice@example.test:alicepw", "-X", `LIST "" *`); err != nil {
		t.Errorf("alice's IMAP login failed: %v", err)
	}
	// Mailbox operations, one session each (as a mail client's
	// connections): append, create, copy, flag, fetch, rename, delete.
	msg := filepath.Join(dir, "msg.eml")
	if err := os.WriteFile(msg, []byte("From: alice@example.test\r\nTo: alice@example.test\r\nSubject: live\r\nMessage-ID: <live-1@example.test>\r\n\r\nhello\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ops := [][]string{
		{imap + "INBOX", "-T", msg},
		{imap, "-X", "CREATE Projects"},
		{imap + "INBOX", "-X", "UID COPY 1 Projects"},
		{imap + "INBOX", "-X", `UID STORE 1 +FLAGS (\Seen \Flagged)`},
		{imap + "INBOX;UID=1"},
		{imap, "-X", "RENAME Projects Archive"},
		{imap, "-X", "DELETE Archive"},
	}
	for _, op := range ops {
		if err := curl(op[0], "alice@example.test:alicepw", op[1:]...); err != nil {
			t.Errorf("curl %q: %v", op, err)
		}
	}
	if err := curl(imap, "alice@example.test:wrong"); err == nil {
		t.Error("a wrong password logged in")
	}
	if err := curl(imap, "bob@example.test:bobpw"); err == nil {
		t.Error("bob's IMAP login was not denied by deny-imap-bob")
	}
	if err := curl(fmt.Sprintf("pop3://127.0.0.1:%d/", pop3Port), "bob@example.test:bobpw"); err != nil {
		t.Errorf("bob's POP3 login failed: %v", err)
	}

	// The exporter posts asynchronously: wait for the last login's events.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (len(e.records(event.LogTypeAuthentication)) < 11 || len(e.records(event.LogTypeMailboxAccess)) < 13) {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	acl := e.records(event.LogTypeAccessControl)
	auth := e.records(event.LogTypeAuthentication)
	mbx := e.records(event.LogTypeMailboxAccess)
	logData, _ := os.ReadFile(filepath.Join(dir, "logs", "dovecot.log"))
	// 11 logins; mailbox: LIST; APPEND; CREATE; SELECT, COPY, COPY_TO;
	// SELECT, update_read_state, update; SELECT, FETCH; RENAME; DELETE.
	if t.Failed() || len(acl) != 11 || len(auth) != 11 || len(mbx) != 13 {
		t.Errorf("%d access control, %d authentication, %d mailbox records; want 11, 11, 13", len(acl), len(auth), len(mbx))
		t.Logf("records:\n%s", e.rawRecords(event.LogTypeAccessControl, event.LogTypeAuthentication, event.LogTypeMailboxAccess))
		t.Logf("dovecot.log:\n%s", logData)
	}
	if n := count(acl, func(r map[string]any) bool { return r["rule_id"] == "deny-imap-bob" && r["access_granted"] == false }); n != 1 {
		t.Errorf("%d IMAP denials of bob, want 1", n)
	}
	if n := count(auth, func(r map[string]any) bool { return r["auth_failed_reason"] == ingest.ReasonAccessDenied }); n != 1 {
		t.Errorf("%d AccessDenied authentications, want 1", n)
	}
	for _, bad := range []string{"Failed to export event", "Policy server HTTP error", "Error:"} {
		if strings.Contains(string(logData), bad) {
			t.Errorf("dovecot.log has %q:\n%s", bad, logData)
		}
	}
	if st := e.h.Stats(); st.Unauthorized != 0 || st.BadRequests != 0 {
		t.Errorf("stats %+v", st)
	}

	// Catching up from the log adds nothing the live paths delivered: no
	// login, none of the per-message mail_log lines of the commands the
	// exporter reported; only the automatic creation of bob's INBOX at his
	// first POP3 login, which no event reports.
	f, err := os.Open(filepath.Join(dir, "logs", "dovecot.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ls, err := e.h.IngestLog(context.Background(), f, LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := e.records(event.LogTypeMailboxAccess)
	added := count(after, func(r map[string]any) bool {
		return r["action"] == "create" && r["folder_path"] == "/INBOX" && r["object_type"] == "Folder"
	})
	if ls.Written != 1 || ls.Parser.Malformed != 0 || len(e.records(event.LogTypeAuthentication)) != len(auth) ||
		len(after) != len(mbx)+1 || added != 1 {
		t.Errorf("log catch-up: %+v, want only bob's INBOX autocreate written", ls)
		t.Logf("records:\n%s", e.rawRecords(event.LogTypeAuthentication, event.LogTypeMailboxAccess))
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int) {
	for i := 0; i < 50; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d", port)
}
