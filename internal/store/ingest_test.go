package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestIngestFile is the documented ingest measurement. It is skipped unless
// STORE_BENCH_FILE names an NDJSON file:
//
//	go run /work/shared/bench/gen/main.go -n 10000000 -seed 1 -out /tmp/10m.ndjson
//	STORE_BENCH_FILE=/tmp/10m.ndjson go test -run TestIngestFile -v -timeout 30m ./internal/store
//
// It appends the file in batches of 5,000 events from two goroutines
// (timestamps from event_timestamp), closes the store (final flush
// included), and prints records/s, the CPU time used (so the figure can be
// judged on a shared machine), bytes on disk per record and peak RSS.
// STORE_BENCH_DEFERRED=1 appends with AppendDeferred (as mailtrail ingest
// does) instead of Append.
// GOMEMLIMIT (e.g. 700MiB) trades a little CPU for a lower peak RSS.
// STORE_BENCH_DIR keeps the store; STORE_BENCH_DEBUG=1 logs flushes and
// memory every half second; STORE_BENCH_BLOCKROWS and
// STORE_BENCH_MEMTABLE_MB override the options.
func TestIngestFile(t *testing.T) {
	path := os.Getenv("STORE_BENCH_FILE")
	if path == "" {
		t.Skip("set STORE_BENCH_FILE to an NDJSON file to measure ingest")
	}
	dir := os.Getenv("STORE_BENCH_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	opts := Options{}
	if v := os.Getenv("STORE_BENCH_BLOCKROWS"); v != "" {
		opts.BlockRows, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("STORE_BENCH_MEMTABLE_MB"); v != "" {
		mb, _ := strconv.Atoi(v)
		opts.MemtableBytes = mb << 20
	}
	if os.Getenv("STORE_BENCH_DEBUG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s := openTest(t, dir, opts)
	must(t, s.EnsureLogGroup(DefaultAccount, "/bench"))
	must(t, s.EnsureLogStream(DefaultAccount, "/bench", "audit"))

	const batch = 5000
	batches := make(chan []Event, 4)
	go func() {
		defer close(batches)
		r := bufio.NewReaderSize(f, 4<<20)
		evs := make([]Event, 0, batch)
		for {
			line, err := r.ReadSlice('\n')
			if len(line) > 0 {
				line = bytes.TrimRight(line, "\r\n")
				if len(line) > 0 {
					evs = append(evs, Event{Timestamp: eventTime(line), Message: append([]byte(nil), line...)})
				}
			}
			if len(evs) == batch || (err != nil && len(evs) > 0) {
				batches <- evs
				evs = make([]Event, 0, batch)
			}
			if err != nil {
				return
			}
		}
	}()
	if os.Getenv("STORE_BENCH_DEBUG") != "" {
		go func() {
			for range time.Tick(500 * time.Millisecond) {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				s.mu.Lock()
				frozen, memBytes := len(s.frozen), s.mem.bytes
				s.mu.Unlock()
				if ms.HeapInuse > 600<<20 && os.Getenv("STORE_BENCH_HEAP") != "" {
					if f, err := os.Create(os.Getenv("STORE_BENCH_HEAP")); err == nil {
						pprof.WriteHeapProfile(f)
						f.Close()
					}
				}
				fmt.Fprintf(os.Stderr, "heap in use %d MB, heap sys %d MB, next GC %d MB, frozen %d, memtable %d MB, RSS %s\n",
					ms.HeapInuse>>20, ms.HeapSys>>20, ms.NextGC>>20, frozen, memBytes>>20, peakRSS())
			}
		}()
	}
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	n := 0
	var msgBytes int64
	// Two appenders, so one prepares its batch while the other waits for
	// its fsync (group commit makes them share fsyncs when they coincide).
	deferred := os.Getenv("STORE_BENCH_DEFERRED") != ""
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for evs := range batches {
				var err error
				if deferred {
					err = s.AppendDeferred(DefaultAccount, "/bench", "audit", evs, func(err error) {
						if err != nil {
							t.Error(err)
						}
					})
				} else {
					err = s.Append(DefaultAccount, "/bench", "audit", evs)
				}
				if err != nil {
					t.Error(err)
				}
				var b int64
				for i := range evs {
					b += int64(len(evs[i].Message))
				}
				mu.Lock()
				n += len(evs)
				msgBytes += b
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	must(t, s.Close())
	el := time.Since(start)
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	var disk int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				disk += fi.Size()
			}
		}
		return nil
	})
	fmt.Printf("cpu: %.1f s user+sys (including reading the file) = %.0f records per CPU-second; %.0f records/s if both cores were ours\n",
		cpu.Seconds(), float64(n)/cpu.Seconds(), 2*float64(n)/cpu.Seconds())
	fmt.Printf("records: %d (%.1f MB of messages)\ningest: %.1f s, %.0f records/s (append + final flush)\ndisk: %d bytes, %.1f bytes/record\npeak RSS: %s\n",
		n, float64(msgBytes)/1e6, el.Seconds(), float64(n)/el.Seconds(), disk, float64(disk)/float64(n), peakRSS())
}

func eventTime(line []byte) int64 {
	const key = `"event_timestamp":`
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return time.Now().UnixMilli()
	}
	j := i + len(key)
	k := j
	for k < len(line) && line[k] >= '0' && line[k] <= '9' {
		k++
	}
	v, err := strconv.ParseInt(string(line[j:k]), 10, 64)
	if err != nil {
		return time.Now().UnixMilli()
	}
	return v
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}

// TestScanDir times a few query-shaped scans over a store built by
// TestIngestFile (STORE_SCAN_DIR=<its STORE_BENCH_DIR>), with two workers.
func TestScanDir(t *testing.T) {
	dir := os.Getenv("STORE_SCAN_DIR")
	if dir == "" {
		t.Skip("set STORE_SCAN_DIR to a store made by TestIngestFile")
	}
	s := openTest(t, dir, Options{})
	defer s.Close()
	for _, q := range []struct {
		name  string
		cols  []string
		all   bool
		hints []scan.Hint
	}{
		{"timestamps only (Q5 shape)", []string{"@timestamp"}, false, nil},
		{"auth failures, 4 fields (Q1 shape)", []string{"user", "source_ip", "protocol", "auth_failed_reason"}, false,
			[]scan.Hint{{Op: scan.HintEq, Field: "auth_successful", IsNum: true, Num: 0}}},
		{"user_id + source_ip (Q7 shape)", []string{"user_id", "source_ip"}, false, nil},
		{"received from qq.com, all fields (Q6 shape)", nil, true,
			[]scan.Hint{{Op: scan.HintEq, Field: "event.eventName", Str: "ORGANIZATION_EMAIL_RECEIVED"}, {Op: scan.HintContains, Field: "event.from", Str: "qq.com"}}},
		{"@message of everything", []string{"@message"}, false, nil},
	} {
		if only := os.Getenv("STORE_SCAN_ONLY"); only != "" && !strings.Contains(q.name, only) {
			continue
		}
		var rows, blocks atomic.Int64
		start := time.Now()
		err := s.Scan(context.Background(), &scan.Request{Account: DefaultAccount, Groups: []string{"/bench"}, Start: scan.MinTime, End: scan.MaxTime,
			Columns: q.cols, AllColumns: q.all, Hints: q.hints, Workers: 2}, func(_ int, b *scan.Block) error {
			rows.Add(int64(b.Rows))
			blocks.Add(1)
			return nil
		})
		must(t, err)
		fmt.Printf("%-45s %8d rows %4d blocks %8.0f ms\n", q.name, rows.Load(), blocks.Load(), float64(time.Since(start).Microseconds())/1000)
	}
}
