package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/ingest/storesink"
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
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the run to this file")
	memLimit := fs.Int64("memory-limit", 768<<20, "soft memory limit in bytes for the Go runtime (bulk ingest stays well under 1 GiB);\nGOMEMLIMIT, when set, wins")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" && *memLimit > 0 {
		// The store's buffers are bounded, but garbage from parsing is not
		// until the GC runs; a soft limit keeps peak RSS predictable.
		debug.SetMemoryLimit(*memLimit)
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
	inputs, total, err := ingest.FileInputs(fs.Args(), *streamName)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("ingest: --cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("ingest: --cpuprofile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
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
	sink, err := storesink.New(st, account, *group)
	if err != nil {
		return err
	}
	bytesBefore := storesink.StoredBytes(st, account, *group)

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
		// Records go straight into segments, not first through the WAL;
		// they are counted stored once their segment is in the manifest.
		Deferred: true,
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

	bytesAfter := storesink.StoredBytes(st, account, *group)
	closeErr := st.Close()
	closed = true
	if closeErr == nil {
		// Closing flushes what was still in memory; the sizes are final now.
		if st2, err := store.Open(*dataDir, store.Options{}); err == nil {
			bytesAfter = storesink.StoredBytes(st2, account, *group)
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
