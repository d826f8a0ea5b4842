package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Environment variables read by CredentialFromEnv.
const (
	EnvAccessKeyID     = "MAILTRAIL_ACCESS_KEY_ID"
	EnvSecretAccessKey = "MAILTRAIL_SECRET_ACCESS_KEY"
	EnvAccountID       = "MAILTRAIL_ACCOUNT_ID"
)

// DefaultAccountID is the account a key belongs to when none is given, the
// same placeholder LocalStack and moto use, so ARNs look familiar.
const DefaultAccountID = "000000000000"

// Credential is one access key bound to an account.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	AccountID       string
	// Source says where the key was defined ("env" or "file:line"), for error
	// messages and start-up logs.
	Source string
}

// String never shows the secret, so a Credential can be logged or printed in
// an error without leaking it.
func (c Credential) String() string {
	return fmt.Sprintf("%s (account %s, from %s)", c.AccessKeyID, c.AccountID, c.Source)
}

// LogValue keeps the secret out of slog output.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", c.AccessKeyID),
		slog.String("account_id", c.AccountID),
		slog.String("source", c.Source))
}

// validate checks the shape of each field. Access key ids may not contain '/',
// ',' or '=' because they are embedded in "Credential=AKID/date/..." and would
// make the Authorization header ambiguous.
func (c Credential) validate() error {
	if c.AccessKeyID == "" || len(c.AccessKeyID) > 128 {
		return fmt.Errorf("access key id must be 1 to 128 characters, got %d", len(c.AccessKeyID))
	}
	for i := 0; i < len(c.AccessKeyID); i++ {
		if !isKeyIDByte(c.AccessKeyID[i]) {
			return fmt.Errorf("access key id %q: byte %d (%q) is not a letter, digit, '_', '-' or '.'", c.AccessKeyID, i, c.AccessKeyID[i])
		}
	}
	if c.SecretAccessKey == "" || len(c.SecretAccessKey) > 1024 {
		return fmt.Errorf("secret access key for %s must be 1 to 1024 characters, got %d", c.AccessKeyID, len(c.SecretAccessKey))
	}
	for i := 0; i < len(c.SecretAccessKey); i++ {
		if b := c.SecretAccessKey[i]; b <= ' ' || b >= 0x7f {
			return fmt.Errorf("secret access key for %s: byte %d is not printable ASCII (spaces and control characters are not allowed)", c.AccessKeyID, i)
		}
	}
	if len(c.AccountID) != 12 {
		return fmt.Errorf("account id %q for %s must be exactly 12 digits", c.AccountID, c.AccessKeyID)
	}
	for i := 0; i < len(c.AccountID); i++ {
		if c.AccountID[i] < '0' || c.AccountID[i] > '9' {
			return fmt.Errorf("account id %q for %s must be exactly 12 digits", c.AccountID, c.AccessKeyID)
		}
	}
	return nil
}

func isKeyIDByte(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '-' || b == '.'
}

// Credentials is the set of access keys the server accepts. Lookups are
// lock-free (copy-on-write map) because every request does one.
type Credentials struct {
	mu   sync.Mutex // serialises writers
	keys atomic.Pointer[map[string]Credential]
}

// NewCredentials returns a store holding creds; it fails on an invalid or
// duplicate key.
func NewCredentials(creds ...Credential) (*Credentials, error) {
	c := &Credentials{}
	m := map[string]Credential{}
	c.keys.Store(&m)
	if err := c.Add(creds...); err != nil {
		return nil, err
	}
	return c, nil
}

// Add inserts keys. It is all-or-nothing: on any invalid or duplicate key the
// store is unchanged.
func (c *Credentials) Add(creds ...Credential) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.load()
	next := make(map[string]Credential, len(old)+len(creds))
	for k, v := range old {
		next[k] = v
	}
	for _, cr := range creds {
		if cr.AccountID == "" {
			cr.AccountID = DefaultAccountID
		}
		if err := cr.validate(); err != nil {
			if cr.Source != "" {
				return fmt.Errorf("%s: %w", cr.Source, err)
			}
			return err
		}
		if prev, dup := next[cr.AccessKeyID]; dup {
			return fmt.Errorf("%s: access key id %s is already defined at %s", orUnknown(cr.Source), cr.AccessKeyID, orUnknown(prev.Source))
		}
		next[cr.AccessKeyID] = cr
	}
	c.keys.Store(&next)
	return nil
}

// Replace swaps the whole key set at once (for a reload), validating first.
func (c *Credentials) Replace(creds ...Credential) error {
	fresh, err := NewCredentials(creds...)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.keys.Store(fresh.keys.Load())
	c.mu.Unlock()
	return nil
}

func (c *Credentials) load() map[string]Credential {
	if p := c.keys.Load(); p != nil {
		return *p
	}
	return nil
}

// Lookup returns the credential for an access key id.
func (c *Credentials) Lookup(accessKeyID string) (Credential, bool) {
	cr, ok := c.load()[accessKeyID]
	return cr, ok
}

// Len is the number of keys.
func (c *Credentials) Len() int { return len(c.load()) }

// All returns the keys sorted by access key id (for start-up logging; print
// them with %v, which hides secrets).
func (c *Credentials) All() []Credential {
	m := c.load()
	out := make([]Credential, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AccessKeyID < out[j].AccessKeyID })
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown source)"
	}
	return s
}

// CredentialFromEnv reads MAILTRAIL_ACCESS_KEY_ID, MAILTRAIL_SECRET_ACCESS_KEY
// and the optional MAILTRAIL_ACCOUNT_ID through getenv (os.Getenv in
// production). ok is false when neither key variable is set; setting only one
// of them is an error rather than silently running without auth.
func CredentialFromEnv(getenv func(string) string) (cred Credential, ok bool, err error) {
	id, secret := getenv(EnvAccessKeyID), getenv(EnvSecretAccessKey)
	switch {
	case id == "" && secret == "":
		return Credential{}, false, nil
	case id == "":
		return Credential{}, false, fmt.Errorf("%s is set but %s is not", EnvSecretAccessKey, EnvAccessKeyID)
	case secret == "":
		return Credential{}, false, fmt.Errorf("%s is set but %s is not", EnvAccessKeyID, EnvSecretAccessKey)
	}
	cred = Credential{AccessKeyID: id, SecretAccessKey: secret, AccountID: getenv(EnvAccountID), Source: "env"}
	if cred.AccountID == "" {
		cred.AccountID = DefaultAccountID
	}
	if err := cred.validate(); err != nil {
		return Credential{}, false, fmt.Errorf("environment %s/%s/%s: %w", EnvAccessKeyID, EnvSecretAccessKey, EnvAccountID, err)
	}
	return cred, true, nil
}

// ParseCredentials reads the credentials file format:
//
//	# comment lines start with '#'; blank lines are ignored
//	# ACCESS_KEY_ID      SECRET_ACCESS_KEY                         [ACCOUNT_ID]
//	AKIAMAILTRAIL0001    wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY  111111111111
//	AKIAMAILTRAIL0002    je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY  222222222222  # trailing comment
//	local                local-secret
//
// Fields are separated by spaces or tabs. ACCOUNT_ID is 12 digits and defaults
// to 000000000000. A field starting with '#' begins a comment, so a secret may
// contain '#' but not start with it. name labels errors ("name:line: ...").
// Duplicate access key ids are an error.
func ParseCredentials(r io.Reader, name string) ([]Credential, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	var out []Credential
	seen := map[string]string{}
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf")) // UTF-8 BOM from Windows editors
		}
		fields := strings.Fields(string(text))
		for i, f := range fields {
			if strings.HasPrefix(f, "#") {
				fields = fields[:i]
				break
			}
		}
		if len(fields) == 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, line)
		if len(fields) == 1 {
			return nil, fmt.Errorf("%s: want ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID], got only %q", where, fields[0])
		}
		if len(fields) > 3 {
			return nil, fmt.Errorf("%s: want ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID], got %d fields (start a comment with '#')", where, len(fields))
		}
		cr := Credential{AccessKeyID: fields[0], SecretAccessKey: fields[1], AccountID: DefaultAccountID, Source: where}
		if len(fields) == 3 {
			cr.AccountID = fields[2]
		}
		if err := cr.validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if prev, dup := seen[cr.AccessKeyID]; dup {
			return nil, fmt.Errorf("%s: access key id %s is already defined at %s", where, cr.AccessKeyID, prev)
		}
		seen[cr.AccessKeyID] = where
		out = append(out, cr)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than 64 KiB", name, line+1)
		}
		return nil, fmt.Errorf("%s: reading after line %d: %w", name, line, err)
	}
	return out, nil
}

// ReadCredentialsFile parses the file at path (see ParseCredentials). It warns
// through slog when the file is readable by group or others, as ssh does for
// private keys, but still loads it.
func ReadCredentialsFile(path string) ([]Credential, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		slog.Warn("credentials file is readable by other users; chmod 600 it", "path", path, "mode", st.Mode().Perm().String())
	}
	return ParseCredentials(f, path)
}

// LoadCredentials builds the store the server uses: the environment key (if
// MAILTRAIL_ACCESS_KEY_ID is set) plus every key of the file at path (if path
// is not empty). The same access key id in both is an error.
func LoadCredentials(getenv func(string) string, path string) (*Credentials, error) {
	var all []Credential
	cred, ok, err := CredentialFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if ok {
		all = append(all, cred)
	}
	if path != "" {
		fromFile, err := ReadCredentialsFile(path)
		if err != nil {
			return nil, err
		}
		all = append(all, fromFile...)
	}
	return NewCredentials(all...)
}
