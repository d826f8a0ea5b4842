package access

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/event"
)

// Audit-log protocol names (the `protocol` field of WorkMail audit
// records). The names are event's; they are repeated here as plain strings
// because Service and RecordContext carry them as such.
const (
	ProtocolAutoDiscover   = string(event.ProtocolAutoDiscover)
	ProtocolEWS            = string(event.ProtocolEWS)
	ProtocolIMAP           = string(event.ProtocolIMAP)
	ProtocolWindowsOutlook = string(event.ProtocolWindowsOutlook)
	ProtocolActiveSync     = string(event.ProtocolActiveSync)
	ProtocolSMTP           = string(event.ProtocolSMTP)
	ProtocolWebMail        = string(event.ProtocolWebMail)
	ProtocolIncomingEmail  = string(event.ProtocolIncomingEmail)
	ProtocolOutgoingEmail  = string(event.ProtocolOutgoingEmail)
	// ProtocolPOP3 is a mailtrail extension: WorkMail has no POP3, Dovecot
	// does. See the package documentation.
	ProtocolPOP3 = "POP3"
)

// Protocols lists the 9 WorkMail audit-log protocol names.
var Protocols = []string{
	ProtocolAutoDiscover, ProtocolEWS, ProtocolIMAP, ProtocolWindowsOutlook, ProtocolActiveSync,
	ProtocolSMTP, ProtocolWebMail, ProtocolIncomingEmail, ProtocolOutgoingEmail,
}

// ActionForProtocol maps an audit-log protocol name to the rule action that
// governs it. IncomingEmail, OutgoingEmail and POP3 have none (ok false).
func ActionForProtocol(protocol string) (Action, bool) {
	switch protocol {
	case ProtocolIncomingEmail, ProtocolOutgoingEmail, ProtocolPOP3:
		return "", false
	}
	a := Action(protocol)
	return a, actionBit(a) != 0
}

// Service is how one mail-server service relates to WorkMail: the protocol
// its audit records carry, the rule action that governs it, and whether
// access control rules are evaluated for it at all.
type Service struct {
	Protocol  string
	Action    Action // "" when no rule action names it
	Evaluated bool   // false for transport (delivery, relay)
}

// DovecotService maps a Dovecot service name, as found in auth policy
// requests (`protocol`), event fields (`service`) and log prefixes
// (imap-login, pop3-login, lmtp), to a Service. "smtp" is what Dovecot auth
// reports for Postfix SASL logins.
func DovecotService(name string) (Service, error) {
	switch strings.ToLower(name) {
	case "imap", "imap-login", "imap-urlauth":
		return Service{Protocol: ProtocolIMAP, Action: ActionIMAP, Evaluated: true}, nil
	case "pop3", "pop3-login":
		return Service{Protocol: ProtocolPOP3, Evaluated: true}, nil
	case "submission", "submission-login", "smtp":
		return Service{Protocol: ProtocolSMTP, Action: ActionSMTP, Evaluated: true}, nil
	case "lmtp":
		return Service{Protocol: ProtocolIncomingEmail}, nil
	}
	return Service{}, fmt.Errorf("access: unknown Dovecot service %q (want imap, pop3, submission, smtp or lmtp)", name)
}

// PostfixService maps a Postfix program name as logged (the syslog_name is
// configurable, so "postfix/submission/smtpd" and "smtpd" are the same
// program: the last path element counts) to a Service. An smtpd session is
// SMTP submission when the client authenticated (sasl_username set), else
// inbound mail.
func PostfixService(program string, authenticated bool) (Service, error) {
	p := program
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	switch p {
	case "smtpd":
		if authenticated {
			return Service{Protocol: ProtocolSMTP, Action: ActionSMTP, Evaluated: true}, nil
		}
		return Service{Protocol: ProtocolIncomingEmail}, nil
	case "smtp":
		return Service{Protocol: ProtocolOutgoingEmail}, nil
	case "lmtp", "local", "virtual", "pipe":
		return Service{Protocol: ProtocolIncomingEmail}, nil
	}
	return Service{}, fmt.Errorf("access: Postfix program %q has no WorkMail protocol (want smtpd, smtp, lmtp, local, virtual or pipe)", program)
}

// RecordContext is what a decision point knows about an attempt besides the
// decision.
type RecordContext struct {
	Time            time.Time
	RequestID       string
	OrganizationARN string
	UserID          string
	ImpersonatorID  string
	Protocol        string
	SourceIP        string
}

// Record builds the audit record of a decision, in the form the mail
// servers store it (event.Append): rule_id is omitted when no rule matched
// and impersonator_id without impersonation; user_id is required by the
// schema and so written as "" when the login is not a WorkMail user.
func (d Decision) Record(c RecordContext) event.AccessControl {
	scope := d.Scope
	if scope == "" {
		scope = ScopeAccessControl
	}
	return event.AccessControl{
		EventTimestamp:  c.Time.UnixMilli(),
		RequestID:       c.RequestID,
		OrganizationARN: c.OrganizationARN,
		UserID:          c.UserID,
		ImpersonatorID:  c.ImpersonatorID,
		Protocol:        event.Protocol(c.Protocol),
		SourceIP:        c.SourceIP,
		Scope:           event.Scope(scope),
		RuleID:          d.RuleID,
		AccessGranted:   d.Granted,
	}
}
