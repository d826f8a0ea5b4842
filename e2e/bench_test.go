package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// BenchmarkPutLogEvents measures ingest through the API with SigV4
// verification on: Go SDK clients on this machine, 4 concurrent streams,
// batches as large as the 1 MiB PutLogEvents limit allows, generated
// WorkMail records. Reports records/s (client and server share the cores).
func BenchmarkPutLogEvents(b *testing.B) {
	s := startServer(&testing.T{}, "", "--max-event-age", "0")
	defer s.stop()
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	group := "/bench/put"
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		b.Fatal(err)
	}
	// Pre-build batches from the generator so the client measures the API,
	// not JSON generation.
	out, err := exec.Command(binPath, "gen", "-n", "200000", "-seed", "3").Output()
	if err != nil {
		b.Fatal(err)
	}
	var batches [][]types.InputLogEvent
	var cur []types.InputLogEvent
	size := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	base := time.Now().Add(-time.Hour).UnixMilli()
	for i := 0; sc.Scan(); i++ {
		msg := sc.Text()
		if size+len(msg)+26 > 1000000 || len(cur) == 10000 {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		cur = append(cur, types.InputLogEvent{Timestamp: aws.Int64(base + int64(i/100)), Message: aws.String(msg)})
		size += len(msg) + 26
	}
	batches = append(batches, cur)
	const workers = 4
	for w := 0; w < workers; w++ {
		c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(fmt.Sprint("w", w))})
	}
	var records atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	total := int64(b.N)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				batch := batches[int(i)%len(batches)]
				if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(fmt.Sprint("w", w)), LogEvents: batch}); err != nil {
					b.Error(err)
					return
				}
				records.Add(int64(len(batch)))
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64(records.Load())/el.Seconds(), "records/s")
	b.ReportMetric(float64(records.Load())/float64(b.N), "records/op")
}

// TestQueryLatencyAPI runs Q1–Q7 (shared/bench/queries/cwli.txt) through
// StartQuery → GetQueryResults against a store filled by scripts/bench.sh,
// and prints first-run and median latency. It runs only when
// MAILTRAIL_BENCH_DATA names that data directory (group from
// MAILTRAIL_BENCH_GROUP, default "bench").
func TestQueryLatencyAPI(t *testing.T) {
	data := os.Getenv("MAILTRAIL_BENCH_DATA")
	if data == "" {
		t.Skip("set MAILTRAIL_BENCH_DATA to a store filled by scripts/bench.sh")
	}
	group := os.Getenv("MAILTRAIL_BENCH_GROUP")
	if group == "" {
		group = "bench"
	}
	account := os.Getenv("MAILTRAIL_BENCH_ACCOUNT")
	if account == "" {
		account = "000000000000"
	}
	creds := t.TempDir() + "/creds"
	os.WriteFile(creds, []byte("AKIABENCH0000000000A benchsecret "+account+"\n"), 0o600)
	s := startServer(t, data, "--credentials", creds)
	c := sdkClient(s, "AKIABENCH0000000000A", "benchsecret")
	ctx := context.Background()
	queries := benchQueries(t)
	reps := 5
	for _, q := range queries {
		var times []time.Duration
		var rows int
		for r := 0; r < reps+1; r++ {
			began := time.Now()
			sq, err := c.StartQuery(ctx, &cwl.StartQueryInput{
				LogGroupName: aws.String(group), StartTime: aws.Int64(0), EndTime: aws.Int64(4102444800),
				QueryString: aws.String(q[1]), Limit: aws.Int32(10000),
			})
			if err != nil {
				t.Fatalf("%s: %v", q[0], err)
			}
			for {
				res, err := c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId})
				if err != nil {
					t.Fatal(err)
				}
				if res.Status == types.QueryStatusComplete {
					rows = len(res.Results)
					break
				}
				if res.Status != types.QueryStatusRunning && res.Status != types.QueryStatusScheduled {
					t.Fatalf("%s: %s", q[0], res.Status)
				}
				time.Sleep(2 * time.Millisecond)
			}
			times = append(times, time.Since(began))
		}
		first := times[0]
		warm := append([]time.Duration(nil), times[1:]...)
		sort.Slice(warm, func(i, j int) bool { return warm[i] < warm[j] })
		fmt.Printf("%s\trows=%d\tfirst=%v\tmedian=%v\n", q[0], rows, first.Round(time.Millisecond), warm[len(warm)/2].Round(time.Millisecond))
	}
}

func benchQueries(t *testing.T) [][2]string {
	b, err := os.ReadFile("../../shared/bench/queries/cwli.txt")
	if err != nil {
		t.Skip("shared/bench/queries/cwli.txt not found")
	}
	var out [][2]string
	for _, line := range strings.Split(string(b), "\n") {
		if name, q, ok := strings.Cut(line, "\t"); ok && strings.HasPrefix(name, "Q") {
			out = append(out, [2]string{name, q})
		}
	}
	return out
}
