package dovecot

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
	ingest "github.com/mailtrail/mailtrail/internal/ingest/dovecot"
)

// TestConcurrentPathsOneRecord: the policy report and the exporter's
// auth_request_finished of the same attempt arrive at the same moment (they
// do: different Dovecot processes send them); exactly one authentication
// record is stored per attempt.
func TestConcurrentPathsOneRecord(t *testing.T) {
	e := newEnv(t, "")
	const sessions = 40
	var wg sync.WaitGroup
	for i := 0; i < sessions; i++ {
		sess := fmt.Sprintf("conc%02d/AAAB", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"login":"alice@example.test","protocol":"imap","remote":"192.0.2.10","session_id":%q,"success":true,"policy_reject":false,"tls":false}`, sess)
			if code, msg := e.post(PolicyPath+"?command=report", []byte(body), nil); code != http.StatusOK {
				t.Errorf("report: HTTP %d %s", code, msg)
			}
		}()
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"event":"auth_request_finished","end_time":"2026-11-22T18:25:52.199086Z","fields":{"mechanism":"PLAIN","service":"imap","session":%q,"remote_ip":"192.0.2.10","original_user":"alice@example.test","user":"alice@example.test","success":"yes","policy_result":"ok"}}`, sess)
			if code, msg := e.post(EventsPath, []byte(body), nil); code != http.StatusNoContent {
				t.Errorf("event: HTTP %d %s", code, msg)
			}
		}()
	}
	wg.Wait()
	auth := e.records(event.LogTypeAuthentication)
	if len(auth) != sessions {
		t.Errorf("%d authentication records for %d attempts", len(auth), sessions)
	}
	if d := e.h.Stats().Duplicates; d != sessions {
		t.Errorf("%d duplicates dropped, want %d", d, sessions)
	}
}

// FuzzHandler posts arbitrary bodies to both endpoints: never a panic,
// never a 5xx (the store is up), and a 200 policy answer is always JSON
// with a status.
func FuzzHandler(f *testing.F) {
	for _, p := range readPosts(f, "dovecot-auth-policy.jsonl")[:6] {
		f.Add(true, "command=allow", []byte(p.Body))
	}
	for _, p := range readPosts(f, "dovecot-events.jsonl")[:40] {
		f.Add(false, "", []byte(p.Body))
	}
	f.Add(true, "command=report", []byte(`{"login":"bob@example.test","protocol":"smtp","success":"no"}`))
	e := newEnv(f, "")
	f.Fuzz(func(t *testing.T, policy bool, query string, body []byte) {
		path := EventsPath
		if policy {
			path = PolicyPath
		}
		req := httptest.NewRequest(http.MethodPost, "http://x"+path, strings.NewReader(string(body)))
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("HTTP %d %s for %q", w.Code, w.Body, body)
		}
		if policy && w.Code == http.StatusOK && !strings.HasPrefix(w.Body.String(), `{"status":`) {
			t.Fatalf("answer %q", w.Body)
		}
	})
}

// TestPolicySessionsBounded: sessionless (Postfix SASL) logins come and go
// without growing the policy state.
func TestPolicySessionsBounded(t *testing.T) {
	e := newEnv(t, "")
	e.h.cfg.MaxSessions = 8
	for i := 0; i < 200; i++ {
		for _, cmd := range []string{"allow", "report"} {
			body := fmt.Sprintf(`{"login":"alice@example.test","protocol":"smtp","remote":"192.0.2.%d","session_id":"","success":true}`, i)
			if code, msg := e.post(PolicyPath+"?command="+cmd, []byte(body), nil); code != http.StatusOK {
				t.Fatalf("HTTP %d %s", code, msg)
			}
		}
	}
	e.h.mu.Lock()
	defer e.h.mu.Unlock()
	if len(e.h.policy) > 8 || len(e.h.order) > 2*8+1 {
		t.Errorf("policy state: %d sessions, %d keys in order", len(e.h.policy), len(e.h.order))
	}
	if n := len(e.records(event.LogTypeAccessControl)); n != 200 {
		t.Errorf("%d access control records, want 200", n)
	}
}

// TestFeederFlushKeepsPending: a follower flushes whenever it has caught up;
// a failed login whose summary line comes later is still recorded, with
// its protocol.
func TestFeederFlushKeepsPending(t *testing.T) {
	e := newEnv(t, "")
	f := e.h.NewLogFeeder(LogOptions{})
	lines := []string{
		"2026-11-22T18:25:54 auth: Info: passwd-file(alice@example.test,198.51.100.7,<uoWSm+FgoMh/AAAB>): Password mismatch",
		"2026-11-22T18:25:56 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<alice@example.test>, method=PLAIN, rip=198.51.100.7, lip=127.0.0.1, secured, session=<uoWSm+FgoMh/AAAB>",
	}
	for _, l := range lines {
		if perr, serr := f.Feed([]byte(l)); perr != nil || serr != nil {
			t.Fatal(perr, serr)
		}
		if err := f.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.End(); err != nil {
		t.Fatal(err)
	}
	auth := e.records(event.LogTypeAuthentication)
	if len(auth) != 1 || auth[0]["protocol"] != "IMAP" || auth[0]["auth_failed_reason"] != "InvalidPassword" || auth[0]["source_ip"] != "198.51.100.7" {
		t.Errorf("records %v", auth)
	}
	if st := f.Stats(); st.Written != 1 || st.Parser.Unresolved != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestDisabledUser: a deregistered user is refused before the rules (which
// would allow POP3) and the failed login says why.
func TestDisabledUser(t *testing.T) {
	e := newEnv(t, "")
	if _, err := e.dir.DeregisterUser(acct, e.org.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	body := `{"login":"bob@example.test","protocol":"pop3","remote":"192.0.2.1","session_id":"D1"}`
	if code, msg := e.post(PolicyPath+"?command=allow", []byte(body), nil); code != 200 || msg != `{"status":-1,"msg":"account disabled"}` {
		t.Errorf("allow: HTTP %d %s", code, msg)
	}
	report := strings.Replace(body, `}`, `,"success":false,"policy_reject":true}`, 1)
	if code, msg := e.post(PolicyPath+"?command=report", []byte(report), nil); code != 200 {
		t.Errorf("report: HTTP %d %s", code, msg)
	}
	auth := e.records(event.LogTypeAuthentication)
	if len(auth) != 1 || auth[0]["auth_failed_reason"] != "UserDisabled" || auth[0]["user_id"] != e.bob.ID {
		t.Errorf("records %v", auth)
	}
	if n := len(e.records(event.LogTypeAccessControl)); n != 0 {
		t.Errorf("%d access control records, want 0 (no rule was evaluated)", n)
	}
}

// TestIngestLogEdges: Since skips older activities, an over-long line is
// skipped whole without losing the lines around it, a cancelled context
// stops the run.
func TestIngestLogEdges(t *testing.T) {
	e := newEnv(t, "")
	long := "2026-11-22T18:25:52 stats: Info: {" + strings.Repeat("x", 200<<10) + "}\n"
	log := "2026-11-22T18:25:52 imap-login: Info: Login: user=<alice@example.test>, method=PLAIN, rip=192.0.2.1, lip=127.0.0.1, session=<E1>\n" +
		long +
		"2026-11-22T18:30:00 imap-login: Info: Login: user=<alice@example.test>, method=PLAIN, rip=192.0.2.1, lip=127.0.0.1, session=<E2>\n" +
		"not a dovecot line\n" +
		"2026-11-22T18:31:00 imap-login: Info: Login: user=<bob@example.test>, method=PLAIN, rip=192.0.2.1, lip=127.0.0.1, session=<E3>" // no final newline
	since := time.Date(2026, 11, 22, 18, 29, 0, 0, time.UTC)
	ls, err := e.h.IngestLog(context.Background(), strings.NewReader(log), LogOptions{Parser: ingest.ParserOptions{Location: time.UTC}, Since: since})
	if err != nil {
		t.Fatal(err)
	}
	if ls.Written != 2 || ls.Skipped != 1 || ls.Parser.Malformed != 1 || ls.Parser.Lines != 4 {
		t.Errorf("stats %+v: want 2 written, 1 skipped, 1 malformed of 4 lines read", ls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.h.IngestLog(ctx, strings.NewReader(log), LogOptions{}); err == nil {
		t.Error("a cancelled run returned no error")
	}
}
