package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mailtrail/mailtrail/internal/atomicfile"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/api/cwlogs"
	"github.com/mailtrail/mailtrail/internal/api/sigv4"
	"github.com/mailtrail/mailtrail/internal/api/workmail"
	postfixlog "github.com/mailtrail/mailtrail/internal/ingest/postfix"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/mailserver/dovecot"
	"github.com/mailtrail/mailtrail/internal/mailserver/postfix"
	"github.com/mailtrail/mailtrail/internal/org"
	"github.com/mailtrail/mailtrail/internal/store"
)

// MailConfig is the mail-server side of `mailtrail serve`: which
// listeners and log followers turn Dovecot's and Postfix's activity into
// WorkMail records. The zero value runs none of them; the WorkMail
// management API is always served.
type MailConfig struct {
	// Account is the AWS account whose WorkMail organizations the mail
	// servers belong to: logins and addresses are looked up among its
	// organizations and records go to its log groups. Empty means the only
	// account of the credentials (or the default account without auth).
	Account string
	// Dovecot serves Dovecot's auth policy and event exporter endpoints
	// (dovecot.PolicyPath, dovecot.EventsPath) on the HTTP port.
	Dovecot bool
	// DovecotAPIKey, when set, is required on the Dovecot endpoints.
	DovecotAPIKey string
	// DovecotLog is Dovecot's log_path: followed, and read from where the
	// last run stopped, so what the event exporter lost is caught up
	// (de-duplicated against what it delivered). Needs Dovecot.
	DovecotLog string
	// PostfixPolicy is HOST:PORT for the policy delegation server.
	PostfixPolicy string
	// PostfixLog is Postfix's maillog_file, followed across rotation.
	PostfixLog string
	// Syslog is HOST:PORT where Postfix's log arrives over syslog, on UDP
	// and TCP (forwarded by the syslog daemon). Syslog has no
	// authentication: keep it on loopback.
	Syslog string
	// DovecotLogLag is how long a Dovecot log line waits before it is
	// read, so that the exporter's live copy of the same activity (which
	// suppresses the log's per-message copies) arrives first. Default 5s.
	DovecotLogLag time.Duration
}

// enabled reports whether any mail-server listener is configured.
func (m MailConfig) enabled() bool {
	return m.Dovecot || m.PostfixPolicy != "" || m.PostfixLog != "" || m.DovecotLog != "" || m.Syslog != ""
}

// Where the directory of organizations and users and the access control
// rules live under the data directory.
const (
	orgDirName   = "workmail/organizations"
	rulesDirName = "workmail/rules"
)

// mailSide is the running mail-server side.
type mailSide struct {
	log     *slog.Logger
	account string
	dir     *org.Directory
	rules   *access.Store
	sink    *mailserver.Sink

	policy   *postfix.PolicyServer
	policyLn net.Listener
	dovecot  *dovecot.Handler
	syslog   *postfixlog.SyslogServer
	syslogLn net.Listener
	syslogPC net.PacketConn
	// postfixProc joins Postfix's log lines, from the file and from syslog.
	postfixProc *postfixlog.Processor

	wg   sync.WaitGroup
	errs chan error // a listener that stopped on its own

	// Log followers run until stopFollow; they stop after the HTTP server
	// so that the exporter's last events are claimed before the log's
	// copies are read.
	stopFollow context.CancelFunc
	followWG   sync.WaitGroup
}

// startMail opens the organization directory and the rules, hangs the
// WorkMail management API behind the CloudWatch Logs API (same port, same
// SigV4 credentials, signing name "workmail"), and starts the configured
// mail-server listeners. The returned handler serves the HTTP port.
func startMail(cfg Config, st *store.Store, api *cwlogs.Server, verifier *sigv4.Verifier, creds *sigv4.Credentials) (*mailSide, http.Handler, error) {
	m := &mailSide{log: cfg.Logger, errs: make(chan error, 4)}
	var err error
	if m.dir, err = org.Open(filepath.Join(cfg.DataDir, orgDirName), org.Options{}); err != nil {
		return nil, nil, err
	}
	if m.rules, err = access.Open(filepath.Join(cfg.DataDir, rulesDirName), m.dir, access.Options{}); err != nil {
		return nil, nil, err
	}
	m.sink = mailserver.NewSink(st, api.Publish)

	wm, err := workmail.NewHandler(workmail.Config{
		Dir:            m.dir,
		Rules:          m.rules,
		Auth:           workmailAuth(verifier),
		DefaultAccount: api.DefaultAccount,
		Region:         cfg.Region,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, nil, err
	}
	api.Fallback = wm
	var handler http.Handler = api

	if !cfg.Mail.enabled() {
		return m, handler, nil
	}
	if m.account, err = mailAccount(cfg, api.DefaultAccount, creds); err != nil {
		return nil, nil, err
	}
	if cfg.Mail.DovecotLog != "" && !cfg.Mail.Dovecot {
		return nil, nil, errors.New("following the Dovecot log (--dovecot-log) needs the Dovecot endpoints on (--dovecot): the log is de-duplicated against them")
	}
	if cfg.Mail.Dovecot {
		if m.dovecot, err = dovecot.NewHandler(dovecot.Config{
			Account: m.account,
			Dir:     m.dir,
			Rules:   m.rules,
			Sink:    m.sink,
			Logger:  cfg.Logger,
			APIKey:  cfg.Mail.DovecotAPIKey,
		}); err != nil {
			return nil, nil, err
		}
		mux := http.NewServeMux()
		mux.Handle(dovecot.PolicyPath, m.dovecot)
		mux.Handle(dovecot.EventsPath, m.dovecot)
		mux.Handle("/", api)
		handler = mux
		m.log.Info("serving Dovecot's auth policy and event exporter", "policy", dovecot.PolicyPath, "events", dovecot.EventsPath, "account", m.account)
	}
	if cfg.Mail.PostfixPolicy != "" {
		if err := m.startPostfixPolicy(cfg.Mail.PostfixPolicy); err != nil {
			m.close(context.Background())
			return nil, nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stopFollow = cancel
	if cfg.Mail.DovecotLog != "" {
		lag := cfg.Mail.DovecotLogLag
		if lag <= 0 {
			lag = 5 * time.Second
		}
		fl := &dovecotFollower{
			path:       cfg.Mail.DovecotLog,
			checkpoint: filepath.Join(cfg.DataDir, checkpointDir, "dovecot-log.json"),
			lag:        lag,
			feeder:     m.dovecot.NewLogFeeder(dovecot.LogOptions{}),
			log:        m.log.With("component", "dovecot-log", "path", cfg.Mail.DovecotLog),
		}
		m.followWG.Add(1)
		go func() {
			defer m.followWG.Done()
			if err := fl.run(ctx); err != nil {
				m.fail(err)
			}
		}()
	}
	if cfg.Mail.PostfixLog != "" || cfg.Mail.Syslog != "" {
		// One processor for both inputs: its de-duplication then also
		// covers a line that arrives both ways.
		proc, err := postfixlog.NewProcessor(postfixlog.Config{
			Account:   m.account,
			Directory: m.dir,
			Sink:      m.sink,
			Logger:    cfg.Logger,
			// With the Dovecot endpoints on, Dovecot's policy report records
			// every SMTP AUTH (Postfix SASL goes through Dovecot): the log's
			// copy would be a second record of the same attempt.
			Join: postfixlog.JoinerConfig{NoAuthRecords: cfg.Mail.Dovecot},
		})
		if err != nil {
			m.close(context.Background())
			m.closeFollowers()
			return nil, nil, err
		}
		m.postfixProc = proc
		if cfg.Mail.Syslog != "" {
			if err := m.startSyslog(cfg.Mail.Syslog, proc); err != nil {
				m.close(context.Background())
				m.closeFollowers()
				return nil, nil, err
			}
		}
	}
	if cfg.Mail.PostfixLog != "" {
		proc := m.postfixProc
		m.followWG.Add(1)
		go func() {
			defer m.followWG.Done()
			err := postfixlog.Follow(ctx, proc, postfixlog.FollowConfig{
				Path:       cfg.Mail.PostfixLog,
				Checkpoint: filepath.Join(cfg.DataDir, checkpointDir, "postfix-log.json"),
				Logger:     cfg.Logger,
			})
			if err != nil {
				m.fail(fmt.Errorf("following the Postfix log %s: %w", cfg.Mail.PostfixLog, err))
			}
		}()
		m.log.Info("following the Postfix log", "path", cfg.Mail.PostfixLog, "account", m.account)
	}
	return m, handler, nil
}

// checkpointDir holds the log followers' positions under the data
// directory.
const checkpointDir = "mailserver"

// mailAccount picks the account the mail servers serve: the configured
// one, else the only account there is.
func mailAccount(cfg Config, defaultAccount string, creds *sigv4.Credentials) (string, error) {
	if cfg.Mail.Account != "" {
		return cfg.Mail.Account, nil
	}
	if cfg.NoAuth || creds == nil {
		return defaultAccount, nil
	}
	var accounts []string
	for _, c := range creds.All() {
		if !slices.Contains(accounts, c.AccountID) {
			accounts = append(accounts, c.AccountID)
		}
	}
	if len(accounts) != 1 {
		return "", fmt.Errorf("the credentials hold %d accounts (%v): say which one the mail servers belong to with --mail-account", len(accounts), accounts)
	}
	return accounts[0], nil
}

// workmailAuth checks WorkMail requests with the same verifier as the Logs
// API; nil (no auth) stays nil.
func workmailAuth(v *sigv4.Verifier) workmail.Authenticator {
	if v == nil {
		return nil
	}
	return workmail.SigV4Authenticator(v)
}

func (m *mailSide) startPostfixPolicy(addr string) error {
	ps, err := postfix.NewPolicyServer(postfix.Config{
		Account:   m.account,
		Directory: m.dir,
		Rules:     m.rules,
		Sink:      m.sink,
		Logger:    m.log.With("component", "postfix-policy"),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("postfix policy server: listening on %s: %w", addr, err)
	}
	m.policy, m.policyLn = ps, ln
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := ps.Serve(ln); err != nil && !errors.Is(err, postfix.ErrServerClosed) {
			m.fail(err)
		}
	}()
	m.log.Info("serving Postfix policy delegation", "addr", ln.Addr().String(), "account", m.account)
	return nil
}

// startSyslog listens for Postfix's syslog lines on addr, UDP and TCP.
func (m *mailSide) startSyslog(addr string, proc *postfixlog.Processor) error {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			m.log.Warn("syslog has no authentication: anyone who reaches this address can write email events", "addr", addr)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("syslog: listening on tcp %s: %w", addr, err)
	}
	pc, err := net.ListenPacket("udp", ln.Addr().String())
	if err != nil {
		ln.Close()
		return fmt.Errorf("syslog: listening on udp %s: %w", addr, err)
	}
	srv := postfixlog.NewSyslogServer(proc, postfixlog.SyslogConfig{Logger: m.log})
	m.syslog, m.syslogLn, m.syslogPC = srv, ln, pc
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		if err := srv.ServeTCP(ln); err != nil && !errors.Is(err, postfixlog.ErrSyslogClosed) {
			m.fail(fmt.Errorf("syslog tcp %s: %w", addr, err))
		}
	}()
	go func() {
		defer m.wg.Done()
		if err := srv.ServeUDP(pc); err != nil && !errors.Is(err, postfixlog.ErrSyslogClosed) {
			m.fail(fmt.Errorf("syslog udp %s: %w", addr, err))
		}
	}()
	m.log.Info("receiving Postfix's log over syslog", "tcp", ln.Addr().String(), "udp", pc.LocalAddr().String(), "account", m.account)
	return nil
}

// close stops the mail-server listeners: no new decisions or records after
// it returns. Requests being answered finish first (each adapter bounds
// that itself).
func (m *mailSide) close(ctx context.Context) error {
	var errs []error
	if m.policy != nil {
		errs = append(errs, m.policy.Close())
	}
	if m.syslog != nil {
		// Close stores what was received before returning.
		errs = append(errs, m.syslog.Close())
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("mail-server listeners did not stop: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// closeFollowers stops the log followers after they read their files to
// the end and stored what they hold. Call it after the HTTP server is
// down and before the store closes.
func (m *mailSide) closeFollowers() {
	if m.stopFollow != nil {
		m.stopFollow()
	}
	m.followWG.Wait()
	m.wg.Wait()
	close(m.errs)
}

// fail reports a listener or follower that stopped on its own. Only the
// first report ends the server; later ones are logged, never blocking the
// goroutine that reports (shutdown waits for it).
func (m *mailSide) fail(err error) {
	select {
	case m.errs <- err:
	default:
		m.log.Error("mail-server input stopped", "err", err)
	}
}

// PostfixPolicyAddr is the address the Postfix policy server listens on
// ("" when it is off).
func (s *Server) PostfixPolicyAddr() string {
	if s.mail == nil || s.mail.policyLn == nil {
		return ""
	}
	return s.mail.policyLn.Addr().String()
}

// dovecotFollower reads Dovecot's log_path into the Dovecot handler's log
// feeder: from the saved position at start (the catch-up of what the
// exporter lost while mailtrail was down), then as the file grows, across
// rotation (a new file at the path is read from its start once the old one
// is read to its end) and truncation. Each line waits lag before it is
// fed, so the exporter's live copy of an activity arrives first and
// suppresses the log's per-message copies. The position is saved after
// every successful store, so a restart resumes where the records end.
type dovecotFollower struct {
	path       string
	checkpoint string
	lag        time.Duration
	poll       time.Duration
	feeder     *dovecot.LogFeeder
	log        *slog.Logger

	f        *os.File
	dev, ino uint64
	readOff  int64  // bytes of the current file consumed into lines
	fedOff   int64  // bytes of the current file whose lines were fed
	partial  []byte // an unterminated last line
	queue    []queuedLine
	dirty    bool // lines fed since the last flush
	// backlog is the size of the file when the follower started: what was
	// written before (while mailtrail was down) is fed without the lag,
	// since no live copy of it can still arrive.
	backlog int64
}

// maxQueued bounds the lines read ahead of feeding, so catching up on a
// large file does not hold it in memory.
const maxQueued = 4096

// closedTick is a channel that is always ready: the follower's wait when it
// has more to read.
var closedTick = func() <-chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

type queuedLine struct {
	line []byte
	end  int64 // file offset just past the line
	at   time.Time
}

type dovecotCheckpoint struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
}

func (d *dovecotFollower) run(ctx context.Context) error {
	if d.poll <= 0 {
		d.poll = 250 * time.Millisecond
	}
	var cp dovecotCheckpoint
	if b, err := os.ReadFile(d.checkpoint); err == nil {
		if err := json.Unmarshal(b, &cp); err != nil {
			d.log.Warn("ignoring unreadable checkpoint; reading the log from its start", "checkpoint", d.checkpoint, "err", err)
			cp = dovecotCheckpoint{}
		}
	}
	t := time.NewTicker(d.poll)
	defer t.Stop()
	defer func() {
		if d.f != nil {
			d.f.Close()
		}
	}()
	for {
		if d.f == nil {
			d.open(cp, true)
		}
		more := false
		if d.f != nil {
			var err error
			if more, err = d.readAvailable(); err != nil {
				d.log.Warn("reading the Dovecot log", "err", err)
			}
			if !more {
				d.checkRotation()
			}
		}
		d.feed(time.Now().Add(-d.lag))
		var wait <-chan time.Time = t.C
		if more && len(d.queue) < maxQueued {
			// Catching up: go on reading at once.
			wait = closedTick
		}
		select {
		case <-ctx.Done():
			// Everything written so far is read and stored without waiting:
			// the HTTP server is already down, so the exporter sends nothing
			// more.
			d.drain()
			if d.dirty {
				d.flush()
			}
			return nil
		case <-wait:
		}
	}
}

// open opens the path, at the checkpoint's offset when it names the same
// file. A missing file is not an error: Dovecot creates it on first write.
func (d *dovecotFollower) open(cp dovecotCheckpoint, initial bool) {
	f, err := os.Open(d.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			d.log.Warn("opening the Dovecot log", "err", err)
		}
		return
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return
	}
	dev, ino := fileIdentity(fi)
	var off int64
	if cp.Path == d.path && cp.Dev == dev && cp.Ino == ino && cp.Offset <= fi.Size() {
		off = cp.Offset
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return
	}
	d.f, d.dev, d.ino, d.readOff, d.fedOff, d.partial = f, dev, ino, off, off, nil
	d.backlog = 0
	if initial {
		d.backlog = fi.Size()
	}
	d.log.Info("following the Dovecot log", "from_offset", off, "size", fi.Size())
}

// drain reads the file to its end and feeds every line at once.
func (d *dovecotFollower) drain() {
	for d.f != nil {
		more, err := d.readAvailable()
		d.feed(time.Now().Add(time.Hour))
		if err != nil || !more {
			return
		}
	}
	d.feed(time.Now().Add(time.Hour))
}

// readAvailable reads what the file holds now into queued lines, up to
// maxQueued of them; more reports that it stopped there, before the end.
func (d *dovecotFollower) readAvailable() (more bool, err error) {
	buf := make([]byte, 64<<10)
	for {
		if len(d.queue) >= maxQueued {
			return true, nil
		}
		n, err := d.f.Read(buf)
		if n > 0 {
			data := buf[:n]
			for len(data) > 0 {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					// Dovecot writes whole lines; a partial one is completed by
					// the next read. Bound it so a file without newlines cannot
					// grow memory without end.
					if len(d.partial) < 1<<20 {
						d.partial = append(d.partial, data...)
					}
					d.readOff += int64(len(data))
					break
				}
				line := append(d.partial, data[:i+1]...)
				d.partial = nil
				d.readOff += int64(i + 1)
				at := time.Now()
				if d.readOff <= d.backlog {
					at = time.Time{}
				}
				d.queue = append(d.queue, queuedLine{line: line, end: d.readOff, at: at})
				data = data[i+1:]
			}
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// checkRotation switches to a new file at the path (after the old one was
// read to its end) and restarts a truncated file from its start.
func (d *dovecotFollower) checkRotation() {
	fi, err := os.Stat(d.path)
	if err != nil {
		return // moved away and not yet recreated
	}
	dev, ino := fileIdentity(fi)
	if dev == d.dev && ino == d.ino {
		if fi.Size() < d.readOff {
			d.log.Info("the Dovecot log was truncated; reading it from its start")
			d.feed(time.Now().Add(time.Hour))
			d.flush()
			d.f.Seek(0, io.SeekStart)
			d.readOff, d.fedOff, d.partial, d.backlog = 0, 0, nil, 0
		}
		return
	}
	d.drain()
	d.flush()
	d.f.Close()
	d.f = nil
	d.log.Info("the Dovecot log was rotated; reading the new file from its start")
	d.open(dovecotCheckpoint{}, false)
	if d.f != nil {
		// A new file is read from its start whatever the checkpoint said.
		d.f.Seek(0, io.SeekStart)
		d.readOff, d.fedOff = 0, 0
	}
}

// feed hands the queued lines read before cutoff to the feeder, and
// flushes (stores and saves the position) when the queue is drained.
func (d *dovecotFollower) feed(cutoff time.Time) {
	n := 0
	for _, q := range d.queue {
		if q.at.After(cutoff) {
			break
		}
		_, serr := d.feeder.Feed(q.line)
		if serr != nil {
			// The feeder keeps what it could not store and retries with
			// the next write; the position is not advanced past it.
			d.log.Warn("storing records of the Dovecot log", "err", serr)
		}
		d.fedOff = q.end
		d.dirty = true
		n++
	}
	d.queue = d.queue[n:]
	if len(d.queue) == 0 && d.dirty {
		d.flush()
	}
}

func (d *dovecotFollower) flush() {
	if err := d.feeder.Flush(); err != nil {
		d.log.Warn("storing records of the Dovecot log", "err", err)
		return
	}
	d.dirty = false
	b, _ := json.Marshal(dovecotCheckpoint{Path: d.path, Dev: d.dev, Ino: d.ino, Offset: d.fedOff})
	if err := os.MkdirAll(filepath.Dir(d.checkpoint), 0o755); err == nil {
		err = atomicfile.Write(d.checkpoint, b, 0o644)
		if err != nil {
			d.log.Warn("saving the Dovecot log position", "err", err)
		}
	}
}

func fileIdentity(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return 0, 0
}
