package access

import (
	"net/netip"

	"github.com/mailtrail/mailtrail/internal/event"
)

// Scopes of access-control audit records (event's names, as plain strings).
const (
	ScopeAccessControl              = string(event.ScopeAccessControl)
	ScopeDeviceAccessControl        = string(event.ScopeDeviceAccessControl)
	ScopeImpersonationAccessControl = string(event.ScopeImpersonationAccessControl)
)

// Request is one access attempt to evaluate.
type Request struct {
	// IP is the client address. An invalid (zero) Addr or an IPv6 address is
	// in no IPv4 range; IPv4-mapped IPv6 counts as IPv4.
	IP netip.Addr
	// Action is the rule action of the protocol used, or "" for a protocol
	// rules cannot name (POP3).
	Action Action
	// UserID is the WorkMail user id, "" when unknown.
	UserID string
	// ImpersonationRoleID is set for impersonated (EWS) access.
	ImpersonationRoleID string
}

// Decision is the outcome of evaluating a rule set: everything an
// access-control audit record needs besides who, where and when.
type Decision struct {
	Effect  Effect
	Granted bool // Effect == Allow; the record's access_granted
	// RuleID is the deciding rule's name (the record's rule_id), "" when no
	// rule matched.
	RuleID string
	// MatchedRules are the matching rules whose effect is Effect, in rule
	// order (GetAccessControlEffect's MatchedRules).
	MatchedRules []string
	// AllMatched are all matching rules, in rule order.
	AllMatched []string
	// Scope is always ScopeAccessControl for access control rules.
	Scope string
}

// compiled is a rule prepared for evaluation.
type compiled struct {
	name                string
	deny                bool
	ip, notIP           []netip.Prefix
	actions, notActions uint8
	users, notUsers     []string
	roles, notRoles     []string
}

func compile(r *Rule) compiled {
	c := compiled{
		name:     r.Name,
		deny:     r.Effect == Deny,
		users:    r.UserIds,
		notUsers: r.NotUserIds,
		roles:    r.ImpersonationRoleIds,
		notRoles: r.NotImpersonationRoleIds,
	}
	for _, s := range r.IpRanges {
		if p, err := ParseIPRange(s); err == nil { // validated on the way in
			c.ip = append(c.ip, p)
		}
	}
	for _, s := range r.NotIpRanges {
		if p, err := ParseIPRange(s); err == nil {
			c.notIP = append(c.notIP, p)
		}
	}
	for _, a := range r.Actions {
		c.actions |= actionBit(a)
	}
	for _, a := range r.NotActions {
		c.notActions |= actionBit(a)
	}
	return c
}

func inPrefixes(ps []netip.Prefix, ip netip.Addr) bool {
	if !ip.Is4() {
		return false
	}
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func inList(list []string, v string) bool {
	if v == "" {
		return false
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// matches reports whether every condition of the rule holds. An empty list
// (or empty action mask) is no condition.
func (c *compiled) matches(ip netip.Addr, bit uint8, user, role string) bool {
	if c.ip != nil && !inPrefixes(c.ip, ip) {
		return false
	}
	if c.notIP != nil && inPrefixes(c.notIP, ip) {
		return false
	}
	if c.actions != 0 && c.actions&bit == 0 {
		return false
	}
	if c.notActions != 0 && c.notActions&bit != 0 {
		return false
	}
	if c.users != nil && !inList(c.users, user) {
		return false
	}
	if c.notUsers != nil && inList(c.notUsers, user) {
		return false
	}
	if c.roles != nil && !inList(c.roles, role) {
		return false
	}
	if c.notRoles != nil && inList(c.notRoles, role) {
		return false
	}
	return true
}

// evaluate applies the precedence: any matching DENY denies, else any
// matching ALLOW allows, else deny with no rule.
func evaluate(rules []compiled, req Request) Decision {
	ip := req.IP.Unmap()
	bit := actionBit(req.Action)
	// Mark matches first and allocate the name slices once: a store holds at
	// most MaxRules rules, but anything up to len(rules) is handled.
	var small [MaxRules]bool
	hit := small[:0]
	if len(rules) > len(small) {
		hit = make([]bool, 0, len(rules))
	}
	nAll, nDeny := 0, 0
	for i := range rules {
		m := rules[i].matches(ip, bit, req.UserID, req.ImpersonationRoleID)
		hit = append(hit, m)
		if m {
			nAll++
			if rules[i].deny {
				nDeny++
			}
		}
	}
	d := Decision{Effect: Deny, Scope: ScopeAccessControl}
	if nAll == 0 {
		return d
	}
	deny := nDeny > 0
	nMatched := nAll - nDeny
	if deny {
		nMatched = nDeny
		d.Effect = Deny
	} else {
		d.Effect, d.Granted = Allow, true
	}
	buf := make([]string, 0, nAll+nMatched)
	for i := range rules {
		if hit[i] {
			buf = append(buf, rules[i].name)
		}
	}
	for i := range rules {
		if hit[i] && rules[i].deny == deny {
			buf = append(buf, rules[i].name)
		}
	}
	d.AllMatched = buf[:nAll:nAll]
	d.MatchedRules = buf[nAll:]
	d.RuleID = d.MatchedRules[0]
	return d
}
