package org

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mailtrail/mailtrail/internal/atomicfile"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
)

// Organization states. WorkMail reports more (Creating, Deleting, ...);
// mailtrail creates organizations synchronously, so they start Active.
const (
	StateActive = "Active"
)

// DirectoryTypeWorkMail is the directory type of an organization that uses
// its own WorkMail directory (no AWS Directory Service).
const DirectoryTypeWorkMail = "WorkMailDirectory"

// EntityState is a user's state.
type EntityState string

const (
	EntityEnabled  EntityState = "ENABLED"
	EntityDisabled EntityState = "DISABLED"
	EntityDeleted  EntityState = "DELETED"
)

// User roles (UserRole enum).
const (
	RoleUser       = "USER"
	RoleResource   = "RESOURCE"
	RoleSystemUser = "SYSTEM_USER"
	RoleRemoteUser = "REMOTE_USER"
)

// Organization is one WorkMail organization.
type Organization struct {
	ID                string    `json:"id"`
	Alias             string    `json:"alias"`
	ARN               string    `json:"arn"`
	Account           string    `json:"account"`
	Region            string    `json:"region"`
	State             string    `json:"state"`
	DirectoryID       string    `json:"directory_id"`
	DirectoryType     string    `json:"directory_type"`
	DefaultMailDomain string    `json:"default_mail_domain"`
	Domains           []string  `json:"domains,omitempty"`
	KmsKeyArn         string    `json:"kms_key_arn,omitempty"`
	CreatedAt         time.Time `json:"created_at"` // DescribeOrganization.CompletedDate
	ClientToken       string    `json:"client_token,omitempty"`
	Seq               uint64    `json:"seq"` // creation order within the account
}

// User is one WorkMail user.
type User struct {
	ID                          string      `json:"id"`
	Name                        string      `json:"name"`
	DisplayName                 string      `json:"display_name"`
	FirstName                   string      `json:"first_name,omitempty"`
	LastName                    string      `json:"last_name,omitempty"`
	Email                       string      `json:"email,omitempty"`
	State                       EntityState `json:"state"`
	Role                        string      `json:"role"`
	HiddenFromGlobalAddressList bool        `json:"hidden_from_global_address_list,omitempty"`
	CreatedAt                   time.Time   `json:"created_at"`
	EnabledDate                 time.Time   `json:"enabled_date,omitzero"`
	DisabledDate                time.Time   `json:"disabled_date,omitzero"`
	Seq                         uint64      `json:"seq"` // creation order within the organization
}

// Enabled reports whether the user is registered to WorkMail.
func (u User) Enabled() bool { return u.State == EntityEnabled }

func (o Organization) clone() Organization {
	o.Domains = append([]string(nil), o.Domains...)
	return o
}

// orgState is an organization and its users with lookup indexes.
type orgState struct {
	Org         Organization `json:"organization"`
	Users       []*User      `json:"users"`
	NextUserSeq uint64       `json:"next_user_seq"`

	byID    map[string]*User // user id
	byName  map[string]*User // lower-cased name
	byEmail map[string]*User // lower-cased email
}

func (o *orgState) index() {
	o.byID = make(map[string]*User, len(o.Users))
	o.byName = make(map[string]*User, len(o.Users))
	o.byEmail = make(map[string]*User, len(o.Users))
	for _, u := range o.Users {
		o.add(u)
	}
}

func (o *orgState) add(u *User) {
	o.byID[u.ID] = u
	o.byName[strings.ToLower(u.Name)] = u
	if u.Email != "" {
		o.byEmail[strings.ToLower(u.Email)] = u
	}
}

// accountState is everything one account owns; it is what directory.json
// holds.
type accountState struct {
	Version    int         `json:"version"`
	NextOrgSeq uint64      `json:"next_org_seq"`
	Orgs       []*orgState `json:"organizations"`

	byID map[string]*orgState
}

const fileVersion = 1

func (a *accountState) index() {
	a.byID = make(map[string]*orgState, len(a.Orgs))
	for _, o := range a.Orgs {
		a.byID[o.Org.ID] = o
		o.index()
	}
}

// Directory is the organization directory of all accounts under one data
// directory.
type Directory struct {
	dir string
	now func() time.Time

	mu       sync.RWMutex
	accounts map[string]*accountState
}

// Options tune a Directory.
type Options struct {
	// Now is the clock; nil means time.Now. Tests inject a fixed clock.
	Now func() time.Time
}

// Open returns the directory stored under dir, creating dir if needed.
// Accounts are read lazily, on first use.
func Open(dir string, opts Options) (*Directory, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("org: create data dir %s: %w", dir, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Directory{dir: dir, now: now, accounts: map[string]*accountState{}}, nil
}

func (d *Directory) path(account string) string {
	return filepath.Join(d.dir, account, "directory.json")
}

// Accounts lists the accounts that have a directory file, sorted.
func (d *Directory) Accounts() ([]string, error) {
	ents, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("org: list %s: %w", d.dir, err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || !validAccount(e.Name()) {
			continue
		}
		if _, err := os.Stat(d.path(e.Name())); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// account returns the loaded state of an account, reading it from disk on
// first use. The caller holds d.mu for writing, or for reading after
// ensureLoaded.
func (d *Directory) load(account string) (*accountState, error) {
	if a, ok := d.accounts[account]; ok {
		return a, nil
	}
	p := d.path(account)
	data, err := os.ReadFile(p)
	a := &accountState{Version: fileVersion}
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("org: read %s: %w", p, err)
	default:
		if err := decodeAccount(data, a); err != nil {
			return nil, fmt.Errorf("org: %s: %w", p, err)
		}
	}
	a.index()
	d.accounts[account] = a
	return a, nil
}

// decodeAccount parses a directory file strictly: unknown fields and a
// newer version are errors rather than silently dropped data.
func decodeAccount(data []byte, a *accountState) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(a); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("invalid JSON at byte offset %d: %w", se.Offset, err)
		case errors.As(err, &te):
			return fmt.Errorf("field %s has the wrong type at byte offset %d: %w", te.Field, te.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return fmt.Errorf("truncated JSON at byte offset %d: %w", len(data), err)
		}
		return fmt.Errorf("decode: %w", err)
	}
	if a.Version != fileVersion {
		return fmt.Errorf("unsupported directory file version %d (want %d)", a.Version, fileVersion)
	}
	seen := map[string]bool{}
	for i, o := range a.Orgs {
		if o == nil || !ValidOrganizationID(o.Org.ID) {
			return fmt.Errorf("organizations[%d]: missing or malformed id", i)
		}
		if seen[o.Org.ID] {
			return fmt.Errorf("organizations[%d]: duplicate id %s", i, o.Org.ID)
		}
		seen[o.Org.ID] = true
		for j, u := range o.Users {
			if u == nil || u.ID == "" || u.Name == "" {
				return fmt.Errorf("organizations[%d].users[%d]: missing id or name", i, j)
			}
		}
	}
	return nil
}

// withRead runs f with the account loaded and d.mu held for reading.
func (d *Directory) withRead(account string, f func(a *accountState) error) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	d.mu.RLock()
	a, ok := d.accounts[account]
	if ok {
		defer d.mu.RUnlock()
		return f(a)
	}
	d.mu.RUnlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.load(account)
	if err != nil {
		return err
	}
	return f(a)
}

// withWrite runs f with the account loaded and d.mu held for writing. f
// changes the in-memory state and returns an undo func; the account is then
// saved and, if saving fails, undo restores memory so it matches the disk.
func (d *Directory) withWrite(account string, f func(a *accountState) (undo func(), err error)) error {
	if err := checkAccount(account); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.load(account)
	if err != nil {
		return err
	}
	undo, err := f(a)
	if err != nil {
		return err
	}
	if err := d.save(account, a); err != nil {
		if undo != nil {
			undo()
		}
		return err
	}
	return nil
}

func (d *Directory) save(account string, a *accountState) error {
	data, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		return fmt.Errorf("org: encode account %s: %w", account, err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(d.path(account), data, 0o600); err != nil {
		return fmt.Errorf("org: save account %s: %w", account, err)
	}
	return nil
}

func (a *accountState) org(id string) (*orgState, error) {
	if err := checkOrganizationID(id); err != nil {
		return nil, err
	}
	o, ok := a.byID[id]
	if !ok {
		return nil, Errorf(CodeOrganizationNotFound, "Organization %s does not exist", id)
	}
	return o, nil
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NewGUID returns a random RFC 4122 version 4 GUID, lower case: the shape
// of WorkMail's entity ids, and of the request ids the API answers with.
func NewGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return event.UUID(b)
}

// Page cursors: the creation sequence number of the last item returned,
// prefixed by a kind letter so an organization token is not accepted by
// ListUsers, base64url-encoded so clients treat it as opaque.
func encodeToken(kind byte, seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(kind) + strconv.FormatUint(seq, 10)))
}

func decodeToken(kind byte, tok string) (uint64, error) {
	if tok == "" {
		return 0, nil
	}
	bad := Errorf(CodeInvalidParameter, "Invalid NextToken: %.40q", tok)
	if len(tok) > 1024 {
		return 0, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 2 || raw[0] != kind {
		return 0, bad
	}
	seq, err := strconv.ParseUint(string(raw[1:]), 10, 64)
	if err != nil {
		return 0, bad
	}
	return seq, nil
}
