package postfix

import (
	"fmt"
	"net"
	"strings"
)

// SnippetOptions choose what MainCF prints.
type SnippetOptions struct {
	// PolicyAddr is where the policy server listens (host:port).
	PolicyAddr string
	// FailOpen makes Postfix accept mail when mailtrail is unreachable
	// (default_action=DUNNO); the default fails closed with a temporary
	// error (DEFER_IF_PERMIT), so nothing is sent unaudited.
	FailOpen bool
	// Timeout is the per-request timeout Postfix waits for an answer
	// (default "10s").
	Timeout string
}

// MainCF returns the main.cf lines that make Postfix ask the policy server
// (for `mailtrail config postfix`).
func MainCF(o SnippetOptions) (string, error) {
	if _, _, err := net.SplitHostPort(o.PolicyAddr); err != nil {
		return "", fmt.Errorf("policy address %q: %w", o.PolicyAddr, err)
	}
	if o.Timeout == "" {
		o.Timeout = "10s"
	}
	def := "DEFER_IF_PERMIT"
	if o.FailOpen {
		def = "DUNNO"
	}
	svc := fmt.Sprintf("check_policy_service { inet:%s, timeout=%s, default_action=%s }", o.PolicyAddr, o.Timeout, def)
	var b strings.Builder
	fmt.Fprintf(&b, "# mailtrail: WorkMail access control rules for SMTP submission (policy delegation)\n")
	// Relay protection stays in smtpd_relay_restrictions (Postfix >= 2.10):
	// a reject_unauth_destination here would refuse authenticated
	// submission to remote domains, and a permit_* ahead of the check would
	// end the evaluation before the rules are asked.
	b.WriteString("# relay protection stays in smtpd_relay_restrictions (default: permit_mynetworks,\n")
	b.WriteString("# permit_sasl_authenticated, defer_unauth_destination). With restrictions of your own here,\n")
	b.WriteString("# put the check before any permit_* that matches authenticated clients.\n")
	fmt.Fprintf(&b, "smtpd_recipient_restrictions =\n    %s\n", svc)
	fmt.Fprintf(&b, "smtpd_end_of_data_restrictions =\n    %s\n", svc)
	fmt.Fprintf(&b, "smtpd_policy_service_max_idle = 300s\nsmtpd_policy_service_max_ttl = 1000s\n")
	fmt.Fprintf(&b, "smtpd_policy_service_timeout = %s\nsmtpd_policy_service_default_action = %s\n", o.Timeout, def)
	if o.FailOpen {
		b.WriteString("# fail open: while mailtrail is down, mail flows and rules are not enforced\n")
	} else {
		b.WriteString("# fail closed: while mailtrail is down, clients get 450 4.7.1 Service unavailable and retry\n")
	}
	b.WriteString("# master.cf: a submission service that overrides smtpd_recipient_restrictions with -o\n")
	b.WriteString("# needs the same check_policy_service entry there.\n")
	return b.String(), nil
}
