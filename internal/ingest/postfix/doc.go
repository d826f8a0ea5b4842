// Package postfixlog (import path internal/ingest/postfix) turns Postfix's
// log into WorkMail email events and SMTP authentication records.
//
// Full documentation in the package doc at the end of the work (see
// follow.go and syslog.go for the inputs).
package postfixlog
