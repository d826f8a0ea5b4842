package dovecot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/event"
	ingest "github.com/mailtrail/mailtrail/internal/ingest/dovecot"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/org"
	"github.com/mailtrail/mailtrail/internal/store"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// The captures live with the parser package that owns them.
const captures = "../../ingest/dovecot/testdata/captures"

const acct = "111122223333"

type env struct {
	t          testing.TB
	h          *Handler
	st         *store.Store
	dir        *org.Directory
	rules      *access.Store
	org        org.Organization
	alice, bob org.User
	srv        *httptest.Server

	mu  sync.Mutex
	now time.Time
}

// clock advances a millisecond per reading, so records are ordered and
// sessionless ids differ, yet every run is the same.
func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(time.Millisecond)
	return e.now
}

func newEnv(t testing.TB, apiKey string) *env {
	t.Helper()
	base := t.TempDir()
	st, err := store.Open(filepath.Join(base, "store"), store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, now: time.Date(2026, 11, 22, 18, 25, 0, 0, time.UTC)}
	fixed := func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }
	if e.dir, err = org.Open(filepath.Join(base, "org"), org.Options{Now: fixed}); err != nil {
		t.Fatal(err)
	}
	if e.org, err = e.dir.CreateOrganization(acct, org.CreateOrganizationInput{
		Region: "us-east-1", Alias: "example", Domains: []org.Domain{{DomainName: "example.test"}},
	}); err != nil {
		t.Fatal(err)
	}
	if e.alice, err = e.dir.CreateUser(acct, e.org.ID, org.CreateUserInput{Name: "alice", DisplayName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	if e.bob, err = e.dir.CreateUser(acct, e.org.ID, org.CreateUserInput{Name: "bob", DisplayName: "Bob"}); err != nil {
		t.Fatal(err)
	}
	if e.rules, err = access.Open(filepath.Join(base, "rules"), e.dir, access.Options{Now: fixed}); err != nil {
		t.Fatal(err)
	}
	// The rig's rule: bob may not use IMAP from anywhere.
	e.putRule(access.Rule{Name: "deny-imap-bob", Effect: access.Deny, Description: "no IMAP for bob",
		Actions: []access.Action{access.ActionIMAP}, IpRanges: []string{"0.0.0.0/0"}, UserIds: []string{e.bob.ID}})
	e.h, err = NewHandler(Config{
		Account: acct, Dir: e.dir, Rules: e.rules, Sink: mailserver.NewSink(st, nil),
		Logger: slog.New(slog.DiscardHandler), APIKey: apiKey, Now: e.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) putRule(r access.Rule) {
	if _, err := e.rules.PutRule(acct, e.org.ID, r); err != nil {
		e.t.Fatal(err)
	}
}

// post sends a body the way Dovecot does and returns status and body.
func (e *env) post(path string, body []byte, hdr map[string]string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// records returns the stored records of one log type, in time order.
func (e *env) records(t event.LogType) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	err := e.st.GetLogEvents(acct, mailserver.GroupFor(e.org.Alias, t), e.org.ID, 0, math.MaxInt64, func(ts, _ int64, msg []byte) bool {
		var m map[string]any
		if err := json.Unmarshal(msg, &m); err != nil {
			e.t.Fatalf("stored record %s: %v", msg, err)
		}
		if int64(m["event_timestamp"].(float64)) != ts {
			e.t.Errorf("event timestamp %d != record's event_timestamp in %s", ts, msg)
		}
		out = append(out, m)
		return true
	})
	if err != nil && err != store.ErrNotFound && !strings.Contains(err.Error(), "not found") {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) rawRecords(types ...event.LogType) []byte {
	var buf bytes.Buffer
	for _, t := range types {
		_ = e.st.GetLogEvents(acct, mailserver.GroupFor(e.org.Alias, t), e.org.ID, 0, math.MaxInt64, func(_, _ int64, msg []byte) bool {
			// Organization and user ids are random per run, and folder
			// ids hash the user id: name them.
			pairs := []string{e.org.ID, "m-ORG", e.alice.ID, "ALICE-ID", e.bob.ID, "BOB-ID"}
			for _, u := range []org.User{e.alice, e.bob} {
				for _, f := range []string{"INBOX", "Projects", "Archive", "/"} {
					pairs = append(pairs, ingest.FolderID(u.ID, f), "FOLDER-"+u.Name+"-"+f)
				}
			}
			s := strings.NewReplacer(pairs...).Replace(string(msg))
			fmt.Fprintf(&buf, "%s\t%s\n", t, s)
			return true
		})
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\ngot:\n%s", name, got)
	}
}

type capturedPost struct {
	Query    string
	Headers  map[string]string
	Body     json.RawMessage
	Response *policyResponse
}

func readPosts(t testing.TB, name string) []capturedPost {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(captures, name))
	if err != nil {
		t.Fatal(err)
	}
	var out []capturedPost
	for n, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var p capturedPost
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatalf("%s:%d: %v", name, n+1, err)
		}
		out = append(out, p)
	}
	return out
}

// replayPolicy sends the captured policy requests in order and checks each
// answer against the rig's: the same decision, the same client-visible
// msg. The rig's DELAY rule (status 2) has no WorkMail equivalent: mailtrail
// allows (0). Before the request the rig denied with deny-smtp-bob, that
// rule is added, as the rig's exercise did.
func (e *env) replayPolicy(t *testing.T) {
	for i, p := range readPosts(t, "dovecot-auth-policy.jsonl") {
		if p.Response != nil && strings.Contains(p.Response.Msg, "deny-smtp-bob") {
			e.putRule(access.Rule{Name: "deny-smtp-bob", Effect: access.Deny, Description: "no SMTP for bob",
				Actions: []access.Action{access.ActionSMTP}, UserIds: []string{e.bob.ID}})
		}
		hdr := map[string]string{"User-Agent": p.Headers["User-Agent"]}
		code, body := e.post(PolicyPath+"?"+p.Query, p.Body, hdr)
		if code != http.StatusOK {
			t.Fatalf("request %d (%s %s): HTTP %d %s", i+1, p.Query, p.Body, code, body)
		}
		var got policyResponse
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("request %d: answer %q: %v", i+1, body, err)
		}
		want := *p.Response
		if want.Status > 0 {
			want = policyResponse{}
		}
		if got != want {
			t.Errorf("request %d (%s %s): answer %+v, want %+v", i+1, p.Query, p.Body, got, want)
		}
	}
}

func (e *env) replayEvents(t *testing.T, skip func(ingest.Fields) bool) {
	for i, p := range readPosts(t, "dovecot-events.jsonl") {
		if skip != nil {
			ev, err := ingest.ParseEvent(p.Body)
			if err != nil {
				t.Fatal(err)
			}
			if skip(ev.Fields) {
				continue
			}
		}
		code, body := e.post(EventsPath, p.Body, nil)
		if code != http.StatusNoContent {
			t.Fatalf("event %d: HTTP %d %s", i+1, code, body)
		}
	}
}

func count(recs []map[string]any, pred func(map[string]any) bool) int {
	n := 0
	for _, r := range recs {
		if pred(r) {
			n++
		}
	}
	return n
}

func TestPolicyReplay(t *testing.T) {
	e := newEnv(t, "")
	e.replayPolicy(t)

	acl := e.records(event.LogTypeAccessControl)
	// One record per attempt (24 reports), not per allow (42): the
	// after-auth allow repeats the before-auth one.
	if len(acl) != 24 {
		t.Errorf("%d access control records, want 24 (one per attempt)", len(acl))
	}
	denied := count(acl, func(r map[string]any) bool { return r["access_granted"] == false })
	if denied != 2 {
		t.Errorf("%d denials, want 2 (bob over IMAP, then over SMTP)", denied)
	}
	for _, r := range acl {
		if r["scope"] != "AccessControl" || r["organization_arn"] != e.org.ARN || r["request_id"] == "" {
			t.Errorf("record %v", r)
		}
		switch {
		case r["access_granted"] == false && r["protocol"] == "IMAP":
			if r["rule_id"] != "deny-imap-bob" || r["user_id"] != e.bob.ID {
				t.Errorf("IMAP denial %v", r)
			}
		case r["access_granted"] == false:
			if r["rule_id"] != "deny-smtp-bob" || r["protocol"] != "SMTP" {
				t.Errorf("SMTP denial %v", r)
			}
		default:
			if r["rule_id"] != access.DefaultRuleName {
				t.Errorf("allow decided by %v, want the default rule: %v", r["rule_id"], r)
			}
		}
	}
	// ghost@example.test is in no directory but in the organization's
	// domain: evaluated without a user id (no user condition matches it).
	if n := count(acl, func(r map[string]any) bool { return r["user_id"] == nil || r["user_id"] == "" }); n != 1 {
		t.Errorf("%d records without user_id, want 1 (ghost)", n)
	}

	auth := e.records(event.LogTypeAuthentication)
	if len(auth) != 24 {
		t.Errorf("%d authentication records, want 24", len(auth))
	}
	failed := count(auth, func(r map[string]any) bool { return r["auth_successful"] == false })
	if failed != 6 {
		t.Errorf("%d failed authentications, want 6", failed)
	}
	if n := count(auth, func(r map[string]any) bool { return r["auth_failed_reason"] == ingest.ReasonAccessDenied }); n != 2 {
		t.Errorf("%d AccessDenied, want 2", n)
	}
	st := e.h.Stats()
	if st.PolicyDeny != 2 || st.PolicyAllow != 40 || st.PolicyReport != 24 || st.Duplicates != 18 {
		t.Errorf("stats %+v", st)
	}
	golden(t, "policy-replay.records", e.rawRecords(event.LogTypeAccessControl, event.LogTypeAuthentication))
}

func TestEventsReplay(t *testing.T) {
	e := newEnv(t, "")
	e.replayEvents(t, nil)
	auth := e.records(event.LogTypeAuthentication)
	if len(auth) != 18 { // sessionless SMTP AUTH is not taken from events
		t.Errorf("%d authentication records, want 18", len(auth))
	}
	mbx := e.records(event.LogTypeMailboxAccess)
	if len(mbx) != 22 {
		t.Errorf("%d mailbox records, want 22", len(mbx))
	}
	if n := count(mbx, func(r map[string]any) bool { return r["protocol"] == "IncomingEmail" }); n != 3 {
		t.Errorf("%d deliveries, want 3", n)
	}
	st := e.h.Stats()
	if st.Events != 359 || st.EventsIgnored == 0 || st.BadRequests != 0 {
		t.Errorf("stats %+v", st)
	}
	golden(t, "events-replay.records", e.rawRecords(event.LogTypeAuthentication, event.LogTypeMailboxAccess))
}

// TestAllPathsNoDoubles: policy, exporter and then a catch-up of the whole
// log file write each authentication once, and the log adds only what the
// exporter cannot see (POP3's automatic INBOX creation).
func TestAllPathsNoDoubles(t *testing.T) {
	e := newEnv(t, "")
	e.replayPolicy(t)
	e.replayEvents(t, nil)
	if n := len(e.records(event.LogTypeAuthentication)); n != 24 {
		t.Errorf("%d authentication records after policy and events, want 24", n)
	}
	before := len(e.records(event.LogTypeMailboxAccess))
	f, err := os.Open(filepath.Join(captures, "dovecot.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ls, err := e.h.IngestLog(context.Background(), f, LogOptions{Parser: ingest.ParserOptions{Location: time.UTC}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.records(event.LogTypeAuthentication)); n != 24 {
		t.Errorf("%d authentication records after the log catch-up, want 24", n)
	}
	mbx := e.records(event.LogTypeMailboxAccess)
	if len(mbx) != before+1 {
		for _, r := range mbx[before:] {
			t.Logf("added: %v", r)
		}
		t.Errorf("log catch-up added %d mailbox records, want 1 (POP3 INBOX autocreate)", len(mbx)-before)
	}
	if ls.Written != 1 || ls.Parser.Malformed != 0 {
		t.Errorf("log stats %+v", ls)
	}
}

// TestCatchUpFillsExporterGap: events of two sessions are lost (mailtrail
// was down); the log catch-up writes exactly their records.
func TestCatchUpFillsExporterGap(t *testing.T) {
	lost := map[string]bool{"ovGkn+FgRN5/AAAB": true, "NKnQm+FgsMh/AAAB": true} // the copy, the unknown user
	e := newEnv(t, "")
	e.replayEvents(t, func(f ingest.Fields) bool { return lost[string(f.Session)] })
	authBefore := len(e.records(event.LogTypeAuthentication))
	mbxBefore := len(e.records(event.LogTypeMailboxAccess))
	f, err := os.Open(filepath.Join(captures, "dovecot.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := e.h.IngestLog(context.Background(), f, LogOptions{Parser: ingest.ParserOptions{Location: time.UTC}}); err != nil {
		t.Fatal(err)
	}
	auth := e.records(event.LogTypeAuthentication)
	if len(auth)-authBefore != 2 { // alice's login and ghost's failure
		t.Errorf("catch-up added %d authentication records, want 2", len(auth)-authBefore)
	}
	if n := count(auth, func(r map[string]any) bool { return r["user"] == "ghost@example.test" }); n != 1 {
		t.Errorf("%d records of ghost, want 1", n)
	}
	mbx := e.records(event.LogTypeMailboxAccess)
	// The copy session: 4 messages copied (copy + copy_to each), plus the
	// POP3 INBOX autocreate only the log knows.
	if len(mbx)-mbxBefore != 9 {
		t.Errorf("catch-up added %d mailbox records, want 9", len(mbx)-mbxBefore)
	}
}

// TestLogOnly: a site without exporter or policy server gets every record
// from the log alone.
func TestLogOnly(t *testing.T) {
	e := newEnv(t, "")
	f, err := os.Open(filepath.Join(captures, "dovecot.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ls, err := e.h.IngestLog(context.Background(), f, LogOptions{Parser: ingest.ParserOptions{Location: time.UTC}, Batch: 7})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.records(event.LogTypeAuthentication)); n != 18 {
		t.Errorf("%d authentication records, want 18", n)
	}
	if n := len(e.records(event.LogTypeMailboxAccess)); n != 26 {
		t.Errorf("%d mailbox records, want 26", n)
	}
	if ls.Parser.Lines != 96 || ls.Written != 44 {
		t.Errorf("log stats %+v", ls)
	}
	golden(t, "log-only.records", e.rawRecords(event.LogTypeAuthentication, event.LogTypeMailboxAccess))
	// Reading the same log again writes nothing: the ids are derived.
	f2, _ := os.Open(filepath.Join(captures, "dovecot.log"))
	defer f2.Close()
	ls2, err := e.h.IngestLog(context.Background(), f2, LogOptions{Parser: ingest.ParserOptions{Location: time.UTC}})
	if err != nil || ls2.Written != 0 {
		t.Errorf("second read wrote %d records (%v), want 0", ls2.Written, err)
	}
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t, "s3cret")
	auth := map[string]string{"X-API-Key": "s3cret"}
	good := []byte(`{"login":"alice@example.test","protocol":"imap","remote":"192.0.2.1","session_id":"S1"}`)
	tests := []struct {
		name, path string
		body       string
		hdr        map[string]string
		code       int
		want       string
	}{
		{"no key", PolicyPath + "?command=allow", string(good), nil, 401, "API key"},
		{"wrong key", PolicyPath + "?command=allow", string(good), map[string]string{"X-API-Key": "nope"}, 401, "API key"},
		{"basic auth", PolicyPath + "?command=allow", string(good), map[string]string{"Authorization": "Basic bWFpbHRyYWlsOnMzY3JldA=="}, 200, `"status":0`},
		{"bearer", PolicyPath + "?command=allow", string(good), map[string]string{"Authorization": "Bearer s3cret"}, 200, `"status":0`},
		{"no command", PolicyPath, string(good), auth, 400, `command ""`},
		{"bad command", PolicyPath + "?command=deny", string(good), auth, 400, `command "deny"`},
		{"not json", PolicyPath + "?command=allow", `login=alice`, auth, 400, "not a JSON object"},
		{"truncated", PolicyPath + "?command=report", `{"login":"alice@example.test"`, auth, 400, "invalid JSON"},
		{"no login", PolicyPath + "?command=allow", `{"protocol":"imap"}`, auth, 400, `missing "login"`},
		{"array login", PolicyPath + "?command=allow", `{"login":[1],"protocol":"imap"}`, auth, 400, `member "login"`},
		{"event not json", EventsPath, `[]`, auth, 400, "not a JSON object"},
		{"event no name", EventsPath, `{"end_time":"2026-11-22T18:25:52Z"}`, auth, 400, `missing "event"`},
		{"event bad time", EventsPath, `{"event":"x","end_time":"noon"}`, auth, 400, "end_time"},
		{"event ignored", EventsPath, `{"event":"mail_cache_hit","end_time":"2026-11-22T18:25:52Z","fields":{}}`, auth, 204, ""},
		{"unknown path", "/dovecot/other", `{}`, auth, 404, ""},
	}
	for _, tt := range tests {
		code, body := e.post(tt.path, []byte(tt.body), tt.hdr)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("%s: HTTP %d %q, want %d containing %q", tt.name, code, body, tt.code, tt.want)
		}
	}
	resp, err := e.srv.Client().Get(e.srv.URL + PolicyPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d, want 405", resp.StatusCode)
	}
}

// TestUnknownOrganization: a login no organization claims is allowed
// (the passdb decides) and recorded nowhere.
func TestUnknownOrganization(t *testing.T) {
	e := newEnv(t, "")
	code, body := e.post(PolicyPath+"?command=allow", []byte(`{"login":"x@elsewhere.test","protocol":"imap","remote":"192.0.2.1","session_id":"S9"}`), nil)
	if code != 200 || body != `{"status":0,"msg":""}` {
		t.Errorf("HTTP %d %s", code, body)
	}
	if n := len(e.records(event.LogTypeAccessControl)); n != 0 || e.h.Stats().Unrouted != 1 {
		t.Errorf("%d records, stats %+v", n, e.h.Stats())
	}
}

// TestDefaultDeny: with every rule deleted WorkMail denies everything; the
// message names no rule.
func TestDefaultDeny(t *testing.T) {
	e := newEnv(t, "")
	for _, r := range []string{access.DefaultRuleName, "deny-imap-bob"} {
		if err := e.rules.DeleteRule(acct, e.org.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	code, body := e.post(PolicyPath+"?command=allow", []byte(`{"login":"alice@example.test","protocol":"pop3","remote":"192.0.2.1","session_id":"S2"}`), nil)
	if code != 200 || body != `{"status":-1,"msg":"denied by access control rules"}` {
		t.Errorf("HTTP %d %s", code, body)
	}
	acl := e.records(event.LogTypeAccessControl)
	if len(acl) != 1 || acl[0]["protocol"] != "POP3" || acl[0]["access_granted"] != false {
		t.Fatalf("records %v", acl)
	}
	if _, has := acl[0]["rule_id"]; has {
		t.Errorf("rule_id present when no rule matched: %v", acl[0])
	}
}

// TestStoreDownFailsClosed: when the record cannot be stored the answer is
// an HTTP error, which Dovecot handles per auth_policy_reject_on_fail.
func TestStoreDownFailsClosed(t *testing.T) {
	e := newEnv(t, "")
	e.st.Close()
	code, _ := e.post(PolicyPath+"?command=allow", []byte(`{"login":"alice@example.test","protocol":"imap","remote":"192.0.2.1","session_id":"S3"}`), nil)
	if code != http.StatusServiceUnavailable {
		t.Errorf("allow with the store closed: HTTP %d, want 503", code)
	}
	p := readPosts(t, "dovecot-events.jsonl")
	for _, post := range p {
		if bytes.Contains(post.Body, []byte(`"imap_command_finished"`)) {
			if code, _ := e.post(EventsPath, post.Body, nil); code != http.StatusServiceUnavailable {
				t.Errorf("event with the store closed: HTTP %d, want 503", code)
			}
			break
		}
	}
	if e.h.Stats().WriteErrors != 2 {
		t.Errorf("stats %+v", e.h.Stats())
	}
}

func TestConfigSnippet(t *testing.T) {
	got, err := ConfigSnippet(SnippetOptions{BaseURL: "http://127.0.0.1:4566/", APIKey: "k/ey", HashNonce: "site-nonce"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dovecot-snippet.conf", []byte(got))
	for _, want := range []string{
		"auth_policy_server_url = http://127.0.0.1:4566/dovecot/policy\n",
		"transport_args = http://mailtrail:k%2Fey@127.0.0.1:4566/dovecot/events\n",
		"auth_policy_reject_on_fail = yes\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("snippet lacks %q", want)
		}
	}
	open, _ := ConfigSnippet(SnippetOptions{BaseURL: "http://h:1", FailOpen: true})
	if !strings.Contains(open, "auth_policy_reject_on_fail = no\n") || strings.Contains(open, "api_header") {
		t.Errorf("fail-open snippet:\n%s", open)
	}
	if _, err := ConfigSnippet(SnippetOptions{BaseURL: "127.0.0.1:4566"}); err == nil {
		t.Error("a base URL without scheme was accepted")
	}
}
