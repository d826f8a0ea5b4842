package postfixlog

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mailtrail/mailtrail/internal/atomicfile"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// FollowConfig configures Follow.
type FollowConfig struct {
	// Path is the log file (Postfix's maillog_file, or syslog's mail.log).
	Path string
	// Checkpoint is the file where the position is saved after every
	// commit ("" = none: every start reads Path from the beginning, or
	// from the end with StartAtEnd). It holds the file identity, the offset
	// to resume from and the deduplication window.
	Checkpoint string
	// StartAtEnd starts at the end of Path when there is no usable
	// checkpoint (skip history); default is from the beginning.
	StartAtEnd bool
	// Poll is how often the file is checked for growth and rotation at end
	// of file (default 250ms).
	Poll time.Duration
	// CommitLines commits (stores records, saves the checkpoint) at least
	// every this many lines while catching up (default 2000); at end of
	// file it always commits.
	CommitLines int
	// MaxLine bounds one line (default 1 MiB); the excess is skipped.
	MaxLine int
	// MaxReread bounds how far behind the read position a restart may
	// resume (default 4 MiB). The resume point is the first line of the
	// oldest message still being joined; a message deferred for hours
	// would otherwise pin it, and the checkpoint's dedup window with it.
	// A message older than that loses its Message-ID join after a restart.
	MaxReread int64
	Logger    *slog.Logger
}

// checkpoint is the saved position.
type checkpoint struct {
	Path        string   `json:"path"`
	Dev         uint64   `json:"dev"`
	Ino         uint64   `json:"ino"`
	Offset      int64    `json:"offset"`      // resume reading here (low-water mark)
	Read        int64    `json:"read"`        // bytes consumed when saved (information)
	Fingerprint string   `json:"fingerprint"` // sha256 of the first FingerprintLen bytes
	FPLen       int      `json:"fingerprint_len"`
	Dedup       []string `json:"dedup"` // "hash:offset", oldest first
}

const fingerprintMax = 255 // its length is kept in one byte

// Follow reads Postfix log lines from cfg.Path into p, following the file
// as it grows and across rotation, until ctx is done (then it commits,
// saves the checkpoint and returns nil). Rotation by rename and create
// (logrotate's default, Postfix's postlogd with maillog_file rotation) is
// noticed when Path names a new file: the old file is read to its end
// first. Rotation by copytruncate is noticed when the file shrinks below
// the read offset or its first bytes change. A checkpoint whose file was
// rotated while mailtrail was down is resumed in the sibling file
// (Path.1, Path-20261122, Path.<suffix>) that is the same file, then Path is
// read from its start.
func Follow(ctx context.Context, p *Processor, cfg FollowConfig) error {
	if cfg.Path == "" {
		return errors.New("postfix log follower: Path is empty")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.CommitLines <= 0 {
		cfg.CommitLines = 2000
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 1 << 20
	}
	if cfg.MaxReread <= 0 {
		cfg.MaxReread = 4 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &follower{cfg: cfg, p: p, log: cfg.Logger.With("component", "postfix-log-follow", "path", cfg.Path)}
	return f.run(ctx)
}

type follower struct {
	cfg FollowConfig
	p   *Processor
	log *slog.Logger

	file       *os.File
	fi         os.FileInfo
	br         *bufio.Reader
	off        int64  // offset after the last complete line consumed
	partial    []byte // the incomplete last line (empty when skipping)
	pendingLen int64  // bytes of the incomplete last line
	skip       bool   // dropping an over-long line
	fp         []byte
	dirty      int // lines since last commit
}

func (f *follower) run(ctx context.Context) error {
	if err := f.start(ctx); err != nil {
		return err
	}
	defer func() {
		if f.file != nil {
			f.file.Close()
		}
	}()
	tick := time.NewTicker(f.cfg.Poll)
	defer tick.Stop()
	blocked := false
	for {
		if blocked {
			// The store refused the last batch: read no further (the file
			// is the buffer) until it takes it.
			select {
			case <-ctx.Done():
				return f.stop()
			case <-tick.C:
			}
			if err := f.commit(); err != nil {
				continue
			}
			blocked = false
			f.log.Info("storing Postfix records again")
		}
		eof, err := f.readSome()
		if err != nil {
			return err
		}
		if f.dirty >= f.cfg.CommitLines || (eof && f.dirty > 0) {
			if err := f.commit(); err != nil {
				f.log.Error("storing Postfix records; pausing the log until the store takes them", "err", err)
				blocked = true
				continue
			}
		}
		if !eof {
			if ctx.Err() != nil {
				return f.stop()
			}
			continue
		}
		select {
		case <-ctx.Done():
			return f.stop()
		case <-tick.C:
		}
		if err := f.checkRotation(); err != nil {
			return err
		}
	}
}

func (f *follower) stop() error {
	if err := f.commit(); err != nil {
		return fmt.Errorf("postfix log follower %s: final commit: %w", f.cfg.Path, err)
	}
	return nil
}

// start opens the file at the checkpoint, or waits for it to exist.
func (f *follower) start(ctx context.Context) error {
	cp := f.loadCheckpoint()
	for {
		fl, err := os.Open(f.cfg.Path)
		if err == nil {
			fl.Close()
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("postfix log follower: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(f.cfg.Poll):
		}
	}
	if cp != nil {
		// Resume in the rotated-away file first when it is the one we were in.
		// logrotate names it Path.1 (or Path-DATE), postfix logrotate
		// Path.<maillog_file_rotate_suffix>: any sibling with the inode will do.
		cands := []string{f.cfg.Path}
		for _, pat := range []string{".*", "-*"} {
			more, _ := filepath.Glob(f.cfg.Path + pat)
			cands = append(cands, more...)
		}
		for _, cand := range cands {
			fi, err := os.Stat(cand)
			if err != nil {
				continue
			}
			dev, ino := fileID(fi)
			if dev != cp.Dev || ino != cp.Ino || fi.Size() < cp.Offset {
				continue
			}
			if err := f.open(cand, cp.Offset); err != nil {
				return err
			}
			if !bytes.Equal(f.fingerprintNow(cp.FPLen), mustHex(cp.Fingerprint)) {
				f.file.Close()
				f.file = nil
				continue
			}
			f.p.restoreDedup(cp.Dedup)
			f.log.Info("resuming Postfix log", "file", cand, "offset", cp.Offset)
			if cand != f.cfg.Path {
				// Drain the rotated file, then the new one from its start.
				if _, err := f.drain(); err != nil {
					return err
				}
				f.switchTo(f.cfg.Path)
			}
			return nil
		}
		f.log.Warn("checkpoint names a file that is gone; reading the log from its start (records already stored are only dropped within the saved window)",
			"checkpoint", f.cfg.Checkpoint)
		f.p.restoreDedup(cp.Dedup)
		f.p.rotated()
	}
	start := int64(0)
	if cp == nil && f.cfg.StartAtEnd {
		if fi, err := os.Stat(f.cfg.Path); err == nil {
			start = fi.Size()
		}
	}
	return f.open(f.cfg.Path, start)
}

func (f *follower) open(path string, off int64) error {
	fl, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("postfix log follower: %w", err)
	}
	fi, err := fl.Stat()
	if err != nil {
		fl.Close()
		return fmt.Errorf("postfix log follower: stat %s: %w", path, err)
	}
	if _, err := fl.Seek(off, io.SeekStart); err != nil {
		fl.Close()
		return fmt.Errorf("postfix log follower: seek %s to %d: %w", path, off, err)
	}
	f.file, f.fi, f.off = fl, fi, off
	f.br = bufio.NewReaderSize(fl, 64<<10)
	f.partial, f.pendingLen, f.skip = f.partial[:0], 0, false
	f.fp = f.fingerprintNow(fingerprintMax)
	return nil
}

// switchTo closes the current file and opens path from the start.
func (f *follower) switchTo(path string) {
	if f.file != nil {
		f.file.Close()
		f.file = nil
	}
	f.p.rotated()
	if err := f.open(path, 0); err != nil {
		f.log.Warn("opening the new log file", "err", err)
	}
}

// fingerprintNow hashes the first n bytes of the open file (fewer if it is
// shorter).
func (f *follower) fingerprintNow(n int) []byte {
	if f.file == nil {
		return nil
	}
	buf := make([]byte, n)
	k, _ := f.file.ReadAt(buf, 0)
	sum := sha256.Sum256(buf[:k])
	return append([]byte{byte(k)}, sum[:8]...)
}

// readSome reads what is available (up to a commit's worth of lines) and
// hands complete lines to the processor. eof is true at end of file.
func (f *follower) readSome() (eof bool, err error) {
	if f.file == nil {
		return true, nil
	}
	for n := 0; n < f.cfg.CommitLines; {
		chunk, err := f.br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			f.appendPartial(chunk)
			continue
		case err == io.EOF:
			f.appendPartial(chunk)
			return true, nil
		case err != nil:
			return false, fmt.Errorf("postfix log follower: reading %s at offset %d: %w", f.file.Name(), f.off, err)
		}
		n++
		line := chunk
		if f.pendingLen > 0 {
			f.appendPartial(chunk)
			line = f.partial
		}
		f.handLine(line, int64(len(chunk)))
	}
	return false, nil
}

// handLine hands in a complete line whose last size bytes were just read.
func (f *follower) handLine(line []byte, size int64) {
	start := f.off
	if f.pendingLen > 0 {
		f.off += f.pendingLen
	} else {
		f.off += size
	}
	if f.skip {
		f.log.Warn("skipped an over-long log line", "offset", start, "max", f.cfg.MaxLine)
	} else {
		f.p.Line(line, start)
		f.dirty++
	}
	f.partial, f.pendingLen, f.skip = f.partial[:0], 0, false
}

// appendPartial keeps an incomplete line; past MaxLine it only counts its
// length, so offsets stay right.
func (f *follower) appendPartial(b []byte) {
	f.pendingLen += int64(len(b))
	if f.skip {
		return
	}
	if len(f.partial)+len(b) > f.cfg.MaxLine {
		f.skip = true
		f.partial = f.partial[:0]
		return
	}
	f.partial = append(f.partial, b...)
}

// drain reads the current file to its end and hands in an unterminated
// last line (the file will not grow any more).
func (f *follower) drain() (int, error) {
	for {
		eof, err := f.readSome()
		if err != nil {
			return 0, err
		}
		if eof {
			break
		}
	}
	if f.pendingLen > 0 {
		f.handLine(f.partial, 0)
	}
	return 0, nil
}

func (f *follower) checkRotation() error {
	fi, err := os.Stat(f.cfg.Path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.log.Warn("stat of the log file", "err", err)
		}
		return nil // renamed away, not yet recreated: keep reading the old one
	}
	if f.file == nil {
		f.switchTo(f.cfg.Path)
		return nil
	}
	if !os.SameFile(fi, f.fi) {
		f.log.Info("log file rotated (new file at the path); finishing the old one", "old_offset", f.off)
		if _, err := f.drain(); err != nil {
			return err
		}
		if err := f.commit(); err != nil {
			f.log.Error("storing Postfix records", "err", err)
		}
		f.switchTo(f.cfg.Path)
		return nil
	}
	cur, _ := f.file.Stat()
	if cur != nil && (cur.Size() < f.off+f.pendingLen || !bytes.Equal(f.fingerprintNow(int(f.fp[0])), f.fp)) {
		f.log.Info("log file truncated (copytruncate); reading it from the start", "old_offset", f.off, "size", cur.Size())
		if err := f.commit(); err != nil {
			f.log.Error("storing Postfix records", "err", err)
		}
		f.p.rotated()
		if _, err := f.file.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("postfix log follower: seek %s to 0: %w", f.cfg.Path, err)
		}
		f.br.Reset(f.file)
		f.off, f.partial, f.pendingLen, f.skip = 0, f.partial[:0], 0, false
		f.fp = f.fingerprintNow(fingerprintMax)
		return nil
	}
	if len(f.fp) > 0 && int(f.fp[0]) < fingerprintMax && cur != nil && cur.Size() > int64(f.fp[0]) {
		// The file was shorter than the fingerprint when opened: widen it.
		f.fp = f.fingerprintNow(fingerprintMax)
	}
	return nil
}

// commit stores the records and saves the checkpoint.
func (f *follower) commit() error {
	if err := f.p.Commit(); err != nil {
		return err
	}
	f.dirty = 0
	if f.cfg.Checkpoint == "" || f.file == nil {
		return nil
	}
	lw, dedup := f.p.checkpointState(f.off, f.off-f.cfg.MaxReread)
	dev, ino := fileID(f.fi)
	cp := checkpoint{Path: f.file.Name(), Dev: dev, Ino: ino, Offset: lw, Read: f.off,
		Fingerprint: hex.EncodeToString(f.fp), FPLen: int(f.fp[0]), Dedup: dedup}
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.cfg.Checkpoint, data, 0o600); err != nil {
		return fmt.Errorf("saving checkpoint %s: %w", f.cfg.Checkpoint, err)
	}
	return nil
}

func (f *follower) loadCheckpoint() *checkpoint {
	if f.cfg.Checkpoint == "" {
		return nil
	}
	data, err := os.ReadFile(f.cfg.Checkpoint)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.log.Warn("reading checkpoint; starting without", "err", err)
		}
		return nil
	}
	var cp checkpoint
	if err := json.Unmarshal(data, &cp); err != nil || cp.Offset < 0 || cp.FPLen < 0 || cp.FPLen > fingerprintMax {
		f.log.Warn("checkpoint is corrupt; starting without", "checkpoint", f.cfg.Checkpoint, "err", err)
		return nil
	}
	return &cp
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s)
	return b
}

func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

// checkpointState trims the dedup window to what re-reading from the
// low-water mark (never below floor) can produce again and returns both.
func (p *Processor) checkpointState(cur, floor int64) (int64, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lw := max(p.joiner.LowWater(cur), floor)
	p.dedup.Trim(lw)
	es := p.dedup.entries()
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = strconv.FormatUint(e.h, 16) + ":" + strconv.FormatInt(e.off, 10)
	}
	return lw, out
}

func (p *Processor) restoreDedup(entries []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range entries {
		hs, os, ok := bytes.Cut([]byte(s), []byte(":"))
		if !ok {
			continue
		}
		h, err1 := strconv.ParseUint(string(hs), 16, 64)
		off, err2 := strconv.ParseInt(string(os), 10, 64)
		if err1 == nil && err2 == nil {
			p.dedup.add(h, off)
		}
	}
}
