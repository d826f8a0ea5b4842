package query

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
	"github.com/mailtrail/mailtrail/internal/scan"
)

// ipv4Source is a memsource that gives the numeric form of address
// dictionaries (scan.Column.DictIPv4) on every other block, as the store
// does for IPv4 dictionary chunks, so that one worker sees the same
// address as text in one block and as a number in another.
type ipv4Source struct{ *memsource.Source }

func (s ipv4Source) Scan(ctx context.Context, req *scan.Request, fn func(int, *scan.Block) error) error {
	return s.Source.Scan(ctx, req, func(w int, b *scan.Block) error {
		c := b.Columns["ip"]
		if c == nil || c.Type != scan.TypeDict || b.MinTime/1000%2 == 0 {
			return fn(w, b)
		}
		nums := make([]uint32, len(c.Dict))
		for k, v := range c.Dict {
			a, err := netip.ParseAddr(v)
			if err != nil || !a.Is4() {
				return fn(w, b) // not all addresses: no numeric form
			}
			q := a.As4()
			nums[k] = uint32(q[0])<<24 | uint32(q[1])<<16 | uint32(q[2])<<8 | uint32(q[3])
		}
		cp := *c
		cp.DictIPv4 = nums
		cols := make(map[string]*scan.Column, len(b.Columns))
		for name, col := range b.Columns {
			cols[name] = col
		}
		cols["ip"] = &cp
		nb := *b
		nb.Columns = cols
		return fn(w, &nb)
	})
}

// TestDistinctIPv4 checks that count_distinct over addresses interned by
// number (part of the blocks) counts exactly what it counts by text.
func TestDistinctIPv4(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	src := memsource.New()
	var b strings.Builder
	n := 4*memsource.BlockRows + 321
	for i := 0; i < n; i++ {
		rec := fmt.Sprintf(`{"event_timestamp":%d`, 1714564800000+int64(i/memsource.BlockRows)*1000+int64(i%1000))
		if r.IntN(30) != 0 {
			rec += fmt.Sprintf(`,"user":"u%d"`, r.IntN(400))
		}
		if r.IntN(12) != 0 {
			rec += fmt.Sprintf(`,"ip":"%d.%d.%d.%d"`, r.IntN(3)*100, r.IntN(4), r.IntN(40), r.IntN(2))
		}
		b.WriteString(rec + "}\n")
	}
	if _, err := src.LoadJSON(strings.NewReader(b.String()), "gen", "", "/g", "s"); err != nil {
		t.Fatal(err)
	}
	q, err := Parse(`stats count_distinct(ip) as d by user | sort d desc, user asc`)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		opt := Options{Groups: []string{"/g"}, Workers: workers}
		want, err := Run(context.Background(), src, q, opt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Run(context.Background(), ipv4Source{src}, q, opt)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Rows) != fmt.Sprint(want.Rows) || got.Stats != want.Stats {
			t.Fatalf("%d workers: with DictIPv4\n%v\nwant\n%v", workers, got.Rows, want.Rows)
		}
		if len(want.Rows) < 300 {
			t.Fatalf("only %d groups", len(want.Rows))
		}
	}
}
