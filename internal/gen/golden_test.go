package gen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestGolden pins the exact bytes of two small streams. Benchmarks compare
// runs against datasets made with earlier builds, so any change to the
// output must be deliberate: rerun with -update and say why in the commit.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		cfg  Config
	}{
		{"default-seed1-n60.ndjson", cfgN(60)},
		{"one-org-seed7-n80.ndjson", Config{N: 80, Seed: 7, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
			Days: 1, Users: 40, Orgs: 1, IPs: 500}},
	} {
		got := generate(t, tc.cfg)
		path := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			gl, wl := bytes.Split(got, []byte{'\n'}), bytes.Split(want, []byte{'\n'})
			for i := 0; i < len(gl) && i < len(wl); i++ {
				if !bytes.Equal(gl[i], wl[i]) {
					t.Fatalf("%s: line %d differs\n got: %s\nwant: %s", path, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d lines, want %d", path, len(gl), len(wl))
		}
	}
}
