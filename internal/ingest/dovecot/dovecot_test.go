package dovecot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

const captures = "testdata/captures"

// testIdentity stands in for the directory: the golden records need stable
// user ids, and the directory itself is exercised by the handler tests.
func testIdentity(login string) Identity {
	const arn = "arn:aws:workmail:us-east-1:111122223333:organization/m-0123456789abcdef0123456789abcdef"
	switch strings.ToLower(login) {
	case "alice@example.test":
		return Identity{OrganizationARN: arn, UserID: "aaaaaaaa-0000-4000-8000-000000000001"}
	case "bob@example.test":
		return Identity{OrganizationARN: arn, UserID: "bbbbbbbb-0000-4000-8000-000000000002"}
	}
	return Identity{OrganizationARN: arn}
}

// parseLog runs a capture file through a Parser; "### section" headers of
// the scenario files are skipped.
func parseLog(t testing.TB, name string) ([]Activity, *Parser) {
	t.Helper()
	f, err := os.Open(filepath.Join(captures, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := NewParser(ParserOptions{Location: time.UTC, Year: 2026})
	var acts []Activity
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if bytes.HasPrefix(sc.Bytes(), []byte("###")) {
			continue
		}
		acts, err = p.ParseLine(acts, sc.Bytes())
		if err != nil {
			t.Errorf("%s:%d: %v", name, n, err)
		}
	}
	return p.Flush(acts), p
}

// describe renders an activity as one short line for table expectations.
func describe(a Activity) string {
	if a.Kind == KindAuth {
		s := fmt.Sprintf("auth %s %s %s", a.Service, a.Login, map[bool]string{true: "ok", false: "fail"}[a.Success])
		if !a.Success {
			s += " " + a.FailReason
		}
		return s
	}
	s := fmt.Sprintf("%s %s %s %s %s", a.Service, a.Login, a.Action, a.ObjectType, FolderPath(a.Folder))
	if a.ItemID != "" {
		s += " item=" + a.ItemID
	}
	if a.FolderIDName != "" {
		s += " id-of=" + a.FolderIDName
	}
	if !a.Allowed {
		s += " denied"
	}
	return s
}

func records(t testing.TB, acts []Activity) []byte {
	t.Helper()
	var out bytes.Buffer
	for i := range acts {
		rec, err := acts[i].Record(testIdentity(acts[i].Login))
		if err != nil {
			if acts[i].Kind == KindMailbox && testIdentity(acts[i].Login).UserID == "" {
				continue
			}
			t.Fatalf("record of %s: %v", describe(acts[i]), err)
		}
		fmt.Fprintf(&out, "%s\t%s\n", rec.Type, rec.JSON)
	}
	return out.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata/golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestScenarioLogs(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"01-imap-login-ok.log", []string{"auth imap alice@example.test ok"}},
		{"02-imap-login-badpass.log", []string{"auth imap alice@example.test fail InvalidPassword"}},
		{"03-imap-login-unknown.log", []string{"auth imap ghost@example.test fail UnknownUser"}},
		{"04-pop3-login-ok.log", []string{"auth pop3 alice@example.test ok"}},
		{"05-pop3-login-badpass.log", []string{"auth pop3 alice@example.test fail InvalidPassword"}},
		{"06-imap-denied-by-policy.log", []string{"auth imap bob@example.test fail AccessDenied"}},
		{"07-pop3-bob-delayed.log", []string{
			"auth pop3 bob@example.test ok",
			"pop3 bob@example.test create Folder /INBOX",
		}},
		// SMTP AUTH lines carry no session: Postfix's log records them.
		{"20-submission-auth-fail.log", nil},
		{"25-submission-denied-by-policy.log", nil},
		{"21-submission-sent.log", nil},
		{"24-submission-bob.log", []string{"lmtp alice@example.test create Message /INBOX item=<20261122182651.021948@vm>"}},
		{"30-imap-append.log", []string{
			"auth imap alice@example.test ok",
			"imap alice@example.test create Message /INBOX item=<curl-append-1@example.test>",
		}},
		{"31-imap-create.log", []string{"auth imap alice@example.test ok", "imap alice@example.test create Folder /Projects"}},
		{"32-imap-copy.log", []string{
			"auth imap alice@example.test ok",
			"imap alice@example.test copy Message /INBOX item=<inbound-1@remote.test>",
			"imap alice@example.test copy_to Folder /Projects",
			"imap alice@example.test copy Message /INBOX item=<20261122182647.AA2049884CC@mail.example.test>",
			"imap alice@example.test copy_to Folder /Projects",
			"imap alice@example.test copy Message /INBOX item=<20261122182651.021948@vm>",
			"imap alice@example.test copy_to Folder /Projects",
			"imap alice@example.test copy Message /INBOX item=<curl-append-1@example.test>",
			"imap alice@example.test copy_to Folder /Projects",
		}},
		{"33-imap-flag.log", []string{
			"auth imap alice@example.test ok",
			"imap alice@example.test update Message /INBOX item=<inbound-1@remote.test>",
		}},
		{"34-imap-delete-expunge.log", []string{
			"auth imap alice@example.test ok",
			"imap alice@example.test delete Message /INBOX item=<20261122182647.AA2049884CC@mail.example.test>",
			"auth imap alice@example.test ok",
			"imap alice@example.test delete Message /INBOX item=<20261122182647.AA2049884CC@mail.example.test>",
		}},
		{"35-imap-rename.log", []string{"auth imap alice@example.test ok", "imap alice@example.test update Folder /Projects id-of=Archive"}},
		{"36-imap-mailbox-delete.log", []string{
			"auth imap alice@example.test ok",
			"imap alice@example.test delete Message /Archive item=<inbound-1@remote.test>",
			"imap alice@example.test delete Message /Archive item=<20261122182647.AA2049884CC@mail.example.test>",
			"imap alice@example.test delete Message /Archive item=<20261122182651.021948@vm>",
			"imap alice@example.test delete Message /Archive item=<curl-append-1@example.test>",
			"imap alice@example.test delete Folder /Archive",
		}},
		{"37-imap-fetch.log", []string{"auth imap alice@example.test ok", "imap alice@example.test read Message /"}},
		{"38-pop3-retr-dele.log", []string{
			"auth pop3 alice@example.test ok",
			"pop3 alice@example.test read Message /INBOX",
			"auth pop3 alice@example.test ok",
			"pop3 alice@example.test delete Message /INBOX item=<inbound-1@remote.test>",
		}},
		{"40-policy-server-down.log", []string{"auth imap alice@example.test fail PolicyServerUnavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			acts, _ := parseLog(t, tt.file)
			var got []string
			for _, a := range acts {
				got = append(got, describe(a))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("activities:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			golden(t, strings.TrimSuffix(tt.file, ".log")+".records", records(t, acts))
		})
	}
}

func TestFullLog(t *testing.T) {
	acts, p := parseLog(t, "dovecot.log")
	st := p.Stats()
	if st.Malformed != 0 || st.Unresolved != 0 {
		t.Errorf("stats %+v: want no malformed or unresolved lines", st)
	}
	ids := map[string]string{}
	for _, a := range acts {
		if prev, dup := ids[a.ID]; dup {
			t.Errorf("request_id %s of %q already used by %q", a.ID, describe(a), prev)
		}
		ids[a.ID] = describe(a)
	}
	// The LMTP deliveries carry the MTA's address from "Connect from".
	var deliveries int
	for _, a := range acts {
		if a.Service == "lmtp" {
			deliveries++
			if a.SourceIP != "127.0.0.1" || a.Action != event.ActionCreate || a.Folder != "INBOX" {
				t.Errorf("delivery %s from %q", describe(a), a.SourceIP)
			}
		}
	}
	if deliveries != 3 {
		t.Errorf("%d deliveries, want 3", deliveries)
	}
	golden(t, "dovecot.log.records", records(t, acts))
}

// events reads the exporter capture: one POST per line.
func events(t testing.TB) []*Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(captures, "dovecot-events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*Event
	for n, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var post struct{ Body json.RawMessage }
		if err := json.Unmarshal(line, &post); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		ev, err := ParseEvent(post.Body)
		if err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		out = append(out, ev)
	}
	return out
}

func TestEvents(t *testing.T) {
	tr := NewTranslator(0)
	var acts []Activity
	used, ignored := 0, 0
	for _, ev := range events(t) {
		var ok bool
		acts, ok = tr.Translate(acts, ev)
		if ok {
			used++
		} else {
			ignored++
		}
	}
	var got []string
	for _, a := range acts {
		got = append(got, describe(a))
	}
	want := []string{
		"auth imap alice@example.test ok",
		"imap alice@example.test read_hierarchy Folder /",
		"auth imap alice@example.test fail InvalidPassword",
		"auth imap ghost@example.test fail UnknownUser",
		"auth pop3 alice@example.test ok",
		"auth pop3 alice@example.test fail InvalidPassword",
		"auth imap bob@example.test fail AccessDenied",
		"auth pop3 bob@example.test ok",
		"lmtp alice@example.test create Message /INBOX item=<inbound-1@remote.test>",
		"lmtp alice@example.test create Message /INBOX item=<20261122182647.AA2049884CC@mail.example.test>",
		"lmtp alice@example.test create Message /INBOX item=<20261122182651.021948@vm>",
		"auth imap alice@example.test ok",
		"imap alice@example.test create Message /INBOX item=INBOX;UID=4",
		"auth imap alice@example.test ok",
		"imap alice@example.test create Folder /Projects",
		"auth imap alice@example.test ok",
		"imap alice@example.test read_summary Folder /INBOX",
		"imap alice@example.test copy Message /INBOX item=INBOX;UID=1:*",
		"imap alice@example.test copy_to Folder /Projects",
		"auth imap alice@example.test ok",
		"imap alice@example.test read_summary Folder /INBOX",
		"imap alice@example.test update_read_state Message /INBOX item=INBOX;UID=1",
		"imap alice@example.test update Message /INBOX item=INBOX;UID=1",
		"auth imap alice@example.test ok",
		"imap alice@example.test read_summary Folder /INBOX",
		"imap alice@example.test delete Message /INBOX item=INBOX;UID=2",
		"auth imap alice@example.test ok",
		"imap alice@example.test read_summary Folder /INBOX",
		"imap alice@example.test delete Message /INBOX",
		"auth imap alice@example.test ok",
		"imap alice@example.test update Folder /Projects id-of=Archive",
		"auth imap alice@example.test ok",
		"imap alice@example.test delete Folder /Archive",
		"auth imap alice@example.test ok",
		"imap alice@example.test read Message /INBOX item=INBOX;UID=1",
		"imap alice@example.test read_summary Folder /INBOX",
		"auth pop3 alice@example.test ok",
		"pop3 alice@example.test read Message /INBOX item=INBOX;UID=1",
		"auth pop3 alice@example.test ok",
		"pop3 alice@example.test delete Message /INBOX item=INBOX;UID=1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("activities:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if used+ignored != 359 {
		t.Errorf("%d used + %d ignored, want 359 events", used, ignored)
	}
	golden(t, "dovecot-events.records", records(t, acts))
}

// TestIDsAgreeAcrossPaths is the de-duplication contract: the log, the
// exporter and the policy reports give the same request_id to the same
// authentication attempt, folder operation and delivery, and the log's
// per-message lines carry the operation keys the exporter's commands
// register.
func TestIDsAgreeAcrossPaths(t *testing.T) {
	fromLog, _ := parseLog(t, "dovecot.log")
	tr := NewTranslator(0)
	var fromEvents []Activity
	for _, ev := range events(t) {
		fromEvents, _ = tr.Translate(fromEvents, ev)
	}
	// Policy reports, numbered per session as the handler does.
	data, err := os.ReadFile(filepath.Join(captures, "dovecot-auth-policy.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	reports := map[string]int{}
	var fromPolicy []Activity
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var post struct {
			Query string
			Body  json.RawMessage
		}
		if err := json.Unmarshal(line, &post); err != nil {
			t.Fatal(err)
		}
		if post.Query != "command=report" {
			continue
		}
		req, err := ParsePolicyRequest(post.Body)
		if err != nil {
			t.Fatal(err)
		}
		if req.SessionID == "" {
			continue
		}
		n := reports[req.SessionID]
		reports[req.SessionID]++
		fromPolicy = append(fromPolicy, req.ReportActivity(n, time.Unix(0, 0), tr.PassdbResult(req.SessionID)))
	}

	byID := func(acts []Activity) map[string]Activity {
		m := map[string]Activity{}
		for _, a := range acts {
			m[a.ID] = a
		}
		return m
	}
	logIDs, eventIDs := byID(fromLog), byID(fromEvents)
	auths := 0
	for _, a := range fromPolicy {
		auths++
		l, ok := logIDs[a.ID]
		if !ok {
			t.Errorf("report %s has no log activity with id %s", describe(a), a.ID)
		} else if l.Success != a.Success || l.Login != a.Login || l.Service != a.Service {
			t.Errorf("id %s: report %q, log %q", a.ID, describe(a), describe(l))
		}
		e, ok := eventIDs[a.ID]
		if !ok {
			t.Errorf("report %s has no event activity with id %s", describe(a), a.ID)
		} else if e.Success != a.Success || e.Login != a.Login {
			t.Errorf("id %s: report %q, event %q", a.ID, describe(a), describe(e))
		}
	}
	if auths != 18 {
		t.Errorf("%d session reports, want 18", auths)
	}
	shared := 0
	for _, e := range fromEvents {
		if e.Kind == KindMailbox && (e.ObjectType == event.ObjectFolder && e.Action != event.ActionReadSummary && e.Action != event.ActionReadHierarchy && e.Action != event.ActionCopyTo || e.Service == "lmtp") {
			shared++
			if _, ok := logIDs[e.ID]; !ok {
				t.Errorf("event activity %s (id %s) has no log activity with that id", describe(e), e.ID)
			}
		}
	}
	if shared != 6 { // 3 deliveries, create, rename, delete
		t.Errorf("%d folder operations and deliveries, want 6", shared)
	}
	// Every per-message log line is covered by an exporter key.
	keys := map[string]bool{}
	for _, e := range fromEvents {
		if e.OpKey != "" {
			keys["op"+e.OpKey] = true
		}
		if e.SummaryKey != "" {
			keys["sum"+e.SummaryKey] = true
		}
	}
	for _, l := range fromLog {
		if l.Kind != KindMailbox || eventIDs[l.ID].ID != "" {
			continue
		}
		if !(l.OpKey != "" && keys["op"+l.OpKey]) && !(l.SummaryKey != "" && keys["sum"+l.SummaryKey]) {
			// POP3 autocreate of INBOX has no event equivalent.
			if !(l.Action == event.ActionCreate && l.ObjectType == event.ObjectFolder) {
				t.Errorf("log activity %s is covered by no exporter key", describe(l))
			}
		}
	}
}

func TestPolicyRequest(t *testing.T) {
	tests := []struct {
		body, err string
		want      PolicyRequest
	}{
		{body: `{"device_id":"","local":"127.0.0.1","login":"bob@example.test","protocol":"imap","pwhash":"09b9","remote":"127.0.0.1","session_id":"gqYjneFgQKp/AAAB","tls":false}`,
			want: PolicyRequest{Login: "bob@example.test", Protocol: "imap", PwHash: "09b9", Remote: "127.0.0.1", Local: "127.0.0.1", SessionID: "gqYjneFgQKp/AAAB"}},
		{body: `{"login":"bob@example.test","protocol":"imap","remote":"127.0.0.1","session_id":"S","success":false,"policy_reject":true,"tls":true}`,
			want: PolicyRequest{Login: "bob@example.test", Protocol: "imap", Remote: "127.0.0.1", SessionID: "S", TLS: true, PolicyReject: true, HasSuccess: true}},
		{body: `{"login":"a","protocol":"smtp","success":"yes"}`,
			want: PolicyRequest{Login: "a", Protocol: "smtp", Success: true, HasSuccess: true}},
		{body: ``, err: "empty body"},
		{body: `[1]`, err: "not a JSON object"},
		{body: `{"login":"a"`, err: "invalid JSON"},
		{body: `{"login":["a"],"protocol":"imap"}`, err: `want a string or number`},
		{body: `{"protocol":"imap"}`, err: `missing "login"`},
		{body: `{"login":"a"}`, err: `missing "protocol"`},
		{body: `{"login":"a","protocol":"imap","tls":"maybe"}`, err: `want a boolean`},
	}
	for _, tt := range tests {
		got, err := ParsePolicyRequest([]byte(tt.body))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePolicyRequest(%s): error %v, want %q", tt.body, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePolicyRequest(%s) = %+v, %v; want %+v", tt.body, got, err, tt.want)
		}
	}
}

func TestParseEventErrors(t *testing.T) {
	tests := []struct{ body, err string }{
		{``, "empty body"},
		{`"x"`, "not a JSON object"},
		{`{"hostname":"vm","end_time":"2026-11-22T18:25:52Z"}`, `missing "event"`},
		{`{"event":"x"}`, `no "end_time"`},
		{`{"event":"x","end_time":"yesterday"}`, "end_time"},
		{`{"event":"x","end_time":"0001-01-01T00:00:00Z"}`, "before 1970"},
		{`{"event":"x","end_time":"2026-11-22T18:25:52Z","fields":{"session":{}}}`, "session"},
		{`{"event":"x","end_time":"2026-11-22T18:25:52Z","fields":[]}`, "fields"},
	}
	for _, tt := range tests {
		_, err := ParseEvent([]byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseEvent(%s): error %v, want %q", tt.body, err, tt.err)
		}
	}
	ev, err := ParseEvent([]byte(`{"event":"x","start_time":"1700000000.5"}`))
	if err != nil || ev.End.UnixMilli() != 1700000000500 {
		t.Errorf("time-unix event: %v, %v", ev, err)
	}
}

func TestParseLineForms(t *testing.T) {
	tests := []struct {
		line, want, err string
	}{
		// Default log_timestamp and syslog forms.
		{"Nov 22 18:25:52 imap-login: Info: Login: user=<a@example.test>, method=PLAIN, rip=192.0.2.7, lip=127.0.0.1, mpid=1, session=<S1>", "auth imap a@example.test ok", ""},
		{"Nov  2 18:25:52 mail dovecot: pop3-login: Login: user=<a@example.test>, method=PLAIN, rip=192.0.2.7, lip=127.0.0.1, session=<S2>", "auth pop3 a@example.test ok", ""},
		{"2026-11-22T18:25:52.123456+01:00 mail dovecot[99]: imap-login: Login: user=<a@example.test>, rip=192.0.2.7, session=<S3>", "auth imap a@example.test ok", ""},
		{"2026-11-22 18:25:52 imap(a@example.test)<1><S4>: Info: Mailbox created: &AMk-t&AOk-", "imap a@example.test create Folder /&AMk-t&AOk-", ""},
		// Other programs and irrelevant Dovecot lines.
		{"Nov 22 18:26:41 mail postfix/submission/smtpd[21861]: connect from localhost[127.0.0.1]", "", ""},
		{"2026-11-22T18:25:52 master: Info: Dovecot v2.3.19.1 starting up", "", ""},
		{"2026-11-22T18:25:52 stats: Info: {\"event\":\"auth_request_finished\"}", "", ""},
		{"", "", ""},
		// Not Dovecot's format at all.
		{"hello world", "", "no timestamp"},
		{"2026-11-22T18:25:52 nocolon", "", "no \"service: \" prefix"},
		{"2026-11-22T18:25:52 imap(user: x", "", "unclosed '('"},
		{"2026-99-22T18:25:52 imap: x", "", "bad timestamp"},
	}
	for _, tt := range tests {
		p := NewParser(ParserOptions{Location: time.UTC, Year: 2026})
		acts, err := p.ParseLine(nil, []byte(tt.line))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrNotDovecot) {
				t.Errorf("ParseLine(%q): error %v, want %q", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLine(%q): %v", tt.line, err)
			continue
		}
		var got []string
		for _, a := range acts {
			got = append(got, describe(a))
		}
		if strings.Join(got, "|") != tt.want {
			t.Errorf("ParseLine(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// TestBruteForceOneConnection: several failed attempts on one connection
// are several records, numbered in order; the summary line adds the ones
// the auth process did not explain.
func TestBruteForceOneConnection(t *testing.T) {
	lines := []string{
		"2026-11-22T18:00:00 auth: Info: passwd-file(alice@example.test,198.51.100.9,<BF>): Password mismatch",
		"2026-11-22T18:00:02 auth: Info: passwd-file(alice@example.test,198.51.100.9,<BF>): Password mismatch",
		"2026-11-22T18:00:04 imap-login: Info: Disconnected: Connection closed (auth failed, 3 attempts in 6 secs): user=<alice@example.test>, method=PLAIN, rip=198.51.100.9, lip=127.0.0.1, session=<BF>",
	}
	p := NewParser(ParserOptions{Location: time.UTC})
	var acts []Activity
	for _, l := range lines {
		var err error
		if acts, err = p.ParseLine(acts, []byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if len(acts) != 3 {
		t.Fatalf("%d activities, want 3", len(acts))
	}
	for i, a := range acts {
		if a.ID != AuthID("BF", i) || a.Success || a.SourceIP != "198.51.100.9" || a.Service != "imap" {
			t.Errorf("attempt %d: %s id %s ip %s", i, describe(a), a.ID, a.SourceIP)
		}
	}
	if acts[2].FailReason != ReasonAuthenticationFailed || acts[0].FailReason != ReasonInvalidPassword {
		t.Errorf("reasons %q %q", acts[0].FailReason, acts[2].FailReason)
	}
}

func TestIMAPCommands(t *testing.T) {
	tests := []struct {
		name, args, state, mailbox, reply string
		want                              []string
	}{
		{"UID FETCH", "1:3 (FLAGS ENVELOPE)", "OK", "INBOX", "", []string{"read_summary Message /INBOX item=INBOX;UID=1:3"}},
		{"FETCH", "2 (BODY.PEEK[])", "OK", "INBOX", "", []string{"read Message /INBOX item=INBOX;SEQ=2"}},
		{"FETCH", "2 RFC822.SIZE", "OK", "INBOX", "", []string{"read_summary Message /INBOX item=INBOX;SEQ=2"}},
		{"APPEND", `"Sent Items" (\Seen) <97 byte literal>`, "OK", "", "OK [APPENDUID 1700000000 12] Append completed.", []string{"create Message /Sent Items item=Sent Items;UID=12"}},
		{"UID STORE", `5 -FLAGS (\Seen)`, "OK", "INBOX", "", []string{"update_read_state Message /INBOX item=INBOX;UID=5"}},
		{"UID STORE", `5 -FLAGS.SILENT (\Deleted)`, "OK", "INBOX", "", []string{"update Message /INBOX item=INBOX;UID=5"}},
		{"UID STORE", `5 +FLAGS ($Junk)`, "OK", "INBOX", "", []string{"update Message /INBOX item=INBOX;UID=5"}},
		{"STORE", `1 (UNCHANGEDSINCE 9) +FLAGS (\Deleted \Seen)`, "OK", "INBOX", "", []string{"delete Message /INBOX item=INBOX;SEQ=1", "update_read_state Message /INBOX item=INBOX;SEQ=1"}},
		{"UID MOVE", `7 "Deleted Items"`, "OK", "INBOX", "", []string{"move Message /INBOX item=INBOX;UID=7", "move_to Folder /Deleted Items"}},
		{"COPY", `1 &AMk-t&AOk-`, "OK", "INBOX", "", []string{"copy Message /INBOX item=INBOX;SEQ=1", "copy_to Folder /Été"}},
		{"CREATE", "Secret", "NO", "Secret", "", []string{"create Folder /Secret denied"}},
		{"DELETE", "INBOX", "BAD", "", "", nil},
		{"LOGOUT", "", "OK", "", "", nil},
		{"SETACL", "INBOX bob lr", "OK", "", "", []string{"update_permissions Folder /INBOX"}},
		{"GETACL", "INBOX", "OK", "", "", []string{"read_permissions Folder /INBOX"}},
		{"STATUS", `"Sent Items" (MESSAGES)`, "OK", "", "", []string{"read_summary Folder /Sent Items"}},
	}
	for _, tt := range tests {
		ev := &Event{Name: "imap_command_finished", End: time.Unix(1, 0), Fields: Fields{
			Session: "S", User: "a@example.test", CmdTag: "A1", CmdName: flex(tt.name), CmdArgs: flex(tt.args),
			TaggedReplyState: flex(tt.state), Mailbox: flex(tt.mailbox), TaggedReply: flex(tt.reply),
		}}
		acts, _ := NewTranslator(0).Translate(nil, ev)
		var got []string
		for _, a := range acts {
			got = append(got, strings.TrimPrefix(describe(a), "imap a@example.test "))
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s %s (%s): %q, want %q", tt.name, tt.args, tt.state, got, tt.want)
		}
	}
}

func TestRequestIDShape(t *testing.T) {
	id := RequestID("a", "b")
	if len(id) != 36 || id[14] != '8' || strings.Count(id, "-") != 4 {
		t.Errorf("RequestID = %q, want a version-8 UUID", id)
	}
	if RequestID("a", "b") != id || RequestID("ab") == id || RequestID("a\x00b") == RequestID("a", "b", "") {
		t.Error("RequestID is not a stable, unambiguous function of its parts")
	}
}

func TestRecordsValidate(t *testing.T) {
	acts, _ := parseLog(t, "dovecot.log")
	for _, a := range acts {
		id := testIdentity(a.Login)
		if a.Kind == KindMailbox && id.UserID == "" {
			continue
		}
		rec, err := a.Record(id)
		if err != nil {
			t.Fatal(err)
		}
		r, err := event.DecodeAs(rec.JSON, rec.Type)
		if err != nil {
			t.Fatalf("%s: %v", rec.JSON, err)
		}
		if err := r.Validate(); err != nil {
			// POP3 is mailtrail's extension of the 9 WorkMail protocols.
			if a.Service == "pop3" && strings.Contains(err.Error(), "POP3") && strings.Count(err.Error(), "\n") == 0 {
				continue
			}
			t.Errorf("%s: %v", rec.JSON, err)
		}
	}
}

func TestUserAgent(t *testing.T) {
	for in, want := range map[string]string{
		`("name" "Thunderbird" "version" "115.11.0")`: "Thunderbird/115.11.0",
		`("name" "curl")`:                        "curl",
		`NIL`:                                    "",
		`("version" "1.0" "name" NIL)`:           "1.0",
		`name=K-9 Mail, version=6.8, os=Android`: "K-9 Mail/6.8",
	} {
		if got := idUserAgent(in); got != want {
			t.Errorf("idUserAgent(%s) = %q, want %q", in, got, want)
		}
	}
	// Exporter: the ID command names the agent of the session's records.
	tr := NewTranslator(0)
	cmd := func(name, args string) []Activity {
		acts, _ := tr.Translate(nil, &Event{Name: "imap_command_finished", End: time.Unix(1, 0), Fields: Fields{
			Session: "S", User: "a@example.test", CmdTag: "A1", CmdName: flex(name), CmdArgs: flex(args),
			TaggedReplyState: "OK", Mailbox: "INBOX",
		}})
		return acts
	}
	cmd("ID", `("name" "Thunderbird" "version" "115.11.0")`)
	if acts := cmd("SELECT", "INBOX"); len(acts) != 1 || acts[0].UserAgent != "Thunderbird/115.11.0" {
		t.Errorf("SELECT after ID: %+v", acts)
	}
	// Log (imap_id_log): the same for the mail_log lines that follow.
	p := NewParser(ParserOptions{Location: time.UTC})
	var acts []Activity
	for _, l := range []string{
		"2026-11-22T18:26:58 imap(alice@example.test)<1><S>: Info: ID sent: name=Thunderbird, version=115.11.0",
		"2026-11-22T18:26:58 imap(alice@example.test)<1><S>: Info: Mailbox created: Projects",
	} {
		acts, _ = p.ParseLine(acts, []byte(l))
	}
	if len(acts) != 1 || acts[0].UserAgent != "Thunderbird/115.11.0" {
		t.Errorf("log activities %+v", acts)
	}
	rec, err := acts[0].Record(testIdentity("alice@example.test"))
	if err != nil || !bytes.Contains(rec.JSON, []byte(`"user_agent":"Thunderbird/115.11.0"`)) {
		t.Errorf("record %s, %v", rec.JSON, err)
	}
}

// TestSyslogYear checks that stamps without a year are completed the way
// Postfix's are (syslogtime): a few days ahead stays in this year, a
// December stamp read in January goes to last year.
func TestSyslogYear(t *testing.T) {
	now := func() time.Time { return time.Date(2027, 1, 3, 9, 0, 0, 0, time.UTC) }
	p := NewParser(ParserOptions{Location: time.UTC, Now: now})
	for _, c := range []struct{ stamp, want string }{
		{"Jan  5 10:00:00", "2027-01-05T10:00:00Z"},
		{"Dec 31 23:59:59", "2026-12-31T23:59:59Z"},
		{"Feb 29 12:00:00", "2024-02-29T12:00:00Z"},
	} {
		got, _, err := p.timestamp(c.stamp + " imap-login: x")
		if err != nil {
			t.Fatalf("%s: %v", c.stamp, err)
		}
		if got.Format(time.RFC3339) != c.want {
			t.Errorf("%s: got %s, want %s", c.stamp, got.Format(time.RFC3339), c.want)
		}
	}
	if _, _, err := p.timestamp("Apr 31 10:00:00 imap-login: x"); err == nil {
		t.Error("Apr 31: no error")
	}
}
