package postfix

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/org"
)

// Config configures a PolicyServer. Account, Directory, Rules and Sink are
// required; the rest have defaults.
type Config struct {
	Account   string         // AWS account whose organizations Postfix serves
	Directory *org.Directory // maps sasl_username to organization and user
	Rules     *access.Store  // the organizations' access control rules
	Sink      *mailserver.Sink

	// DenyAction is the reply to a denied submission, after "action=".
	// Default DefaultDenyAction. It is shown to the client: keep rule names
	// and other internal detail out of it.
	DenyAction string
	// TempFailAction is the reply when a decision cannot be made or its
	// record cannot be stored. Default DefaultTempFailAction.
	TempFailAction string

	// IdleTimeout closes a connection with no request for this long
	// (default 5m, above Postfix's smtpd_policy_service_max_idle of 300s so
	// Postfix closes first). RequestTimeout bounds reading one request once
	// its first byte arrived and writing its answer (default 10s).
	IdleTimeout    time.Duration
	RequestTimeout time.Duration
	// MaxRequestBytes bounds one request (default 16 KiB; a real one is
	// about 600 bytes), MaxLineBytes one line (default 4096).
	MaxRequestBytes int
	MaxLineBytes    int
	// DecisionTTL is how long the decision of one mail transaction is
	// remembered for its later RCPT and END-OF-MESSAGE requests (default
	// 1h); MaxDecisions bounds that cache (default 100000).
	DecisionTTL  time.Duration
	MaxDecisions int
	// ShutdownTimeout bounds how long Close waits for requests being
	// answered (default 5s).
	ShutdownTimeout time.Duration

	Logger *slog.Logger
	Now    func() time.Time
}

// Default replies. DefaultDenyAction uses an explicit 550: "REJECT text"
// would make Postfix answer 554 (access_map_reject_code), which clients
// report less clearly for a per-sender refusal.
const (
	DefaultDenyAction     = "550 5.7.1 Sending denied by your organization's access policy"
	DefaultTempFailAction = "451 4.3.0 Access policy temporarily unavailable, try again later"
)

// Stats are counters of a PolicyServer since it started.
type Stats struct {
	Connections  int64 // accepted
	Requests     int64 // answered
	Evaluations  int64 // rule evaluations (one per authenticated transaction)
	Denied       int64
	TempFailures int64 // answered TempFailAction
	BadRequests  int64 // oversized, truncated, garbage, timed out
}

// PolicyServer answers Postfix policy delegation requests
// (check_policy_service inet:HOST:PORT). See the package documentation.
type PolicyServer struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	wg        sync.WaitGroup

	decisions *decisionCache

	connections, requests, evaluations, denied, tempFailures, badRequests atomic.Int64
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("postfix policy server closed")

// NewPolicyServer checks cfg and returns a server that is not yet
// listening; call Serve.
func NewPolicyServer(cfg Config) (*PolicyServer, error) {
	switch {
	case cfg.Account == "":
		return nil, errors.New("postfix policy server: Config.Account is empty")
	case cfg.Directory == nil:
		return nil, errors.New("postfix policy server: Config.Directory is nil")
	case cfg.Rules == nil:
		return nil, errors.New("postfix policy server: Config.Rules is nil")
	case cfg.Sink == nil:
		return nil, errors.New("postfix policy server: Config.Sink is nil")
	}
	if cfg.DenyAction == "" {
		cfg.DenyAction = DefaultDenyAction
	}
	if cfg.TempFailAction == "" {
		cfg.TempFailAction = DefaultTempFailAction
	}
	for _, a := range []string{cfg.DenyAction, cfg.TempFailAction} {
		if strings.ContainsAny(a, "\r\n") {
			return nil, fmt.Errorf("postfix policy server: action %q contains a line break", a)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.IdleTimeout, 5*time.Minute)
	def(&cfg.RequestTimeout, 10*time.Second)
	def(&cfg.DecisionTTL, time.Hour)
	def(&cfg.ShutdownTimeout, 5*time.Second)
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 16 << 10
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = 4096
	}
	if cfg.MaxDecisions <= 0 {
		cfg.MaxDecisions = 100000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &PolicyServer{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "postfix-policy"),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		decisions: newDecisionCache(cfg.MaxDecisions, cfg.DecisionTTL),
	}, nil
}

// Stats returns the counters.
func (s *PolicyServer) Stats() Stats {
	return Stats{
		Connections: s.connections.Load(), Requests: s.requests.Load(), Evaluations: s.evaluations.Load(),
		Denied: s.denied.Load(), TempFailures: s.tempFailures.Load(), BadRequests: s.badRequests.Load(),
	}
}

// Serve accepts connections on ln until Close; it returns ErrServerClosed
// then, or the accept error that stopped it. Serve may be called for
// several listeners.
func (s *PolicyServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if isTemporary(err) {
				// Out of file descriptors and the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("postfix policy server: accept on %s: %w", ln.Addr(), err)
		}
		backoff = 0
		c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 4096), idle: true}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.connections.Add(1)
		go s.handle(c)
	}
}

func isTemporary(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "too many open files") || strings.Contains(msg, "resource temporarily unavailable")
}

// Close stops accepting, lets requests being answered finish (up to
// ShutdownTimeout), closes idle connections and returns when every
// connection is closed. A request not answered by then is lost to Postfix,
// which applies its default_policy (see the package documentation).
func (s *PolicyServer) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closing = true
	var err error
	for ln := range s.listeners {
		if e := ln.Close(); e != nil && err == nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
	}
	for c := range s.conns {
		c.mu.Lock()
		if c.idle {
			// Waiting for the next request: unblock the read now.
			c.nc.SetReadDeadline(time.Now())
		}
		c.mu.Unlock()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.ShutdownTimeout):
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return err
}

type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	mu   sync.Mutex
	idle bool // waiting for the first byte of a request
}

func (s *PolicyServer) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *PolicyServer) handle(c *conn) {
	defer func() {
		c.nc.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	remote := c.nc.RemoteAddr().String()
	for {
		// Deadline first, then the closing check: a Close that this check
		// misses comes after it, so its zero deadline lands after ours and
		// wakes the Peek (the other order let an idle connection sleep
		// through Close until ShutdownTimeout).
		c.nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		if s.isClosing() {
			return
		}
		if _, err := c.br.Peek(1); err != nil {
			if err != io.EOF && !s.isClosing() {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					s.log.Info("closing idle policy connection", "remote", remote, "idle", s.cfg.IdleTimeout)
				} else {
					s.log.Warn("reading policy request", "remote", remote, "err", err)
				}
			}
			return
		}
		c.mu.Lock()
		c.idle = false
		c.mu.Unlock()
		c.nc.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
		req, err := ReadRequest(c.br, s.cfg.MaxRequestBytes, s.cfg.MaxLineBytes)
		if err != nil {
			s.badRequests.Add(1)
			s.log.Warn("bad policy request; closing connection", "remote", remote, "err", err)
			return
		}
		if req.Garbage > 0 {
			s.badRequests.Add(1)
			s.log.Warn("policy request has lines without '='; skipped them", "remote", remote,
				"lines", req.Garbage, "first_line", req.FirstGarbage)
		}
		action := s.Decide(&req)
		c.nc.SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
		if _, err := io.WriteString(c.nc, "action="+action+"\n\n"); err != nil {
			s.log.Warn("writing policy answer", "remote", remote, "err", err)
			return
		}
		s.requests.Add(1)
		c.mu.Lock()
		c.idle = true
		c.mu.Unlock()
	}
}

// Decide answers one request (the text after "action="). It stores the
// access-control record of an evaluation before returning, so the answer
// never gets ahead of the audit log.
func (s *PolicyServer) Decide(req *Request) string {
	if r := req.Get("request"); r != "smtpd_access_policy" {
		s.log.Warn("unknown policy request type; answering DUNNO", "request", r)
		return "DUNNO"
	}
	login := req.Get("sasl_username")
	if login == "" {
		// Inbound MX traffic: IncomingEmail is not a rule action.
		return "DUNNO"
	}
	key := transactionKey(req)
	if a, ok := s.decisions.get(key, s.cfg.Now()); ok {
		return a
	}
	action, cache := s.evaluate(req, login, key)
	if cache {
		s.decisions.put(key, action, s.cfg.Now())
	}
	return action
}

// transactionKey identifies one mail transaction: Postfix's instance
// attribute is the same for all its RCPT and END-OF-MESSAGE requests. The
// login is part of the key so that a client re-authenticating in a new
// session cannot inherit a decision.
func transactionKey(req *Request) string {
	inst := req.Get("instance")
	if inst == "" {
		inst = req.Get("client_address") + ":" + req.Get("client_port")
	}
	return inst + "\x00" + req.Get("sasl_username")
}

// evaluate decides and records one transaction. cache is false for
// temporary failures, so Postfix's retry evaluates again.
func (s *PolicyServer) evaluate(req *Request, login, key string) (action string, cache bool) {
	now := s.cfg.Now()
	o, u, err := s.cfg.Directory.FindLogin(s.cfg.Account, login)
	if err != nil {
		if errors.Is(err, org.ErrEntityNotFound) {
			// Not a WorkMail user (a system account authenticating through
			// Dovecot): there is no organization to hold rules or records.
			s.log.Info("sasl_username is no organization's user; not subject to access rules",
				"sasl_username", login, "client_address", req.Get("client_address"))
			return "DUNNO", true
		}
		s.tempFailures.Add(1)
		s.log.Error("looking up sasl_username", "sasl_username", login, "err", err)
		return s.cfg.TempFailAction, false
	}
	svc, err := access.PostfixService("smtpd", true)
	if err != nil {
		s.tempFailures.Add(1)
		s.log.Error("mapping smtpd to a rule action", "err", err)
		return s.cfg.TempFailAction, false
	}
	ip := req.Get("client_address")
	d, err := s.cfg.Rules.Evaluate(s.cfg.Account, o.ID, access.Request{
		IP: access.ParseSourceIP(ip), Action: svc.Action, UserID: u.ID,
	})
	if err != nil {
		s.tempFailures.Add(1)
		s.log.Error("evaluating access control rules", "org", o.ID, "user", u.ID, "err", err)
		return s.cfg.TempFailAction, false
	}
	s.evaluations.Add(1)
	rec := d.Record(access.RecordContext{
		Time: now, RequestID: requestID(key), OrganizationARN: o.ARN, UserID: u.ID,
		Protocol: svc.Protocol, SourceIP: ip,
	})
	js, err := event.Append(nil, &rec)
	if err == nil {
		err = s.cfg.Sink.Write(mailserver.Org{Account: s.cfg.Account, ID: o.ID, Alias: o.Alias},
			mailserver.Record{Type: event.LogTypeAccessControl, Timestamp: rec.EventTimestamp, JSON: js})
	}
	if err != nil {
		// No record, no decision: the client is told to retry.
		s.tempFailures.Add(1)
		s.log.Error("storing access control record; answering temporary failure", "org", o.ID, "err", err)
		return s.cfg.TempFailAction, false
	}
	if !d.Granted {
		s.denied.Add(1)
		s.log.Info("submission denied by access control rules", "org", o.ID, "user", u.ID,
			"client_address", ip, "rule", d.RuleID, "instance", req.Get("instance"))
		return s.cfg.DenyAction, true
	}
	return "DUNNO", true
}

// requestID derives the record's request_id from the transaction, so the
// same transaction always yields the same id (a UUID-shaped SHA-256 prefix).
func requestID(key string) string {
	sum := sha256.Sum256([]byte("mailtrail/postfix-policy\x00" + key))
	return event.UUID([16]byte(sum[:16]))
}

// decisionCache remembers the action of recent transactions, oldest
// evicted first, entries expiring after ttl.
type decisionCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	m     map[string]decisionEntry
	order []string // insertion order (ring of keys)
	head  int
}

type decisionEntry struct {
	action  string
	expires time.Time
}

func newDecisionCache(max int, ttl time.Duration) *decisionCache {
	return &decisionCache{max: max, ttl: ttl, m: map[string]decisionEntry{}}
}

func (c *decisionCache) get(key string, now time.Time) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.After(e.expires) {
		return "", false
	}
	return e.action, true
}

func (c *decisionCache) put(key, action string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		if len(c.order) < c.max {
			c.order = append(c.order, key)
		} else {
			delete(c.m, c.order[c.head])
			c.order[c.head] = key
			c.head = (c.head + 1) % c.max
		}
	}
	c.m[key] = decisionEntry{action: action, expires: now.Add(c.ttl)}
}

func (c *decisionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
