package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mailtrail/mailtrail/internal/app"
	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/gen"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/store"
)

func init() {
	register(&command{name: "demo", summary: "generate a month of one organization's activity and serve it, with AWS CLI commands to try", run: runDemo})
}

const demoKeyID = "AKIAMAILTRAILDEMO001"

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--data DIR] [--addr HOST:PORT] [-n RECORDS]", stderr)
	var f serveFlags
	f.register(fs, "mailtrail-demo")
	n := fs.Int("n", 400_000, "records to generate (a month of one organization)")
	seed := fs.Uint64("seed", 1, "generator seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.noAuth {
		return fmt.Errorf("demo: --no-auth is not offered; the demo prints a credential to use")
	}
	if *n < 1000 {
		// Fewer leave some of the groups the printed commands query empty
		// or absent.
		return fmt.Errorf("demo: -n %d: generate at least 1000 records", *n)
	}
	if f.creds != "" {
		return fmt.Errorf("demo: --credentials is not offered; the demo makes its own credential (use serve for your keys)")
	}
	secret, fresh, err := demoCredentials(f.data)
	if err != nil {
		return err
	}
	alias := "example"
	accountFile := filepath.Join(f.data, "demo-account")
	var account string
	if fresh {
		fmt.Fprintf(stderr, "demo: generating %d records (30 days of %s) into %s ...\n", *n, alias, f.data)
		began := time.Now()
		account, err = demoGenerate(f.data, alias, *n, *seed)
		if err != nil {
			return err
		}
		// Written last: its presence says the month is complete.
		if err := os.WriteFile(accountFile, []byte(account+"\n"), 0o600); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(stderr, "demo: stored in %.1fs\n", time.Since(began).Seconds())
	} else {
		b, err := os.ReadFile(accountFile)
		account = strings.TrimSpace(string(b))
		if err != nil || account == "" {
			// Interrupted while generating: the store holds part of a month
			// and no account for the credential.
			return fmt.Errorf("demo: %s holds an unfinished demo (generation was interrupted); delete it and run demo again", f.data)
		}
		fmt.Fprintf(stderr, "demo: reusing the data in %s (delete it for a fresh month)\n", f.data)
	}
	credFile := filepath.Join(f.data, "demo-credentials")
	if err := os.WriteFile(credFile, []byte(fmt.Sprintf("# mailtrail demo credential\n%s %s %s\n", demoKeyID, secret, account)), 0o600); err != nil {
		return err
	}
	f.creds = credFile
	cfg, err := f.config(stderr)
	if err != nil {
		return err
	}
	srv, err := app.Start(cfg)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w (another server on that port? choose a free one with --addr 127.0.0.1:PORT; the data in %s is kept)", err, f.data)
		}
		return err
	}
	printDemoHelp(stdout, srv.Addr(), secret, alias, account)
	return waitAndShutdown(srv)
}

// demoCredentials returns the demo secret for dir, creating dir and the
// secret on first use; fresh reports whether the store must be filled.
func demoCredentials(dir string) (secret string, fresh bool, err error) {
	path := filepath.Join(dir, "demo-secret")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return "", false, fmt.Errorf("demo: %s exists and is not a demo data directory; choose another --data", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, err
	}
	var b [20]byte
	rand.Read(b[:])
	secret = hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", false, err
	}
	return secret, true, nil
}

// demoGenerate fills a store with n records of one organization ending now,
// each log type in its own group as WorkMail delivers them.
func demoGenerate(dir, alias string, n int, seed uint64) (account string, err error) {
	cfg := gen.DefaultConfig()
	cfg.N, cfg.Seed, cfg.Orgs, cfg.Users, cfg.IPs, cfg.Days = n, seed, 1, 500, 2000, 30
	cfg.Start = time.Now().UTC().Truncate(time.Hour).Add(-30 * 24 * time.Hour)
	g, err := gen.New(cfg)
	if err != nil {
		return "", err
	}
	arn := g.OrgARNs()[0] // arn:aws:workmail:<region>:<account>:organization/<id>
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", fmt.Errorf("demo: unexpected organization ARN %q", arn)
	}
	account, orgID := parts[4], strings.TrimPrefix(parts[5], "organization/")
	st, err := store.Open(dir, store.Options{Logger: slog.Default()})
	if err != nil {
		return "", err
	}
	sink := mailserver.NewSink(st, nil)
	org := mailserver.Org{Account: account, ID: orgID, Alias: alias}
	const batch = 65536 // large batches: one fsync per group per batch
	var recs []mailserver.Record
	for r := range g.All() {
		recs = append(recs, mailserver.Record{Type: event.LogType(r.Kind.LogType()), Timestamp: r.Time, JSON: append([]byte(nil), r.JSON...)})
		if len(recs) == batch {
			if err = sink.Write(org, recs...); err != nil {
				break
			}
			recs = recs[:0]
		}
	}
	if err == nil && len(recs) > 0 {
		err = sink.Write(org, recs...)
	}
	return account, errors.Join(err, st.Close())
}

func printDemoHelp(w io.Writer, addr, secret, alias, account string) {
	auth := mailserver.GroupFor(alias, event.LogTypeAuthentication)
	acl := mailserver.GroupFor(alias, event.LogTypeAccessControl)
	mail := mailserver.GroupFor(alias, event.LogTypeEmailEvent)
	mbx := mailserver.GroupFor(alias, event.LogTypeMailboxAccess)
	// mtl, not mt: /usr/bin/mt (Debian's cpio) answers a line pasted into a
	// shell without the function with "invalid argument 'logs'".
	// q waits for the query to end instead of sleeping a fixed time (a
	// busy machine answers Running with partial rows), and prints the rows
	// as field=value lines: get-query-results' JSON is about 25 lines per
	// row, thousands of lines for the seed queries. Rows lack the fields
	// their record lacks, so a header line would not line up.
	fmt.Fprintf(w, `
mailtrail demo is serving the CloudWatch Logs API on http://%[1]s
Paste into another shell (bash; the AWS CLI v2 as Debian's awscli installs it, or v1):

  export AWS_ACCESS_KEY_ID=%[2]s AWS_SECRET_ACCESS_KEY=%[3]s AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=
  mtl() { aws --endpoint-url http://%[1]s "$@"; }
  S=$(date -d '31 days ago' +%%s) E=$(date +%%s)
  q() { # q GROUP 'QUERY': run a Logs Insights query over the last 31 days, wait for it, print 20 rows
    local id st; id=$(mtl logs start-query --log-group-name "$1" --start-time $S --end-time $E --query-string "$2" --output text --query queryId) || return
    until st=$(mtl logs get-query-results --query-id $id --output text --query "join('', [status, ': ', to_string(length(results)), ' rows; ', to_string(statistics.recordsMatched), ' records matched, ', to_string(statistics.recordsScanned), ' scanned'])") || return; [[ $st != Scheduled* && $st != Running* ]]; do sleep 1; done
    echo "$st"; mtl logs get-query-results --query-id $id --output text --query "results[:20][?field!='@ptr'].join('=', [field, value])"
  }

  mtl logs describe-log-groups --query 'logGroups[].[logGroupName,storedBytes]' --output table

  # Who failed to log in, and from where (seed scenario 3)
  q %[4]s 'fields user, source_ip, protocol, auth_successful, auth_failed_reason | filter auth_successful = 0'

  # Brute force: failures per source IP
  q %[4]s 'filter auth_successful = 0 | stats count(*) as failures by source_ip | sort failures desc | limit 10'

  # Which access rule denied whom (seed scenario 4)
  q %[5]s 'fields user_id, source_ip, protocol, rule_id, access_granted | filter access_granted = 0'

  # Mail received from qq.com (seed scenario 1)
  q %[6]s 'fields @timestamp, event.eventName, event.from | sort @timestamp asc | filter (event.from like "qq.com" and event.eventName = "ORGANIZATION_EMAIL_RECEIVED")'

  # Mail per recipient (seed scenario 2)
  q %[6]s 'stats count(*) as c by event.recipient | filter event.eventName = "MAILBOX_EMAIL_DELIVERED" | sort c desc'

  # Mailbox activity per hour
  q %[7]s 'stats count(*) by bin(1h)'

  # The raw API: every row with its fields, the statistics and the status, as JSON
  Q=$(mtl logs start-query --log-group-name %[4]s --start-time $S --end-time $E \
      --query-string 'filter auth_successful = 0 | limit 2' --output text --query queryId); sleep 2; mtl logs get-query-results --query-id $Q

  # Filter patterns
  mtl logs filter-log-events --log-group-name %[4]s --filter-pattern '{ $.auth_successful IS FALSE }' --max-items 5

  # Follow a group live (Ctrl-C ends it), and write to it from a third shell
  mtl logs tail %[4]s --follow --format short
  mtl logs create-log-stream --log-group-name %[4]s --log-stream-name my-test
  mtl logs put-log-events --log-group-name %[4]s --log-stream-name my-test --log-events timestamp=$(date +%%s000),message='hello from the demo'
  # With a CLI that has start-live-tail (v1, or v2 2.15+), the streaming API itself:
  #   AWS_DISABLE_HOST_PREFIX_INJECTION=true mtl logs start-live-tail --log-group-identifiers arn:aws:logs:us-east-1:%[8]s:log-group:%[4]s

Ctrl-C stops the server (the data stays in the data directory).
`, addr, demoKeyID, secret, auth, acl, mail, mbx, account)
}
