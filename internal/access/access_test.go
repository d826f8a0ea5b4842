package access

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/org"
)

const acct = "111122223333"

var t0 = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

// env is a real org directory and rule store on a temp dir, with a clock
// that advances one second per reading so creation and modification times
// differ deterministically.
type env struct {
	dir   string
	users *org.Directory
	store *Store
	org   org.Organization
	alice org.User
	bob   org.User
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	var tick atomic.Int64
	clock := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	users, err := org.Open(filepath.Join(dir, "directory"), org.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(filepath.Join(dir, "access"), users, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	o, err := users.CreateOrganization(acct, org.CreateOrganizationInput{Region: "us-east-1", Alias: "acme", Domains: []org.Domain{{DomainName: "example.test"}}})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := users.CreateUser(acct, o.ID, org.CreateUserInput{Name: "alice", DisplayName: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := users.CreateUser(acct, o.ID, org.CreateUserInput{Name: "bob", DisplayName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{dir: dir, users: users, store: st, org: o, alice: alice, bob: bob}
}

// only replaces the organization's rules with rs.
func (e *env) only(t testing.TB, rs ...Rule) {
	t.Helper()
	old, err := e.store.ListRules(acct, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range old {
		if err := e.store.DeleteRule(acct, e.org.ID, r.Name); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rs {
		if r.Description == "" {
			r.Description = "test rule " + r.Name
		}
		if _, err := e.store.PutRule(acct, e.org.ID, r); err != nil {
			t.Fatalf("PutRule(%s): %v", r.Name, err)
		}
	}
}

func ip(s string) netip.Addr { return ParseSourceIP(s) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if org.Code(err) != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

// TestConditions covers each condition alone, in both senses, with one
// ALLOW rule: the request is granted exactly when the rule matches.
func TestConditions(t *testing.T) {
	const a, b = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002"
	tests := []struct {
		name  string
		rule  Rule
		req   Request
		match bool
	}{
		{"no conditions", Rule{}, Request{IP: ip("198.51.100.7"), Action: ActionIMAP}, true},

		{"IpRanges in", Rule{IpRanges: []string{"10.0.0.0/8"}}, Request{IP: ip("10.1.2.3")}, true},
		{"IpRanges out", Rule{IpRanges: []string{"10.0.0.0/8"}}, Request{IP: ip("11.0.0.1")}, false},
		{"IpRanges second range", Rule{IpRanges: []string{"10.0.0.0/8", "192.0.2.0/24"}}, Request{IP: ip("192.0.2.200")}, true},
		{"IpRanges /32", Rule{IpRanges: []string{"192.0.2.1/32"}}, Request{IP: ip("192.0.2.1")}, true},
		{"IpRanges /32 neighbour", Rule{IpRanges: []string{"192.0.2.1/32"}}, Request{IP: ip("192.0.2.2")}, false},
		{"IpRanges 0.0.0.0/0", Rule{IpRanges: []string{"0.0.0.0/0"}}, Request{IP: ip("203.0.113.9")}, true},
		{"IpRanges host bits set", Rule{IpRanges: []string{"10.9.9.9/8"}}, Request{IP: ip("10.0.0.1")}, true},
		{"IpRanges 4in6 client", Rule{IpRanges: []string{"127.0.0.0/8"}}, Request{IP: netip.MustParseAddr("::ffff:127.0.0.1")}, true},
		{"IpRanges IPv6 client", Rule{IpRanges: []string{"0.0.0.0/0"}}, Request{IP: ip("2001:db8::1")}, false},
		{"IpRanges no IP", Rule{IpRanges: []string{"0.0.0.0/0"}}, Request{}, false},
		{"NotIpRanges in", Rule{NotIpRanges: []string{"10.0.0.0/8"}}, Request{IP: ip("10.1.2.3")}, false},
		{"NotIpRanges out", Rule{NotIpRanges: []string{"10.0.0.0/8"}}, Request{IP: ip("11.0.0.1")}, true},
		{"NotIpRanges IPv6 client", Rule{NotIpRanges: []string{"0.0.0.0/0"}}, Request{IP: ip("2001:db8::1")}, true},
		{"Ip and NotIp both hold", Rule{IpRanges: []string{"10.0.0.0/8"}, NotIpRanges: []string{"10.5.0.0/16"}}, Request{IP: ip("10.4.0.1")}, true},
		{"Ip holds NotIp fails", Rule{IpRanges: []string{"10.0.0.0/8"}, NotIpRanges: []string{"10.5.0.0/16"}}, Request{IP: ip("10.5.0.1")}, false},

		{"Actions in", Rule{Actions: []Action{ActionIMAP, ActionSMTP}}, Request{Action: ActionSMTP}, true},
		{"Actions out", Rule{Actions: []Action{ActionIMAP}}, Request{Action: ActionEWS}, false},
		{"Actions POP3", Rule{Actions: []Action{ActionIMAP}}, Request{Action: ""}, false},
		{"NotActions in", Rule{NotActions: []Action{ActionIMAP}}, Request{Action: ActionIMAP}, false},
		{"NotActions out", Rule{NotActions: []Action{ActionIMAP}}, Request{Action: ActionWebMail}, true},
		{"NotActions POP3", Rule{NotActions: []Action{ActionIMAP}}, Request{Action: ""}, true},
		{"Actions and NotActions", Rule{Actions: []Action{ActionIMAP, ActionEWS}, NotActions: []Action{ActionEWS}}, Request{Action: ActionEWS}, false},

		{"UserIds in", Rule{UserIds: []string{a}}, Request{UserID: a}, true},
		{"UserIds out", Rule{UserIds: []string{a}}, Request{UserID: b}, false},
		{"UserIds no user", Rule{UserIds: []string{a}}, Request{}, false},
		{"NotUserIds in", Rule{NotUserIds: []string{a}}, Request{UserID: a}, false},
		{"NotUserIds out", Rule{NotUserIds: []string{a}}, Request{UserID: b}, true},
		{"NotUserIds no user", Rule{NotUserIds: []string{a}}, Request{}, true},

		{"RoleIds in", Rule{ImpersonationRoleIds: []string{"role-1"}}, Request{Action: ActionEWS, ImpersonationRoleID: "role-1"}, true},
		{"RoleIds out", Rule{ImpersonationRoleIds: []string{"role-1"}}, Request{Action: ActionEWS, ImpersonationRoleID: "role-2"}, false},
		{"RoleIds plain login", Rule{ImpersonationRoleIds: []string{"role-1"}}, Request{Action: ActionIMAP, UserID: a}, false},
		{"NotRoleIds in", Rule{NotImpersonationRoleIds: []string{"role-1"}}, Request{Action: ActionEWS, ImpersonationRoleID: "role-1"}, false},
		{"NotRoleIds out", Rule{NotImpersonationRoleIds: []string{"role-1"}}, Request{Action: ActionEWS, ImpersonationRoleID: "role-2"}, true},
		{"NotRoleIds plain login", Rule{NotImpersonationRoleIds: []string{"role-1"}}, Request{Action: ActionIMAP, UserID: a}, true},

		{"all conditions hold", Rule{IpRanges: []string{"10.0.0.0/8"}, Actions: []Action{ActionEWS}, UserIds: []string{a}, NotImpersonationRoleIds: []string{"role-9"}},
			Request{IP: ip("10.0.0.1"), Action: ActionEWS, UserID: a, ImpersonationRoleID: "role-1"}, true},
		{"one condition fails", Rule{IpRanges: []string{"10.0.0.0/8"}, Actions: []Action{ActionEWS}, UserIds: []string{a}},
			Request{IP: ip("10.0.0.1"), Action: ActionIMAP, UserID: a}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rule
			r.Name, r.Effect, r.Description = "r", Allow, "d"
			if err := r.normalize(); err != nil {
				t.Fatal(err)
			}
			d := evaluate([]compiled{compile(&r)}, tt.req)
			if d.Granted != tt.match {
				t.Errorf("granted = %v, want %v (decision %+v)", d.Granted, tt.match, d)
			}
			if tt.match && d.RuleID != "r" || !tt.match && d.RuleID != "" {
				t.Errorf("rule id = %q", d.RuleID)
			}
		})
	}
}

// TestPrecedence covers DENY-over-ALLOW, first-rule reporting and default
// deny through the Store, in creation order.
func TestPrecedence(t *testing.T) {
	allowAll := Rule{Name: "allow-all", Effect: Allow}
	allowOffice := Rule{Name: "allow-office", Effect: Allow, IpRanges: []string{"192.0.2.0/24"}}
	denyIMAP := Rule{Name: "deny-imap", Effect: Deny, Actions: []Action{ActionIMAP}}
	denyOutside := Rule{Name: "deny-outside", Effect: Deny, NotIpRanges: []string{"192.0.2.0/24"}}
	allowIMAP := Rule{Name: "allow-imap", Effect: Allow, Actions: []Action{ActionIMAP}}
	tests := []struct {
		name     string
		rules    []Rule
		req      Request
		effect   Effect
		ruleID   string
		matched  []string
		all      []string
		noRuleID bool
	}{
		{"no rules deny", nil, Request{IP: ip("192.0.2.1"), Action: ActionIMAP}, Deny, "", nil, nil, true},
		{"no match deny", []Rule{allowOffice}, Request{IP: ip("203.0.113.1"), Action: ActionIMAP}, Deny, "", nil, nil, true},
		{"single allow", []Rule{allowOffice}, Request{IP: ip("192.0.2.1"), Action: ActionIMAP}, Allow, "allow-office", []string{"allow-office"}, []string{"allow-office"}, false},
		{"deny wins over earlier allow", []Rule{allowAll, denyIMAP}, Request{IP: ip("192.0.2.1"), Action: ActionIMAP}, Deny, "deny-imap", []string{"deny-imap"}, []string{"allow-all", "deny-imap"}, false},
		{"deny wins over later allow", []Rule{denyIMAP, allowAll}, Request{IP: ip("192.0.2.1"), Action: ActionIMAP}, Deny, "deny-imap", []string{"deny-imap"}, []string{"deny-imap", "allow-all"}, false},
		{"deny not matching lets allow", []Rule{allowAll, denyIMAP}, Request{IP: ip("192.0.2.1"), Action: ActionSMTP}, Allow, "allow-all", []string{"allow-all"}, []string{"allow-all"}, false},
		{"first of two allows", []Rule{allowOffice, allowAll}, Request{IP: ip("192.0.2.1"), Action: ActionSMTP}, Allow, "allow-office", []string{"allow-office", "allow-all"}, nil, false},
		{"first of two denies", []Rule{denyOutside, denyIMAP, allowAll}, Request{IP: ip("203.0.113.1"), Action: ActionIMAP}, Deny, "deny-outside", []string{"deny-outside", "deny-imap"}, nil, false},
		{"specific allow does not beat deny", []Rule{allowIMAP, denyOutside}, Request{IP: ip("203.0.113.1"), Action: ActionIMAP}, Deny, "deny-outside", []string{"deny-outside"}, nil, false},
		{"POP3 not hit by IMAP deny", []Rule{allowAll, denyIMAP}, Request{IP: ip("192.0.2.1")}, Allow, "allow-all", []string{"allow-all"}, nil, false},
		{"POP3 hit by IP deny", []Rule{allowAll, denyOutside}, Request{IP: ip("203.0.113.1")}, Deny, "deny-outside", []string{"deny-outside"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.only(t, tt.rules...)
			d, err := e.store.Evaluate(acct, e.org.ID, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != tt.effect || d.Granted != (tt.effect == Allow) || d.RuleID != tt.ruleID || d.Scope != ScopeAccessControl {
				t.Errorf("decision = %+v, want effect %s rule %q", d, tt.effect, tt.ruleID)
			}
			if fmt.Sprint(d.MatchedRules) != fmt.Sprint(tt.matched) {
				t.Errorf("MatchedRules = %v, want %v", d.MatchedRules, tt.matched)
			}
			if tt.all != nil && fmt.Sprint(d.AllMatched) != fmt.Sprint(tt.all) {
				t.Errorf("AllMatched = %v, want %v", d.AllMatched, tt.all)
			}
		})
	}
}

// TestSeedScenario is the end-to-end rule: DENY IMAP from 0.0.0.0/0
// for one user blocks that user's IMAP only.
func TestSeedScenario(t *testing.T) {
	e := newEnv(t)
	if _, err := e.store.PutRule(acct, e.org.ID, Rule{Name: "deny-imap-bob", Effect: Deny, Description: "no IMAP for bob",
		IpRanges: []string{"0.0.0.0/0"}, Actions: []Action{"imap"}, UserIds: []string{e.bob.ID}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		svc     string
		user    string
		granted bool
		rule    string
	}{
		{"imap", e.bob.ID, false, "deny-imap-bob"},
		{"pop3", e.bob.ID, true, DefaultRuleName},
		{"smtp", e.bob.ID, true, DefaultRuleName},
		{"imap", e.alice.ID, true, DefaultRuleName},
	} {
		svc, err := DovecotService(tc.svc)
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.store.Evaluate(acct, e.org.ID, Request{IP: ip("127.0.0.1"), Action: svc.Action, UserID: tc.user})
		if err != nil {
			t.Fatal(err)
		}
		if d.Granted != tc.granted || d.RuleID != tc.rule {
			t.Errorf("%s for %s: %+v, want granted=%v rule=%s", tc.svc, tc.user, d, tc.granted, tc.rule)
		}
	}
}

func TestGetAccessControlEffect(t *testing.T) {
	e := newEnv(t)
	e.only(t, Rule{Name: "allow-all", Effect: Allow},
		Rule{Name: "deny-ews-role", Effect: Deny, Actions: []Action{ActionEWS}, ImpersonationRoleIds: []string{"role-1"}})
	tests := []struct {
		name   string
		q      EffectQuery
		effect Effect
		code   string
	}{
		{"user allowed", EffectQuery{IPAddress: "192.0.2.1", Action: "IMAP", UserID: e.alice.ID}, Allow, ""},
		{"action any case", EffectQuery{IPAddress: "192.0.2.1", Action: "imap", UserID: e.alice.ID}, Allow, ""},
		{"role denied", EffectQuery{IPAddress: "192.0.2.1", Action: "EWS", ImpersonationRoleID: "role-1"}, Deny, ""},
		{"other role allowed", EffectQuery{IPAddress: "192.0.2.1", Action: "EWS", ImpersonationRoleID: "role-2"}, Allow, ""},
		{"user and role", EffectQuery{IPAddress: "192.0.2.1", Action: "EWS", UserID: e.alice.ID, ImpersonationRoleID: "role-1"}, Deny, ""},
		{"role without EWS", EffectQuery{IPAddress: "192.0.2.1", Action: "IMAP", ImpersonationRoleID: "role-1"}, "", org.CodeInvalidParameter},
		{"neither user nor role", EffectQuery{IPAddress: "192.0.2.1", Action: "IMAP"}, "", org.CodeInvalidParameter},
		{"unknown user", EffectQuery{IPAddress: "192.0.2.1", Action: "IMAP", UserID: "00000000-0000-4000-8000-000000000000"}, "", org.CodeEntityNotFound},
		{"short user id", EffectQuery{IPAddress: "192.0.2.1", Action: "IMAP", UserID: "bob"}, "", org.CodeInvalidParameter},
		{"bad role id", EffectQuery{IPAddress: "192.0.2.1", Action: "EWS", ImpersonationRoleID: "role 1"}, "", org.CodeInvalidParameter},
		{"no ip", EffectQuery{Action: "IMAP", UserID: e.alice.ID}, "", org.CodeInvalidParameter},
		{"ipv6", EffectQuery{IPAddress: "2001:db8::1", Action: "IMAP", UserID: e.alice.ID}, "", org.CodeInvalidParameter},
		{"leading zero", EffectQuery{IPAddress: "192.0.2.01", Action: "IMAP", UserID: e.alice.ID}, "", org.CodeInvalidParameter},
		{"cidr as ip", EffectQuery{IPAddress: "192.0.2.0/24", Action: "IMAP", UserID: e.alice.ID}, "", org.CodeInvalidParameter},
		{"no action", EffectQuery{IPAddress: "192.0.2.1", UserID: e.alice.ID}, "", org.CodeInvalidParameter},
		{"unknown action", EffectQuery{IPAddress: "192.0.2.1", Action: "POP", UserID: e.alice.ID}, "", org.CodeInvalidParameter},
		{"transport protocol", EffectQuery{IPAddress: "192.0.2.1", Action: "IncomingEmail", UserID: e.alice.ID}, "", org.CodeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := e.store.GetAccessControlEffect(acct, e.org.ID, tt.q)
			wantCode(t, err, tt.code)
			if err == nil && d.Effect != tt.effect {
				t.Errorf("effect = %s, want %s (%+v)", d.Effect, tt.effect, d)
			}
		})
	}
	_, err := e.store.GetAccessControlEffect(acct, "m-00000000000000000000000000000000", EffectQuery{IPAddress: "192.0.2.1", Action: "EWS", ImpersonationRoleID: "r"})
	wantCode(t, err, org.CodeOrganizationNotFound)
}

func TestEvaluateErrors(t *testing.T) {
	e := newEnv(t)
	_, err := e.store.Evaluate(acct, e.org.ID, Request{Action: ActionIMAP, ImpersonationRoleID: "role-1"})
	wantCode(t, err, org.CodeInvalidParameter)
	_, err = e.store.Evaluate(acct, "m-00000000000000000000000000000000", Request{})
	wantCode(t, err, org.CodeOrganizationNotFound)
	_, err = e.store.Evaluate(acct, "nope", Request{})
	wantCode(t, err, org.CodeInvalidParameter)
	_, err = e.store.Evaluate("999999999999", e.org.ID, Request{})
	wantCode(t, err, org.CodeOrganizationNotFound)
}

func TestPutRuleValidation(t *testing.T) {
	e := newEnv(t)
	many := func(n int, f func(i int) string) []string {
		var s []string
		for i := range n {
			s = append(s, f(i))
		}
		return s
	}
	ranges := func(n int) []string {
		return many(n, func(i int) string { return fmt.Sprintf("10.%d.%d.0/24", i/256, i%256) })
	}
	acts := func(n int) []Action {
		var s []Action
		for i := range n {
			s = append(s, Actions[i%len(Actions)])
		}
		return s
	}
	base := func(r Rule) Rule {
		if r.Name == "" {
			r.Name = "r1"
		}
		if r.Effect == "" {
			r.Effect = Allow
		}
		return r
	}
	tests := []struct {
		name string
		rule Rule
		code string
	}{
		{"minimal", Rule{}, ""},
		{"empty description", Rule{Description: ""}, ""},
		{"latin1 description", Rule{Description: "Café · ÿ"}, ""},
		{"description 255", Rule{Description: strings.Repeat("d", 255)}, ""},
		{"description 256", Rule{Description: strings.Repeat("d", 256)}, org.CodeInvalidParameter},
		{"description newline", Rule{Description: "a\nb"}, org.CodeInvalidParameter},
		{"description beyond latin1", Rule{Description: "snow ☃"}, org.CodeInvalidParameter},
		{"name 64", Rule{Name: strings.Repeat("n", 64)}, ""},
		{"name 65", Rule{Name: strings.Repeat("n", 65)}, org.CodeInvalidParameter},
		{"name space", Rule{Name: "my rule"}, org.CodeInvalidParameter},
		{"name dot", Rule{Name: "my.rule"}, org.CodeInvalidParameter},
		{"effect missing", Rule{Name: "r", Effect: "x"}, org.CodeInvalidParameter},
		{"effect lower", Rule{Effect: "allow"}, org.CodeInvalidParameter},
		{"1024 ranges", Rule{IpRanges: ranges(1024), NotIpRanges: ranges(1024)}, ""},
		{"1025 ranges", Rule{IpRanges: ranges(1025)}, org.CodeInvalidParameter},
		{"1025 not ranges", Rule{NotIpRanges: ranges(1025)}, org.CodeInvalidParameter},
		{"ipv6 range", Rule{IpRanges: []string{"2001:db8::/32"}}, org.CodeInvalidParameter},
		{"range without prefix", Rule{IpRanges: []string{"10.0.0.1"}}, org.CodeInvalidParameter},
		{"range /33", Rule{IpRanges: []string{"10.0.0.0/33"}}, org.CodeInvalidParameter},
		{"range leading zero", Rule{IpRanges: []string{"10.0.0.00/8"}}, org.CodeInvalidParameter},
		{"range prefix leading zero", Rule{NotIpRanges: []string{"10.0.0.0/08"}}, org.CodeInvalidParameter},
		{"10 actions", Rule{Actions: acts(10), NotActions: acts(10)}, ""},
		{"11 actions", Rule{Actions: acts(11)}, org.CodeInvalidParameter},
		{"11 not actions", Rule{NotActions: acts(11)}, org.CodeInvalidParameter},
		{"unknown action", Rule{Actions: []Action{"POP3"}}, org.CodeInvalidParameter},
		{"transport action", Rule{NotActions: []Action{"OutgoingEmail"}}, org.CodeInvalidParameter},
		{"action pattern", Rule{Actions: []Action{"IMAP4"}}, org.CodeInvalidParameter},
		{"11 user ids", Rule{UserIds: many(11, func(int) string { return e.alice.ID })}, org.CodeInvalidParameter},
		{"11 not user ids", Rule{NotUserIds: many(11, func(int) string { return e.alice.ID })}, org.CodeInvalidParameter},
		{"short user id", Rule{UserIds: []string{"alice"}}, org.CodeInvalidParameter},
		{"unknown user id", Rule{UserIds: []string{"00000000-0000-4000-8000-000000000000"}}, org.CodeEntityNotFound},
		{"unknown not user id", Rule{NotUserIds: []string{e.alice.ID, "00000000-0000-4000-8000-000000000000"}}, org.CodeEntityNotFound},
		{"known users", Rule{UserIds: []string{e.alice.ID}, NotUserIds: []string{e.bob.ID}}, ""},
		{"10 role ids", Rule{ImpersonationRoleIds: many(10, func(i int) string { return fmt.Sprint("role-", i) })}, ""},
		{"11 role ids", Rule{ImpersonationRoleIds: many(11, func(i int) string { return fmt.Sprint("role-", i) })}, org.CodeInvalidParameter},
		{"11 not role ids", Rule{NotImpersonationRoleIds: many(11, func(i int) string { return fmt.Sprint("role-", i) })}, org.CodeInvalidParameter},
		{"bad role id", Rule{ImpersonationRoleIds: []string{"role/1"}}, org.CodeInvalidParameter},
		{"long role id", Rule{NotImpersonationRoleIds: []string{strings.Repeat("r", 65)}}, org.CodeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.store.PutRule(acct, e.org.ID, base(tt.rule))
			wantCode(t, err, tt.code)
		})
	}
	_, err := e.store.PutRule(acct, "m-00000000000000000000000000000000", base(Rule{}))
	wantCode(t, err, org.CodeOrganizationNotFound)
	_, err = e.store.PutRule(acct, "m-bad", base(Rule{}))
	wantCode(t, err, org.CodeInvalidParameter)
}

func TestRuleLimit(t *testing.T) {
	e := newEnv(t)
	// The default rule counts: 9 more make 10.
	for i := range MaxRules - 1 {
		if _, err := e.store.PutRule(acct, e.org.ID, Rule{Name: fmt.Sprint("r", i), Effect: Allow}); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	_, err := e.store.PutRule(acct, e.org.ID, Rule{Name: "eleventh", Effect: Deny})
	wantCode(t, err, org.CodeLimitExceeded)
	// Replacing an existing rule at the limit is fine.
	if _, err := e.store.PutRule(acct, e.org.ID, Rule{Name: "r3", Effect: Deny}); err != nil {
		t.Fatalf("upsert at limit: %v", err)
	}
	// After a delete there is room again.
	if err := e.store.DeleteRule(acct, e.org.ID, "r0"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.PutRule(acct, e.org.ID, Rule{Name: "eleventh", Effect: Deny}); err != nil {
		t.Fatalf("put after delete: %v", err)
	}
	rules, _ := e.store.ListRules(acct, e.org.ID)
	if len(rules) != MaxRules {
		t.Errorf("%d rules, want %d", len(rules), MaxRules)
	}
}

func TestUpsertKeepsDateCreatedAndOrder(t *testing.T) {
	e := newEnv(t)
	first, err := e.store.PutRule(acct, e.org.ID, Rule{Name: "first", Effect: Allow, Description: "v1", IpRanges: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.PutRule(acct, e.org.ID, Rule{Name: "second", Effect: Allow}); err != nil {
		t.Fatal(err)
	}
	if !first.DateCreated.Equal(first.DateModified) {
		t.Errorf("new rule: created %v modified %v", first.DateCreated, first.DateModified)
	}
	again, err := e.store.PutRule(acct, e.org.ID, Rule{Name: "first", Effect: Deny, Description: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if !again.DateCreated.Equal(first.DateCreated) || !again.DateModified.After(first.DateModified) {
		t.Errorf("upsert: created %v (was %v) modified %v (was %v)", again.DateCreated, first.DateCreated, again.DateModified, first.DateModified)
	}
	rules, err := e.store.ListRules(acct, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != DefaultRuleName+",first,second" {
		t.Errorf("order = %v", names)
	}
	got := rules[1]
	if got.Effect != Deny || got.Description != "v2" || got.IpRanges != nil {
		t.Errorf("upsert did not replace every field: %+v", got)
	}
}

func TestDefaultRuleAndDeleteAll(t *testing.T) {
	e := newEnv(t)
	rules, err := e.store.ListRules(acct, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 || rules[0].Name != DefaultRuleName || rules[0].Effect != Allow || !rules[0].DateCreated.Equal(e.org.CreatedAt) {
		t.Fatalf("new org rules = %+v", rules)
	}
	d, _ := e.store.Evaluate(acct, e.org.ID, Request{IP: ip("203.0.113.5"), Action: ActionWebMail, UserID: e.alice.ID})
	if !d.Granted || d.RuleID != DefaultRuleName {
		t.Errorf("default decision = %+v", d)
	}
	// Deleting a missing rule is not an error; a malformed name is.
	wantCode(t, e.store.DeleteRule(acct, e.org.ID, "no-such-rule"), "")
	wantCode(t, e.store.DeleteRule(acct, e.org.ID, "bad name"), org.CodeInvalidParameter)
	wantCode(t, e.store.DeleteRule(acct, e.org.ID, ""), org.CodeInvalidParameter)
	wantCode(t, e.store.DeleteRule(acct, "m-00000000000000000000000000000000", "x"), org.CodeOrganizationNotFound)
	if err := e.store.DeleteRule(acct, e.org.ID, DefaultRuleName); err != nil {
		t.Fatal(err)
	}
	d, _ = e.store.Evaluate(acct, e.org.ID, Request{IP: ip("203.0.113.5"), Action: ActionWebMail, UserID: e.alice.ID})
	if d.Granted || d.RuleID != "" || d.MatchedRules != nil {
		t.Errorf("after deleting all rules = %+v, want deny without rule", d)
	}
	// The empty rule set survives a restart (it does not fall back to the default).
	st2, _ := Open(filepath.Join(e.dir, "access"), e.users, Options{})
	rules, _ = st2.ListRules(acct, e.org.ID)
	if len(rules) != 0 {
		t.Errorf("after reopen %d rules, want 0", len(rules))
	}
}

func TestPersistenceRoundTrip(t *testing.T) {
	e := newEnv(t)
	put := []Rule{
		{Name: "deny-imap-bob", Effect: Deny, Description: "no IMAP for bob", IpRanges: []string{"0.0.0.0/0"}, Actions: []Action{ActionIMAP}, UserIds: []string{e.bob.ID}},
		{Name: "office", Effect: Allow, Description: "office", IpRanges: []string{"192.0.2.0/24"}, NotIpRanges: []string{"192.0.2.128/25"}, NotActions: []Action{ActionWebMail}, NotUserIds: []string{e.alice.ID}, ImpersonationRoleIds: []string{"r1"}, NotImpersonationRoleIds: []string{"r2"}},
	}
	for _, r := range put {
		if _, err := e.store.PutRule(acct, e.org.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := e.store.ListRules(acct, e.org.ID)
	users2, _ := org.Open(filepath.Join(e.dir, "directory"), org.Options{})
	st2, err := Open(filepath.Join(e.dir, "access"), users2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	after, err := st2.ListRules(acct, e.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	if string(bj) != string(aj) {
		t.Errorf("rules changed across reopen:\n%s\n%s", bj, aj)
	}
	d, _ := st2.Evaluate(acct, e.org.ID, Request{IP: ip("127.0.0.1"), Action: ActionIMAP, UserID: e.bob.ID})
	if d.Granted || d.RuleID != "deny-imap-bob" {
		t.Errorf("decision after reopen = %+v", d)
	}
	ents, _ := os.ReadDir(filepath.Join(e.dir, "access", acct))
	if len(ents) != 1 || ents[0].Name() != e.org.ID+".json" {
		t.Errorf("access dir holds %v", ents)
	}
}

func TestCorruptRulesFile(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"syntax", `{"version":1,"rules":[{]}`, "byte offset"},
		{"version", `{"version":2,"rules":[]}`, "version 2"},
		{"bad cidr", `{"version":1,"rules":[{"Name":"x","Effect":"DENY","Description":"","IpRanges":["10.0.0.0/40"]}]}`, "rules[0] (x)"},
		{"duplicate", `{"version":1,"rules":[{"Name":"x","Effect":"DENY","Description":""},{"Name":"x","Effect":"ALLOW","Description":""}]}`, "duplicate"},
		{"unknown field", `{"version":1,"rules":[],"more":true}`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			p := filepath.Join(e.dir, "access", acct, e.org.ID+".json")
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(tc.content), 0o600)
			_, err := e.store.ListRules(acct, e.org.ID)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("err = %v, want one naming %s and %q", err, p, tc.want)
			}
		})
	}
}

func TestParseIPRange(t *testing.T) {
	tests := []struct {
		in   string
		want string // masked prefix, "" for invalid
	}{
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"255.255.255.255/32", "255.255.255.255/32"},
		{"192.0.2.0/24", "192.0.2.0/24"},
		{"1.2.3.4/9", "1.0.0.0/9"},
		{"10.0.0.0", ""},
		{"10.0.0.0/", ""},
		{"10.0.0.0/33", ""},
		{"10.0.0.0/-1", ""},
		{"10.0.0.0/+8", ""},
		{"10.0.0.0/08", ""},
		{"010.0.0.0/8", ""},
		{"256.0.0.0/8", ""},
		{"10.0.0/8", ""},
		{"10.0.0.0.0/8", ""},
		{" 10.0.0.0/8", ""},
		{"10.0.0.0/8 ", ""},
		{"::/0", ""},
		{"::ffff:10.0.0.0/104", ""},
		{"", ""},
	}
	for _, tt := range tests {
		p, err := ParseIPRange(tt.in)
		got := ""
		if err == nil {
			got = p.String()
		}
		if got != tt.want {
			t.Errorf("ParseIPRange(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRule(t *testing.T) {
	tests := []struct {
		name string
		in   string
		code string
	}{
		{"put request body", `{"OrganizationId":"m-0123456789abcdef0123456789abcdef","Name":"deny-imap","Effect":"DENY","Description":"x","Actions":["IMAP"],"IpRanges":["0.0.0.0/0"]}`, ""},
		{"syntax", `{"Name":`, org.CodeInvalidParameter},
		{"wrong type", `{"Name":"x","Effect":"DENY","Description":"","Actions":"IMAP"}`, org.CodeInvalidParameter},
		{"trailing", `{"Name":"x","Effect":"DENY","Description":""} {}`, org.CodeInvalidParameter},
		{"invalid", `{"Name":"x","Effect":"MAYBE","Description":""}`, org.CodeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRule([]byte(tt.in))
			wantCode(t, err, tt.code)
		})
	}
}

func TestProtocolMapping(t *testing.T) {
	for _, p := range Protocols {
		a, ok := ActionForProtocol(p)
		transport := p == ProtocolIncomingEmail || p == ProtocolOutgoingEmail
		if ok == transport || (ok && string(a) != p) {
			t.Errorf("ActionForProtocol(%s) = %q, %v", p, a, ok)
		}
	}
	if len(Protocols) != 9 || len(Actions) != 7 {
		t.Errorf("%d protocols, %d actions", len(Protocols), len(Actions))
	}
	if _, ok := ActionForProtocol(ProtocolPOP3); ok {
		t.Error("POP3 must have no action")
	}
	if _, ok := ActionForProtocol("imap"); ok {
		t.Error("audit protocol names are case-sensitive")
	}
	dovecot := []struct {
		name, proto string
		action      Action
		evaluated   bool
	}{
		{"imap", ProtocolIMAP, ActionIMAP, true},
		{"imap-login", ProtocolIMAP, ActionIMAP, true},
		{"pop3", ProtocolPOP3, "", true},
		{"pop3-login", ProtocolPOP3, "", true},
		{"submission", ProtocolSMTP, ActionSMTP, true},
		{"smtp", ProtocolSMTP, ActionSMTP, true},
		{"lmtp", ProtocolIncomingEmail, "", false},
	}
	for _, tc := range dovecot {
		s, err := DovecotService(tc.name)
		if err != nil || s.Protocol != tc.proto || s.Action != tc.action || s.Evaluated != tc.evaluated {
			t.Errorf("DovecotService(%s) = %+v, %v", tc.name, s, err)
		}
	}
	if _, err := DovecotService("managesieve"); err == nil {
		t.Error("unknown Dovecot service accepted")
	}
	postfix := []struct {
		program   string
		auth      bool
		proto     string
		action    Action
		evaluated bool
	}{
		{"postfix/submission/smtpd", true, ProtocolSMTP, ActionSMTP, true},
		{"postfix/smtpd", true, ProtocolSMTP, ActionSMTP, true},
		{"postfix/smtpd", false, ProtocolIncomingEmail, "", false},
		{"postfix/smtp", false, ProtocolOutgoingEmail, "", false},
		{"postfix/lmtp", false, ProtocolIncomingEmail, "", false},
		{"smtpd", true, ProtocolSMTP, ActionSMTP, true},
	}
	for _, tc := range postfix {
		s, err := PostfixService(tc.program, tc.auth)
		if err != nil || s.Protocol != tc.proto || s.Action != tc.action || s.Evaluated != tc.evaluated {
			t.Errorf("PostfixService(%s, %v) = %+v, %v", tc.program, tc.auth, s, err)
		}
	}
	if _, err := PostfixService("postfix/qmgr", false); err == nil {
		t.Error("qmgr accepted")
	}
}

// TestRecordGolden pins the audit record JSON against testdata.
func TestRecordGolden(t *testing.T) {
	e := newEnv(t)
	e.only(t, Rule{Name: "allow-all", Effect: Allow}, Rule{Name: "deny-imap-bob", Effect: Deny, Actions: []Action{ActionIMAP}, UserIds: []string{e.bob.ID}})
	ts := time.UnixMilli(1763835952191)
	var lines []string
	for _, tc := range []struct {
		user, svc, ip string
	}{
		{e.bob.ID, "imap", "127.0.0.1"},
		{e.bob.ID, "pop3", "127.0.0.1"},
		{"", "imap", "198.51.100.4"},
	} {
		svc, _ := DovecotService(tc.svc)
		d, err := e.store.Evaluate(acct, e.org.ID, Request{IP: ip(tc.ip), Action: svc.Action, UserID: tc.user})
		if err != nil {
			t.Fatal(err)
		}
		rec := d.Record(RecordContext{Time: ts, RequestID: "req-1", OrganizationARN: "arn:aws:workmail:us-east-1:111122223333:organization/m-0123456789abcdef0123456789abcdef",
			UserID: map[string]string{e.bob.ID: "bob-user-id-0001"}[tc.user], Protocol: svc.Protocol, SourceIP: tc.ip})
		b, _ := json.Marshal(rec)
		lines = append(lines, string(b))
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "records.golden.jsonl")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("records differ from %s:\n%s", golden, got)
	}
	// A deny with no matching rule has no rule_id at all.
	e.only(t)
	d, _ := e.store.Evaluate(acct, e.org.ID, Request{IP: ip("127.0.0.1"), Action: ActionIMAP})
	b, _ := json.Marshal(d.Record(RecordContext{Time: ts, Protocol: ProtocolIMAP}))
	if strings.Contains(string(b), "rule_id") || !strings.Contains(string(b), `"access_granted":false`) || !strings.Contains(string(b), `"scope":"AccessControl"`) {
		t.Errorf("no-match record = %s", b)
	}
}

func TestConcurrentEvaluateAndPut(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := e.store.Evaluate(acct, e.org.ID, Request{IP: ip("10.0.0.1"), Action: ActionIMAP, UserID: e.alice.ID})
				if err != nil || d.Scope != ScopeAccessControl {
					t.Error(d, err)
					return
				}
			}
		}()
	}
	for i := range 30 {
		eff := Allow
		if i%2 == 0 {
			eff = Deny
		}
		if _, err := e.store.PutRule(acct, e.org.ID, Rule{Name: fmt.Sprint("r", i%5), Effect: eff, IpRanges: []string{"10.0.0.0/8"}}); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}

func FuzzParseIPRange(f *testing.F) {
	for _, s := range []string{"0.0.0.0/0", "10.1.2.3/8", "255.255.255.255/32", "1.2.3.4/08", "01.2.3.4/8", "1.2.3.4", "::/0", "1.2.3.4/33"} {
		f.Add(s)
	}
	re := reCIDR()
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseIPRange(s)
		if (err == nil) != re.MatchString(s) {
			t.Fatalf("ParseIPRange(%q) err=%v disagrees with the API pattern", s, err)
		}
		if err == nil {
			if !p.IsValid() || !p.Addr().Is4() || p != p.Masked() {
				t.Fatalf("ParseIPRange(%q) = %v, not a masked IPv4 prefix", s, p)
			}
			if q, err := netip.ParsePrefix(s); err != nil || q.Masked() != p {
				t.Fatalf("ParseIPRange(%q) = %v, netip says %v %v", s, p, q, err)
			}
		}
		a, err := ParseIPv4(s)
		if err == nil {
			if b, err := netip.ParseAddr(s); err != nil || a != b {
				t.Fatalf("ParseIPv4(%q) = %v, netip says %v %v", s, a, b, err)
			}
		}
	})
}

func FuzzParseRule(f *testing.F) {
	f.Add([]byte(`{"Name":"deny-imap","Effect":"DENY","Description":"x","Actions":["IMAP"],"IpRanges":["0.0.0.0/0"],"UserIds":["aaaaaaaa-0000-4000-8000-000000000001"]}`))
	f.Add([]byte(`{"Name":"a","Effect":"ALLOW","Description":"","NotIpRanges":["10.0.0.0/8"],"NotActions":["ews"],"NotImpersonationRoleIds":["r"]}`))
	f.Add([]byte(`{"version":1,"rules":[{"Name":"x","Effect":"DENY","Description":""}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := ParseRule(data); err == nil {
			c := compile(&r)
			for _, a := range append(Actions, "") {
				evaluate([]compiled{c}, Request{IP: netip.MustParseAddr("10.0.0.1"), Action: a, UserID: "aaaaaaaa-0000-4000-8000-000000000001", ImpersonationRoleID: "r"})
			}
		} else if org.Code(err) != org.CodeInvalidParameter {
			t.Fatalf("ParseRule error %v is not an InvalidParameterException", err)
		}
		if rules, err := decodeFile(data); err == nil {
			rs := &ruleSet{rules: rules}
			rs.recompile()
			evaluate(rs.compiled, Request{})
		}
	})
}

func reCIDR() *regexp.Regexp { return regexp.MustCompile(cidrPattern) }

func TestAPIShapes(t *testing.T) {
	ts := time.Date(2026, 11, 22, 18, 25, 52, 0, time.UTC)
	r := Rule{Name: "deny-imap-bob", Effect: Deny, Description: "d", IpRanges: []string{"0.0.0.0/0"}, Actions: []Action{ActionIMAP},
		UserIds: []string{"a3a9176d-1111-4222-8333-444455556666"}, DateCreated: ts, DateModified: ts.Add(time.Second)}
	b, _ := json.Marshal(r.API())
	want := `{"Name":"deny-imap-bob","Effect":"DENY","Description":"d","IpRanges":["0.0.0.0/0"],"Actions":["IMAP"],"UserIds":["a3a9176d-1111-4222-8333-444455556666"],"DateCreated":1795371952,"DateModified":1795371953}`
	if string(b) != want {
		t.Errorf("rule API JSON:\n got %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(Decision{Effect: Deny}.API())
	if string(b) != `{"Effect":"DENY","MatchedRules":[]}` {
		t.Errorf("effect API JSON = %s", b)
	}
}
