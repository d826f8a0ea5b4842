package query

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/query/memsource"
)

// The .test files in testdata are scripts in the style of Prometheus'
// promqltest:
//
//	load GROUP [STREAM]          events follow, one per line, until a blank line:
//	{"event_timestamp":...}      a JSON record (time from event_timestamp or eventTime)
//	2024-05-01T12:00:00Z text    a time (RFC 3339 or epoch ms) and a plain message
//
//	eval [groups=a,b] [start=T] [end=T] [limit=N]
//	  QUERY LINE(S)              indented, joined with newlines
//	  => {"f":"v",...}           expected rows in order, fields in order; @ptr is
//	                             checked for presence on non-stats rows and not listed
//	  => (none)                  no rows
//	  statistics matched=N scanned=N   optional statistics check
//
//	error QUERY                  the query must fail to parse or run
//	  => SUBSTRING               with an error containing SUBSTRING
//	  at LINE:COL                optional position check
//
// Lines starting with # are comments.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f) })
	}
}

type evalCase struct {
	line      int
	query     []string
	groups    []string
	start     int64
	end       int64
	limit     int
	rows      []string
	none      bool
	isErr     bool
	errSub    string
	errPos    string
	stats     string
	wantStats bool
}

func runScript(t *testing.T, file string) {
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	src := memsource.New()
	var groups []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	lineNo := 0
	var cur *evalCase
	loading := ""
	stream := ""
	flush := func() {
		if cur != nil {
			runCase(t, file, src, groups, cur)
			cur = nil
		}
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if loading != "" {
			if trim == "" {
				loading = ""
				continue
			}
			if err := addLine(src, loading, stream, trim); err != nil {
				t.Fatalf("%s:%d: %v", file, lineNo, err)
			}
			continue
		}
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		if indented && cur != nil {
			switch {
			case strings.HasPrefix(trim, "=> "):
				v := strings.TrimPrefix(trim, "=> ")
				switch {
				case cur.isErr:
					cur.errSub = v
				case v == "(none)":
					cur.none = true
				default:
					cur.rows = append(cur.rows, v)
				}
			case strings.HasPrefix(trim, "at ") && cur.isErr:
				cur.errPos = strings.TrimPrefix(trim, "at ")
			case strings.HasPrefix(trim, "statistics "):
				cur.stats, cur.wantStats = strings.TrimPrefix(trim, "statistics "), true
			default:
				cur.query = append(cur.query, trim)
			}
			continue
		}
		flush()
		fields := strings.Fields(trim)
		switch fields[0] {
		case "load":
			if len(fields) < 2 {
				t.Fatalf("%s:%d: load needs a group", file, lineNo)
			}
			loading = fields[1]
			stream = "stream-1"
			if len(fields) > 2 {
				stream = fields[2]
			}
			if !contains(groups, loading) {
				groups = append(groups, loading)
			}
		case "eval":
			cur = &evalCase{line: lineNo}
			for _, opt := range fields[1:] {
				k, v, _ := strings.Cut(opt, "=")
				switch k {
				case "groups":
					cur.groups = strings.Split(v, ",")
				case "start":
					cur.start = mustTime(t, file, lineNo, v)
				case "end":
					cur.end = mustTime(t, file, lineNo, v)
				case "limit":
					cur.limit, _ = strconv.Atoi(v)
				default:
					t.Fatalf("%s:%d: unknown eval option %q", file, lineNo, opt)
				}
			}
		case "error":
			cur = &evalCase{line: lineNo, isErr: true}
			if q := strings.TrimSpace(strings.TrimPrefix(trim, "error")); q != "" {
				cur.query = append(cur.query, q)
			}
		default:
			t.Fatalf("%s:%d: unknown directive %q", file, lineNo, fields[0])
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func mustTime(t *testing.T, file string, line int, v string) int64 {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return ms
	}
	tm, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("%s:%d: bad time %q", file, line, v)
	}
	return tm.UnixMilli()
}

func addLine(src *memsource.Source, group, stream, line string) error {
	if strings.HasPrefix(line, "{") {
		_, err := src.LoadJSON(strings.NewReader(line), "testdata", "", group, stream)
		return err
	}
	ts, msg, _ := strings.Cut(line, " ")
	var ms int64
	if v, err := strconv.ParseInt(ts, 10, 64); err == nil {
		ms = v
	} else {
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return fmt.Errorf("line must be a JSON object or TIME MESSAGE: %v", err)
		}
		ms = tm.UnixMilli()
	}
	src.Add("", group, memsource.Event{Timestamp: ms, IngestionTime: ms + 1000, Stream: stream, Message: msg})
	return nil
}

func runCase(t *testing.T, file string, src *memsource.Source, groups []string, c *evalCase) {
	t.Helper()
	text := strings.Join(c.query, "\n")
	where := fmt.Sprintf("%s:%d", file, c.line)
	q, err := Parse(text)
	var res *Result
	if err == nil {
		g := groups
		if c.groups != nil {
			g = c.groups
		}
		if q.Source != nil && len(q.Source.Groups) > 0 {
			g = nil
		}
		res, err = Run(context.Background(), src, q, Options{Groups: g, Start: c.start, End: c.end, Limit: c.limit, Workers: 2})
	}
	if c.isErr {
		if err == nil {
			t.Errorf("%s: %q: want an error, got none", where, text)
			return
		}
		if !strings.Contains(err.Error(), c.errSub) {
			t.Errorf("%s: %q: error %q does not contain %q", where, text, err, c.errSub)
		}
		if c.errPos != "" {
			pe, ok := err.(*ParseError)
			if !ok || fmt.Sprintf("%d:%d", pe.Line, pe.Col) != c.errPos {
				t.Errorf("%s: %q: error %v not at %s", where, text, err, c.errPos)
			}
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %q: %v", where, text, err)
		return
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, rowJSON(t, where, r, q.IsStats()))
	}
	if len(c.rows) == 0 && !c.none && !c.wantStats {
		t.Errorf("%s: case has no expectation; got rows:\n  => %s", where, strings.Join(got, "\n  => "))
		return
	}
	want := c.rows
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: %q:\ngot  %d rows:\n  => %s\nwant %d rows:\n  => %s", where, text, len(got), strings.Join(got, "\n  => "), len(want), strings.Join(want, "\n  => "))
	}
	if c.wantStats {
		s := fmt.Sprintf("matched=%d scanned=%d", int(res.Stats.RecordsMatched), int(res.Stats.RecordsScanned))
		if s != c.stats {
			t.Errorf("%s: %q: stats %s, want %s", where, text, s, c.stats)
		}
	}
}

// rowJSON renders a row as an ordered JSON object, without @ptr.
func rowJSON(t *testing.T, where string, r []Field, isStats bool) string {
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	hasPtr := false
	for _, f := range r {
		if f.Name == "@ptr" {
			hasPtr = true
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonStr(f.Name))
		b.WriteByte(':')
		b.WriteString(jsonStr(f.Value))
		n++
	}
	b.WriteByte('}')
	if !isStats && !hasPtr {
		t.Errorf("%s: non-stats row without @ptr: %s", where, b.String())
	}
	if isStats && hasPtr {
		t.Errorf("%s: stats row with @ptr", where)
	}
	if len(r) > 0 && hasPtr && r[len(r)-1].Name != "@ptr" {
		t.Errorf("%s: @ptr is not last", where)
	}
	return b.String()
}

func jsonStr(s string) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
