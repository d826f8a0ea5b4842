package ingest

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// ProgressBar draws a one-line progress display (bytes, records/s, ETA) on
// a terminal, redrawn in place with '\r'. Callers only create one when the
// output is a terminal: in a pipe or a log file it would be noise.
type ProgressBar struct {
	w     io.Writer
	c     *Counters
	total int64 // input bytes as stored; <= 0 when unknown (stdin)
	start time.Time

	mu    sync.Mutex
	shown bool // a bar is on the line and must be cleared before text
	done  chan struct{}
	wg    sync.WaitGroup
}

// NewProgressBar returns a bar for the counters c of a run over total bytes.
func NewProgressBar(w io.Writer, c *Counters, total int64) *ProgressBar {
	return &ProgressBar{w: w, c: c, total: total, start: time.Now(), done: make(chan struct{})}
}

// Start redraws the bar five times a second until Stop.
func (p *ProgressBar) Start() {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case now := <-t.C:
				p.mu.Lock()
				fmt.Fprint(p.w, "\r"+p.Render(now)+"\x1b[K")
				p.shown = true
				p.mu.Unlock()
			}
		}
	}()
}

// Stop removes the bar.
func (p *ProgressBar) Stop() {
	close(p.done)
	p.wg.Wait()
	p.clear()
}

// Println prints a line of text above the bar.
func (p *ProgressBar) Println(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
	fmt.Fprintln(p.w, s)
}

func (p *ProgressBar) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// Render returns the bar's text at time now.
func (p *ProgressBar) Render(now time.Time) string {
	elapsed := now.Sub(p.start).Seconds()
	in := p.c.BytesIn.Load()
	read := p.c.Read.Load()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(read) / elapsed
	}
	var b strings.Builder
	if p.total > 0 {
		frac := min(float64(in)/float64(p.total), 1)
		const width = 24
		fill := int(frac * width)
		b.WriteString("[" + strings.Repeat("#", fill) + strings.Repeat(".", width-fill) + "]")
		fmt.Fprintf(&b, " %3.0f%%  %s / %s", frac*100, FormatBytes(in), FormatBytes(p.total))
	} else {
		fmt.Fprintf(&b, "%s", FormatBytes(in))
	}
	fmt.Fprintf(&b, "  %s records  %s records/s", FormatCount(read), FormatCount(int64(rate)))
	if rej := p.c.Rejected.Load(); rej > 0 {
		fmt.Fprintf(&b, "  %s rejected", FormatCount(rej))
	}
	if p.total > 0 && in > 0 && in < p.total && elapsed > 0 {
		eta := time.Duration(elapsed * float64(p.total-in) / float64(in) * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", FormatDuration(eta))
	}
	return b.String()
}

// FormatBytes writes n with a binary unit: 512 B, 1.5 KiB, 96.3 MiB.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// FormatCount writes n with thousands separators: 1,234,567.
func FormatCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatDuration writes d as m:ss or h:mm:ss.
func FormatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
