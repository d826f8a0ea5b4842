package postfix

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/org"
	"github.com/mailtrail/mailtrail/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

const acct = "111122223333"

var t0 = time.Date(2026, 11, 22, 18, 26, 0, 0, time.UTC)

type env struct {
	dir   string
	users *org.Directory
	rules *access.Store
	st    *store.Store
	sink  *mailserver.Sink
	org   org.Organization
	alice org.User
	bob   org.User
	srv   *PolicyServer
	addr  string
	logs  *bytes.Buffer
	done  chan error
}

// lockedBuffer lets the server log from many goroutines.
type lockedBuffer struct {
	mu chan struct{}
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.b.Write(p)
}

func newEnv(t testing.TB, tweak func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	var tick atomic.Int64
	clock := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Millisecond) }
	users, err := org.Open(filepath.Join(dir, "directory"), org.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := access.Open(filepath.Join(dir, "access"), users, access.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o, err := users.CreateOrganization(acct, org.CreateOrganizationInput{Region: "us-east-1", Alias: "acme", Domains: []org.Domain{{DomainName: "example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := users.CreateUser(acct, o.ID, org.CreateUserInput{Name: "alice", DisplayName: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := users.CreateUser(acct, o.ID, org.CreateUserInput{Name: "bob", DisplayName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	cfg := Config{
		Account: acct, Directory: users, Rules: rules, Sink: mailserver.NewSink(st, nil),
		Logger: slog.New(slog.NewTextHandler(lockedBuffer{make(chan struct{}, 1), logs}, nil)),
		Now:    clock,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := NewPolicyServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{dir: dir, users: users, rules: rules, st: st, sink: cfg.Sink, org: o, alice: alice, bob: bob,
		srv: srv, addr: ln.Addr().String(), logs: logs, done: make(chan error, 1)}
	go func() { e.done <- srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return e
}

func (e *env) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ask sends one request block and reads the answer block.
func ask(t testing.TB, c net.Conn, br *bufio.Reader, block string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, block); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	blank, err := br.ReadString('\n')
	if err != nil || blank != "\n" {
		t.Fatalf("answer not ended by an empty line: %q %v", blank, err)
	}
	return strings.TrimSuffix(line, "\n")
}

// capturedBlocks returns the request blocks of the capture (each with its
// ending empty line) and the stub's replies.
func capturedBlocks(t testing.TB) (blocks []string) {
	t.Helper()
	data, err := os.ReadFile("testdata/postfix-policy-requests.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(string(data), ">>> reply:\n") {
		i := strings.Index(part, "request=")
		if i < 0 {
			continue
		}
		body := part[i:]
		end := strings.Index(body, "\n\n")
		blocks = append(blocks, body[:end+2])
	}
	return blocks
}

func (e *env) records(t testing.TB, typ event.LogType) []string {
	t.Helper()
	var out []string
	err := e.st.GetLogEvents(acct, mailserver.GroupFor(e.org.Alias, typ), e.org.ID, 0, math.MaxInt64,
		func(ts, ingest int64, msg []byte) bool { out = append(out, string(msg)); return true })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return out
}

func golden(t *testing.T, name string, got []string) {
	t.Helper()
	text := strings.Join(got, "\n") + "\n"
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != text {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", name, text, want)
	}
}

// The real requests Postfix 3.7 sent in the capture, over one connection
// (Postfix reuses it): with the default allow-all rule every answer is
// DUNNO, and each authenticated transaction gets exactly one record.
func TestCapturedRequestsAllowAll(t *testing.T) {
	e := newEnv(t, nil)
	blocks := capturedBlocks(t)
	if len(blocks) != 12 {
		t.Fatalf("capture has %d blocks, want 12", len(blocks))
	}
	c := e.dial(t)
	br := bufio.NewReader(c)
	for i, b := range blocks {
		if got := ask(t, c, br, b); got != "action=DUNNO" {
			t.Errorf("block %d: answer %q, want action=DUNNO", i, got)
		}
	}
	recs := e.records(t, event.LogTypeAccessControl)
	// 4 submissions (alice x3, bob x1), each asked at RCPT and END-OF-MESSAGE.
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4:\n%s", len(recs), strings.Join(recs, "\n"))
	}
	for _, r := range recs {
		var ac event.AccessControl
		if err := json.Unmarshal([]byte(r), &ac); err != nil {
			t.Fatal(err)
		}
		if err := ac.Validate(); err != nil {
			t.Errorf("invalid record %s: %v", r, err)
		}
		if !ac.AccessGranted || ac.RuleID != access.DefaultRuleName || ac.Protocol != event.ProtocolSMTP {
			t.Errorf("record %s: want granted by %s over SMTP", r, access.DefaultRuleName)
		}
	}
	golden(t, "captured-allow-all.golden.jsonl", normalize(e, recs))
	// The server counts a request once its answer is written, which can be
	// just after the client has read it.
	if s := e.settledStats(func(s Stats) bool { return s.Requests == 12 }); s.Requests != 12 || s.Evaluations != 4 || s.Denied != 0 {
		t.Errorf("stats %+v", s)
	}
}

// normalize replaces the random organization and user ids so golden files
// are stable.
func normalize(e *env, recs []string) []string {
	r := strings.NewReplacer(e.org.ID, "m-ORG", e.alice.ID, "USER-ALICE", e.bob.ID, "USER-BOB")
	out := make([]string, len(recs))
	for i, s := range recs {
		out[i] = r.Replace(s)
	}
	return out
}

// Scenario 25 of the capture with mailtrail as the decision point: a DENY
// SMTP rule for bob rejects his submission with a 550 at the first RCPT,
// alice is unaffected, inbound mail is never evaluated.
func TestDenySMTPRule(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.rules.PutRule(acct, e.org.ID, access.Rule{Name: "deny-smtp-bob", Effect: access.Deny,
		Description: "no SMTP for bob", Actions: []access.Action{access.ActionSMTP},
		IpRanges: []string{"0.0.0.0/0"}, UserIds: []string{e.bob.ID}}); err != nil {
		t.Fatal(err)
	}
	blocks := capturedBlocks(t)
	c := e.dial(t)
	br := bufio.NewReader(c)
	var got []string
	for _, b := range blocks {
		got = append(got, ask(t, c, br, b))
	}
	deny := "action=" + DefaultDenyAction
	for i, b := range blocks {
		want := "action=DUNNO"
		if strings.Contains(b, "sasl_username=bob@") {
			want = deny
		}
		if got[i] != want {
			t.Errorf("block %d: %q, want %q", i, got[i], want)
		}
	}
	if strings.Contains(deny, "deny-smtp-bob") {
		t.Error("deny text names the rule")
	}
	recs := e.records(t, event.LogTypeAccessControl)
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	golden(t, "captured-deny-bob.golden.jsonl", normalize(e, recs))
	var denied int
	for _, r := range recs {
		if strings.Contains(r, `"access_granted":false`) && strings.Contains(r, `"rule_id":"deny-smtp-bob"`) {
			denied++
		}
	}
	if denied != 1 {
		t.Errorf("%d denied records for bob, want 1", denied)
	}
}

func submission(instance, user, state string) string {
	return "request=smtpd_access_policy\nprotocol_state=" + state + "\nclient_address=192.0.2.7\n" +
		"instance=" + instance + "\nsasl_method=PLAIN\nsasl_username=" + user + "\nrecipient=x@remote.test\n\n"
}

// Many RCPTs of one transaction: one evaluation, one record; a second
// transaction on the same connection is evaluated again.
func TestOneRecordPerTransaction(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(t)
	br := bufio.NewReader(c)
	for i := 0; i < 5; i++ {
		ask(t, c, br, submission("a.1", "alice@example.test", "RCPT"))
	}
	ask(t, c, br, submission("a.1", "alice@example.test", "END-OF-MESSAGE"))
	ask(t, c, br, submission("a.2", "alice@example.test", "RCPT"))
	if n := len(e.records(t, event.LogTypeAccessControl)); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

// Framing and bad input: CRLF lines, garbage lines, unknown request type,
// an unknown user, then an oversized request that closes the connection;
// the server keeps serving new connections.
func TestBadInput(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxRequestBytes = 1024 })
	c := e.dial(t)
	br := bufio.NewReader(c)
	crlf := strings.ReplaceAll(submission("b.1", "alice@example.test", "RCPT"), "\n", "\r\n")
	if got := ask(t, c, br, crlf); got != "action=DUNNO" {
		t.Errorf("CRLF request: %q", got)
	}
	if got := ask(t, c, br, "garbage line\n"+submission("b.2", "alice@example.test", "RCPT")); got != "action=DUNNO" {
		t.Errorf("garbage: %q", got)
	}
	if got := ask(t, c, br, "request=junk\n\n"); got != "action=DUNNO" {
		t.Errorf("unknown request type: %q", got)
	}
	if got := ask(t, c, br, submission("b.3", "root", "RCPT")); got != "action=DUNNO" {
		t.Errorf("unknown user: %q", got)
	}
	if got := ask(t, c, br, "\n"); got != "action=DUNNO" {
		t.Errorf("empty request: %q", got)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "request=smtpd_access_policy\nx="+strings.Repeat("a", 2000)+"\n\n")
	if _, err := br.ReadString('\n'); err == nil {
		t.Error("oversized request answered; want the connection closed")
	}
	c2 := e.dial(t)
	if got := ask(t, c2, bufio.NewReader(c2), submission("b.4", "alice@example.test", "RCPT")); got != "action=DUNNO" {
		t.Errorf("after bad connection: %q", got)
	}
	e.srv.Close()
	logs := e.logs.String()
	for _, want := range []string{"lines without '='", "unknown policy request type", "no organization's user", "too large"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if s := e.srv.Stats(); s.BadRequests != 2 {
		t.Errorf("BadRequests %d, want 2", s.BadRequests)
	}
}

func TestTimeouts(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.IdleTimeout = 200 * time.Millisecond
		c.RequestTimeout = 200 * time.Millisecond
	})
	idle := e.dial(t)
	partial := e.dial(t)
	io.WriteString(partial, "request=smtpd_access_policy\n")
	for _, c := range []net.Conn{idle, partial} {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("read after timeout: %v, want EOF (closed by server)", err)
		}
	}
}

// A record that cannot be stored is no decision: the client is told to
// retry, and the failure is not remembered.
func TestStoreFailureTempFails(t *testing.T) {
	e := newEnv(t, nil)
	e.st.Close()
	c := e.dial(t)
	br := bufio.NewReader(c)
	want := "action=" + DefaultTempFailAction
	for i := 0; i < 2; i++ {
		if got := ask(t, c, br, submission("c.1", "alice@example.test", "RCPT")); got != want {
			t.Errorf("try %d: %q, want %q", i, got, want)
		}
	}
	if s := e.srv.Stats(); s.TempFailures != 2 {
		t.Errorf("TempFailures %d, want 2", s.TempFailures)
	}
}

// Close answers the request in progress, closes idle connections, and
// makes Serve return ErrServerClosed.
func TestClose(t *testing.T) {
	e := newEnv(t, nil)
	idle := e.dial(t)
	busy := e.dial(t)
	br := bufio.NewReader(busy)
	ask(t, busy, br, submission("d.1", "alice@example.test", "RCPT"))
	// Half a request: Close must not wait for it beyond ShutdownTimeout.
	io.WriteString(busy, "request=smtpd_access_policy\n")
	closed := make(chan error, 1)
	go func() { closed <- e.srv.Close() }()
	io.WriteString(busy, "sasl_username=alice@example.test\ninstance=d.2\n\n")
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-e.done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("idle connection: %v, want EOF", err)
	}
	if _, err := net.Dial("tcp", e.addr); err == nil {
		t.Error("still accepting after Close")
	}
}

func TestDecisionCacheBounded(t *testing.T) {
	c := newDecisionCache(3, time.Minute)
	for i := 0; i < 10; i++ {
		c.put(fmt.Sprint(i), "DUNNO", t0)
	}
	if c.len() != 3 {
		t.Errorf("len %d, want 3", c.len())
	}
	if _, ok := c.get("9", t0); !ok {
		t.Error("newest entry evicted")
	}
	if _, ok := c.get("0", t0); ok {
		t.Error("oldest entry kept")
	}
	if _, ok := c.get("9", t0.Add(2*time.Minute)); ok {
		t.Error("expired entry returned")
	}
}

// settledStats returns the server's statistics once done reports them
// complete, or after a bounded wait (the test then fails on the values).
func (e *env) settledStats(done func(Stats) bool) Stats {
	var s Stats
	for i := 0; i < 5000; i++ {
		if s = e.srv.Stats(); done(s) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return s
}
