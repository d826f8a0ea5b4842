//go:build storequery

package store

// Q1–Q7 through the query engine against a store directory, for profiling
// the store's share of the reference queries:
//
//	STORE_QUERY_DIR=/tmp/db STORE_QUERY_GROUP=bench go test -tags storequery \
//	    -run XXX -bench QueryDir -benchtime 3x -cpuprofile cpu.out ./internal/store
//
// STORE_QUERY_PARTIAL=1 runs with partial results on (every 200 ms), as
// the API server runs queries for GetQueryResults.
//
// Behind a build tag so that the store's own tests never depend on the
// engine compiling.

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/query"
)

func BenchmarkQueryDir(b *testing.B) {
	dir := os.Getenv("STORE_QUERY_DIR")
	if dir == "" {
		b.Skip("set STORE_QUERY_DIR (and STORE_QUERY_GROUP, default /bench)")
	}
	group := cmpOr(os.Getenv("STORE_QUERY_GROUP"), "/bench")
	f, err := os.Open("/work/shared/bench/queries/cwli.txt")
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	only := os.Getenv("STORE_QUERY_ONLY")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.HasPrefix(name, "#") || only != "" && !strings.Contains(only, name) {
			continue
		}
		b.Run(name, func(b *testing.B) {
			q, err := query.Parse(text)
			if err != nil {
				b.Fatal(err)
			}
			var rows int
			cpu0 := cpuTime()
			for b.Loop() {
				opt := query.Options{Account: DefaultAccount, Groups: []string{group}, Workers: 2}
				if os.Getenv("STORE_QUERY_PARTIAL") != "" {
					opt.Partial = func([][]query.Field, query.Stats) {}
				}
				res, err := query.Run(context.Background(), s, q, opt)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(res.Rows)
			}
			// Process CPU per run: steadier than wall time on a shared machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
