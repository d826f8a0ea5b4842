// Package gen writes a deterministic, realistic stream of one or more
// WorkMail organizations' activity: the five audit log types (mailbox
// access, access control, authentication, availability provider, personal
// access token) and the email-event log, in the record shapes of the spec
// (formats.md §1 and §2), one JSON object per record.
//
// Use it through New(Config) and then WriteTo (NDJSON), Next or All (one
// Record at a time, with its Kind, event time and organization).
//
// The stream is modelled, not sampled field by field. Organizations own
// users; users own one to three devices (a client family, a user agent, a
// home or office address) that speak their protocols; access control
// rules decide who gets in. The stories an investigator looks for are in
// it:
//   - brute-force bursts against one mailbox (or admin@, info@...) from a
//     dozen attacker addresses, a few of them already on a block list;
//   - password sprays walking an organization's user list from other
//     addresses;
//   - now and then a guess succeeds: the intruder then reads the victim's
//     mail and plants a mailbox rule forwarding it outside;
//   - IMAP clients outside the office denied by a named rule, as in AWS's
//     audit-logging blog post, and unmanaged phones denied by a mobile
//     device rule;
//   - mail from outside domains (qq.com among them), with spam, DKIM, SPF
//     and DMARC verdicts, rules, bounces, journaling, and one
//     ORGANIZATION_EMAIL_RECEIVED fanning out to a MAILBOX_EMAIL_DELIVERED
//     per recipient under one traceId; sent mail as OUTGOING_EMAIL_SUBMITTED
//     then a SENT or BOUNCED per recipient.
//
// Timestamps follow a weekday/business-hours curve and never decrease. The
// same Config always yields the same bytes, on any architecture: the only
// randomness is a seeded generator, no map is iterated, the wall clock is
// never read and no floating-point step is left to the platform.
//
// The defaults reproduce the character of the benchmark dataset
// (shared/bench/gen, performance.md §2): about 70% mailbox access, 15%
// authentication, 10% access control, 2% availability provider, 3% email
// events; per 10M records ~43k failed logins and ~51k access denials.
//
// Records are built by appending bytes to a reused buffer (no reflection,
// no allocation per record in the steady state): one core generates about
// two million records a second.
package gen
