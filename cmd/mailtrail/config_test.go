package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runConfigArgs(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runConfig(args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestConfigAddresses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // lines that must be in the output
		not  []string
	}{
		{"dovecot defaults", []string{"dovecot", "--nonce", "n"}, []string{
			"auth_policy_server_url = http://127.0.0.1:4600" + dovecotPolicyPath,
			"  transport_args = http://127.0.0.1:4600" + dovecotEventsPath,
			"auth_policy_reject_on_fail = yes",
			"auth_policy_hash_nonce = n",
			"auth_policy_server_timeout_msecs = 10000",
			"log_path = " + defaultDovecotLog,
		}, []string{"=%{fail_type}"}},
		{"dovecot addr and log", []string{"dovecot", "--addr", "0.0.0.0:4700", "--dovecot-log", "/srv/d.log"}, []string{
			"auth_policy_server_url = http://127.0.0.1:4700" + dovecotPolicyPath,
			"log_path = /srv/d.log",
		}, nil},
		{"dovecot url wins", []string{"--url", "https://audit.example:8443/", "dovecot"}, []string{
			"auth_policy_server_url = https://audit.example:8443" + dovecotPolicyPath,
			"  transport_args = https://audit.example:8443" + dovecotEventsPath,
		}, nil},
		{"dovecot fail open", []string{"dovecot", "--fail-open"}, []string{"auth_policy_reject_on_fail = no"}, nil},
		{"postfix defaults", []string{"postfix"}, []string{
			"smtpd_recipient_restrictions =",
			"    check_policy_service { inet:127.0.0.1:10040, timeout=10s, default_action=DEFER_IF_PERMIT }",
			"smtpd_end_of_data_restrictions =",
			"smtpd_policy_service_default_action = DEFER_IF_PERMIT",
			"maillog_file = " + defaultPostfixLog,
		}, nil},
		{"postfix policy and log", []string{"postfix", "--postfix-policy", "127.0.0.1:12000", "--postfix-log", "/srv/m.log", "--fail-open"}, []string{
			"    check_policy_service { inet:127.0.0.1:12000, timeout=10s, default_action=DUNNO }",
			"smtpd_policy_service_default_action = DUNNO",
			"maillog_file = /srv/m.log",
		}, nil},
		{"postfix syslog", []string{"postfix", "--syslog", "127.0.0.1:5514"}, []string{
			`#   if $programname startswith "postfix" then action(type="omfwd" target="127.0.0.1" port="5514" protocol="udp" template="RSYSLOG_ForwardFormat")`,
		}, []string{"\nmaillog_file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, err := runConfigArgs(t, tc.args...)
			if err != nil {
				t.Fatalf("config %v: %v\n%s", tc.args, err, errs)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[l] = true
			}
			for _, w := range tc.want {
				if !lines[w] {
					t.Errorf("config %v: no line %q in\n%s", tc.args, w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("config %v: output contains %q", tc.args, n)
				}
			}
		})
	}
}

func TestConfigUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"exim"}, {"dovecot", "extra"}, {"dovecot", "--bogus"}} {
		if _, _, err := runConfigArgs(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("config %v: err %v, want usage error", args, err)
		}
	}
	for _, args := range [][]string{{"dovecot", "--url", "ftp://x"}, {"dovecot", "--addr", "nope"}, {"postfix", "--postfix-policy", "nope"}} {
		if _, _, err := runConfigArgs(t, args...); err == nil || errors.Is(err, errUsage) {
			t.Errorf("config %v: err %v, want a described error", args, err)
		}
	}
}

// TestConfigAcceptedByDoveconf checks that Dovecot itself parses the printed
// settings (with the few local settings every site has), when installed.
func TestConfigAcceptedByDoveconf(t *testing.T) {
	doveconf, err := exec.LookPath("doveconf")
	if err != nil {
		t.Skip("doveconf not installed (scripts/install-test-deps.sh)")
	}
	for _, extra := range [][]string{nil, {"--fail-open"}} {
		out, _, err := runConfigArgs(t, append([]string{"dovecot", "--dovecot-log", filepath.Join(t.TempDir(), "d.log")}, extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		conf := filepath.Join(dir, "dovecot.conf")
		local := "protocols = imap\nbase_dir = " + dir + "/run\nssl = no\npassdb {\n  driver = static\n  args = password=x\n}\nuserdb {\n  driver = static\n  args = uid=65534 gid=65534 home=" + dir + "/%u\n}\n"
		os.WriteFile(conf, []byte(local+out), 0o644)
		cmd := exec.Command(doveconf, "-c", conf, "-n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Fatalf("doveconf -c rejects the printed config (%v):\n%s\n--- config:\n%s", err, stderr.String(), local+out)
		}
		// doveconf -n prints the settings that differ from the defaults: the
		// policy URL must be among them, proving the block was read.
		if !strings.Contains(stdout.String(), "auth_policy_server_url = http://127.0.0.1:4600"+dovecotPolicyPath) {
			t.Errorf("doveconf -n does not show the policy URL:\n%s", stdout.String())
		}
	}
}

// TestConfigAcceptedByPostconf checks that Postfix reads the printed main.cf
// settings without warnings (unknown parameters would be "unused parameter"),
// when installed.
func TestConfigAcceptedByPostconf(t *testing.T) {
	postconf, err := exec.LookPath("postconf")
	if err != nil {
		t.Skip("postconf not installed (scripts/install-test-deps.sh)")
	}
	for _, extra := range [][]string{{"--postfix-log", "/tmp/m.log"}, {"--syslog", "127.0.0.1:5514", "--fail-open"}} {
		out, _, err := runConfigArgs(t, append([]string{"postfix"}, extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "main.cf"), []byte("compatibility_level = 3.6\n"+out), 0o644)
		os.WriteFile(filepath.Join(dir, "master.cf"), []byte("smtp inet n - n - - smtpd\npostlog unix-dgram n - n - 1 postlogd\n"), 0o644)
		cmd := exec.Command(postconf, "-c", dir, "-n")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Fatalf("postconf -c rejects the printed config (%v):\n%s\n--- main.cf:\n%s", err, stderr.String(), out)
		}
		if !strings.Contains(stdout.String(), "smtpd_end_of_data_restrictions = check_policy_service") {
			t.Errorf("postconf -n does not show the policy restriction:\n%s", stdout.String())
		}
	}
}
