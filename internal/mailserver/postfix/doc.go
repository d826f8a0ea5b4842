// Package postfix makes mailtrail the access-control decision point of
// Postfix: a TCP server for Postfix's policy delegation protocol
// (check_policy_service) that enforces an organization's WorkMail access
// control rules on authenticated SMTP submission and writes an
// ACCESS_CONTROL_LOGS record for every evaluation.
//
// # Protocol
//
// Postfix connects over TCP and sends requests of name=value lines ended by
// an empty line; the server answers "action=..." and an empty line. One
// connection carries many requests (Postfix keeps it for
// smtpd_policy_service_reuse_count_limit / max_idle / max_ttl). Lines may
// end in LF or CRLF.
//
// # What is decided
//
//   - Requests with sasl_username set (authenticated submission) are
//     evaluated against the rules of the user's organization
//     (org.Directory.FindLogin), action SMTP, the request's client_address
//     and the user's WorkMail id. ALLOW answers DUNNO (Postfix goes on with
//     its other restrictions); DENY answers Config.DenyAction, by default
//     "550 5.7.1 Sending denied by your organization's access policy". The
//     text reaches the client, so it never names the rule. An explicit 550
//     is used because "REJECT text" makes Postfix reply 554
//     (access_map_reject_code).
//   - Requests without sasl_username are inbound MX traffic (IncomingEmail,
//     which no rule action names) and are answered DUNNO without a record.
//   - A sasl_username that is no organization's user (a system account
//     known only to Dovecot) is answered DUNNO with an info log: there is no
//     organization whose rules or log groups apply.
//
// # One record per mail transaction
//
// Postfix asks once per RCPT TO and once at END-OF-MESSAGE. WorkMail
// evaluates its rules once per access, so mailtrail evaluates once per mail
// transaction: the first request of a transaction (keyed by Postfix's
// instance attribute, which is the same for every stage of one
// transaction, plus the sasl_username) is evaluated and recorded, and the
// decision is replayed for its later RCPT and END-OF-MESSAGE requests
// (remembered for Config.DecisionTTL, at most Config.MaxDecisions
// transactions). The record's request_id is derived from that key, so it is
// stable. A second message in the same SMTP session is a new transaction
// and gets its own record.
//
// The record is stored (mailserver.Sink.Write returns after fsync) before the
// answer is sent. When the rules cannot be evaluated or the record cannot be
// stored, the answer is Config.TempFailAction ("451 4.3.0 ..."): the client
// retries later, nothing is sent without an audit record, and the failure is
// not remembered.
//
// # Robustness
//
// A connection idle for Config.IdleTimeout is closed (Postfix reconnects).
// A request must arrive completely within Config.RequestTimeout of its first
// byte. A request over Config.MaxRequestBytes, a line over
// Config.MaxLineBytes, a truncated request or a timeout closes the
// connection with a warning log: Postfix then logs "problem talking to
// server" and applies default_policy for that one request. Lines without
// '=' are skipped with a warning and the request is still answered. An
// unknown request type is answered DUNNO. Close stops accepting, closes
// idle connections at once and lets requests being answered finish.
//
// # Postfix configuration
//
// With the policy server on 127.0.0.1:PORT (mailtrail config postfix prints
// this with the port it listens on):
//
//	# main.cf
//	# relay protection stays in smtpd_relay_restrictions (Postfix >= 2.10)
//	smtpd_recipient_restrictions =
//	    check_policy_service { inet:127.0.0.1:PORT, timeout=10s, default_action=DEFER_IF_PERMIT }
//	smtpd_end_of_data_restrictions =
//	    check_policy_service { inet:127.0.0.1:PORT, timeout=10s, default_action=DEFER_IF_PERMIT }
//	smtpd_policy_service_max_idle = 300s
//	smtpd_policy_service_max_ttl = 1000s
//	smtpd_policy_service_timeout = 10s
//	smtpd_policy_service_default_action = DEFER_IF_PERMIT
//	# master.cf: the server is reached by TCP, not spawned, so policy_time_limit
//	# (for spawn(8)-run policy daemons) does not apply.
//
// Do not put reject_unauth_destination in smtpd_recipient_restrictions: it
// refuses authenticated submission to remote domains ("Relay access
// denied", seen against the real Postfix 3.7); and a permit_* that matches
// authenticated clients ahead of the check ends the evaluation before the
// rules are asked. The per-service form { inet:..., timeout=, default_action= } needs
// Postfix 3.0 or later; older versions take the plain
// "check_policy_service inet:127.0.0.1:PORT" and the smtpd_policy_service_*
// parameters. The submission service (master.cf, port 587) needs the
// restriction too when it overrides smtpd_recipient_restrictions with -o.
//
// When mailtrail is down: with default_action=DEFER_IF_PERMIT (the
// documented choice, fail closed) Postfix answers "450 4.7.1 <rcpt>:
// Recipient address rejected: Service unavailable" (seen against the real
// Postfix 3.7) and the client retries, so no submission goes out unaudited
// and inbound mail is only delayed. Sites that prefer to keep mail
// flowing set default_action=DUNNO (fail open): rules are then not enforced
// and no access record is written until mailtrail is back.
package postfix
