// Package dovecot makes mailtrail Dovecot's access-control decision point
// and audit collector. NewHandler returns one http.Handler with two routes:
//
//	POST /dovecot/policy?command=allow|report   Dovecot's auth policy protocol
//	POST /dovecot/events                         Dovecot's event exporter (http-post, JSON)
//
// and Handler.IngestLog / Handler.NewLogFeeder read Dovecot's log for sites
// without the exporter and to catch up on what the exporter lost.
// ConfigSnippet prints the Dovecot settings that point at them (what
// `mailtrail config dovecot` shows).
//
// # Auth policy (auth_policy_server_url)
//
// allow: the login is resolved to a WorkMail organization and user
// (org.Directory.FindLogin; else the organization of its mail domain, with
// no user), the organization's access control rules are evaluated for that
// user, the client address (`remote`) and the protocol's rule action
// (access.DovecotService: imap → IMAP, smtp/submission → SMTP, pop3 → no
// action), and one ACCESS_CONTROL_LOGS record is written (scope
// AccessControl, rule_id when a rule decided, access_granted). The answer is
// {"status":0,"msg":""} to allow or {"status":-1,"msg":"denied by access
// control rule NAME"} to deny; Dovecot shows msg to the client, so it names
// the rule and nothing else. With auth_policy_check_before_auth and
// _after_auth, Dovecot asks twice per successful attempt (allow, allow,
// report); the second allow is answered but recorded only if the decision
// changed. A login no organization claims is allowed unrecorded (the passdb
// decides; mailtrail has no rules for it). A deregistered (disabled) WorkMail
// user is refused with "account disabled" before any rule is evaluated. LMTP
// is never evaluated.
//
// report: one AUTHENTICATION_LOGS record per attempt (user as typed,
// user_id when known, protocol, source_ip, method basic, auth_successful,
// auth_failed_reason: AccessDenied after a policy refusal (UserDisabled for
// a disabled user), InvalidPassword
// or UnknownUser when the exporter already told the passdb result, else
// InvalidCredentials). The record's request_id is the one the exporter's
// auth_request_finished and the log's Login/failure line give the same
// attempt (see internal/ingest/dovecot), so whichever arrives first is
// stored and the others are dropped as duplicates.
//
// Every answer is sent after Sink.Write returned. If the record cannot be
// stored the answer is HTTP 503, which Dovecot treats as a policy server
// failure: with auth_policy_reject_on_fail = yes the login fails (fail
// closed: no access without an audit record), with "no" it proceeds.
//
// # Event exporter
//
// One event per POST. auth_passdb_request_finished and auth_request_finished
// give authentication records (skipped for sessionless Postfix SASL, which
// the report and Postfix's log cover); imap_command_finished gives
// WORKMAIL_MAILBOX_ACCESS_LOGS records (the command table is in
// internal/ingest/dovecot); mail_delivery_finished gives an IncomingEmail
// create; POP3's mail_opened and mail_expunged give read and delete.
// Other events are acknowledged (204) and counted; a body that is not an
// event is a 400 whose text says what is wrong. The response is 204 once
// the records are stored, 503 if they could not be.
//
// # Dovecot down-time behaviour and the exporter's no-retry gap
//
// The exporter neither buffers nor retries: events posted while mailtrail
// is down are lost (stats: Error: Failed to export event via HTTP POST).
// The log has the same facts, so after an outage feed the log from the
// outage's start to IngestLog (or follow it with a LogFeeder): records the
// exporter did deliver come out with the same request_id (authentication,
// folder operations, deliveries) or the same operation key (per-message
// mail_log lines of a command the exporter reported) and are dropped; the
// rest fills the gap. The de-duplication window is in memory
// (Config.RecentIDs ids and keys); after a restart of mailtrail start the
// catch-up at LogOptions.Since, the time of the last stored record, or at a
// saved log position. A follower of the live log should feed lines a few
// seconds late, so the exporter's posts of the same moment land first.
//
// While mailtrail is down, logins fail with auth_policy_reject_on_fail =
// yes (the default ConfigSnippet prints; fail closed) and proceed
// unchecked and unrecorded with "no" (fail open; the log catch-up then
// records the logins but no access-control decision was made).
//
// # Authentication
//
// With Config.APIKey set, every request must carry it: Dovecot's policy
// client sends auth_policy_server_api_header ("Authorization: Basic
// base64(mailtrail:KEY)"), and the exporter's HTTP client sends the user
// and password of its URL (http://mailtrail:KEY@host/dovecot/events) as
// Basic auth.
package dovecot
