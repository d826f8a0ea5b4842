package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/mailserver/dovecot"
	"github.com/mailtrail/mailtrail/internal/org"
	"github.com/mailtrail/mailtrail/internal/store"
)

// followerRig is a Dovecot handler over a real store, directory and rules,
// with one organization (acme, example.test) and its user alice; stored
// records are collected from the sink's notifier.
type followerRig struct {
	t       testing.TB
	dir     string
	st      *store.Store
	handler *dovecot.Handler

	mu      sync.Mutex
	folders []string // folder_path of every stored mailbox-access record
}

func newFollowerRig(t testing.TB) *followerRig {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d, err := org.Open(filepath.Join(dir, "orgs"), org.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := d.CreateOrganization("111111111111", org.CreateOrganizationInput{Region: "us-east-1", Alias: "acme", Domains: []org.Domain{{DomainName: "example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser("111111111111", o.ID, org.CreateUserInput{Name: "alice", DisplayName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	rules, err := access.Open(filepath.Join(dir, "rules"), d, access.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &followerRig{t: t, dir: dir, st: st}
	sink := mailserver.NewSink(st, func(account, group, stream string, events []store.Event) {
		if !strings.HasSuffix(group, "/WORKMAIL_MAILBOX_ACCESS_LOGS") {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range events {
			var rec struct {
				FolderPath string `json:"folder_path"`
			}
			json.Unmarshal(e.Message, &rec)
			r.folders = append(r.folders, rec.FolderPath)
		}
	})
	if r.handler, err = dovecot.NewHandler(dovecot.Config{Account: "111111111111", Dir: d, Rules: rules, Sink: sink,
		Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	return r
}

// start runs a follower of path until the returned stop is called.
func (r *followerRig) start(path string) (stop func()) {
	f := &dovecotFollower{
		path:       path,
		checkpoint: filepath.Join(r.dir, "checkpoint.json"),
		lag:        time.Millisecond,
		poll:       5 * time.Millisecond,
		feeder:     r.handler.NewLogFeeder(dovecot.LogOptions{}),
		log:        slog.New(slog.DiscardHandler),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.run(ctx) }()
	return func() { cancel(); <-done }
}

func (r *followerRig) stored() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.folders...)
}

// waitStored waits until the folders stored are exactly want.
func (r *followerRig) waitStored(want ...string) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := r.stored()
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("stored folders %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// folderLine is a Dovecot mail_log line creating a folder in its own
// session (one session per line keeps the lines independent).
func folderLine(n int, folder string) string {
	return fmt.Sprintf("2026-11-22T18:26:%02d imap(alice@example.test)<%d><sess%08dAAAB>: Info: Mailbox created: %s\n", n%60, 22000+n, n, folder)
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestDovecotFollower checks the Dovecot log follower: a file that appears
// after the start, growth, a partial last line, rotation by rename and
// create, truncation, and a restart that resumes at the saved position
// without storing anything twice.
func TestDovecotFollower(t *testing.T) {
	r := newFollowerRig(t)
	path := filepath.Join(r.dir, "dovecot.log")
	stop := r.start(path)

	// The file does not exist yet: Dovecot creates it on first write.
	time.Sleep(20 * time.Millisecond)
	appendFile(t, path, folderLine(1, "One"))
	r.waitStored("/One")

	// A line written in two parts is read once, whole.
	l := folderLine(2, "Two")
	appendFile(t, path, l[:20])
	time.Sleep(30 * time.Millisecond)
	appendFile(t, path, l[20:])
	r.waitStored("/One", "/Two")

	// Rotation: the old file keeps a last line written after the rename;
	// the new file at the path is read from its start.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path+".1", folderLine(3, "Three"))
	appendFile(t, path, folderLine(4, "Four"))
	r.waitStored("/One", "/Two", "/Three", "/Four")

	// Truncation (copytruncate): read from the start again.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	appendFile(t, path, folderLine(5, "Five"))
	r.waitStored("/One", "/Two", "/Three", "/Four", "/Five")

	// Stop, write while stopped (the exporter's gap), start again: only the
	// new line is stored.
	stop()
	appendFile(t, path, folderLine(6, "Six"))
	stop = r.start(path)
	defer stop()
	r.waitStored("/One", "/Two", "/Three", "/Four", "/Five", "/Six")
	time.Sleep(50 * time.Millisecond)
	r.waitStored("/One", "/Two", "/Three", "/Four", "/Five", "/Six")
}

// TestStartMail starts the server with every mail-server listener on and
// shuts it down: the Dovecot routes share the HTTP port with the Logs and
// WorkMail APIs, the Postfix policy server answers, and Shutdown stops all.
func TestStartMail(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.MkdirAll(logs, 0o755)
	srv, err := Start(Config{
		DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", NoAuth: true,
		Logger: slog.New(slog.DiscardHandler),
		Mail: MailConfig{
			Dovecot: true, DovecotLog: filepath.Join(logs, "dovecot.log"),
			PostfixPolicy: "127.0.0.1:0", PostfixLog: filepath.Join(logs, "maillog"), Syslog: "127.0.0.1:0",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr()
	post := func(path, target, body string) int {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// A login of no organization: allowed, unrecorded.
	if code := post("/dovecot/policy?command=allow", "", `{"login":"x@nowhere.test","protocol":"imap","remote":"127.0.0.1"}`); code != 200 {
		t.Errorf("Dovecot policy: HTTP %d", code)
	}
	if code := post("/", "WorkMailService.ListOrganizations", `{}`); code != 200 {
		t.Errorf("WorkMail ListOrganizations: HTTP %d", code)
	}
	if code := post("/", "Logs_20140328.DescribeLogGroups", `{}`); code != 200 {
		t.Errorf("Logs DescribeLogGroups: HTTP %d", code)
	}
	c, err := net.Dial("tcp", srv.PostfixPolicyAddr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\nrecipient=a@b.test\n\n")
	reply, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if err != nil || reply != "action=DUNNO\n" {
		t.Errorf("Postfix policy reply %q, %v; want action=DUNNO", reply, err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", srv.PostfixPolicyAddr()); err == nil {
		t.Error("the Postfix policy server still accepts after Shutdown")
	}
}

// TestSyslogEmailEvents sends one inbound message's Postfix log lines over
// syslog (TCP, newline-framed, and UDP) and finds its email events in the
// organization's log group through the Logs API.
func TestSyslogEmailEvents(t *testing.T) {
	dir := t.TempDir()
	srv, err := Start(Config{
		DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", NoAuth: true,
		Logger: slog.New(slog.DiscardHandler),
		Mail:   MailConfig{Syslog: "127.0.0.1:0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	call := func(target, body string) (map[string]any, int) {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+srv.Addr()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out, resp.StatusCode
	}
	if out, code := call("WorkMailService.CreateOrganization", `{"Alias":"acme","Domains":[{"DomainName":"example.test"}]}`); code != 200 {
		t.Fatalf("CreateOrganization: HTTP %d %v", code, out)
	}

	stamp := time.Now().Format(time.Stamp)
	lines := []string{
		"postfix/smtpd[21805]: D0AC09881D6: client=localhost[127.0.0.1]",
		"postfix/cleanup[21810]: D0AC09881D6: message-id=<inbound-1@remote.test>",
		"postfix/qmgr[21348]: D0AC09881D6: from=<sender@remote.test>, size=421, nrcpt=1 (queue active)",
		"postfix/lmtp[21811]: D0AC09881D6: to=<alice@example.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.21, delays=0.06/0.02/0.12/0.01, dsn=2.0.0, status=sent (250 2.0.0 <alice@example.test> zNu5OtgzA2s1VQAAg+zDdQ Saved)",
		"postfix/qmgr[21348]: D0AC09881D6: removed",
	}
	syslogAddr := srv.mail.syslogLn.Addr().String()
	tcp, err := net.Dial("tcp", syslogAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[:3] {
		fmt.Fprintf(tcp, "<22>%s mail %s\n", stamp, l)
	}
	tcp.Close()
	udp, err := net.Dial("udp", syslogAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[3:] {
		fmt.Fprintf(udp, "<22>%s mail %s", stamp, l)
	}
	udp.Close()

	deadline := time.Now().Add(20 * time.Second)
	for {
		// The group appears with the first record.
		out, _ := call("Logs_20140328.FilterLogEvents", `{"logGroupName":"/aws/workmail/emailevents/acme"}`)
		var names []string
		evs, _ := out["events"].([]any)
		for _, e := range evs {
			msg, _ := e.(map[string]any)["message"].(string)
			var rec struct {
				Event struct{ EventName string } `json:"event"`
			}
			json.Unmarshal([]byte(msg), &rec)
			names = append(names, rec.Event.EventName)
		}
		slices.Sort(names)
		if fmt.Sprint(names) == "[MAILBOX_EMAIL_DELIVERED ORGANIZATION_EMAIL_RECEIVED]" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("email events from syslog: %v, want MAILBOX_EMAIL_DELIVERED and ORGANIZATION_EMAIL_RECEIVED", names)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkDovecotFollowerCatchUp measures reading a Dovecot log written
// while mailtrail was down: mail_log folder lines, parsed, de-duplicated
// and stored.
func BenchmarkDovecotFollowerCatchUp(b *testing.B) {
	const lines = 20000
	var sb strings.Builder
	for i := range lines {
		sb.WriteString(folderLine(i, fmt.Sprintf("F%d", i)))
	}
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := newFollowerRig(b)
		path := filepath.Join(r.dir, "dovecot.log")
		os.WriteFile(path, []byte(sb.String()), 0o644)
		b.StartTimer()
		stop := r.start(path)
		for len(r.stored()) < lines {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
