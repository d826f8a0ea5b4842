package gen

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzConfig feeds arbitrary small configurations to the generator: New
// either rejects them with an error or the stream is valid, time-ordered
// JSON of exactly N lines. It must never panic.
func FuzzConfig(f *testing.F) {
	f.Add(200, uint64(1), int64(1746057600), 30, 5000, 3, 20000)
	f.Add(50, uint64(7), int64(0), 1, 1, 1, 16)
	f.Add(500, uint64(3), int64(1709164800), 2, 9, 9, 100)
	f.Add(10, uint64(0), int64(-86400), 0, 0, 0, 0)
	f.Fuzz(func(t *testing.T, n int, seed uint64, start int64, days, users, orgs, ips int) {
		if n > 2000 || users > 20000 || ips > 100000 || days > 400 {
			t.Skip()
		}
		c := Config{N: n, Seed: seed, Start: time.Unix(start, 0).UTC(), Days: days, Users: users, Orgs: orgs, IPs: ips}
		g, err := New(c)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if _, err := g.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), []byte{'\n'})
		if n == 0 {
			if buf.Len() != 0 {
				t.Fatalf("N=0 wrote %d bytes", buf.Len())
			}
			return
		}
		if len(lines) != n {
			t.Fatalf("%d lines, want %d", len(lines), n)
		}
		var last int64 = -1 << 62
		for i, l := range lines {
			var m struct {
				TS *int64 `json:"event_timestamp"`
			}
			if err := json.Unmarshal(l, &m); err != nil {
				t.Fatalf("line %d: %v: %s", i+1, err, l)
			}
			if m.TS == nil || *m.TS < last {
				t.Fatalf("line %d: event_timestamp missing or decreasing: %s", i+1, l)
			}
			last = *m.TS
		}
	})
}
