package filterpattern

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestErrorMessagesGolden pins the full text of compile errors, which the
// API layer passes on to users; regenerate with go test -update.
func TestErrorMessagesGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "bad-patterns.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(in), "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		_, err := Compile(line)
		got := "<nil>"
		if err != nil {
			got = err.Error()
		}
		out.WriteString(line + "\n\t" + got + "\n")
	}
	golden := filepath.Join("testdata", "bad-patterns.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("error messages differ from %s (go test -update to accept):\n%s", golden, out.String())
	}
}
