package query

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// heavyQueries spend their time in per-row expression work (regexes,
// parse, string functions) rather than in the vectorised column loops of
// Q1–Q7: they are where the in-block cancellation checks sit, so they show
// what those checks cost. Same source as BenchmarkQ:
//
//	MAILTRAIL_BENCH_NDJSON=/tmp/query/1m.ndjson MAILTRAIL_BENCH_STRINGS=1 \
//	  go test -run XXX -bench 'Q|Heavy' -count 5 ./internal/query
var heavyQueries = []struct{ name, q string }{
	{"H1regex", `filter @message like /Firefox\/12[0-9]/ | stats count(*)`},
	{"H2parse", `parse @message /"source_ip":"(?<ip>[^"]*)"/ | stats count(*) as c by ip | sort c desc | limit 10`},
	{"H3strlen", `fields strlen(@message) as len | stats avg(len), max(len)`},
	{"H4byexpr", `stats count(*) as c by tolower(protocol), strlen(user_agent)`},
	{"H5sortexpr", `fields strlen(@message) as len | sort len desc | limit 20`},
	{"H6glob", `parse @message '"action":"*"' as act | stats count(*) by act`},
	{"H7strfilter", `filter user_id like /^a3/ | stats count(*)`},
}

func BenchmarkHeavy(b *testing.B) { runBenchQueries(b, heavyQueries) }

var (
	stopSrcOnce sync.Once
	stopSrc     *bigSource
)

// BenchmarkStopLatency measures how long a parse-heavy query takes to
// return once its context is cancelled, over blocks of the store's bulk
// size (115,000 rows). Each iteration starts the query, cancels it after a
// delay that moves through the block (so the stop lands at varied points
// of a block), and times cancel → Run returning. It reports the mean and
// the worst stop time, and block-ms, the time one worker spends on one
// block: the stop time when cancellation is only seen between blocks.
func BenchmarkStopLatency(b *testing.B) {
	stopSrcOnce.Do(func() { stopSrc = newBigSource(8, 115_000) })
	src := stopSrc
	q, err := Parse(`parse @message /"ip":"(?<ip>[^"]*)".*"text":"(?<t>[^"]*)"/ | stats count(*) by ip`)
	if err != nil {
		b.Fatal(err)
	}
	opt := Options{Groups: []string{"/big"}, Workers: 2}
	t0 := time.Now()
	if _, err := Run(context.Background(), src, q, opt); err != nil {
		b.Fatal(err)
	}
	blockMs := float64(time.Since(t0).Microseconds()) / 1000 / float64(len(src.blocks)) * float64(opt.Workers)
	var stops []time.Duration
	i := 0
	for b.Loop() {
		delay := time.Duration(5+(i*37)%int(blockMs+1)) * time.Millisecond
		i++
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := Run(ctx, src, q, opt)
			done <- err
		}()
		time.Sleep(delay)
		c0 := time.Now()
		cancel()
		err := <-done
		d := time.Since(c0)
		if errors.Is(err, context.Canceled) {
			stops = append(stops, d)
		} else if err != nil {
			b.Fatal(err)
		}
	}
	if len(stops) == 0 {
		return
	}
	var sum time.Duration
	for _, d := range stops {
		sum += d
	}
	b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(stops)), "stop-ms")
	b.ReportMetric(float64(slices.Max(stops).Microseconds())/1000, "max-stop-ms")
	b.ReportMetric(blockMs, "block-ms")
}

var (
	checkSrcOnce sync.Once
	checkSrc     *bigSource
)

// BenchmarkCancelChecks measures what the in-block context checks cost:
// each query runs with the checks every cancelEvery rows ("on") and with
// them switched off ("off", one check per loop and block), in the same
// binary, so that a difference is the checks' and not a shift in code
// layout (which moves hot loops of unrelated functions by a few bytes and,
// on this machine, changes them by up to 30%). Run with -count 5 and
// compare cpu-ms/op of on and off.
func BenchmarkCancelChecks(b *testing.B) {
	checkSrcOnce.Do(func() { checkSrc = newBigSource(4, 115_000) })
	src := checkSrc
	qs := []struct{ name, q string }{
		{"regex", `filter @message like /"n":\d*999\d,/ | stats count(*)`},
		{"parse", `parse @message /"ip":"(?<ip>[^"]*)"/ | stats count(*) as c by ip | sort c desc | limit 10`},
		{"glob", `parse @message '"ip":"*"' as ip | stats count(*) by ip`},
		{"strlen", `fields strlen(@message) as len | stats avg(len), max(len)`},
		{"byexpr", `stats count(*) as c by concat(user, "-x")`},
		{"sortexpr", `fields n % 1000 as m | sort m desc | limit 20`},
		{"dictfilter", `filter code like /^c\d*7$/ | stats count(*)`},
	}
	on := cancelEvery
	defer func() { cancelEvery = on }()
	for _, bq := range qs {
		q, err := Parse(bq.q)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []struct {
			name  string
			every int
		}{{"on", on}, {"off", 1 << 40}} {
			b.Run(bq.name+"/"+mode.name, func(b *testing.B) {
				cancelEvery = mode.every
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := Run(context.Background(), src, q, Options{Groups: []string{"/big"}, Workers: 2}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
