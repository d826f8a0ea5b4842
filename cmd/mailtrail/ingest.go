package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store"
)

func init() {
	register(&command{name: "ingest", summary: "read log files (NDJSON, gzip, CloudTrail, CloudWatch Logs exports and subscriptions) into the store", run: runIngest})
}

// maxRejectsShown bounds the reject lines printed; the rest are counted.
const maxRejectsShown = 100

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ingest", "ingest --data DIR --group NAME [--stream NAME] [--stream-by-type] [--time-field NAME] FILE|DIR... (- for stdin)", stderr)
	dataDir := fs.String("data", "", "store directory (created if missing)")
	group := fs.String("group", "", "log group to ingest into (created if missing)")
	streamName := fs.String("stream", "", "log stream for every file (default: derived from each file's name:\n"+
		"<acct>_CloudTrail_<region> for CloudTrail log files, the log type for WorkMail\n"+
		"AWSLogs/<acct>/<logType>/ keys, the exported stream for CloudWatch Logs exports,\n"+
		"else the base name without .gz/.json/.jsonl/.ndjson/.log/.txt; \"ingest\" for stdin)")
	byType := fs.Bool("stream-by-type", false, "put each record in a stream named after its log type (WORKMAIL_MAILBOX_ACCESS_LOGS,\n"+
		"AUTHENTICATION_LOGS, WORKMAIL_EMAIL_EVENT_LOGS, CLOUDTRAIL, ...); records of no known\n"+
		"type go to the file's stream")
	timeField := fs.String("time-field", "", "field (dotted path) holding the event time, epoch ms or RFC 3339,\nfor records without event_timestamp or eventTime")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dataDir == "" || *group == "" {
		fmt.Fprintln(stderr, "ingest: --data and --group are required")
		fs.Usage()
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "ingest: no input files (use - for standard input)")
		fs.Usage()
		return errUsage
	}
	if *streamName != "" && (strings.ContainsAny(*streamName, ":*") || len(*streamName) > 512) {
		fmt.Fprintf(stderr, "ingest: --stream %q: a log stream name has 1 to 512 characters and no ':' or '*'\n", *streamName)
		return errUsage
	}
	inputs, total, err := ingestInputs(fs.Args(), *streamName)
	if err != nil {
		return err
	}

	st, err := store.Open(*dataDir, store.Options{})
	if err != nil {
		return fmt.Errorf("opening store %s: %w", *dataDir, err)
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	account := store.DefaultAccount
	if err := st.EnsureLogGroup(account, *group); err != nil {
		return fmt.Errorf("log group %q: %w", *group, err)
	}
	bytesBefore := groupStoredBytes(st, account, *group)

	// Rejects and notes go to stderr as they happen, above the progress
	// bar when there is one.
	var bar *ingest.ProgressBar
	var outMu sync.Mutex
	println := func(s string) {
		if bar != nil {
			bar.Println(s)
			return
		}
		outMu.Lock()
		fmt.Fprintln(stderr, s)
		outMu.Unlock()
	}
	shown := 0
	opts := ingest.Options{
		TimeField:    *timeField,
		StreamByType: *byType,
		ChunkSize:    4 << 20, // ~8,000 records per Append: few fsyncs, bounded memory
		OnReject: func(r ingest.Reject) {
			if shown < maxRejectsShown {
				shown++
				println(r.String())
			}
		},
		OnNote: func(file, msg string) { println(file + ": " + msg) },
	}
	ing := ingest.New(opts)
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		bar = ingest.NewProgressBar(stderr, &ing.Counters, total)
		bar.Start()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sink := &storeSink{st: st, account: account, group: *group, ensured: map[string]bool{}}
	start := time.Now()
	res, runErr := ing.Run(ctx, inputs, sink)
	elapsed := time.Since(start)
	stop()
	if bar != nil {
		bar.Stop()
	}
	if n := res.Rejected + res.FileErrors - int64(shown); n > 0 {
		fmt.Fprintf(stderr, "... and %s more rejected\n", ingest.FormatCount(n))
	}

	bytesAfter := groupStoredBytes(st, account, *group)
	closeErr := st.Close()
	closed = true
	if closeErr == nil {
		// Closing flushes what was still in memory; the sizes are final now.
		if st2, err := store.Open(*dataDir, store.Options{}); err == nil {
			bytesAfter = groupStoredBytes(st2, account, *group)
			st2.Close()
		}
	}
	printIngestSummary(stdout, res, elapsed, bytesAfter-bytesBefore)

	switch {
	case runErr != nil:
		return fmt.Errorf("ingest stopped: %w (%s records stored before that are safe)", runErr, ingest.FormatCount(res.Stored))
	case closeErr != nil:
		return fmt.Errorf("closing store: %w", closeErr)
	case res.Interrupted:
		return &exitError{code: 130, msg: fmt.Sprintf("interrupted: stopped at %s; everything read up to there (%s records) is stored",
			res.StoppedAt, ingest.FormatCount(res.Stored))}
	case res.Rejected > 0 || res.FileErrors > 0:
		what := ingest.FormatCount(res.Rejected) + " rejected"
		if res.FileErrors > 0 {
			what += fmt.Sprintf(", %s not read to the end", plural(res.FileErrors, "file", "files"))
		}
		return &exitError{code: 1, msg: what + "; listed above as file:line: reason"}
	}
	return nil
}

// ingestInputs turns the file arguments into inputs and sums their sizes
// for the progress bar (0 when one is unknown, as stdin is).
func ingestInputs(args []string, stream string) ([]ingest.Input, int64, error) {
	var inputs []ingest.Input
	var total int64
	stdin := false
	for _, name := range args {
		in := ingest.Input{Name: name, Stream: stream, Size: -1}
		if name == "-" {
			if stdin {
				return nil, 0, errors.New("ingest: - (standard input) given twice")
			}
			stdin = true
			in.Open = func() (io.ReadCloser, error) { return io.NopCloser(os.Stdin), nil }
			if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
				in.Size = fi.Size()
			}
		} else if fi, err := os.Stat(name); err == nil && fi.IsDir() {
			// A directory (an `aws s3 sync` of a bucket, say): every
			// regular file under it, in name order, each named by its path
			// so default streams come out as for single files.
			files, err := filesUnder(name)
			if err != nil {
				return nil, 0, err
			}
			for _, f := range files {
				inputs = append(inputs, fileInput(f.path, f.size, stream))
				if total >= 0 {
					total += f.size
				}
			}
			continue
		} else {
			in = fileInput(name, -1, stream)
			if err == nil && fi.Mode().IsRegular() {
				in.Size = fi.Size()
			}
		}
		if in.Size < 0 || total < 0 {
			total = -1
		} else {
			total += in.Size
		}
		inputs = append(inputs, in)
	}
	return inputs, max(total, 0), nil
}

func fileInput(path string, size int64, stream string) ingest.Input {
	return ingest.Input{Name: path, Size: size, Stream: stream, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

type fileEntry struct {
	path string
	size int64
}

// filesUnder lists the regular files below dir, skipping hidden names
// (.DS_Store, .git) that are never log data.
func filesUnder(dir string) ([]fileEntry, error) {
	var files []fileEntry
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, fileEntry{path, fi.Size()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: listing %s: %w", dir, err)
	}
	return files, nil
}

// storeSink appends to one log group, creating streams on first use. Its
// Append is called by several ingest goroutines at once.
type storeSink struct {
	st             *store.Store
	account, group string

	mu      sync.Mutex
	ensured map[string]bool
	bufs    sync.Pool // *[]store.Event
}

func (s *storeSink) Append(stream string, events []ingest.Event) error {
	s.mu.Lock()
	if !s.ensured[stream] {
		if err := s.st.EnsureLogStream(s.account, s.group, stream); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("log stream %q: %w", stream, err)
		}
		s.ensured[stream] = true
	}
	s.mu.Unlock()
	bp, _ := s.bufs.Get().(*[]store.Event)
	if bp == nil {
		bp = new([]store.Event)
	}
	buf := (*bp)[:0]
	for _, e := range events {
		buf = append(buf, store.Event{Timestamp: e.Timestamp, Message: e.Message})
	}
	err := s.st.Append(s.account, s.group, stream, buf)
	clear(buf) // drop references to the reader's chunk
	*bp = buf[:0]
	s.bufs.Put(bp)
	return err
}

func groupStoredBytes(st *store.Store, account, group string) int64 {
	groups, err := st.DescribeLogGroups(account, group)
	if err != nil {
		return 0
	}
	for _, g := range groups {
		if g.Name == group {
			return g.StoredBytes
		}
	}
	return 0
}

func printIngestSummary(w io.Writer, res ingest.Result, elapsed time.Duration, diskBytes int64) {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(res.Read) / s
	}
	fmt.Fprintf(w, "read %s, stored %s, rejected %s in %.2fs (%s records/s)\n",
		plural(res.Read, "record", "records"), ingest.FormatCount(res.Stored), ingest.FormatCount(res.Rejected),
		elapsed.Seconds(), ingest.FormatCount(int64(rate)))
	disk := "n/a"
	if res.Stored > 0 && diskBytes > 0 {
		disk = fmt.Sprintf("%s (%.1f bytes/record)", ingest.FormatBytes(diskBytes), float64(diskBytes)/float64(res.Stored))
	}
	fmt.Fprintf(w, "files %d", res.Files)
	if res.FileErrors > 0 {
		fmt.Fprintf(w, " (%d not read to the end)", res.FileErrors)
	}
	if res.Digests > 0 {
		fmt.Fprintf(w, " (%d CloudTrail digest files, not stored)", res.Digests)
	}
	fmt.Fprintf(w, ", on disk %s, peak RSS %s\n", disk, ingest.FormatBytes(ingest.PeakRSS()))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return ingest.FormatCount(n) + " " + many
}

// isTerminal reports whether f is a terminal (a character device), the
// stdlib way, so no x/term dependency is needed for one bit.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
