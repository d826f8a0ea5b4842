package query

import (
	"bufio"
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
	"github.com/mailtrail/mailtrail/internal/store"
)

// The Q1–Q7 benchmarks run over an NDJSON sample of the reference
// generator held in a memsource (columns built once, before timing):
//
//	go run /work/shared/bench/gen/main.go -n 1000000 -seed 1 -out /tmp/query/1m.ndjson
//	MAILTRAIL_BENCH_NDJSON=/tmp/query/1m.ndjson go test -run XXX -bench 'Q[1-7]' -benchmem ./internal/query
//
// Without MAILTRAIL_BENCH_NDJSON they are skipped. MAILTRAIL_BENCH_STRINGS=1
// keeps high-cardinality string fields (user_id, source_ip...) as
// TypeString columns, as the store does, instead of dictionaries.
var benchQueries = []struct{ name, q string }{
	{"Q1", `filter auth_successful = 0 | fields user, source_ip, protocol, auth_failed_reason`},
	{"Q2", `filter access_granted = 0 | fields user_id, source_ip, protocol, rule_id`},
	{"Q3", `filter event.eventName = "MAILBOX_EMAIL_DELIVERED" | stats count(*) as c by event.recipient | sort c desc`},
	{"Q4", `filter auth_successful = 0 | stats count(*) as c by source_ip | sort c desc | limit 10`},
	{"Q5", `stats count(*) as c by bin(1h)`},
	{"Q6", `filter event.from like "qq.com" and event.eventName = "ORGANIZATION_EMAIL_RECEIVED" | sort @timestamp asc`},
	{"Q7", `filter ispresent(user_id) | stats count_distinct(source_ip) as ips by user_id | sort ips desc | limit 20`},
}

var (
	benchOnce sync.Once
	benchSrc  *memsource.Source
	benchErr  error
)

func benchSource(b *testing.B) *memsource.Source {
	path := os.Getenv("MAILTRAIL_BENCH_NDJSON")
	if path == "" {
		b.Skip("set MAILTRAIL_BENCH_NDJSON to a generator NDJSON file")
	}
	benchOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			benchErr = err
			return
		}
		defer f.Close()
		src := memsource.New()
		if os.Getenv("MAILTRAIL_BENCH_STRINGS") != "" {
			src.MaxDictShare = 0.05
		}
		_, benchErr = src.LoadJSON(bufio.NewReaderSize(f, 1<<20), path, "", "/bench", "s")
		if benchErr != nil {
			return
		}
		// Build every block's columns once, outside the timings.
		q, _ := Parse(`stats count(*) by bin(1d)`)
		_, benchErr = Run(context.Background(), src, q, Options{Groups: []string{"/bench"}})
		benchSrc = src
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSrc
}

func BenchmarkQ(b *testing.B) { runBenchQueries(b, benchQueries) }

// runBenchQueries runs each query as a sub-benchmark over benchSource with
// two workers, reporting CPU per run besides wall time.
func runBenchQueries(b *testing.B, queries []struct{ name, q string }) {
	for _, bq := range queries {
		b.Run(bq.name, func(b *testing.B) {
			src := benchSource(b)
			q, err := Parse(bq.q)
			if err != nil {
				b.Fatal(err)
			}
			var res *Result
			cpu0 := cpuTime()
			for b.Loop() {
				res, err = Run(context.Background(), src, q, Options{Groups: []string{"/bench"}, Workers: 2})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(res.Rows)), "rows")
			b.ReportMetric(res.Stats.RecordsMatched, "matched")
		})
	}
}

func BenchmarkParse(b *testing.B) {
	qs := strings.Join([]string{benchQueries[5].q, benchQueries[6].q}, " | ")
	for b.Loop() {
		if _, err := Parse(qs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreQ runs Q1–Q7 against a store directory holding the
// reference generator's records in log group /bench:
//
//	go run /work/shared/bench/gen/main.go -n 10000000 -seed 1 | mailtrail ingest --data /tmp/q/store10m --group /bench -
//	MAILTRAIL_BENCH_STORE=/tmp/q/store10m go test -run XXX -bench StoreQ -benchtime 5x ./internal/query
//
// The first run of each query (cold query caches, warm page cache) is
// reported as first-ms; ns/op is the median-ish warm mean, cpu-ms/op the
// process CPU per warm run (steadier than wall time on a shared machine).
func BenchmarkStoreQ(b *testing.B) {
	dir := os.Getenv("MAILTRAIL_BENCH_STORE")
	if dir == "" {
		b.Skip("set MAILTRAIL_BENCH_STORE to a store directory with log group /bench")
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for _, bq := range benchQueries {
		b.Run(bq.name, func(b *testing.B) {
			q, err := Parse(bq.q)
			if err != nil {
				b.Fatal(err)
			}
			opt := Options{Account: store.DefaultAccount, Groups: []string{"/bench"}, Workers: 2}
			t0 := time.Now()
			res, err := Run(context.Background(), st, q, opt)
			if err != nil {
				b.Fatal(err)
			}
			first := time.Since(t0)
			cpu0 := cpuTime()
			for b.Loop() {
				if res, err = Run(context.Background(), st, q, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
			b.ReportMetric(float64(len(res.Rows)), "rows")
		})
	}
}

// cpuTime is the process's user+system CPU time: on a shared machine it is
// steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
