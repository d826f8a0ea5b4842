// Package app wires mailtrail's server together: it opens the store, builds
// the API handlers, listens, and shuts down in order (stop accepting, finish
// in-flight requests, stop queries and live tails, flush and close the
// store) so that no acknowledged event is lost.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/mailtrail/mailtrail/internal/api/cwlogs"
	"github.com/mailtrail/mailtrail/internal/api/sigv4"
	"github.com/mailtrail/mailtrail/internal/store"
)

// Config is what `mailtrail serve` configures.
type Config struct {
	DataDir string
	Addr    string
	Logger  *slog.Logger

	// NoAuth serves every request as DefaultAccount without checking
	// signatures (local play only).
	NoAuth bool
	// CredentialsFile holds access keys bound to accounts; keys also come
	// from MAILTRAIL_ACCESS_KEY_ID / MAILTRAIL_SECRET_ACCESS_KEY (Getenv).
	CredentialsFile string
	Getenv          func(string) string

	DefaultAccount       string
	Region               string
	MaxEventAge          time.Duration
	MaxEventFuture       time.Duration
	MaxConcurrentQueries int
	QueryMemoryLimit     int64
	// ShutdownGrace bounds how long in-flight requests may take to finish.
	ShutdownGrace time.Duration
	// Mail configures the mail-server listeners (see mail.go).
	Mail MailConfig
}

// Server is a running mailtrail server.
type Server struct {
	cfg   Config
	log   *slog.Logger
	Store *store.Store
	API   *cwlogs.Server
	http  *http.Server
	ln    net.Listener
	done  chan error
	mail  *mailSide
}

// Start opens the store and starts listening. The caller must call
// Shutdown.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 30 * time.Second
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	var auth cwlogs.Authenticator
	var verifier *sigv4.Verifier
	var creds *sigv4.Credentials
	if !cfg.NoAuth {
		v, c, err := NewVerifier(cfg.Getenv, cfg.CredentialsFile)
		if err != nil {
			return nil, err
		}
		verifier, creds, auth = v, c, logsAuthenticator(v)
		cfg.Logger.Info("SigV4 authentication on", "keys", creds.Len())
	}
	st, err := store.Open(cfg.DataDir, store.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("opening store in %s: %w", cfg.DataDir, err)
	}
	api, err := cwlogs.New(cwlogs.Config{
		Store:                st,
		Logger:               cfg.Logger,
		Auth:                 auth,
		DefaultAccount:       cfg.DefaultAccount,
		Region:               cfg.Region,
		MaxEventAge:          cfg.MaxEventAge,
		MaxEventFuture:       cfg.MaxEventFuture,
		MaxConcurrentQueries: cfg.MaxConcurrentQueries,
		QueryMemoryLimit:     cfg.QueryMemoryLimit,
		DataDir:              cfg.DataDir,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	mail, handler, err := startMail(cfg, st, api, verifier, creds)
	if err != nil {
		api.Close()
		st.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		mail.close(context.Background())
		mail.closeFollowers()
		api.Close()
		st.Close()
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, Store: st, API: api, ln: ln, done: make(chan error, 1), mail: mail}
	go func() {
		// A mail-server listener that fails on its own ends the server like
		// an HTTP failure does.
		if err := <-mail.errs; err != nil {
			select {
			case s.done <- err:
			default:
			}
		}
	}()
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	go func() { s.done <- s.http.Serve(ln) }()
	if cfg.NoAuth {
		s.log.Warn("AUTHENTICATION IS OFF (--no-auth): every request is served as account " + api.DefaultAccount + "; never expose this port")
	}
	s.log.Info("mailtrail serving the CloudWatch Logs API", "addr", ln.Addr().String(), "data", cfg.DataDir)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Done reports the HTTP server's exit (an error other than ErrServerClosed
// means it failed).
func (s *Server) Done() <-chan error { return s.done }

// Shutdown stops accepting connections, lets in-flight requests finish
// (up to the grace period), stops background queries and live tails, and
// flushes and closes the store.
func (s *Server) Shutdown(ctx context.Context) error {
	s.log.Info("shutting down: no new connections; finishing in-flight requests")
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownGrace)
	defer cancel()
	// Mail servers first: Postfix and Dovecot then apply their
	// configured failure behaviour, and no new record is written.
	merr := s.mail.close(ctx)
	// Live-tail streams never finish by themselves; end them first so the
	// HTTP shutdown can complete.
	s.API.Close()
	herr := s.http.Shutdown(ctx)
	if herr != nil {
		s.log.Warn("in-flight requests did not finish in time", "err", herr)
		s.http.Close()
	}
	// Log followers read to the end of their files and store what they
	// hold once nothing else writes.
	s.mail.closeFollowers()
	serr := s.Store.Close()
	if serr != nil {
		s.log.Error("closing store", "err", serr)
	} else {
		s.log.Info("store flushed and closed")
	}
	return errors.Join(merr, herr, serr)
}
