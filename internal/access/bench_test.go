package access

import (
	"fmt"
	"testing"
)

// benchEnv has 10 rules of the usual kinds: office ranges, protocol blocks,
// per-user denies, an impersonation rule and a catch-all allow, so a request
// walks every rule.
func benchEnv(b *testing.B) *env {
	e := newEnv(b)
	var office []string
	for i := range 16 {
		office = append(office, fmt.Sprintf("10.%d.0.0/16", i))
	}
	e.only(b,
		Rule{Name: "deny-outside-webmail", Effect: Deny, NotIpRanges: office, Actions: []Action{ActionWebMail}},
		Rule{Name: "deny-imap-bob", Effect: Deny, IpRanges: []string{"0.0.0.0/0"}, Actions: []Action{ActionIMAP}, UserIds: []string{e.bob.ID}},
		Rule{Name: "deny-smtp-range", Effect: Deny, IpRanges: []string{"203.0.113.0/24", "198.51.100.0/24"}, Actions: []Action{ActionSMTP}},
		Rule{Name: "deny-ews-role", Effect: Deny, Actions: []Action{ActionEWS}, ImpersonationRoleIds: []string{"role-1", "role-2"}},
		Rule{Name: "deny-activesync", Effect: Deny, Actions: []Action{ActionActiveSync}, NotUserIds: []string{e.alice.ID}},
		Rule{Name: "allow-office", Effect: Allow, IpRanges: office},
		Rule{Name: "allow-alice", Effect: Allow, UserIds: []string{e.alice.ID}},
		Rule{Name: "allow-not-outlook", Effect: Allow, NotActions: []Action{ActionWindowsOutlook}},
		Rule{Name: "allow-autodiscover", Effect: Allow, Actions: []Action{ActionAutoDiscover}},
		Rule{Name: "allow-all", Effect: Allow},
	)
	return e
}

func BenchmarkGetAccessControlEffect10Rules(b *testing.B) {
	e := benchEnv(b)
	q := EffectQuery{IPAddress: "192.0.2.44", Action: "IMAP", UserID: e.alice.ID}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d, err := e.store.GetAccessControlEffect(acct, e.org.ID, q)
		if err != nil || !d.Granted {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkEvaluate10Rules(b *testing.B) {
	e := benchEnv(b)
	req := Request{IP: ParseSourceIP("192.0.2.44"), Action: ActionIMAP, UserID: e.alice.ID}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d, err := e.store.Evaluate(acct, e.org.ID, req)
		if err != nil || !d.Granted {
			b.Fatal(d, err)
		}
	}
}
