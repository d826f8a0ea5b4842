package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileInputs(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b/2.json", "a.json", "b/1.json", ".hidden/x.json", "b/.DS_Store"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("{}\n"), 0o644)
	}
	single := filepath.Join(dir, "a.json")
	inputs, total, err := FileInputs([]string{dir, single, filepath.Join(dir, "missing.json")}, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range inputs {
		names = append(names, strings.TrimPrefix(in.Name, dir))
	}
	if got := strings.Join(names, " "); got != "/a.json /b/1.json /b/2.json /a.json /missing.json" {
		t.Errorf("inputs %s", got)
	}
	if total != 0 { // the missing file's size is unknown
		t.Errorf("total %d", total)
	}
	if _, total, _ := FileInputs([]string{dir}, "s"); total != 9 {
		t.Errorf("total %d, want 9", total)
	}
	if _, _, err := FileInputs([]string{"-", "-"}, ""); err == nil {
		t.Error("stdin twice accepted")
	}
}
