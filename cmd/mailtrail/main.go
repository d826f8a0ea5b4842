// Command mailtrail is the audit-logging and investigation system for email
// organizations: it generates, ingests, stores and queries WorkMail-format
// audit and email-event logs and CloudTrail records.
//
// Each subcommand lives in its own file and registers itself from init, so
// adding one never touches this file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
)

// command is one subcommand. run gets the arguments after the subcommand
// name and returns an error to print; errUsage means the flag package has
// already printed what was wrong.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("mailtrail: subcommand registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage reports bad flags that flag.FlagSet has already described.
var errUsage = errors.New("usage error")

// exitError carries a specific exit status (ingest exits 1 when it rejected
// records, even though the run itself completed).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()})))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return exitCode(c.run([]string{"-h"}, stdout, stderr), stderr)
			}
		}
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mailtrail: unknown subcommand %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return exitCode(c.run(args[1:], stdout, stderr), stderr)
}

func exitCode(err error, stderr io.Writer) int {
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, "mailtrail:", ee.msg)
		}
		return ee.code
	default:
		fmt.Fprintln(stderr, "mailtrail:", err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mailtrail: audit logging and investigation for email organizations")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: mailtrail <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "  help       show this list, or `help COMMAND` for a command's flags")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every command takes -h for its flags.")
}

func logLevel() slog.Level {
	if os.Getenv("MAILTRAIL_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// newFlagSet returns a FlagSet whose -h output names the command and its
// one-line summary, written to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mailtrail %s\n\n", synopsis)
		if c, ok := commands[name]; ok {
			fmt.Fprintf(stderr, "%s\n\nFlags:\n", c.summary)
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and maps flag errors to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}
