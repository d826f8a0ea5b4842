package store

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// benchEvents makes n realistic audit events from the sample file, each with
// a fresh request_id so high-cardinality columns stay high-cardinality.
func benchEvents(b *testing.B, n int, seed uint64) []Event {
	lines := readLinesB(b, "testdata/audit-sample.ndjson")
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]Event, n)
	ts := int64(1746057600000)
	for i := range out {
		l := []byte(lines[r.IntN(len(lines))])
		m := append([]byte(nil), l...)
		if k := bytes.Index(m, []byte(`"request_id":"`)); k >= 0 && len(m) > k+14+36 {
			copy(m[k+14:], fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff))
		}
		ts += int64(r.IntN(500))
		out[i] = Event{Timestamp: ts, Message: m}
	}
	return out
}

func readLinesB(b *testing.B, path string) []string {
	t := &testing.T{}
	return readLines(t, path)
}

// BenchmarkAppend measures bulk ingest through Append in batches of 5,000
// from two goroutines, flushes and segment encoding included (the store
// applies backpressure when flushing falls behind).
func BenchmarkAppend(b *testing.B) {
	evs := benchEvents(b, 100000, 1)
	var bytesPer int64
	for _, e := range evs {
		bytesPer += int64(len(e.Message))
	}
	s := openTest(b, b.TempDir(), Options{})
	must(b, s.CreateLogGroup(acct, "/bench", GroupOptions{}))
	must(b, s.CreateLogStream(acct, "/bench", "s"))
	const batch = 5000
	var next atomic.Int64
	b.SetBytes(bytesPer / int64(len(evs)) * batch)
	start := time.Now()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)-1) % (len(evs) / batch)
			if err := s.Append(acct, "/bench", "s", evs[i*batch:(i+1)*batch]); err != nil {
				b.Error(err)
			}
		}
	})
	must(b, s.Close())
	b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*batch), "cpu-ns/record")
}

// BenchmarkBuildBlock measures flattening and encoding alone (one core).
func BenchmarkBuildBlock(b *testing.B) {
	evs := benchEvents(b, 32768, 2)
	rows := make([]memRow, len(evs))
	var size int64
	for i, e := range evs {
		rows[i] = memRow{ts: e.Timestamp, seq: uint64(i), stream: 1, msg: e.Message}
		size += int64(len(e.Message))
	}
	enc := newEncoder(1)
	bl := newBuilder()
	b.SetBytes(size)
	var out blockOut
	cpu0 := cpuTime()
	for b.Loop() {
		out, _ = bl.buildBlock(rows, enc)
	}
	// CPU time is steadier than wall time on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*len(rows)), "cpu-ns/record")
	b.ReportMetric(float64(len(out.data))/float64(len(rows)), "bytes/record")
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "records/s")
}

func benchStore(b *testing.B, n int) *Store {
	s := openTest(b, b.TempDir(), Options{})
	must(b, s.CreateLogGroup(acct, "/scan", GroupOptions{}))
	must(b, s.CreateLogStream(acct, "/scan", "s"))
	evs := benchEvents(b, n, 3)
	for lo := 0; lo < n; lo += 10000 {
		must(b, s.Append(acct, "/scan", "s", evs[lo:min(lo+10000, n)]))
	}
	s.mu.Lock()
	s.wal.rotate = true
	s.mu.Unlock()
	s.wal.wake()
	for {
		s.mu.Lock()
		done := s.mem.rows == 0 && len(s.frozen) == 0
		s.mu.Unlock()
		if done {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkScan reads three columns of 300k events with two workers.
func BenchmarkScan(b *testing.B) {
	s := benchStore(b, 300000)
	defer s.Close()
	req := &scan.Request{Account: acct, Groups: []string{"/scan"}, Start: scan.MinTime, End: scan.MaxTime,
		Columns: []string{"user_id", "source_ip", "auth_successful"}, Workers: 2}
	var rows atomic.Int64
	for b.Loop() {
		must(b, s.Scan(context.Background(), req, func(_ int, blk *scan.Block) error { rows.Add(int64(blk.Rows)); return nil }))
	}
	b.ReportMetric(float64(rows.Load())/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkScanMessage rebuilds @message for every event.
func BenchmarkScanMessage(b *testing.B) {
	s := benchStore(b, 300000)
	defer s.Close()
	req := &scan.Request{Account: acct, Groups: []string{"/scan"}, Start: scan.MinTime, End: scan.MaxTime,
		Columns: []string{"@message"}, Workers: 2}
	var rows atomic.Int64
	for b.Loop() {
		must(b, s.Scan(context.Background(), req, func(_ int, blk *scan.Block) error { rows.Add(int64(blk.Rows)); return nil }))
	}
	b.ReportMetric(float64(rows.Load())/b.Elapsed().Seconds(), "rows/s")
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
