package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/internal/app"
)

func init() {
	register(&command{name: "serve", summary: "serve the CloudWatch Logs API (AWS CLI, SDKs, boto3) over the store", run: runServe})
}

// serveFlags are shared by serve and demo.
type serveFlags struct {
	data, addr, creds, region string
	noAuth                    bool
	maxAge, maxFuture         time.Duration
	maxQueries                int
	queryMem                  int64
}

func (f *serveFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	IntVar(*int, string, int, string)
	Int64Var(*int64, string, int64, string)
}, defaultData string) {
	fs.StringVar(&f.data, "data", defaultData, "data directory of the store")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:4600", "listen address HOST:PORT")
	fs.StringVar(&f.creds, "credentials", "", "credentials `FILE`: one key per line, ACCESS_KEY_ID SECRET ACCOUNT_ID (# comments)")
	fs.StringVar(&f.region, "region", "us-east-1", "region used in ARNs")
	fs.BoolVar(&f.noAuth, "no-auth", false, "serve without authentication (local play only; logged loudly)")
	fs.DurationVar(&f.maxAge, "max-event-age", 14*24*time.Hour, "reject PutLogEvents events older than this (0 = no limit, to backfill archives)")
	fs.DurationVar(&f.maxFuture, "max-event-future", 2*time.Hour, "reject PutLogEvents events further ahead than this (0 = no limit)")
	fs.IntVar(&f.maxQueries, "max-queries", 30, "concurrent Insights queries per account")
	fs.Int64Var(&f.queryMem, "query-memory", 2<<30, "memory limit of one query in bytes")
}

func (f *serveFlags) config(stderr io.Writer) (app.Config, error) {
	// Out-of-range values used to be taken silently: a negative
	// --max-queries refused every StartQuery with LimitExceededException,
	// a negative age or future window meant no limit at all.
	switch {
	case f.maxAge < 0:
		return app.Config{}, fmt.Errorf("--max-event-age %v: must be 0 (no limit) or positive", f.maxAge)
	case f.maxFuture < 0:
		return app.Config{}, fmt.Errorf("--max-event-future %v: must be 0 (no limit) or positive", f.maxFuture)
	case f.maxQueries < 1:
		return app.Config{}, fmt.Errorf("--max-queries %d: must be at least 1", f.maxQueries)
	case f.queryMem < 0:
		return app.Config{}, fmt.Errorf("--query-memory %d: must be a positive number of bytes (0 means the default, 1 GiB)", f.queryMem)
	case f.region == "":
		return app.Config{}, fmt.Errorf("--region is empty; ARNs need one (default us-east-1)")
	}
	cfg := app.Config{
		DataDir:              f.data,
		Addr:                 f.addr,
		Logger:               slog.Default(),
		NoAuth:               f.noAuth,
		Region:               f.region,
		MaxEventAge:          f.maxAge,
		MaxEventFuture:       f.maxFuture,
		MaxConcurrentQueries: f.maxQueries,
		QueryMemoryLimit:     f.queryMem,
	}
	cfg.CredentialsFile = f.creds
	return cfg, nil
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve --data DIR [--addr HOST:PORT] [--credentials FILE | --no-auth]", stderr)
	var f serveFlags
	f.register(fs, "")
	var mf mailFlags
	mf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.data == "" {
		fmt.Fprintln(stderr, "serve: --data DIR is required")
		return errUsage
	}
	cfg, err := f.config(stderr)
	if err != nil {
		return err
	}
	if cfg.Mail, err = mf.config(); err != nil {
		return err
	}
	srv, err := app.Start(cfg)
	if err != nil {
		return err
	}
	return waitAndShutdown(srv)
}

// waitAndShutdown blocks until SIGINT/SIGTERM or a server failure, then
// shuts down in order.
func waitAndShutdown(srv *app.Server) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	var serveErr error
	select {
	case s := <-sig:
		slog.Info("signal received", "signal", s.String())
	case serveErr = <-srv.Done():
		if errors.Is(serveErr, http.ErrServerClosed) {
			serveErr = nil
		}
	}
	return errors.Join(serveErr, srv.Shutdown(context.Background()))
}
