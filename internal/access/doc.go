// Package access implements WorkMail access control rules for mailtrail:
// the rule set of each organization (PutAccessControlRule,
// DeleteAccessControlRule, ListAccessControlRules), its evaluation
// (GetAccessControlEffect, and Evaluate for the mail-server decision points
// that write access-control audit records), and the mapping from audit-log
// protocols and Dovecot/Postfix services to rule actions.
//
// # Rules and limits (WorkMail API model)
//
//   - Name 1-64 of [a-zA-Z0-9_-], case-sensitive; Put with an existing name
//     replaces that rule (upsert) and keeps its DateCreated and its place in
//     the order.
//   - Effect ALLOW or DENY; Description required, 0-255 characters in
//     U+0020..U+00FF.
//   - IpRanges / NotIpRanges: up to 1024 IPv4 CIDRs each, in the API's strict
//     dotted form (no leading zeros, prefix 0-32). Host bits may be set
//     (10.1.2.3/8 means 10.0.0.0/8).
//   - Actions / NotActions: up to 10 each, from ActiveSync, AutoDiscover, EWS,
//     IMAP, SMTP, WindowsOutlook, WebMail. Names are accepted in any case and
//     stored in canonical case.
//   - UserIds / NotUserIds: up to 10 each, 12-256 characters, and each must be
//     a user of the organization (EntityNotFoundException otherwise).
//   - ImpersonationRoleIds / NotImpersonationRoleIds: up to 10 each, 1-64 of
//     [a-zA-Z0-9_-]. mailtrail has no impersonation-role directory, so the
//     ids are not checked for existence (no ResourceNotFoundException).
//   - At most 10 rules per organization: adding an 11th name fails with
//     LimitExceededException.
//
// # Evaluation
//
// A rule matches a request when every condition it specifies holds; an
// omitted (empty) list is no condition. A positive list holds when the
// request's value is in it, a Not list when the value is not in it. The
// result is DENY if any matching rule is DENY, ALLOW if at least one
// matching rule is ALLOW and none is DENY, and DENY when no rule matches
// (deleting every rule blocks all access).
//
// Choices where the WorkMail documentation is silent ([inferred] in the
// spec), each covered by a test:
//
//   - A request value that is absent is in no list: a request without an
//     impersonation role (every Dovecot/Postfix login) does not match a rule
//     with ImpersonationRoleIds and does match one with
//     NotImpersonationRoleIds; an impersonation request without a user id
//     likewise for UserIds / NotUserIds.
//   - A source address that is not IPv4 (IPv6, or none) is in no range:
//     IpRanges never match it, NotIpRanges always do. IPv4-mapped IPv6
//     (::ffff:192.0.2.1) is treated as the IPv4 address.
//   - Rule order is creation order: a new name is appended, a replaced rule
//     keeps its place (and its DateCreated). The deciding
//     rule, reported as the audit record's rule_id, is the first matching DENY
//     rule when the result is DENY, else the first matching ALLOW rule; no
//     rule_id when nothing matched. Rules have no separate id in the API, so
//     rule_id is the rule's Name.
//   - MatchedRules (GetAccessControlEffect) lists, in rule order, the
//     matching rules whose effect is the result: the rules that "result in"
//     the effect. Decision.AllMatched also has the others.
//   - GetAccessControlEffect requires a UserId or an ImpersonationRoleId (or
//     both); an ImpersonationRoleId is only valid with Action EWS.
//
// # Default rule
//
// A new organization starts with one rule, named DefaultRuleName
// ("default-allow-all"), Effect ALLOW and no conditions. It is the rule set
// of every organization that has never been changed, dated at the
// organization's creation; it is written to disk with the first change and
// can be replaced or deleted like any rule.
//
// # Protocols and mail-server services
//
// Audit records carry one of 9 protocol names; rules know 7 actions. The
// transport protocols IncomingEmail and OutgoingEmail have no action and are
// never subject to access control rules. For the mail servers (see
// DovecotService, PostfixService):
//
//	Dovecot imap, imap-login           IMAP  -> action IMAP
//	Dovecot submission(-login), and
//	  Dovecot auth's "smtp" service    SMTP  -> action SMTP   (Postfix SASL)
//	Postfix smtpd with SASL login      SMTP  -> action SMTP
//	Dovecot lmtp, Postfix smtpd (MX),
//	  Postfix lmtp/local/virtual       IncomingEmail, not evaluated
//	Postfix smtp                       OutgoingEmail, not evaluated
//	Dovecot pop3, pop3-login           POP3  -> no action, evaluated
//
// WorkMail has no POP3. mailtrail evaluates POP3 logins with no action: rules
// restricted by Actions never match them, rules with NotActions always do,
// and rules without an action condition (IP ranges, users) apply as usual.
// So "DENY IMAP from 0.0.0.0/0 for bob" leaves bob's POP3 working, while
// "DENY everything outside the office range" also covers POP3. Its records
// carry protocol "POP3", a mailtrail extension of the 9 WorkMail values
// (reporting IMAP would credit IMAP rules with decisions they did not make).
//
// # Storage
//
// One JSON file per organization, <dir>/<account>/<organization id>.json,
// rewritten atomically on each change (atomicfile.Write). A Store is safe
// for concurrent use; evaluation takes a read lock only.
package access
