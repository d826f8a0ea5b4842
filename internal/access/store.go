package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mailtrail/mailtrail/internal/atomicfile"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/org"
)

// Store holds the access control rules of every organization under one data
// directory. It checks organizations and users against an org.Directory.
type Store struct {
	dir   string
	users *org.Directory
	now   func() time.Time

	mu   sync.RWMutex
	sets map[orgKey]*ruleSet
}

type orgKey struct{ account, orgID string }

// ruleSet is one organization's rules, in order, with their compiled form.
type ruleSet struct {
	rules    []Rule
	compiled []compiled
}

// recompile prepares the rules for evaluation. Their order is kept: it is
// creation order, since PutRule appends new names and replaces in place.
func (s *ruleSet) recompile() {
	s.compiled = make([]compiled, len(s.rules))
	for i := range s.rules {
		s.compiled[i] = compile(&s.rules[i])
	}
}

// Options tune a Store.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Open returns the rule store under dir (created if needed), checking
// organizations and users against users.
func Open(dir string, users *org.Directory, opts Options) (*Store, error) {
	if users == nil {
		return nil, errors.New("access: Open needs an org.Directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("access: create data dir %s: %w", dir, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{dir: dir, users: users, now: now, sets: map[orgKey]*ruleSet{}}, nil
}

func (s *Store) path(k orgKey) string {
	return filepath.Join(s.dir, k.account, k.orgID+".json")
}

// fileRules is the on-disk form.
type fileRules struct {
	Version int    `json:"version"`
	Rules   []Rule `json:"rules"`
}

const fileVersion = 1

// DefaultRule returns the allow-all rule an organization created at t
// starts with.
func DefaultRule(t time.Time) Rule {
	return Rule{Name: DefaultRuleName, Effect: Allow, Description: DefaultRuleDescription, DateCreated: t, DateModified: t}
}

// set returns an organization's rule set, loading it on first use. It
// checks the organization exists (org ids are validated by the directory),
// so only real organizations are cached. The caller holds s.mu for writing.
func (s *Store) load(k orgKey) (*ruleSet, error) {
	if rs, ok := s.sets[k]; ok {
		return rs, nil
	}
	o, err := s.users.Organization(k.account, k.orgID)
	if err != nil {
		return nil, err
	}
	rs := &ruleSet{}
	p := s.path(k)
	data, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		rs.rules = []Rule{DefaultRule(o.CreatedAt)}
	case err != nil:
		return nil, fmt.Errorf("access: read %s: %w", p, err)
	default:
		rules, err := decodeFile(data)
		if err != nil {
			return nil, fmt.Errorf("access: %s: %w", p, err)
		}
		rs.rules = rules
	}
	rs.recompile()
	s.sets[k] = rs
	return rs, nil
}

// decodeFile parses and re-validates a rules file, so a hand-edited file
// with a bad CIDR is reported rather than silently matching nothing.
func decodeFile(data []byte) ([]Rule, error) {
	var f fileRules
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode rules: %s", describeJSONError(err, len(data)))
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("unsupported rules file version %d (want %d)", f.Version, fileVersion)
	}
	if len(f.Rules) > MaxRules {
		return nil, fmt.Errorf("%d rules, more than the limit of %d", len(f.Rules), MaxRules)
	}
	seen := map[string]bool{}
	for i := range f.Rules {
		if err := f.Rules[i].normalize(); err != nil {
			return nil, fmt.Errorf("rules[%d] (%s): %w", i, f.Rules[i].Name, err)
		}
		if seen[f.Rules[i].Name] {
			return nil, fmt.Errorf("rules[%d]: duplicate name %s", i, f.Rules[i].Name)
		}
		seen[f.Rules[i].Name] = true
	}
	return f.Rules, nil
}

func (s *Store) save(k orgKey, rules []Rule) error {
	data, err := json.MarshalIndent(fileRules{Version: fileVersion, Rules: rules}, "", " ")
	if err != nil {
		return fmt.Errorf("access: encode rules of %s: %w", k.orgID, err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(s.path(k), data, 0o600); err != nil {
		return fmt.Errorf("access: save rules of %s: %w", k.orgID, err)
	}
	return nil
}

// readSet returns the rule set under the read lock when it is cached, or
// loads it under the write lock; release with s.unlock(exclusive). (A
// method value as the unlock func would allocate on every decision.)
func (s *Store) readSet(account, orgID string) (rs *ruleSet, exclusive bool, err error) {
	k := orgKey{account, orgID}
	s.mu.RLock()
	if rs, ok := s.sets[k]; ok {
		return rs, false, nil
	}
	s.mu.RUnlock()
	s.mu.Lock()
	rs, err = s.load(k)
	if err != nil {
		s.mu.Unlock()
		return nil, false, err
	}
	return rs, true, nil
}

func (s *Store) unlock(exclusive bool) {
	if exclusive {
		s.mu.Unlock()
	} else {
		s.mu.RUnlock()
	}
}

// PutRule creates or replaces (by name) a rule and returns it as stored.
// DateCreated is kept on replace; DateModified is now.
func (s *Store) PutRule(account, orgID string, r Rule) (Rule, error) {
	if err := r.normalize(); err != nil {
		return Rule{}, err
	}
	for _, ids := range [][]string{r.UserIds, r.NotUserIds} {
		for _, id := range ids {
			if _, err := s.users.User(account, orgID, id); err != nil {
				if org.Code(err) == org.CodeEntityNotFound {
					return Rule{}, org.Errorf(org.CodeEntityNotFound, "User %s in rule %s does not exist in organization %s", id, r.Name, orgID)
				}
				return Rule{}, err
			}
		}
	}
	k := orgKey{account, orgID}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, err := s.load(k)
	if err != nil {
		return Rule{}, err
	}
	now := s.now().UTC()
	r.DateCreated, r.DateModified = now, now
	next := make([]Rule, 0, len(rs.rules)+1)
	replaced := false
	for _, old := range rs.rules {
		if old.Name == r.Name {
			r.DateCreated = old.DateCreated
			next = append(next, r)
			replaced = true
		} else {
			next = append(next, old)
		}
	}
	if !replaced {
		if len(rs.rules) >= MaxRules {
			return Rule{}, org.Errorf(org.CodeLimitExceeded, "Organization %s already has the maximum of %d access control rules", orgID, MaxRules)
		}
		next = append(next, r)
	}
	tmp := &ruleSet{rules: next}
	tmp.recompile()
	if err := s.save(k, tmp.rules); err != nil {
		return Rule{}, err
	}
	*rs = *tmp
	return r.clone(), nil
}

// DeleteRule deletes a rule by name. Deleting a rule that does not exist is
// not an error (as in the API).
func (s *Store) DeleteRule(account, orgID, name string) error {
	if name == "" {
		return org.Errorf(org.CodeInvalidParameter, "Name is required")
	}
	if !org.ValidName(name, 64) {
		return validation(name, "name", "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+")
	}
	k := orgKey{account, orgID}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, err := s.load(k)
	if err != nil {
		return err
	}
	next := make([]Rule, 0, len(rs.rules))
	for _, r := range rs.rules {
		if r.Name != name {
			next = append(next, r)
		}
	}
	if len(next) == len(rs.rules) {
		return nil
	}
	tmp := &ruleSet{rules: next}
	tmp.recompile()
	if err := s.save(k, tmp.rules); err != nil {
		return err
	}
	*rs = *tmp
	return nil
}

// ListRules returns an organization's rules in order.
func (s *Store) ListRules(account, orgID string) ([]Rule, error) {
	rs, excl, err := s.readSet(account, orgID)
	if err != nil {
		return nil, err
	}
	defer s.unlock(excl)
	out := make([]Rule, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.clone()
	}
	return out, nil
}

// Evaluate decides one access attempt against an organization's rules. It
// is the mail-server decision point: the request is not validated beyond
// what evaluation needs (unknown users and POP3's empty action are fine).
// An impersonation role is only allowed with EWS.
func (s *Store) Evaluate(account, orgID string, req Request) (Decision, error) {
	if req.ImpersonationRoleID != "" && req.Action != ActionEWS {
		return Decision{}, org.Errorf(org.CodeInvalidParameter, "ImpersonationRoleId can only be used with Action EWS, not %q", req.Action)
	}
	rs, excl, err := s.readSet(account, orgID)
	if err != nil {
		return Decision{}, err
	}
	defer s.unlock(excl)
	return evaluate(rs.compiled, req), nil
}

// EffectQuery is GetAccessControlEffect's request minus OrganizationId.
type EffectQuery struct {
	IPAddress           string
	Action              string
	UserID              string
	ImpersonationRoleID string
}

// GetAccessControlEffect validates q the way the API does and evaluates it:
// a strict dotted-quad IPv4 address, one of the 7 actions, a UserId that
// exists in the organization and/or an ImpersonationRoleId (EWS only).
func (s *Store) GetAccessControlEffect(account, orgID string, q EffectQuery) (Decision, error) {
	if q.IPAddress == "" {
		return Decision{}, org.Errorf(org.CodeInvalidParameter, "IpAddress is required")
	}
	ip, err := ParseIPv4(q.IPAddress)
	if err != nil {
		return Decision{}, validation(q.IPAddress, "ipAddress", "Member must satisfy regular expression pattern: "+ipv4Pattern)
	}
	if q.Action == "" {
		return Decision{}, org.Errorf(org.CodeInvalidParameter, "Action is required")
	}
	if !validActionName(q.Action) {
		return Decision{}, validation(q.Action, "action", "Member must satisfy regular expression pattern: [a-zA-Z]+")
	}
	action, ok := ParseAction(q.Action)
	if !ok {
		return Decision{}, org.Errorf(org.CodeInvalidParameter, "Invalid action %q: valid actions are ActiveSync, AutoDiscover, EWS, IMAP, SMTP, WindowsOutlook, WebMail", q.Action)
	}
	if q.UserID == "" && q.ImpersonationRoleID == "" {
		return Decision{}, org.Errorf(org.CodeInvalidParameter, "Either UserId or ImpersonationRoleId is required")
	}
	if q.ImpersonationRoleID != "" {
		if !org.ValidName(q.ImpersonationRoleID, 64) {
			return Decision{}, validation(q.ImpersonationRoleID, "impersonationRoleId", "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+")
		}
		if action != ActionEWS {
			return Decision{}, org.Errorf(org.CodeInvalidParameter, "ImpersonationRoleId can only be used with Action EWS, not %s", action)
		}
	}
	if q.UserID != "" {
		if n := utf8.RuneCountInString(q.UserID); n < 12 || n > 256 {
			return Decision{}, validation(q.UserID, "userId", "Member must have length between 12 and 256")
		}
		if _, err := s.users.User(account, orgID, q.UserID); err != nil {
			return Decision{}, err
		}
	}
	return s.Evaluate(account, orgID, Request{IP: ip, Action: action, UserID: q.UserID, ImpersonationRoleID: q.ImpersonationRoleID})
}

// ParseSourceIP parses a client address as logged by Dovecot or Postfix
// ("192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", with or without
// brackets). It returns the zero Addr for anything else, which no IP range
// contains.
func ParseSourceIP(s string) netip.Addr {
	if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
