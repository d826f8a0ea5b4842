// Package gen writes a deterministic, realistic stream of one or more
// WorkMail organizations' activity: the five audit log types (mailbox
// access, access control, authentication, availability provider, personal
// access token) and the email-event log, as NDJSON in the shapes of
// docs/formats (spec formats.md §1 and §2).
//
// The stream is modelled, not sampled field by field: organizations own
// users, users own devices (a client family, a user agent and a home IP),
// devices speak protocols, access control rules decide who gets in, and
// attackers run brute-force bursts and password sprays from a handful of
// addresses. Timestamps follow a weekday/business-hours curve and never
// decrease. The same Config always yields the same bytes: the only source
// of randomness is a seeded generator, no map is ever iterated, and the
// wall clock is never read.
//
// The defaults reproduce the character of the benchmark dataset
// (shared/bench/gen, spec performance.md §2): about 70% mailbox access,
// 15% authentication, 10% access control, 2% availability provider, 3%
// email events; ~0.43% of records are failed logins and ~0.5% are access
// denials.
//
// Records are built by appending bytes to a reused buffer (no reflection,
// no per-record allocation in the steady state), so a single core writes
// well over half a million records a second.
package gen
