package gen

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

func cfgN(n int) Config {
	c := DefaultConfig()
	c.N = n
	return c
}

func generate(t testing.TB, c Config) []byte {
	t.Helper()
	g, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := g.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stats is what the mix and rate tests look at.
type stats struct {
	n          int
	kinds      map[Kind]int
	eventNames map[string]int
	authFail   int
	denied     int
	qqReceived int
	failByIP   map[string]int
	recipients map[string]bool
	traces     map[string][]string // traceId -> eventNames in order
}

// probe holds the members the mix tests look at; decoding into it is far
// cheaper than into map[string]any.
type probe struct {
	EventTimestamp *json.Number `json:"event_timestamp"`
	ObjectType     *string      `json:"object_type"`
	FolderPath     *string      `json:"folder_path"`
	Scope          *string      `json:"scope"`
	AuthSuccessful *bool        `json:"auth_successful"`
	AccessGranted  *bool        `json:"access_granted"`
	AvailOK        *bool        `json:"availability_event_successful"`
	Name           *string      `json:"name"`
	SourceIP       string       `json:"source_ip"`
	TraceID        string       `json:"traceId"`
	Event          *struct {
		EventName string `json:"eventName"`
		From      string `json:"from"`
		Recipient string `json:"recipient"`
	} `json:"event"`
}

// classify names a record's log type from its keys (formats.md §1.8).
func (p *probe) classify() Kind {
	switch {
	case p.Event != nil:
		return KindEmailEvent
	case p.ObjectType != nil || p.FolderPath != nil:
		return KindMailboxAccess
	case p.Scope != nil:
		return KindAccessControl
	case p.AuthSuccessful != nil:
		return KindAuthentication
	case p.AvailOK != nil:
		return KindAvailabilityProvider
	case p.Name != nil:
		return KindPersonalAccessToken
	}
	return 0
}

func summarize(t testing.TB, data []byte) stats {
	t.Helper()
	s := stats{kinds: map[Kind]int{}, eventNames: map[string]int{}, failByIP: map[string]int{},
		recipients: map[string]bool{}, traces: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var last int64
	for sc.Scan() {
		s.n++
		line := sc.Bytes()
		if !json.Valid(line) {
			t.Fatalf("line %d: invalid JSON: %s", s.n, line)
		}
		if bytes.Contains(line, []byte(":null")) {
			t.Fatalf("line %d: a null member: %s", s.n, line)
		}
		var p probe
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatalf("line %d: %v: %s", s.n, err, line)
		}
		if p.EventTimestamp == nil {
			t.Fatalf("line %d: no event_timestamp: %s", s.n, line)
		}
		v, err := p.EventTimestamp.Int64()
		if err != nil {
			t.Fatalf("line %d: event_timestamp %q is not an integer", s.n, *p.EventTimestamp)
		}
		if v < last {
			t.Fatalf("line %d: event_timestamp %d before the previous %d", s.n, v, last)
		}
		last = v
		k := p.classify()
		if k == 0 {
			t.Fatalf("line %d: cannot tell the log type: %s", s.n, line)
		}
		s.kinds[k]++
		switch k {
		case KindAuthentication:
			if !*p.AuthSuccessful {
				s.authFail++
				s.failByIP[p.SourceIP]++
			}
		case KindAccessControl:
			if p.AccessGranted != nil && !*p.AccessGranted {
				s.denied++
			}
		case KindEmailEvent:
			name := p.Event.EventName
			s.eventNames[name]++
			s.traces[p.TraceID] = append(s.traces[p.TraceID], name)
			if name == "ORGANIZATION_EMAIL_RECEIVED" && strings.Contains(p.Event.From, "qq.com") {
				s.qqReceived++
			}
			if name == "MAILBOX_EMAIL_DELIVERED" {
				s.recipients[p.Event.Recipient] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeterministic(t *testing.T) {
	for _, c := range []Config{cfgN(20000), func() Config { c := cfgN(5000); c.Seed = 7; c.Orgs = 1; c.Users = 300; return c }()} {
		a := generate(t, c)
		b := generate(t, c)
		if !bytes.Equal(a, b) {
			t.Fatalf("seed %d: two runs differ (sha256 %x vs %x)", c.Seed, sha256.Sum256(a), sha256.Sum256(b))
		}
		// Next and WriteTo are the same stream.
		g, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		var viaNext []byte
		for {
			r, ok := g.Next()
			if !ok {
				break
			}
			viaNext = append(append(viaNext, r.JSON...), '\n')
		}
		if !bytes.Equal(a, viaNext) {
			t.Fatal("Next and WriteTo produce different streams")
		}
		g, err = New(c)
		if err != nil {
			t.Fatal(err)
		}
		var viaAll []byte
		for r := range g.All() {
			viaAll = append(append(viaAll, r.JSON...), '\n')
		}
		if !bytes.Equal(a, viaAll) {
			t.Fatal("All and WriteTo produce different streams")
		}
	}
	c := cfgN(20000)
	c.Seed = 2
	if bytes.Equal(generate(t, cfgN(20000)), generate(t, c)) {
		t.Fatal("seeds 1 and 2 give the same output")
	}
}

// TestMix checks the record mix and rates of the benchmark dataset
// (spec performance.md §2) on a 200k sample.
func TestMix(t *testing.T) {
	if testing.Short() {
		t.Skip("200k records")
	}
	const n = 200_000
	s := summarize(t, generate(t, cfgN(n)))
	if s.n != n {
		t.Fatalf("got %d records, want %d", s.n, n)
	}
	share := func(k Kind) float64 { return float64(s.kinds[k]) / n }
	within := func(what string, got, want, tol float64) {
		t.Helper()
		if got < want-tol || got > want+tol {
			t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, tol)
		}
	}
	within("mailbox access share", share(KindMailboxAccess), 0.70, 0.01)
	within("authentication share", share(KindAuthentication), 0.15, 0.006)
	within("access control share", share(KindAccessControl), 0.10, 0.005)
	within("availability share", share(KindAvailabilityProvider), 0.0198, 0.002)
	within("email event share", share(KindEmailEvent), 0.03, 0.003)
	within("auth failures per record", float64(s.authFail)/n, 0.0043, 0.0025)
	within("access denials per record", float64(s.denied)/n, 0.0051, 0.0015)
	within("RECEIVED share", float64(s.eventNames["ORGANIZATION_EMAIL_RECEIVED"])/n, 0.0125, 0.002)
	within("DELIVERED share", float64(s.eventNames["MAILBOX_EMAIL_DELIVERED"])/n, 0.015, 0.003)
	if s.qqReceived == 0 {
		t.Error("no ORGANIZATION_EMAIL_RECEIVED from qq.com")
	}
	for _, name := range []string{"ORGANIZATION_EMAIL_RECEIVED", "MAILBOX_EMAIL_DELIVERED", "RULE_APPLIED",
		"JOURNALING_INITIATED", "INCOMING_EMAIL_BOUNCED", "OUTGOING_EMAIL_SUBMITTED", "OUTGOING_EMAIL_SENT",
		"DMARC_POLICY_APPLIED"} {
		if s.eventNames[name] == 0 {
			t.Errorf("no %s in %d records", name, n)
		}
	}
	// Fan-out: every trace starts with RECEIVED or SUBMITTED.
	for tr, names := range s.traces {
		if names[0] != "ORGANIZATION_EMAIL_RECEIVED" && names[0] != "OUTGOING_EMAIL_SUBMITTED" {
			// The first events of the stream may belong to no
			// message in this sample only if generation began
			// mid-trace, which it never does.
			t.Fatalf("trace %s starts with %s", tr, names[0])
		}
	}
	// 1 RECEIVED -> N DELIVERED; 1 SUBMITTED -> SENT/BOUNCED per recipient.
	var received, withDelivery, delivered, submitted, sent int
	for _, names := range s.traces {
		count := map[string]int{}
		for _, n := range names {
			count[n]++
		}
		if count["ORGANIZATION_EMAIL_RECEIVED"]+count["OUTGOING_EMAIL_SUBMITTED"] != 1 {
			t.Fatalf("trace with %v: want exactly one RECEIVED or SUBMITTED", names)
		}
		if count["ORGANIZATION_EMAIL_RECEIVED"] == 1 {
			received++
			delivered += count["MAILBOX_EMAIL_DELIVERED"]
			if count["MAILBOX_EMAIL_DELIVERED"] > 0 {
				withDelivery++
			}
		} else {
			submitted++
			sent += count["OUTGOING_EMAIL_SENT"] + count["OUTGOING_EMAIL_BOUNCED"]
		}
	}
	if float64(withDelivery) < 0.9*float64(received) {
		t.Errorf("only %d of %d received messages were delivered to a mailbox", withDelivery, received)
	}
	if fan := float64(delivered) / float64(received); fan < 1.05 || fan > 1.6 {
		t.Errorf("%.2f deliveries per received message, want 1.05-1.6", fan)
	}
	if float64(sent) < 0.8*float64(submitted) {
		t.Errorf("%d sent/bounced for %d submitted messages", sent, submitted)
	}
	t.Logf("kinds %v, events %v, authFail %d, denied %d, qq %d, recipients %d",
		s.kinds, s.eventNames, s.authFail, s.denied, s.qqReceived, len(s.recipients))
}

// TestSummary10M prints the dataset figures that performance.md §2 quotes
// for the reference generator. Set MAILTRAIL_GEN_10M=1 to run it (~1 min).
func TestSummary10M(t *testing.T) {
	if os.Getenv("MAILTRAIL_GEN_10M") == "" {
		t.Skip("set MAILTRAIL_GEN_10M=1")
	}
	n := 10_000_000
	g, err := New(cfgN(n))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]int{}
	names := map[string]int{}
	var fail, denied, qq, bytesN int
	byIP := map[string]int{}
	rcpt := map[string]bool{}
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		bytesN += len(r.JSON) + 1
		kinds[r.Kind]++
		j := string(r.JSON)
		switch r.Kind {
		case KindAuthentication:
			if strings.Contains(j, `"auth_successful":false`) {
				fail++
				byIP[field(j, "source_ip")]++
			}
		case KindAccessControl:
			if strings.Contains(j, `"access_granted":false`) {
				denied++
			}
		case KindEmailEvent:
			name := field(j, "eventName")
			names[name]++
			if name == "ORGANIZATION_EMAIL_RECEIVED" && strings.Contains(field(j, "from"), "qq.com") {
				qq++
			}
			if name == "MAILBOX_EMAIL_DELIVERED" {
				rcpt[field(j, "recipient")] = true
			}
		}
	}
	type kv struct {
		k string
		v int
	}
	var top []kv
	for k, v := range byIP {
		top = append(top, kv{k, v})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].v > top[j].v })
	fmt.Printf("records %d, bytes %d (%.1f/record)\nkinds %v\nevents %v\nauth failures %d, denials %d, qq RECEIVED %d, distinct recipients %d\ntop failing IPs %v\n",
		n, bytesN, float64(bytesN)/float64(n), kinds, names, fail, denied, qq, len(rcpt), top[:min(len(top), 12)])
}

// field extracts the string value of "key":"..." from a generated line.
func field(j, key string) string {
	i := strings.Index(j, `"`+key+`":"`)
	if i < 0 {
		return ""
	}
	j = j[i+len(key)+4:]
	return j[:strings.IndexByte(j, '"')]
}

func TestTimeSpan(t *testing.T) {
	c := cfgN(50_000)
	g, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	start := c.Start.UnixMilli()
	end := c.Start.Add(time.Duration(c.Days) * 24 * time.Hour).UnixMilli()
	var weekdayDay, weekdayNight int
	var first, last int64 = -1, 0
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		if r.Time < start || r.Time >= end {
			t.Fatalf("timestamp %d outside [%d, %d)", r.Time, start, end)
		}
		if first < 0 {
			first = r.Time
		}
		last = r.Time
		tm := time.UnixMilli(r.Time).UTC()
		if wd := tm.Weekday(); wd != time.Saturday && wd != time.Sunday {
			switch h := tm.Hour(); {
			case h >= 11 && h < 16:
				weekdayDay++
			case h < 5:
				weekdayNight++
			}
		}
	}
	if last-first < int64(c.Days-1)*86_400_000 {
		t.Errorf("records span %d ms, want about %d days", last-first, c.Days)
	}
	if weekdayDay < 3*weekdayNight {
		t.Errorf("business hours (%d records in 11-16h) not much busier than night (%d in 0-5h)", weekdayDay, weekdayNight)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"negative n", func(c *Config) { c.N = -1 }, "N = -1"},
		{"no days", func(c *Config) { c.Days = 0 }, "Days = 0"},
		{"no orgs", func(c *Config) { c.Orgs = 0 }, "Orgs = 0"},
		{"fewer users than orgs", func(c *Config) { c.Users = 2 }, "Users = 2"},
		{"tiny ip pool", func(c *Config) { c.IPs = 3 }, "IPs = 3"},
		{"no start", func(c *Config) { c.Start = time.Time{} }, "Start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestSmallWorlds(t *testing.T) {
	// Degenerate but valid configurations must not panic and must still
	// produce valid, ordered JSON.
	for _, c := range []Config{
		{N: 3000, Seed: 3, Start: time.Date(2024, 2, 28, 22, 0, 0, 0, time.UTC), Days: 1, Users: 1, Orgs: 1, IPs: 16},
		{N: 3000, Seed: 4, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Days: 2, Users: 9, Orgs: 9, IPs: 100},
		{N: 0, Seed: 5, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Days: 1, Users: 1, Orgs: 1, IPs: 16},
	} {
		s := summarize(t, generate(t, c))
		if s.n != c.N {
			t.Fatalf("%+v: %d records, want %d", c, s.n, c.N)
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, io.ErrShortWrite
	}
	f.n--
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	g, err := New(cfgN(10_000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteTo(&failWriter{}); err == nil || !strings.Contains(err.Error(), "writing record") {
		t.Fatalf("WriteTo on a failing writer: err = %v", err)
	}
}

func jsonUnmarshalNumber(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func deepEqualJSON(x, y any) bool {
	switch a := x.(type) {
	case map[string]any:
		b, ok := y.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !deepEqualJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := y.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !deepEqualJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	default:
		return x == y
	}
}
