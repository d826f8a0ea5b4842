package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
// StartQuery → GetQueryResults against a store filled by scripts/bench.sh
// and, interleaved with it query by query, through `mailtrail query
// --repeat 6` (the CLI figures of #4), so that the load of a shared machine
// weighs on both alike. It prints, per query, the medians over
// MAILTRAIL_BENCH_ROUNDS rounds (default 1) of the CLI median and of the
// API's warm runs, their ratio, the server's own queryDuration
// (DescribeQueries), the final GetQueryResults call, the polls per run, and
// the CPU time of one run in the server, in the SDK client (signing,
// polling, decoding the rows) and in the CLI: on a machine shared with
// other builds the CPU times vary far less than the latencies. "raw" is the
// same runs over plain signed HTTP (rawClient), timed until the final
// answer's last byte is read: the API's own latency, without the SDK's
// decoding of the rows.
// It runs only when MAILTRAIL_BENCH_DATA names that data directory (group
// from MAILTRAIL_BENCH_GROUP, default "bench"); MAILTRAIL_BENCH_POLL sets
// the client's poll interval (default 2ms) and MAILTRAIL_BENCH_CLI=0 skips
// the CLI runs.
//
// The server holds the store's lock, so it is stopped while the CLI runs
// and started again for each query; the first API run after a start is
// reported separately ("first") and left out of the median.
//
// Polling: the server holds a GetQueryResults on a running query until
// the query ends (up to cwlogs.DefaultResultsWait, 50 ms) and then answers
// at once, so the client learns of the end without quantisation whatever
// its interval; the 2 ms pause between polls only bounds the requests a
// query of many waits makes. lastGet, the final call, therefore includes
// the wait for the end as well as encoding, transfer and the SDK decoding
// the rows.
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
	rounds := 1
	if v := os.Getenv("MAILTRAIL_BENCH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MAILTRAIL_BENCH_ROUNDS=%q: want a positive integer", v)
		}
		rounds = n
	}
	poll := 2 * time.Millisecond
	if v := os.Getenv("MAILTRAIL_BENCH_POLL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("MAILTRAIL_BENCH_POLL=%q: %v", v, err)
		}
		poll = d
	}
	withCLI := os.Getenv("MAILTRAIL_BENCH_CLI") != "0"
	creds := t.TempDir() + "/creds"
	os.WriteFile(creds, []byte("AKIABENCH0000000000A benchsecret "+account+"\n"), 0o600)
	queries := benchQueries(t)
	type figures struct{ cli, api, raw, first, server, last, cliCPU, apiCPU, sdkCPU []time.Duration }
	figs := make([]figures, len(queries))
	rows := make([]int, len(queries))
	polls := make([]int, len(queries))
	const reps = 5
	for round := 0; round < rounds; round++ {
		for qi, q := range queries {
			f := &figs[qi]
			if withCLI {
				med, cpu := cliMedian(t, data, group, q[1])
				f.cli = append(f.cli, med)
				f.cliCPU = append(f.cliCPU, cpu)
			}
			s := startServer(t, data, "--credentials", creds)
			c := sdkClient(s, "AKIABENCH0000000000A", "benchsecret")
			ctx := context.Background()
			var warm []time.Duration
			var serverCPU0, clientCPU0 time.Duration
			for r := 0; r < reps+1; r++ {
				if r == 1 {
					serverCPU0, clientCPU0 = procCPU(t, s.cmd.Process.Pid), selfCPU()
				}
				began := time.Now()
				sq, err := c.StartQuery(ctx, &cwl.StartQueryInput{
					LogGroupName: aws.String(group), StartTime: aws.Int64(0), EndTime: aws.Int64(4102444800),
					QueryString: aws.String(q[1]), Limit: aws.Int32(10000),
				})
				if err != nil {
					t.Fatalf("%s: %v", q[0], err)
				}
				for {
					polls[qi]++
					t0 := time.Now()
					res, err := c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId})
					if err != nil {
						t.Fatal(err)
					}
					if res.Status == types.QueryStatusComplete {
						rows[qi] = len(res.Results)
						f.last = append(f.last, time.Since(t0))
						break
					}
					if res.Status != types.QueryStatusRunning && res.Status != types.QueryStatusScheduled {
						t.Fatalf("%s: %s", q[0], res.Status)
					}
					time.Sleep(poll)
				}
				if r == 0 {
					f.first = append(f.first, time.Since(began))
				} else {
					warm = append(warm, time.Since(began))
				}
			}
			f.api = append(f.api, median(warm))
			f.apiCPU = append(f.apiCPU, (procCPU(t, s.cmd.Process.Pid)-serverCPU0)/reps)
			f.sdkCPU = append(f.sdkCPU, (selfCPU()-clientCPU0)/reps)
			// The same runs over plain signed HTTP: until the answer's last
			// byte is read, not decoded. The first is left out as above.
			rc := newRawClient(s, "AKIABENCH0000000000A", "benchsecret")
			var rawWarm []time.Duration
			for r := 0; r < reps+1; r++ {
				began := time.Now()
				ans, _, err := rc.rawQuery(ctx, group, q[1], poll)
				el := time.Since(began)
				if err != nil {
					t.Fatalf("%s (raw HTTP): %v", q[0], err)
				}
				if r == 0 {
					var got struct{ Results []json.RawMessage }
					if err := json.Unmarshal(ans, &got); err != nil || len(got.Results) != rows[qi] {
						t.Fatalf("%s (raw HTTP): %d rows (%v), the SDK got %d", q[0], len(got.Results), err, rows[qi])
					}
					continue
				}
				rawWarm = append(rawWarm, el)
			}
			f.raw = append(f.raw, median(rawWarm))
			dq, err := c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{LogGroupName: aws.String(group)})
			if err != nil {
				t.Fatal(err)
			}
			for _, qi := range dq.Queries {
				f.server = append(f.server, time.Duration(aws.ToInt64(qi.QueryDuration))*time.Millisecond)
			}
			if err := s.stop(); err != nil {
				t.Fatalf("stopping server: %v\n%s", err, s.log())
			}
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0fms", float64(d.Microseconds())/1000) }
	for qi, q := range queries {
		f := figs[qi]
		line := fmt.Sprintf("%s\trows=%d\tfirst=%s\tmedian=%s", q[0], rows[qi], ms(median(f.first)), ms(median(f.api)))
		if withCLI {
			cli := median(f.cli)
			line += fmt.Sprintf("\tcli=%s\tapi/cli=%.2f", ms(cli), float64(median(f.api))/float64(cli))
		}
		line += fmt.Sprintf("\traw=%s", ms(median(f.raw)))
		if withCLI {
			line += fmt.Sprintf("\traw/cli=%.2f", float64(median(f.raw))/float64(median(f.cli)))
		}
		line += fmt.Sprintf("\tcpu:server=%s\tsdk=%s", ms(median(f.apiCPU)), ms(median(f.sdkCPU)))
		if withCLI {
			line += fmt.Sprintf("\tcli=%s", ms(median(f.cliCPU)))
		}
		line += fmt.Sprintf("\tserver=%s\tlastGet=%.1fms\tpolls/run=%.0f", ms(median(f.server)),
			float64(median(f.last).Microseconds())/1000, float64(polls[qi])/float64(rounds*(reps+1)))
		fmt.Println(line)
	}
}

// median is the middle value (the upper one of an even count, as the CLI's
// --repeat reports).
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// cliMedian runs `mailtrail query --repeat 6` on the store and returns the
// median it reports, and the CPU time of one run: the difference between
// that process and one of `--repeat 1`, over five (so that opening the
// store and starting the process do not count).
func cliMedian(t *testing.T, data, group, q string) (time.Duration, time.Duration) {
	t.Helper()
	run := func(repeat string) (string, time.Duration) {
		cmd := exec.Command(binPath, "query", "--data", data, "--group", group, "--format", "csv", "--repeat", repeat, "--quiet", q)
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("mailtrail query %q: %v\n%s", q, err, errb.String())
		}
		return errb.String(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	_, one := run("1")
	out, six := run("6")
	// "runs 6: first 368.9 ms, median 286.2 ms, min 235.2 ms"
	_, rest, ok := strings.Cut(out, "median ")
	var v float64
	if ok {
		_, err := fmt.Sscanf(rest, "%g ms", &v)
		ok = err == nil
	}
	if !ok {
		t.Fatalf("mailtrail query --repeat: no median in %q", out)
	}
	return time.Duration(v * float64(time.Millisecond)), (six - one) / 5
}

// procCPU is the user and system CPU time process pid has used so far
// (/proc/PID/stat, in clock ticks of 10 ms).
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("reading the server's CPU time: %v", err)
	}
	// Fields after the parenthesised command name: state is field 3,
	// utime 14 and stime 15.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		t.Fatalf("/proc/%d/stat: %q has too few fields", pid, b)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// selfCPU is this process's user and system CPU time (the SDK client).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
