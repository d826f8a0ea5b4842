package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mailtrail/mailtrail/internal/gen"
)

func init() {
	register(&command{name: "gen", summary: "generate a realistic organization's audit and email-event logs (NDJSON)", run: runGen})
}

func runGen(args []string, stdout, stderr io.Writer) error {
	def := gen.DefaultConfig()
	fs := newFlagSet("gen", "gen [-n N] [-seed S] [-out FILE] [-start RFC3339] [-days D] [-users U] [-orgs O] [-ips I]", stderr)
	n := fs.Int("n", def.N, "number of records")
	seed := fs.Uint64("seed", def.Seed, "random seed; the same flags always give the same bytes")
	out := fs.String("out", "-", "output file (- for stdout)")
	start := fs.String("start", def.Start.Format(time.RFC3339), "start of the time span (RFC 3339)")
	days := fs.Int("days", def.Days, "length of the time span in days")
	users := fs.Int("users", def.Users, "number of mailbox users")
	orgs := fs.Int("orgs", def.Orgs, "number of WorkMail organizations")
	ips := fs.Int("ips", def.IPs, "size of the legitimate client IP pool")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gen: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	st, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintf(stderr, "gen: -start %q: not an RFC 3339 time (like 2025-05-01T00:00:00Z)\n", *start)
		return errUsage
	}
	cfg := gen.Config{N: *n, Seed: *seed, Start: st.UTC(), Days: *days, Users: *users, Orgs: *orgs, IPs: *ips}
	g, err := gen.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errUsage
	}

	if *out == "-" {
		// The generator already writes 1 MiB chunks; stdout needs no
		// extra buffering.
		_, err := g.WriteTo(stdout)
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	if _, err := g.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("gen: closing %s: %w", *out, err)
	}
	return nil
}
