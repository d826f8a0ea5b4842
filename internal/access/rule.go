package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/org"
)

// Effect is a rule's or a decision's effect.
type Effect string

const (
	Allow Effect = "ALLOW"
	Deny  Effect = "DENY"
)

// Action is an access protocol action a rule can name.
type Action string

// The 7 rule actions (event's RuleAction names).
const (
	ActionActiveSync     = Action(event.RuleActionActiveSync)
	ActionAutoDiscover   = Action(event.RuleActionAutoDiscover)
	ActionEWS            = Action(event.RuleActionEWS)
	ActionIMAP           = Action(event.RuleActionIMAP)
	ActionSMTP           = Action(event.RuleActionSMTP)
	ActionWindowsOutlook = Action(event.RuleActionWindowsOutlook)
	ActionWebMail        = Action(event.RuleActionWebMail)
)

// Actions lists the rule actions in the API's documented order.
var Actions = []Action{ActionActiveSync, ActionAutoDiscover, ActionEWS, ActionIMAP, ActionSMTP, ActionWindowsOutlook, ActionWebMail}

// actionBit gives each action one bit so rule action sets are bitmasks; an
// action outside the 7 (POP3, or none) has bit 0 and is in no set.
func actionBit(a Action) uint8 {
	for i, x := range Actions {
		if x == a {
			return 1 << i
		}
	}
	return 0
}

// ParseAction maps a case-insensitive action name to its canonical Action.
func ParseAction(s string) (Action, bool) {
	for _, a := range Actions {
		if strings.EqualFold(string(a), s) {
			return a, true
		}
	}
	return "", false
}

// DefaultRuleName is the name of the allow-all rule a new organization
// starts with.
const DefaultRuleName = "default-allow-all"

// DefaultRuleDescription is its description.
const DefaultRuleDescription = "Default rule: allow all access (created with the organization)"

// Limits from the WorkMail API model.
const (
	MaxRules       = 10   // rules per organization
	MaxIPRanges    = 1024 // per IpRanges / NotIpRanges
	MaxListMembers = 10   // per Actions, UserIds, ImpersonationRoleIds and their Not lists
)

// Rule is one access control rule, in the API's AccessControlRule shape
// (the JSON member names are the API's).
type Rule struct {
	Name                    string    `json:"Name"`
	Effect                  Effect    `json:"Effect"`
	Description             string    `json:"Description"`
	IpRanges                []string  `json:"IpRanges,omitempty"`
	NotIpRanges             []string  `json:"NotIpRanges,omitempty"`
	Actions                 []Action  `json:"Actions,omitempty"`
	NotActions              []Action  `json:"NotActions,omitempty"`
	UserIds                 []string  `json:"UserIds,omitempty"`
	NotUserIds              []string  `json:"NotUserIds,omitempty"`
	ImpersonationRoleIds    []string  `json:"ImpersonationRoleIds,omitempty"`
	NotImpersonationRoleIds []string  `json:"NotImpersonationRoleIds,omitempty"`
	DateCreated             time.Time `json:"DateCreated,omitzero"`
	DateModified            time.Time `json:"DateModified,omitzero"`
}

func (r Rule) clone() Rule {
	c := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return append([]string(nil), s...)
	}
	ca := func(s []Action) []Action {
		if len(s) == 0 {
			return nil
		}
		return append([]Action(nil), s...)
	}
	r.IpRanges, r.NotIpRanges = c(r.IpRanges), c(r.NotIpRanges)
	r.Actions, r.NotActions = ca(r.Actions), ca(r.NotActions)
	r.UserIds, r.NotUserIds = c(r.UserIds), c(r.NotUserIds)
	r.ImpersonationRoleIds, r.NotImpersonationRoleIds = c(r.ImpersonationRoleIds), c(r.NotImpersonationRoleIds)
	return r
}

// Name-like patterns of the API are checked by hand (org.ValidName and
// below): they run on every GetAccessControlEffect.

// validActionName reports whether s matches [a-zA-Z]+, 1-64 bytes.
func validActionName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

const ipv4Pattern = `^(([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\.){3}([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$`
const cidrPattern = `^(([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\.){3}([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])/([0-9]|[12][0-9]|3[0-2])$`

// parseOctets parses a strict dotted quad (the API's IpAddress pattern: no
// leading zeros, no signs, no spaces) without a regexp, for the hot path.
func parseOctets(s string) (netip.Addr, bool) {
	var b [4]byte
	for i := range 4 {
		if i > 0 {
			if len(s) == 0 || s[0] != '.' {
				return netip.Addr{}, false
			}
			s = s[1:]
		}
		n, v := 0, 0
		for n < len(s) && n < 4 && s[n] >= '0' && s[n] <= '9' {
			v = v*10 + int(s[n]-'0')
			n++
		}
		if n == 0 || n > 3 || v > 255 || (n > 1 && s[0] == '0') {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
		s = s[n:]
	}
	if s != "" {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// ParseIPv4 parses an IpAddress in the API's strict form.
func ParseIPv4(s string) (netip.Addr, error) {
	a, ok := parseOctets(s)
	if !ok {
		return netip.Addr{}, fmt.Errorf("%q is not a dotted-quad IPv4 address matching %s", s, ipv4Pattern)
	}
	return a, nil
}

// ParseIPRange parses an IpRange (IPv4 CIDR) in the API's strict form and
// returns it masked to its network.
func ParseIPRange(s string) (netip.Prefix, error) {
	bad := fmt.Errorf("%q is not an IPv4 CIDR matching %s", s, cidrPattern)
	if len(s) > 18 {
		return netip.Prefix{}, bad
	}
	addr, bits, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, bad
	}
	a, ok := parseOctets(addr)
	if !ok || bits == "" || len(bits) > 2 || (len(bits) == 2 && bits[0] == '0') {
		return netip.Prefix{}, bad
	}
	n, err := strconv.Atoi(bits)
	if err != nil || n < 0 || n > 32 || bits[0] == '+' || bits[0] == '-' {
		return netip.Prefix{}, bad
	}
	return netip.PrefixFrom(a, n).Masked(), nil
}

func validation(value any, member, constraint string) error {
	return org.Validation(value, member, constraint)
}

func checkListLen(n int, member string, max int) error {
	if n > max {
		return validation(n, member, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	return nil
}

// normalize validates r as PutAccessControlRule input and canonicalizes it
// (action case, empty lists to nil). It does not check that user ids exist.
func (r *Rule) normalize() error {
	*r = r.clone() // empty lists to nil, and no aliasing of the caller's slices
	if r.Name == "" {
		return org.Errorf(org.CodeInvalidParameter, "Name is required")
	}
	if utf8.RuneCountInString(r.Name) > 64 {
		return validation(r.Name, "name", "Member must have length less than or equal to 64")
	}
	if !org.ValidName(r.Name, 64) {
		return validation(r.Name, "name", "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+")
	}
	switch r.Effect {
	case Allow, Deny:
	case "":
		return org.Errorf(org.CodeInvalidParameter, "Effect is required")
	default:
		return validation(r.Effect, "effect", "Member must satisfy enum value set: [ALLOW, DENY]")
	}
	if utf8.RuneCountInString(r.Description) > 255 {
		return validation(r.Description, "description", "Member must have length less than or equal to 255")
	}
	if err := org.CheckLatin1(r.Description, "description"); err != nil {
		return err
	}
	for _, l := range []struct {
		list   []string
		member string
	}{{r.IpRanges, "ipRanges"}, {r.NotIpRanges, "notIpRanges"}} {
		if err := checkListLen(len(l.list), l.member, MaxIPRanges); err != nil {
			return err
		}
		for i, s := range l.list {
			if _, err := ParseIPRange(s); err != nil {
				return validation(s, l.member+"."+strconv.Itoa(i+1)+".member", "Member must satisfy regular expression pattern: "+cidrPattern)
			}
		}
	}
	for _, l := range []struct {
		list   []Action
		member string
	}{{r.Actions, "actions"}, {r.NotActions, "notActions"}} {
		if err := checkListLen(len(l.list), l.member, MaxListMembers); err != nil {
			return err
		}
		for i, a := range l.list {
			member := l.member + "." + strconv.Itoa(i+1) + ".member"
			if !validActionName(string(a)) {
				return validation(a, member, "Member must satisfy regular expression pattern: [a-zA-Z]+")
			}
			c, ok := ParseAction(string(a))
			if !ok {
				return org.Errorf(org.CodeInvalidParameter, "Invalid action %q at '%s': valid actions are ActiveSync, AutoDiscover, EWS, IMAP, SMTP, WindowsOutlook, WebMail", a, member)
			}
			l.list[i] = c
		}
	}
	for _, l := range []struct {
		list   []string
		member string
	}{{r.UserIds, "userIds"}, {r.NotUserIds, "notUserIds"}} {
		if err := checkListLen(len(l.list), l.member, MaxListMembers); err != nil {
			return err
		}
		for i, id := range l.list {
			if n := utf8.RuneCountInString(id); n < 12 || n > 256 {
				return validation(id, l.member+"."+strconv.Itoa(i+1)+".member", "Member must have length between 12 and 256")
			}
		}
	}
	for _, l := range []struct {
		list   []string
		member string
	}{{r.ImpersonationRoleIds, "impersonationRoleIds"}, {r.NotImpersonationRoleIds, "notImpersonationRoleIds"}} {
		if err := checkListLen(len(l.list), l.member, MaxListMembers); err != nil {
			return err
		}
		for i, id := range l.list {
			if !org.ValidName(id, 64) {
				return validation(id, l.member+"."+strconv.Itoa(i+1)+".member", "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+")
			}
		}
	}
	return nil
}

// ParseRule decodes one rule in the AccessControlRule JSON shape (also the
// shape of PutAccessControlRule's body; OrganizationId and other unknown
// members are ignored) and validates it. Errors are *org.Error with code
// InvalidParameterException.
func ParseRule(data []byte) (Rule, error) {
	var r Rule
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return Rule{}, org.Errorf(org.CodeInvalidParameter, "invalid rule JSON: %s", describeJSONError(err, len(data)))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Rule{}, org.Errorf(org.CodeInvalidParameter, "invalid rule JSON: trailing data after the object at byte offset %d", dec.InputOffset())
	}
	if err := r.normalize(); err != nil {
		return Rule{}, err
	}
	return r, nil
}

func describeJSONError(err error, n int) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte offset %d: %v", se.Offset, err)
	case errors.As(err, &te):
		return fmt.Sprintf("member %s has the wrong type (%s) at byte offset %d", te.Field, te.Value, te.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Sprintf("truncated at byte offset %d", n)
	}
	return err.Error()
}
