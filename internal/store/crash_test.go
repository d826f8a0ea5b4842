package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// TestCrash kills a child process that appends from several goroutines at
// random moments (kill -9), then reopens the store and checks that every
// acknowledged event is present exactly once and nothing is duplicated.
// Acknowledged means Append returned nil, or AppendDeferred's done was
// called with nil (see TestCrashChild for which writers use which).
// STORE_CRASH_ROUNDS sets the number of rounds (default 20).
func TestCrash(t *testing.T) {
	if os.Getenv("STORE_CRASH_CHILD") != "" {
		t.Skip("child mode")
	}
	rounds := 20
	if v := os.Getenv("STORE_CRASH_ROUNDS"); v != "" {
		rounds, _ = strconv.Atoi(v)
	}
	if testing.Short() {
		rounds = 3
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	torn := 0
	defer func() { t.Logf("%d of %d reopens dropped a torn WAL tail", torn, rounds) }()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
		cmd.Env = append(os.Environ(), "STORE_CRASH_CHILD="+dir, "STORE_CRASH_ROUND="+strconv.Itoa(round))
		out, err := cmd.StdoutPipe()
		must(t, err)
		cmd.Stderr = os.Stderr
		must(t, cmd.Start())
		var lines []string
		done := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			close(done)
		}()
		time.Sleep(time.Duration(150+rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		cmd.Wait()
		n := 0
		for _, l := range lines {
			var r, w, lo, hi int
			if _, err := fmt.Sscanf(l, "ACK %d %d %d %d", &r, &w, &lo, &hi); err != nil {
				continue
			}
			for k := lo; k < hi; k++ {
				acked[fmt.Sprintf("%d-%d-%d", r, w, k)] = true
				n++
			}
		}
		// kill -9 cannot tear a write (the data is already in the kernel),
		// so on every third round simulate what a power cut can leave: a
		// partial, never-acknowledged frame at the end of the newest WAL.
		if round%3 == 2 {
			wals, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
			if len(wals) > 0 {
				f, err := os.OpenFile(wals[len(wals)-1], os.O_APPEND|os.O_WRONLY, 0)
				must(t, err)
				junk := make([]byte, 1+rng.IntN(200))
				for i := range junk {
					junk[i] = byte(rng.Uint32())
				}
				junk[0] = 0xff // a length that overruns the file
				f.Write(junk)
				f.Close()
			}
		}
		// Reopen in this process and verify.
		var logbuf bytes.Buffer
		s := openTest(t, dir, Options{MemtableBytes: 64 << 10, BlockRows: 500, MergeSmallBytes: 1 << 20, Logger: slog.New(slog.NewTextHandler(&logbuf, nil))})
		torn += strings.Count(logbuf.String(), "dropping torn WAL tail") + strings.Count(logbuf.String(), "incomplete header")
		seen := map[string]int{}
		var mu sync.Mutex
		err = s.Scan(context.Background(), &scan.Request{Account: DefaultAccount, Groups: []string{"/crash"}, Start: scan.MinTime, End: scan.MaxTime, Columns: []string{"@message", "id"}, Workers: 2},
			func(_ int, b *scan.Block) error {
				mu.Lock()
				defer mu.Unlock()
				ids, msgs := b.Col("id"), b.Col("@message")
				for i := 0; i < b.Rows; i++ {
					id := ids.Value(i).S
					if !strings.Contains(msgs.Value(i).S, `"id":"`+id+`"`) {
						return fmt.Errorf("row %d: message %q does not match id %q", i, msgs.Value(i).S, id)
					}
					seen[id]++
				}
				return nil
			})
		if err != nil {
			t.Fatalf("round %d: scan: %v", round, err)
		}
		missing := 0
		for id := range acked {
			if seen[id] != 1 {
				missing++
				if missing < 5 {
					t.Errorf("round %d: acknowledged event %s seen %d times", round, id, seen[id])
				}
			}
		}
		for id, c := range seen {
			if c != 1 {
				t.Errorf("round %d: event %s stored %d times", round, id, c)
			}
		}
		if missing > 0 || t.Failed() {
			t.Fatalf("round %d: %d acknowledged events missing or duplicated (of %d)", round, missing, len(acked))
		}
		t.Logf("round %d: %d new acks, %d acked total, %d stored", round, n, len(acked), len(seen))
		must(t, s.Close())
	}
}

// TestCrashChild is the child side of TestCrash.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("STORE_CRASH_CHILD")
	if dir == "" {
		t.Skip("only run as TestCrash's child")
	}
	round, _ := strconv.Atoi(os.Getenv("STORE_CRASH_ROUND"))
	// Writers 2 and 3 use AppendDeferred (acknowledged only once flushed)
	// in rounds 1, 2 mod 3, and writers 0 and 1 too in rounds 2 mod 3: so
	// memtables hold WAL-backed rows, deferred rows, or both.
	deferred := func(w int) bool { return round%3 == 2 || (round%3 == 1 && w >= 2) }
	// Odd rounds write S2-compressed WAL frames, even rounds raw ones.
	s, err := Open(dir, Options{MemtableBytes: 64 << 10, BlockRows: 500, MergeSmallBytes: 1 << 20, MaintenanceInterval: 50 * time.Millisecond, CompressWAL: round%2 == 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	must(t, s.EnsureLogGroup(DefaultAccount, "/crash"))
	must(t, s.EnsureLogStream(DefaultAccount, "/crash", "a"))
	must(t, s.EnsureLogStream(DefaultAccount, "/crash", "b"))
	var wmu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			stream := []string{"a", "b"}[w%2]
			inflight := make(chan struct{}, 8)
			for k := 0; ; {
				n := 1 + (k*7+w)%50
				evs := make([]Event, n)
				for i := range evs {
					id := fmt.Sprintf("%d-%d-%d", round, w, k+i)
					evs[i] = Event{Timestamp: 1746057600000 + int64((k+i)*977%86400000*3), Message: []byte(`{"id":"` + id + `","w":` + strconv.Itoa(w) + `,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)}
				}
				ack := func(k int) {
					wmu.Lock()
					fmt.Fprintf(os.Stdout, "ACK %d %d %d %d\n", round, w, k, k+n)
					wmu.Unlock()
				}
				if deferred(w) {
					lo := k // k moves on before done is called
					// A few batches in flight at most, as ingest has: an
					// unbounded writer would pile up data for the check.
					inflight <- struct{}{}
					err := s.AppendDeferred(DefaultAccount, "/crash", stream, evs, func(err error) {
						if err != nil {
							fmt.Fprintln(os.Stderr, "child deferred append:", err)
							os.Exit(4)
						}
						ack(lo)
						<-inflight
					})
					if err != nil {
						fmt.Fprintln(os.Stderr, "child append:", err)
						os.Exit(4)
					}
				} else {
					if err := s.Append(DefaultAccount, "/crash", stream, evs); err != nil {
						fmt.Fprintln(os.Stderr, "child append:", err)
						os.Exit(4)
					}
					ack(k)
				}
				k += n
			}
		}(w)
	}
	wg.Wait()
}
