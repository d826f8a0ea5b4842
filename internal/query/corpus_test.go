package query

import (
	"os"
	"strings"
	"testing"
)

func corpus(t testing.TB) []string {
	b, err := os.ReadFile("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, q := range strings.Split(string(b), "\n----\n") {
		var lines []string
		for _, l := range strings.Split(q, "\n") {
			if strings.HasPrefix(l, "# ") && len(out) == 0 && len(lines) == 0 {
				continue // file header
			}
			lines = append(lines, l)
		}
		if s := strings.TrimSpace(strings.Join(lines, "\n")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// TestCorpusParses checks that every query of the B.3 example corpus, the
// audit examples and Q1–Q7 parse and plan.
func TestCorpusParses(t *testing.T) {
	qs := corpus(t)
	if len(qs) < 60 {
		t.Fatalf("corpus has %d queries, want at least 60", len(qs))
	}
	for _, q := range qs {
		if _, err := Parse(q); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
}
