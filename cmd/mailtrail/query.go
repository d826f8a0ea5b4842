package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/query/memsource"
	"github.com/mailtrail/mailtrail/internal/scan"
	"github.com/mailtrail/mailtrail/internal/store"
)

func init() {
	register(&command{name: "query", summary: "run a Logs Insights query over a store or NDJSON files", run: runQuery})
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runQuery(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("query", "query [flags] 'QUERY'   (or --query-file FILE)", stderr)
	var groups, inputs multiFlag
	data := fs.String("data", "", "store directory to query (with --group)")
	fs.Var(&groups, "group", "log group to query (repeatable); with --input, the group the files are loaded into")
	fs.Var(&inputs, "input", "NDJSON/JSON file to query directly, without a store (repeatable)")
	account := fs.String("account", "", "account id of the log groups (default the store's default account)")
	startF := fs.String("start", "", "start of the time range: RFC 3339, epoch ms, or relative like 24h, 7d (ago)")
	endF := fs.String("end", "", "end of the time range (exclusive), same forms as --start")
	format := fs.String("format", "table", "output format: table, json (the API's rows as objects) or csv")
	limit := fs.Int("limit", 0, "maximum rows (default 10000, as StartQuery)")
	workers := fs.Int("workers", 2, "blocks evaluated in parallel")
	memLimit := fs.Int64("memory-limit", query.DefaultMemoryLimit, "bytes of rows and groups a query may hold (negative: no limit)")
	repeat := fs.Int("repeat", 1, "run the query N times and print first-run and median wall time (query and rendering) to stderr (benchmarks)")
	qfile := fs.String("query-file", "", "read the query from this file (- for stdin)")
	quiet := fs.Bool("quiet", false, "do not print statistics to stderr")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the query runs to this file (pprof format)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if *qfile != "" {
		var b []byte
		var err error
		if *qfile == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(*qfile)
		}
		if err != nil {
			return fmt.Errorf("reading the query: %w", err)
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		fmt.Fprintln(stderr, "mailtrail query: no query given")
		fs.Usage()
		return errUsage
	}
	switch *format {
	case "table", "json", "csv":
	default:
		fmt.Fprintf(stderr, "mailtrail query: unknown --format %q (want table, json or csv)\n", *format)
		return errUsage
	}
	if (*data == "") == (len(inputs) == 0) {
		fmt.Fprintln(stderr, "mailtrail query: give either --data DIR (with --group) or --input FILE")
		return errUsage
	}
	now := time.Now()
	start, err := parseWhen(*startF, now)
	if err != nil {
		return fmt.Errorf("--start: %w", err)
	}
	end, err := parseWhen(*endF, now)
	if err != nil {
		return fmt.Errorf("--end: %w", err)
	}
	if start != 0 && end != 0 && end <= start {
		return fmt.Errorf("--end %s is not after --start %s", *endF, *startF)
	}

	q, err := query.Parse(text)
	if err != nil {
		var pe *query.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("malformed query: %v\n  %s", err, caretLine(text, pe))
		}
		return err
	}

	var src scan.Source
	acct := *account
	switch {
	case *data != "":
		st, err := store.Open(*data, store.Options{})
		if err != nil {
			return fmt.Errorf("opening store %s: %w", *data, err)
		}
		defer st.Close()
		src = st
		if acct == "" {
			acct = store.DefaultAccount
		}
		if len(groups) == 0 && (q.Source == nil || len(q.Source.Groups) == 0) {
			infos, err := st.DescribeLogGroups(acct, "")
			if err != nil {
				return err
			}
			prefixes := []string{""}
			if q.Source != nil && len(q.Source.NamePrefixes) > 0 {
				prefixes = q.Source.NamePrefixes
			}
			for _, g := range infos {
				for _, p := range prefixes {
					if strings.HasPrefix(g.Name, p) {
						groups = append(groups, g.Name)
						break
					}
				}
			}
			if len(groups) == 0 {
				return fmt.Errorf("store %s has no log groups to query (account %s)", *data, acct)
			}
		}
	default:
		ms := memsource.New()
		for _, f := range inputs {
			g := filepath.Base(f)
			if len(groups) > 0 {
				g = groups[0]
			}
			fh, err := os.Open(f)
			if err != nil {
				return err
			}
			_, err = ms.LoadJSON(fh, f, acct, g, filepath.Base(f))
			fh.Close()
			if err != nil {
				return err
			}
		}
		src = ms
		groups = ms.Groups(acct)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opt := query.Options{Account: acct, Groups: groups, Start: start, End: end, Limit: *limit, Workers: *workers, MemoryLimit: *memLimit}
	var res *query.Result
	var times []time.Duration
	if *cpuprofile != "" {
		// Profiling only the runs, not the store open or parsing, so the
		// profile shows what --repeat measures.
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("cpuprofile %s: %w", *cpuprofile, err)
		}
		defer pprof.StopCPUProfile()
	}
	// A timed run includes rendering the rows in the chosen format, as a
	// user waits for both (and as the API's figures include encoding its
	// answer); only the last rendering is written out.
	var out bytes.Buffer
	for i := 0; i < max(*repeat, 1); i++ {
		t0 := time.Now()
		res, err = query.Run(ctx, src, q, opt)
		if err != nil {
			return err
		}
		out.Reset()
		if err := writeResult(&out, res, *format); err != nil {
			return err
		}
		times = append(times, time.Since(t0))
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if !*quiet {
		skipped := ""
		if st := res.Stats; st.EstimatedRecordsSkipped > 0 {
			skipped = fmt.Sprintf("; skipped from block metadata: ~%.0f records, ~%.0f bytes", st.EstimatedRecordsSkipped, st.EstimatedBytesSkipped)
		}
		fmt.Fprintf(stderr, "%d rows; records matched %.0f, scanned %.0f, bytes scanned %.0f%s\n",
			len(res.Rows), res.Stats.RecordsMatched, res.Stats.RecordsScanned, res.Stats.BytesScanned, skipped)
	}
	if *repeat > 1 {
		first := times[0]
		sorted := slices.Clone(times)
		slices.Sort(sorted)
		fmt.Fprintf(stderr, "runs %d: first %s, median %s, min %s\n", len(times), ms(first), ms(sorted[len(sorted)/2]), ms(sorted[0]))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// parseWhen reads RFC 3339, epoch milliseconds, or a duration ago (24h,
// 90m, 7d, 2w).
func parseWhen(s string, now time.Time) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	mult := time.Duration(0)
	num := s
	switch {
	case strings.HasSuffix(s, "d"):
		mult, num = 24*time.Hour, strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "w"):
		mult, num = 7*24*time.Hour, strings.TrimSuffix(s, "w")
	}
	if mult != 0 {
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid time %q: want RFC 3339, epoch ms or a duration like 24h or 7d", s)
		}
		return now.Add(-time.Duration(n * float64(mult))).UnixMilli(), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid time %q: want RFC 3339, epoch ms or a duration like 24h or 7d", s)
	}
	return now.Add(-d).UnixMilli(), nil
}

// caretLine shows the query line of a parse error with a caret under it.
func caretLine(text string, pe *query.ParseError) string {
	lines := strings.Split(text, "\n")
	if pe.Line < 1 || pe.Line > len(lines) {
		return ""
	}
	l := lines[pe.Line-1]
	col := min(max(pe.Col-1, 0), len(l))
	return l + "\n  " + strings.Repeat(" ", utf8.RuneCountInString(l[:col])) + "^"
}

func writeResult(w io.Writer, res *query.Result, format string) error {
	switch format {
	case "json":
		// Objects keep the row's field order, which a map would lose.
		var b []byte
		b = append(b, '[')
		for i, r := range res.Rows {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n  {"...)
			for j, f := range r {
				if j > 0 {
					b = append(b, ", "...)
				}
				b = appendJSONString(b, f.Name)
				b = append(b, ": "...)
				b = appendJSONString(b, f.Value)
			}
			b = append(b, '}')
		}
		if len(res.Rows) > 0 {
			b = append(b, '\n')
		}
		b = append(b, "]\n"...)
		_, err := w.Write(b)
		return err
	case "csv":
		b := appendCSVRecord(nil, res.Fields)
		rec := make([]string, len(res.Fields))
		for _, r := range res.Rows {
			clear(rec)
			for _, f := range r {
				if i := slices.Index(res.Fields, f.Name); i >= 0 {
					rec[i] = f.Value
				}
			}
			b = appendCSVRecord(b, rec)
		}
		_, err := w.Write(b)
		return err
	}
	// table: @ptr is left out; long values are cut.
	cols := slices.DeleteFunc(slices.Clone(res.Fields), func(s string) bool { return s == "@ptr" })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	rec := make([]string, len(cols))
	for _, r := range res.Rows {
		clear(rec)
		for _, f := range r {
			if i := slices.Index(cols, f.Name); i >= 0 {
				rec[i] = cellText(f.Value)
			}
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	return tw.Flush()
}

func cellText(s string) string {
	s = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
	if utf8.RuneCountInString(s) > 120 {
		r := []rune(s)
		return string(r[:119]) + "…"
	}
	return s
}

// appendJSONString writes s as the API does (awsjson: encoding/json's
// bytes without HTML escaping), so --format json shows the API's values.
func appendJSONString(b []byte, s string) []byte { return awsjson.AppendString(b, s) }

// appendCSVRecord writes one record byte for byte as encoding/csv's Writer
// does (comma, LF line ends): a field is quoted when it holds a comma,
// quote, CR or LF, or begins with a space, or is \. ; quotes are doubled.
// encoding/csv writes a quoted field rune by rune, which made rendering
// 6,000 JSON messages cost more than the query.
func appendCSVRecord(b []byte, rec []string) []byte {
	for i, f := range rec {
		if i > 0 {
			b = append(b, ',')
		}
		if !csvNeedsQuotes(f) {
			b = append(b, f...)
			continue
		}
		b = append(b, '"')
		for {
			k := strings.IndexByte(f, '"')
			if k < 0 {
				break
			}
			b = append(b, f[:k+1]...)
			b = append(b, '"')
			f = f[k+1:]
		}
		b = append(b, f...)
		b = append(b, '"')
	}
	return append(b, '\n')
}

func csvNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` || strings.ContainsAny(f, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}
