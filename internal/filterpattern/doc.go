// Package filterpattern implements the CloudWatch Logs filter-pattern
// language used by FilterLogEvents, StartLiveTail, metric filters and
// subscription filters. It is a different language from Logs Insights QL.
//
// A pattern is exactly one of three forms, chosen by its first character:
//
//   - Terms: `ERROR`, `"INTERNAL SERVER ERROR"`, `?ERROR ?WARN`,
//     `ERROR -Exiting`, `%ERROR\d{3}%`. Terms are case-sensitive substring
//     (or regex) searches on the whole message. Plain terms are all
//     required; `-` terms must all be absent. Each `?` starts an
//     alternative group that also takes the plain terms following it up to
//     the next `?` (so `?"ERROR" "MainThread" ?"WARN" "Deadlock"` means
//     (ERROR and MainThread) or (WARN and Deadlock), as the AWS CDK's
//     anyTermGroup renders it); plain terms before the first `?` are
//     required by every group.
//   - JSON: `{ $.eventName = "UpdateTrail" && $.errorCode = "*Denied*" }`.
//     Applied only to messages that are a JSON object. Selectors are
//     resolved through scan.Flattener, so they name the same leaves the
//     Insights engine sees, but the values keep their JSON types: booleans
//     are matched with IS TRUE / IS FALSE, not as 1/0.
//   - Space-delimited: `[ip, user, ..., status_code = 4*, bytes > 1000]`.
//     The message is split on whitespace; text in "..." or [...] is one
//     field with the quotes or brackets removed.
//
// Compile reports syntax errors as *Error, which carries the offset of the
// offending character; the API layer answers those with AWS's
// InvalidParameterException "Invalid filter pattern". A compiled Pattern
// is immutable and safe for concurrent use.
//
// Choices where AWS's documentation is silent (all covered by tests):
// a comparison on a missing key, a null, an object or an array is false
// for every operator including != (AWS: "the selector must point to a
// value node"); a numeric literal equals a string leaf holding the same
// number (`{ $.recipientAccountId = 123456789012 }` on CloudTrail's string
// account ids); a string literal is compared with the literal text of a
// number or boolean leaf; a space-delimited pattern without `...` needs
// exactly as many fields as it names; all conditions in one
// space-delimited slot must name that slot's field.
package filterpattern
