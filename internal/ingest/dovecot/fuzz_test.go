package dovecot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedLines adds every line of the captured logs to a fuzz corpus.
func seedLines(f *testing.F) {
	for _, name := range []string{"dovecot.log", "40-policy-server-down.log", "20-submission-auth-fail.log"} {
		data, err := os.ReadFile(filepath.Join(captures, name))
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			f.Add(l)
		}
	}
	f.Add("Nov  2 18:25:52 mail dovecot[1]: imap-login: Disconnected (auth failed, 99999999999 attempts): user=<x>, session=<S>")
	f.Add("2026-11-22T18:25:52 imap(u)<1><S>: copy from : box=, uid=, msgid=")
	f.Add("2026-11-22T18:25:52Z auth: policy(,,<>): Policy server HTTP error")
}

// FuzzParseLine: no panic, every activity has an id, a kind and a time,
// and a line never yields an absurd number of activities.
func FuzzParseLine(f *testing.F) {
	seedLines(f)
	p := NewParser(ParserOptions{Location: time.UTC, Year: 2026, MaxSessions: 64})
	f.Fuzz(func(t *testing.T, line string) {
		acts, err := p.ParseLine(nil, []byte(line))
		if err != nil && len(acts) != 0 {
			t.Fatalf("error %v with %d activities", err, len(acts))
		}
		if len(acts) > 1024 {
			t.Fatalf("%d activities from one line", len(acts))
		}
		for _, a := range acts {
			if a.ID == "" || a.Kind == 0 || a.Time.IsZero() {
				t.Fatalf("incomplete activity %+v", a)
			}
			if _, err := a.Record(Identity{OrganizationARN: "arn", UserID: "u"}); err != nil {
				t.Fatalf("record: %v", err)
			}
		}
	})
}

// FuzzParseEvent: no panic; a parsed event translates without panicking.
func FuzzParseEvent(f *testing.F) {
	data, err := os.ReadFile(filepath.Join(captures, "dovecot-events.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var post struct{ Body json.RawMessage }
		if json.Unmarshal(sc.Bytes(), &post) == nil {
			f.Add([]byte(post.Body))
		}
	}
	f.Add([]byte(`{"event":"imap_command_finished","end_time":"1","fields":{"session":"S","user":"u","cmd_name":"UID STORE","cmd_args":"1 (UNCHANGEDSINCE","tagged_reply_state":"OK"}}`))
	tr := NewTranslator(64)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseEvent(body)
		if err != nil {
			return
		}
		acts, _ := tr.Translate(nil, ev)
		for _, a := range acts {
			if a.ID == "" {
				t.Fatalf("activity without id: %+v", a)
			}
		}
	})
}

// FuzzParsePolicyRequest: no panic; accepted requests have login and
// protocol and make a report activity with an id.
func FuzzParsePolicyRequest(f *testing.F) {
	data, err := os.ReadFile(filepath.Join(captures, "dovecot-auth-policy.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var post struct{ Body json.RawMessage }
		if json.Unmarshal(line, &post) == nil {
			f.Add([]byte(post.Body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParsePolicyRequest(body)
		if err != nil {
			return
		}
		if r.Login == "" || r.Protocol == "" {
			t.Fatalf("accepted without login or protocol: %+v", r)
		}
		if a := r.ReportActivity(0, time.Unix(1, 0), ""); a.ID == "" {
			t.Fatal("report activity without id")
		}
	})
}

// FuzzDecodeMailbox: modified UTF-7 never panics and plain names pass.
func FuzzDecodeMailbox(f *testing.F) {
	for _, s := range []string{"INBOX", "&AMk-t&AOk-", "&-", "a&", "&Jjo-!", "&,,,-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := decodeMailbox(s)
		if !strings.Contains(s, "&") && out != s {
			t.Fatalf("decodeMailbox(%q) = %q", s, out)
		}
		_ = imapTokens(s)
	})
}
