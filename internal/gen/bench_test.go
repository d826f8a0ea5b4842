package gen

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWriteTo measures generation alone (io.Discard): b.N records.
func BenchmarkWriteTo(b *testing.B) {
	g, err := New(cfgN(b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n, err := g.WriteTo(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n / int64(max(b.N, 1)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteFile includes the write to a file in the page cache, as
// `mailtrail gen -out FILE` does.
func BenchmarkWriteFile(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "gen.ndjson"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	g, err := New(cfgN(b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n, err := g.WriteTo(f)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n / int64(max(b.N, 1)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkNext measures the record-at-a-time iterator.
func BenchmarkNext(b *testing.B) {
	g, err := New(cfgN(b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		bytes += int64(len(r.JSON))
	}
	b.SetBytes(bytes / int64(max(b.N, 1)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
