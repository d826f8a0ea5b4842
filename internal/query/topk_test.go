package query

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// tiedEvents returns n events whose timestamps repeat (four per second)
// and are not in ingestion order, so that top-k boundaries fall inside
// runs of equal timestamps and @ptr decides.
func tiedEvents(t testing.TB, n int) *memsource.Source {
	src := memsource.New()
	var b strings.Builder
	for i := 0; i < n; i++ {
		j := (i * 7919) % n
		fmt.Fprintf(&b, `{"event_timestamp":%d,"user":"u%d","ip":"10.0.%d.%d","n":%d}`+"\n", 1714564800000+int64(j/4)*1000, i%50, i%7, i%250, i)
	}
	if _, err := src.LoadJSON(strings.NewReader(b.String()), "gen", "", "/g", "s"); err != nil {
		t.Fatal(err)
	}
	return src
}

// oldestFirst is a source that ignores scan.Request.Descending, as a
// source may.
type oldestFirst struct{ src *memsource.Source }

func (o oldestFirst) Scan(ctx context.Context, req *scan.Request, fn func(int, *scan.Block) error) error {
	r := *req
	r.Descending = false
	return o.src.Scan(ctx, &r, fn)
}

func (o oldestFirst) Fields(ctx context.Context, account string, groups []string, start, end int64) ([]scan.FieldInfo, error) {
	return o.src.Fields(ctx, account, groups, start, end)
}

// TestNewestFirstTopK checks that the top-k on @timestamp descending over
// blocks newest first, with and without partial results, returns the rows
// and statistics of a scan oldest first.
func TestNewestFirstTopK(t *testing.T) {
	tied := tiedEvents(t, 5*memsource.BlockRows+123)
	ordered := manyEvents(t, 5*memsource.BlockRows+123)
	tests := []struct {
		query   string
		limit   int
		workers int
		src     *memsource.Source // nil: tied
	}{
		{`filter n % 2 = 0 | fields user`, 0, 0, ordered},
		{`filter n % 2 = 0 | fields user`, 0, 1, ordered},
		{`filter n % 2 = 0 | fields user`, 0, 3, ordered},
		{`fields user, n`, 100, 0, ordered},
		{`filter n % 3 = 0 | fields user, ip`, 0, 1, nil},
		{`filter n % 3 = 0 | fields user, ip`, 0, 3, nil},
		{`fields user, ip`, 0, 0, nil},
		{`filter n % 3 = 0 | fields user, ip`, 0, 0, nil},
		{`filter n % 3 = 0 | fields user, ip`, 37, 0, nil},
		{`filter user = "u7" | fields n`, 0, 0, nil},
		{`filter n < 5 | fields n`, 0, 0, nil},
		{`filter n >= 100 | sort @timestamp desc | limit 9`, 0, 0, nil},
		{`sort @timestamp desc | limit 1000 | filter n % 2 = 0 | fields n`, 0, 0, nil},
		{`fields n | sort @timestamp asc | limit 11`, 0, 0, nil},
		{`fields n | sort n desc | limit 11`, 0, 0, nil},
		{`parse ip "10.0.*.*" as a, b | filter a = "3" | fields b, n`, 50, 0, nil},
		{`filter n > 10 | fields n | limit 3`, 0, 0, nil},
	}
	for _, tc := range tests {
		src := tc.src
		if src == nil {
			src = tied
		}
		t.Run(fmt.Sprintf("%s/limit=%d/workers=%d", tc.query, tc.limit, tc.workers), func(t *testing.T) {
			q, err := Parse(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			opt := Options{Groups: []string{"/g"}, Limit: tc.limit, Workers: tc.workers}
			got, err := Run(context.Background(), src, q, opt)
			if err != nil {
				t.Fatal(err)
			}
			// The reference: blocks oldest first (the bound T is then
			// found late and prunes little).
			want, err := Run(context.Background(), oldestFirst{src}, q, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Rows) == 0 {
				t.Fatal("query matched nothing: the test proves nothing")
			}
			opt.Partial = func([][]Field, Stats) {}
			opt.PartialEvery = time.Millisecond
			part, err := Run(context.Background(), src, q, opt)
			if err != nil {
				t.Fatal(err)
			}
			for name, r := range map[string]*Result{"newest first": got, "with partial results": part} {
				if !reflect.DeepEqual(r.Rows, want.Rows) {
					t.Errorf("%s: rows differ from oldest first: got %d rows, want %d", name, len(r.Rows), len(want.Rows))
				}
				if r.Stats != want.Stats {
					t.Errorf("%s: stats = %+v, want %+v", name, r.Stats, want.Stats)
				}
			}
		})
	}
}

// TestNewestFirst checks which queries take the newest-first top-k plan.
func TestNewestFirst(t *testing.T) {
	tests := []struct {
		query string
		want  bool
	}{
		{`fields user`, true},
		{`filter n > 1 | sort @timestamp desc | limit 5`, true},
		{`fields user | sort @timestamp asc`, false},
		{`fields user | sort @timestamp desc, n asc`, false},
		{`fields n as @timestamp | sort @timestamp desc`, false},
		{`stats count(*)`, false},
		{`sort n desc`, false},
	}
	for _, tc := range tests {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		ex := &executor{p: q.plan, limit: DefaultLimit}
		ex.prepare()
		if got := ex.newestFirst(); got != tc.want {
			t.Errorf("%s: newestFirst = %v, want %v", tc.query, got, tc.want)
		}
	}
}
