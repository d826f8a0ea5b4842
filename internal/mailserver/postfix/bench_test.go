package postfix

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
)

func benchAsk(b *testing.B, block func(i int) string) {
	e := newEnv(b, nil)
	c := e.dial(b)
	br := bufio.NewReader(c)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := io.WriteString(c, block(i)); err != nil {
			b.Fatal(err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// Inbound MX requests: no evaluation, no record.
func BenchmarkPolicyInbound(b *testing.B) {
	blk := capturedBlocks(b)[0]
	benchAsk(b, func(int) string { return blk })
}

// Later RCPTs of an evaluated transaction: answered from the decision cache.
func BenchmarkPolicyCachedTransaction(b *testing.B) {
	blk := capturedBlocks(b)[4]
	benchAsk(b, func(int) string { return blk })
}

// A new authenticated transaction per request: evaluation plus a durable
// (fsynced) record before each answer.
func BenchmarkPolicyNewTransaction(b *testing.B) {
	blk := capturedBlocks(b)[4]
	benchAsk(b, func(i int) string {
		return strings.Replace(blk, "instance=", fmt.Sprintf("instance=%d.", i), 1)
	})
}

func BenchmarkReadRequest(b *testing.B) {
	blk := capturedBlocks(b)[5]
	r := strings.NewReader("")
	br := bufio.NewReader(r)
	b.SetBytes(int64(len(blk)))
	for i := 0; i < b.N; i++ {
		r.Reset(blk)
		br.Reset(r)
		if _, err := ReadRequest(br, 16<<10, 4096); err != nil {
			b.Fatal(err)
		}
	}
}

// New transactions from 16 concurrent Postfix connections: the store's
// group commit shares one fsync among the records waiting for it.
func BenchmarkPolicyNewTransactionParallel(b *testing.B) {
	e := newEnv(b, nil)
	blk := capturedBlocks(b)[4]
	var seq atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS connections
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := e.dial(b)
		br := bufio.NewReader(c)
		for pb.Next() {
			req := strings.Replace(blk, "instance=", fmt.Sprintf("instance=p%d.", seq.Add(1)), 1)
			if _, err := io.WriteString(c, req); err != nil {
				b.Error(err)
				return
			}
			if _, err := br.ReadString('\n'); err != nil {
				b.Error(err)
				return
			}
			br.ReadString('\n')
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
