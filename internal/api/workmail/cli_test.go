package workmail

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/api/sigv4"
	"github.com/mailtrail/mailtrail/internal/org"
)

const awsCLI = "/usr/bin/aws"

// TestAWSCLI drives the handler with the real AWS CLI v2, signed with SigV4
// and checked by the real verifier, over loopback.
func TestAWSCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the AWS CLI is required in CI: %v", err)
		}
		t.Skipf("no AWS CLI: %v", err)
	}
	const key, secret, account = "AKIDWORKMAILE2E00001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWORKMAILKEY", "123456789012"
	creds, err := sigv4.NewCredentials(sigv4.Credential{AccessKeyID: key, SecretAccessKey: secret, AccountID: account, Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	dir, err := org.Open(data+"/org", org.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := access.Open(data+"/access", dir, access.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var calls []ManagementCall
	h, err := NewHandler(Config{
		Dir: dir, Rules: rules, Region: "us-east-1",
		Auth:   SigV4Authenticator(sigv4.NewVerifier(creds, sigv4.Options{Services: []string{"workmail"}})),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnCall: func(acct string, c ManagementCall) {
			if acct != account {
				t.Errorf("call reported for account %q, want %s", acct, account)
			}
			mu.Lock()
			calls = append(calls, c)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	home := t.TempDir()
	run := func(secretKey string, args ...string) (string, string, error) {
		full := append([]string{"--endpoint-url", srv.URL, "--output", "json", "workmail"}, args...)
		cmd := exec.Command(awsCLI, full...)
		cmd.Env = []string{
			"PATH=" + os.Getenv("PATH"), "HOME=" + home,
			"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=" + secretKey,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/nonexistent",
			"AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true",
		}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	ok := func(t *testing.T, v any, args ...string) {
		t.Helper()
		out, errs, err := run(secret, args...)
		if err != nil {
			t.Fatalf("aws workmail %s: %v\n%s%s", strings.Join(args, " "), err, out, errs)
		}
		if v != nil {
			if err := json.Unmarshal([]byte(out), v); err != nil {
				t.Fatalf("aws workmail %s: output %q: %v", args[0], out, err)
			}
		}
	}
	fails := func(t *testing.T, code, secretKey string, args ...string) {
		t.Helper()
		out, errs, err := run(secretKey, args...)
		if err == nil {
			t.Fatalf("aws workmail %s succeeded, want %s:\n%s", strings.Join(args, " "), code, out)
		}
		if !strings.Contains(errs, "("+code+")") {
			t.Fatalf("aws workmail %s: want %s, got:\n%s", strings.Join(args, " "), code, errs)
		}
	}

	// Each CLI start costs seconds on a loaded machine, so the calls that do
	// not depend on each other run side by side, phase by phase.
	phase := func(name string, steps map[string]func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) {
			for n, f := range steps {
				t.Run(n, func(t *testing.T) { t.Parallel(); f(t) })
			}
		}) {
			t.FailNow()
		}
	}

	var created struct{ OrganizationId string }
	ok(t, &created, "create-organization", "--alias", "e2e-org")
	orgID := created.OrganizationId
	if !org.ValidOrganizationID(orgID) {
		t.Fatalf("create-organization: organization id %q", orgID)
	}

	var bob, alice string
	phase("setup", map[string]func(t *testing.T){
		"duplicate alias": func(t *testing.T) {
			fails(t, "NameAvailabilityException", secret, "create-organization", "--alias", "e2e-org")
		},
		"describe-organization": func(t *testing.T) {
			var desc map[string]any
			ok(t, &desc, "describe-organization", "--organization-id", orgID)
			if desc["Alias"] != "e2e-org" || desc["State"] != "Active" || !strings.Contains(desc["ARN"].(string), ":"+account+":organization/"+orgID) {
				t.Errorf("describe-organization: %v", desc)
			}
			// The CLI parsed the epoch-seconds timestamp and prints it as ISO 8601.
			if cd, _ := desc["CompletedDate"].(string); !strings.Contains(cd, "T") {
				t.Errorf("describe-organization CompletedDate %v: the CLI did not parse it as a timestamp", desc["CompletedDate"])
			}
		},
		"create-user": func(t *testing.T) {
			var user struct{ UserId string }
			ok(t, &user, "create-user", "--organization-id", orgID, "--name", "bob", "--display-name", "Bob Example", "--password", "Secret-Pass1")
			bob = user.UserId
		},
		"second organization": func(t *testing.T) {
			ok(t, nil, "create-organization", "--alias", "second-org")
		},
	})
	phase("rule", map[string]func(t *testing.T){
		"put-access-control-rule": func(t *testing.T) {
			ok(t, nil, "put-access-control-rule", "--organization-id", orgID, "--name", "deny-imap", "--effect", "DENY",
				"--description", "Block IMAP for bob everywhere", "--ip-ranges", "0.0.0.0/0", "--actions", "IMAP", "--user-ids", bob)
		},
		"second user": func(t *testing.T) {
			var user struct{ UserId string }
			ok(t, &user, "create-user", "--organization-id", orgID, "--name", "alice", "--display-name", "Alice Example", "--password", "Secret-Pass2")
			alice = user.UserId
		},
	})

	effect := func(t *testing.T, action, userID string) (string, []string) {
		t.Helper()
		var e struct {
			Effect       string
			MatchedRules []string
		}
		ok(t, &e, "get-access-control-effect", "--organization-id", orgID, "--ip-address", "203.0.113.9", "--action", action, "--user-id", userID)
		return e.Effect, e.MatchedRules
	}
	phase("evaluate", map[string]func(t *testing.T){
		"list-access-control-rules": func(t *testing.T) {
			var listed struct{ Rules []map[string]any }
			ok(t, &listed, "list-access-control-rules", "--organization-id", orgID)
			if len(listed.Rules) != 2 || listed.Rules[1]["Name"] != "deny-imap" || listed.Rules[1]["Effect"] != "DENY" {
				t.Fatalf("list-access-control-rules: %v", listed.Rules)
			}
			if dc, _ := listed.Rules[1]["DateCreated"].(string); !strings.Contains(dc, "T") {
				t.Errorf("rule DateCreated %v: not parsed as a timestamp", listed.Rules[1]["DateCreated"])
			}
		},
		"bob IMAP": func(t *testing.T) {
			if eff, m := effect(t, "IMAP", bob); eff != "DENY" || !slices.Equal(m, []string{"deny-imap"}) {
				t.Errorf("bob IMAP: %s %v, want DENY [deny-imap]", eff, m)
			}
		},
		"alice IMAP": func(t *testing.T) {
			if eff, _ := effect(t, "IMAP", alice); eff != "ALLOW" {
				t.Errorf("alice IMAP: %s, want ALLOW", eff)
			}
		},
	})
	ok(t, nil, "delete-access-control-rule", "--organization-id", orgID, "--name", "deny-imap")

	phase("reads", map[string]func(t *testing.T){
		"bob IMAP after delete": func(t *testing.T) {
			if eff, _ := effect(t, "IMAP", bob); eff != "ALLOW" {
				t.Errorf("bob IMAP after delete: %s, want ALLOW", eff)
			}
		},
		"describe-user": func(t *testing.T) {
			var du map[string]any
			ok(t, &du, "describe-user", "--organization-id", orgID, "--user-id", bob)
			if du["UserId"] != bob || du["Name"] != "bob" || du["DisplayName"] != "Bob Example" || du["State"] != "ENABLED" || du["Email"] != "bob@e2e-org.awsapps.com" {
				t.Errorf("describe-user: %v", du)
			}
		},
		"list-users": func(t *testing.T) {
			// --page-size 1 makes the CLI follow NextToken across pages.
			var lu struct{ Users []map[string]any }
			ok(t, &lu, "list-users", "--organization-id", orgID, "--page-size", "1")
			if len(lu.Users) != 2 || lu.Users[0]["Id"] != bob || lu.Users[1]["Id"] != alice {
				t.Errorf("list-users: %v", lu.Users)
			}
		},
		"list-organizations": func(t *testing.T) {
			var lo struct{ OrganizationSummaries []map[string]any }
			ok(t, &lo, "list-organizations", "--page-size", "1")
			if len(lo.OrganizationSummaries) != 2 || lo.OrganizationSummaries[0]["OrganizationId"] != orgID {
				t.Errorf("list-organizations: %v", lo.OrganizationSummaries)
			}
		},
		"unknown organization": func(t *testing.T) {
			fails(t, "OrganizationNotFoundException", secret, "describe-organization", "--organization-id", "m-0123456789abcdef0123456789abcdef")
		},
		"wrong secret": func(t *testing.T) {
			fails(t, "InvalidSignatureException", "not-the-secret", "list-organizations")
		},
	})

	mu.Lock()
	defer mu.Unlock()
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.Operation)
		if c.AccessKeyID != key || c.SourceIP != "127.0.0.1" || !strings.HasPrefix(c.UserAgent, "aws-cli/") || c.Region != "us-east-1" {
			t.Errorf("%s report: key %q ip %q agent %q region %q", c.Operation, c.AccessKeyID, c.SourceIP, c.UserAgent, c.Region)
		}
		if strings.Contains(strings.ToLower(string(mustJSON(t, c.RequestParameters))), "secret-pass") {
			t.Errorf("%s report leaks the password", c.Operation)
		}
	}
	// Calls of one phase run concurrently, so compare as multisets.
	slices.Sort(ops)
	want := []string{"CreateOrganization", "CreateOrganization", "CreateOrganization", "CreateUser", "CreateUser",
		"DeleteAccessControlRule", "PutAccessControlRule"}
	if !slices.Equal(ops, want) {
		t.Errorf("reported calls %v, want %v", ops, want)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
