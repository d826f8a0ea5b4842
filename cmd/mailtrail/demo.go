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
	secret, fresh, err := demoCredentials(f.data)
	if err != nil {
		return err
	}
	alias := "example"
	var account string
	if fresh {
		fmt.Fprintf(stderr, "demo: generating %d records (30 days of %s) into %s ...\n", *n, alias, f.data)
		began := time.Now()
		account, err = demoGenerate(f.data, alias, *n, *seed)
		if err != nil {
			return err
		}
		os.WriteFile(filepath.Join(f.data, "demo-account"), []byte(account), 0o600)
		fmt.Fprintf(stderr, "demo: stored in %.1fs\n", time.Since(began).Seconds())
	} else {
		b, _ := os.ReadFile(filepath.Join(f.data, "demo-account"))
		account = strings.TrimSpace(string(b))
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
	fmt.Fprintf(w, `
mailtrail demo is serving the CloudWatch Logs API on http://%[1]s
Paste into another shell:

  export AWS_ACCESS_KEY_ID=%[2]s AWS_SECRET_ACCESS_KEY=%[3]s AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=
  alias mt='aws --endpoint-url http://%[1]s'
  S=$(date -d '31 days ago' +%%s) E=$(date +%%s)

  mt logs describe-log-groups --query 'logGroups[].[logGroupName,storedBytes]' --output table

  # Who failed to log in, and from where (seed scenario 3)
  Q=$(mt logs start-query --log-group-name %[4]s --start-time $S --end-time $E \
      --query-string 'fields user, source_ip, protocol, auth_successful, auth_failed_reason | filter auth_successful = 0' \
      --output text --query queryId); sleep 1; mt logs get-query-results --query-id $Q

  # Brute force: failures per source IP
  Q=$(mt logs start-query --log-group-name %[4]s --start-time $S --end-time $E \
      --query-string 'filter auth_successful = 0 | stats count(*) as failures by source_ip | sort failures desc | limit 10' \
      --output text --query queryId); sleep 1; mt logs get-query-results --query-id $Q

  # Which access rule denied whom (seed scenario 4)
  Q=$(mt logs start-query --log-group-name %[5]s --start-time $S --end-time $E \
      --query-string 'fields user_id, source_ip, protocol, rule_id, access_granted | filter access_granted = 0' \
      --output text --query queryId); sleep 1; mt logs get-query-results --query-id $Q

  # Mail received from qq.com (seed scenario 1)
  Q=$(mt logs start-query --log-group-name %[6]s --start-time $S --end-time $E \
      --query-string 'fields @timestamp, event.eventName, event.from | sort @timestamp asc | filter (event.from like "qq.com" and event.eventName = "ORGANIZATION_EMAIL_RECEIVED")' \
      --output text --query queryId); sleep 1; mt logs get-query-results --query-id $Q

  # Mail per recipient (seed scenario 2)
  Q=$(mt logs start-query --log-group-name %[6]s --start-time $S --end-time $E \
      --query-string 'stats count(*) as c by event.recipient | filter event.eventName = "MAILBOX_EMAIL_DELIVERED" | sort c desc' \
      --output text --query queryId); sleep 1; mt logs get-query-results --query-id $Q

  # Mailbox activity per hour
  Q=$(mt logs start-query --log-group-name %[7]s --start-time $S --end-time $E \
      --query-string 'stats count(*) by bin(1h)' --output text --query queryId); sleep 1; mt logs get-query-results --query-id $Q

  # Filter patterns, and a live tail (needs AWS_DISABLE_HOST_PREFIX_INJECTION=true)
  mt logs filter-log-events --log-group-name %[4]s --filter-pattern '{ $.auth_successful IS FALSE }' --max-items 5
  AWS_DISABLE_HOST_PREFIX_INJECTION=true mt logs start-live-tail --log-group-identifiers arn:aws:logs:us-east-1:%[8]s:log-group:%[4]s

Ctrl-C stops the server (the data stays in the data directory).
`, addr, demoKeyID, secret, auth, acl, mail, mbx, account)
}
