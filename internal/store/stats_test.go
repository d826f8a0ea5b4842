package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSegmentStats prints the on-disk bytes per column of the segments in
// STORE_STATS_DIR (a store directory), to see where the bytes go.
func TestSegmentStats(t *testing.T) {
	dir := os.Getenv("STORE_STATS_DIR")
	if dir == "" {
		t.Skip("set STORE_STATS_DIR to a store directory")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "seg", "*.seg"))
	size := map[string]int64{}
	var rows, total int64
	for _, p := range files {
		seg, err := openSegment(p, segMeta{})
		must(t, err)
		total += seg.meta.Bytes
		for i := range seg.blocks {
			bi := &seg.blocks[i]
			rows += int64(bi.rows)
			for k, r := range bi.sys {
				size["sys:"+sysNames[k]] += r.n
			}
			for _, c := range bi.cols {
				size[c.name] += c.chunk.n
				size["bloom:"+c.name] += c.bloom.n
			}
		}
		seg.release()
	}
	var names []string
	for n := range size {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return int(size[b] - size[a]) })
	fmt.Printf("%d rows, %d bytes = %.2f B/row\n", rows, total, float64(total)/float64(rows))
	for _, n := range names {
		if size[n] > 0 {
			fmt.Printf("%-40s %10d %6.2f B/row\n", n, size[n], float64(size[n])/float64(rows))
		}
	}
}
