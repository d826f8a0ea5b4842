package ingest

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		b, c string
	}{{0, "0 B", "0"}, {999, "999 B", "999"}, {1536, "1.5 KiB", "1,536"}, {1234567, "1.2 MiB", "1,234,567"}, {5 << 30, "5.0 GiB", "5,368,709,120"}} {
		if got := FormatBytes(tt.n); got != tt.b {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.b)
		}
		if got := FormatCount(tt.n); got != tt.c {
			t.Errorf("FormatCount(%d) = %q, want %q", tt.n, got, tt.c)
		}
	}
	if got := FormatDuration(3723 * time.Second); got != "1:02:03" {
		t.Errorf("FormatDuration = %q", got)
	}
}

func TestProgressRender(t *testing.T) {
	var c Counters
	c.BytesIn.Store(50 << 20)
	c.Read.Store(100000)
	c.Rejected.Store(2)
	p := NewProgressBar(&bytes.Buffer{}, &c, 100<<20)
	got := p.Render(p.start.Add(2 * time.Second))
	for _, want := range []string{"[############............]", " 50%", "50.0 MiB / 100.0 MiB", "100,000 records", "50,000 records/s", "2 rejected", "ETA 0:02"} {
		if !strings.Contains(got, want) {
			t.Errorf("Render = %q, missing %q", got, want)
		}
	}
	var out bytes.Buffer
	p = NewProgressBar(&out, &c, 0)
	p.Start()
	p.Println("f:1: bad")
	p.Stop()
	if !strings.Contains(out.String(), "f:1: bad\n") {
		t.Errorf("output %q", out.String())
	}
}
