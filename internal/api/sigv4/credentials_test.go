package sigv4

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCredentialsGood(t *testing.T) {
	f, err := os.Open("testdata/credentials/good.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseCredentials(f, "good.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []Credential{
		{"AKIAMAILTRAIL0001", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "111111111111", "good.txt:4"},
		{"AKIAMAILTRAIL0002", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "222222222222", "good.txt:5"},
		{"local", "local#secret+with/odd=chars", DefaultAccountID, "good.txt:8"},
		{"tabbed", "tab-secret", "333333333333", "good.txt:9"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d credentials %v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("credential %d = %#v, want %#v", i, got[i], want[i])
		}
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"one field", "AKID\n", "f:1: want ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID], got only \"AKID\""},
		{"four fields", "# c\nA S 111111111111 extra\n", "f:2: want ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID], got 4 fields"},
		{"short account", "A S 1234\n", "f:1: account id \"1234\" for A must be exactly 12 digits"},
		{"letters in account", "A S 12345678901x\n", "f:1: account id \"12345678901x\" for A must be exactly 12 digits"},
		{"slash in key id", "A/B S\n", "f:1: access key id \"A/B\": byte 1 ('/') is not a letter"},
		{"duplicate", "A S1\n\nA S2\n", "f:3: access key id A is already defined at f:1"},
		{"control char in secret", "A S\x01x\n", "f:1: secret access key for A: byte 1 is not printable ASCII"},
		{"long line", strings.Repeat("x", 70000) + "\n", "f:1: line longer than 64 KiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCredentials(strings.NewReader(tc.text), "f")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCredentialFromEnv(t *testing.T) {
	cr, ok, err := CredentialFromEnv(env(map[string]string{EnvAccessKeyID: "AKID", EnvSecretAccessKey: "SECRET"}))
	if err != nil || !ok || cr.AccountID != DefaultAccountID || cr.Source != "env" {
		t.Fatalf("got %v %v %v", cr, ok, err)
	}
	cr, ok, err = CredentialFromEnv(env(map[string]string{EnvAccessKeyID: "AKID", EnvSecretAccessKey: "SECRET", EnvAccountID: "123456789012"}))
	if err != nil || !ok || cr.AccountID != "123456789012" {
		t.Fatalf("got %v %v %v", cr, ok, err)
	}
	if _, ok, err := CredentialFromEnv(env(nil)); ok || err != nil {
		t.Fatalf("empty env: %v %v", ok, err)
	}
	for _, m := range []map[string]string{
		{EnvAccessKeyID: "AKID"},
		{EnvSecretAccessKey: "S"},
		{EnvAccessKeyID: "AKID", EnvSecretAccessKey: "S", EnvAccountID: "12"},
	} {
		if _, _, err := CredentialFromEnv(env(m)); err == nil {
			t.Errorf("%v: no error", m)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "creds")
	if err := os.WriteFile(path, []byte("FILEKEY filesecret 444444444444\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCredentials(env(map[string]string{EnvAccessKeyID: "ENVKEY", EnvSecretAccessKey: "envsecret"}), path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Fatalf("Len = %d", c.Len())
	}
	if cr, ok := c.Lookup("FILEKEY"); !ok || cr.AccountID != "444444444444" || cr.Source != path+":1" {
		t.Errorf("FILEKEY = %v %v", cr, ok)
	}
	if cr, ok := c.Lookup("ENVKEY"); !ok || cr.AccountID != DefaultAccountID {
		t.Errorf("ENVKEY = %v %v", cr, ok)
	}
	if _, ok := c.Lookup("nope"); ok {
		t.Error("unknown key found")
	}
	_, err = LoadCredentials(env(map[string]string{EnvAccessKeyID: "FILEKEY", EnvSecretAccessKey: "x"}), path)
	if err == nil || !strings.Contains(err.Error(), "FILEKEY is already defined at env") {
		t.Errorf("duplicate across env and file: %v", err)
	}
	if _, err := LoadCredentials(env(nil), filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestCredentialNeverPrintsSecret(t *testing.T) {
	cr := Credential{AccessKeyID: "AKID", SecretAccessKey: "top-secret-value", AccountID: "123456789012", Source: "env"}
	for _, s := range []string{fmt.Sprint(cr), fmt.Sprintf("%v %+v %s", cr, cr, cr), cr.LogValue().String()} {
		if strings.Contains(s, "top-secret-value") {
			t.Errorf("secret leaked: %s", s)
		}
	}
}

func TestCredentialsAddIsAtomic(t *testing.T) {
	c, err := NewCredentials(keyA)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Add(keyB, keyA); err == nil {
		t.Fatal("duplicate accepted")
	}
	if c.Len() != 1 {
		t.Fatalf("failed Add changed the store: Len = %d", c.Len())
	}
}
