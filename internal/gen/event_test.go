package gen

import (
	"bytes"
	"testing"

	"github.com/mailtrail/mailtrail/internal/event"
)

// TestValidatesAsEvent decodes every generated record with internal/event,
// checks that its classification agrees with the generator's Kind, and
// validates it.
func TestValidatesAsEvent(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	for _, c := range []Config{cfgN(n), func() Config { c := cfgN(n / 10); c.Seed = 9; c.Orgs = 1; c.Users = 50; return c }()} {
		g, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[Kind]int{}
		for i := 0; ; i++ {
			r, ok := g.Next()
			if !ok {
				break
			}
			rec, lt, err := event.Decode(r.JSON)
			if err != nil {
				t.Fatalf("record %d: decode: %v\n%s", i, err, r.JSON)
			}
			if string(lt) != r.Kind.LogType() {
				t.Fatalf("record %d: generated as %s, classified as %s\n%s", i, r.Kind.LogType(), lt, r.JSON)
			}
			if err := rec.Validate(); err != nil {
				t.Fatalf("record %d (%s): %v\n%s", i, lt, err, r.JSON)
			}
			if ts, ok := event.Timestamp(r.JSON); !ok || ts != r.Time {
				t.Fatalf("record %d: event.Timestamp = %d, %v; generator says %d", i, ts, ok, r.Time)
			}
			// Round trip: what internal/event writes back carries the
			// same members.
			out, err := rec.MarshalJSON()
			if err != nil {
				t.Fatalf("record %d: re-encode: %v", i, err)
			}
			if !sameJSON(t, r.JSON, out) {
				t.Fatalf("record %d: round trip changed it\n in: %s\nout: %s", i, r.JSON, out)
			}
			seen[r.Kind]++
		}
		for _, k := range kindOrder {
			if seen[k] == 0 && c.N >= 100_000 {
				t.Errorf("no %s record in %d", k.LogType(), c.N)
			}
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if err := jsonUnmarshalNumber(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := jsonUnmarshalNumber(b, &y); err != nil {
		t.Fatal(err)
	}
	return deepEqualJSON(x, y)
}
