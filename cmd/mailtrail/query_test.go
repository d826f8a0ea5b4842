package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// The CLI's hand-written renderers must give encoding/csv's and
// encoding/json's bytes: --format csv is read by csv tools, and --format
// json must show exactly the values the API returns.
var renderCases = []string{
	"", "plain", "a,b", `say "hi"`, "line\nbreak", "cr\rhere", " lead", "\tlead", "trail ",
	`\.`, `\.x`, "\u00a0nbsp", "\u2028", "<a&b>", "ünïcode", "bad\xffutf8", "\x00\x1f", `{"k":"v, w"}`,
}

func randomField(r *rand.Rand) string {
	alphabet := []string{"a", ",", `"`, "\n", "\r", " ", "\t", `\`, ".", "é", "\u2028", "\xff", "<", "\x01"}
	var b strings.Builder
	for n := r.IntN(6); n > 0; n-- {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func TestAppendCSVRecordMatchesEncodingCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	recs := [][]string{renderCases}
	for i := 0; i < 20000; i++ {
		rec := make([]string, 1+r.IntN(4))
		for j := range rec {
			rec[j] = randomField(r)
		}
		recs = append(recs, rec)
	}
	for _, rec := range recs {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		if err := cw.Write(rec); err != nil {
			t.Fatal(err)
		}
		cw.Flush()
		if got := appendCSVRecord(nil, rec); string(got) != want.String() {
			t.Fatalf("%q:\n got %q\nwant %q", rec, got, want.String())
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := append([]string(nil), renderCases...)
	for i := 0; i < 20000; i++ {
		cases = append(cases, randomField(r))
	}
	for _, s := range cases {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendJSONString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("%q: got %q, want %q", s, got, want.String())
		}
	}
}
