package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
)

func manyEvents(t testing.TB, n int) *memsource.Source {
	src := memsource.New()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"event_timestamp":%d,"user":"u%d","ip":"10.0.%d.%d","n":%d}`+"\n", 1714564800000+int64(i)*1000, i%50, i%7, i%250, i)
	}
	if _, err := src.LoadJSON(strings.NewReader(b.String()), "gen", "", "/g", "s"); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestMemoryLimit(t *testing.T) {
	src := manyEvents(t, 20000)
	q, err := Parse(`fields @message | sort n asc`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), src, q, Options{Groups: []string{"/g"}, MemoryLimit: 100 << 10})
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("err = %v, want ErrMemoryLimit", err)
	}
	if !strings.Contains(err.Error(), "memory limit") {
		t.Errorf("unclear message: %v", err)
	}
	if _, err := Run(context.Background(), src, q, Options{Groups: []string{"/g"}}); err != nil {
		t.Fatalf("default limit: %v", err)
	}
}

func TestCancel(t *testing.T) {
	src := manyEvents(t, 20000)
	q, _ := Parse(`stats count(*) by user`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, src, q, Options{Groups: []string{"/g"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestUnknownGroup(t *testing.T) {
	src := manyEvents(t, 10)
	q, _ := Parse(`fields @message`)
	if _, err := Run(context.Background(), src, q, Options{Groups: []string{"/nope"}}); err == nil || !strings.Contains(err.Error(), "/nope") {
		t.Fatalf("err = %v, want one naming the group", err)
	}
}

// TestLimitsAndStats checks the default 10,000-row cap, Options.Limit, the
// statistics and the Progress callback on a data set spanning many blocks.
func TestLimitsAndStats(t *testing.T) {
	src := manyEvents(t, 30000)
	q, _ := Parse(`filter n >= 5000 | fields n`)
	calls := 0
	res, err := Run(context.Background(), src, q, Options{Groups: []string{"/g"}, Progress: func(Stats) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != DefaultLimit || res.Rows[0][0].Value != "29999" || res.Rows[DefaultLimit-1][0].Value != "20000" {
		t.Fatalf("got %d rows, first %v, last %v", len(res.Rows), res.Rows[0], res.Rows[len(res.Rows)-1])
	}
	if res.Stats.RecordsMatched != 25000 || res.Stats.RecordsScanned != 30000 || res.Stats.BytesScanned <= 0 {
		t.Errorf("stats %+v", res.Stats)
	}
	if got := strings.Join(res.Fields, ","); got != "n,@ptr" {
		t.Errorf("fields %s", got)
	}
	res, err = Run(context.Background(), src, q, Options{Groups: []string{"/g"}, Limit: 3, Start: 1714564800000 + 6000*1000, End: 1714564800000 + 6010*1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || res.Rows[0][0].Value != "6009" || res.Stats.RecordsScanned != 10 {
		t.Fatalf("limited: %v %+v", res.Rows, res.Stats)
	}
	// Exact aggregates across blocks and workers.
	q, _ = Parse(`stats count(*) as c, count_distinct(ip) as d, sum(n) as s, avg(n) as a by user | sort user asc | limit 2`)
	res, err = Run(context.Background(), src, q, Options{Groups: []string{"/g"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `[[{user u0} {c 600} {d 35} {s 8985000} {a 14975}] [{user u1} {c 600} {d 35} {s 8985600} {a 14976}]]`
	if got := fmt.Sprint(res.Rows); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestSourceCommand(t *testing.T) {
	q, err := Parse(`SOURCE logGroups(namePrefix: ['/aws/workmail'], class: ['STANDARD']) | stats count(*)`)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(q.Source.NamePrefixes, q.Source.Classes) != "[/aws/workmail] [STANDARD]" {
		t.Errorf("source %+v", q.Source)
	}
	q, err = Parse(`SOURCE "/a" START=1000 END=1999 | fields @message`)
	if err != nil {
		t.Fatal(err)
	}
	if s := q.Source; fmt.Sprint(s.Groups, s.Start, s.End, s.HasStart, s.HasEnd) != "[/a] 1000 1999 true true" {
		t.Errorf("source %+v", s)
	}
}

func TestParseErrorOffsets(t *testing.T) {
	_, err := Parse("fields a\n| filter b ==== 1")
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v", err)
	}
	if pe.Line != 2 || pe.StartOffset != 22 || pe.EndOffset <= pe.StartOffset {
		t.Errorf("%+v", pe)
	}
}

func TestNoGroups(t *testing.T) {
	q, _ := Parse(`fields @message`)
	if _, err := Run(context.Background(), memsource.New(), q, Options{}); err == nil || !strings.Contains(err.Error(), "no log group") {
		t.Fatalf("err = %v", err)
	}
}

// TestPtrOnce checks that @ptr is one column whether or not the query
// names it: a result has one column per name.
func TestPtrOnce(t *testing.T) {
	src := manyEvents(t, 10)
	for _, tc := range []struct{ q, fields string }{
		{`fields user`, "user,@ptr"},
		{`fields @ptr, user`, "@ptr,user"},
		{`fields user, @ptr | limit 3`, "user,@ptr"},
		{`display @ptr`, "@ptr"},
	} {
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(q.Fields(), ","); got != tc.fields {
			t.Errorf("%s: Fields() = %s, want %s", tc.q, got, tc.fields)
		}
		res, err := Run(context.Background(), src, q, Options{Groups: []string{"/g"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(res.Fields, ","); got != tc.fields {
			t.Errorf("%s: Result.Fields = %s, want %s", tc.q, got, tc.fields)
		}
		for _, r := range res.Rows {
			var names []string
			for _, f := range r {
				names = append(names, f.Name)
			}
			if got := strings.Join(names, ","); got != tc.fields || r[slices.Index(names, "@ptr")].Value == "" {
				t.Fatalf("%s: row fields %s, want %s with a pointer", tc.q, got, tc.fields)
			}
		}
	}
}
