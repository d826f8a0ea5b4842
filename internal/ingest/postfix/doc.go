// Package postfixlog (import path internal/ingest/postfix) turns Postfix's
// log into WorkMail email events (/aws/workmail/emailevents/<alias>) and SMTP
// AUTHENTICATION_LOGS records, stored through mailserver.Sink.
//
// # Inputs
//
//   - Follow: a log file followed as it grows, across rotation by rename
//     and create and by copytruncate, resuming from a checkpoint file.
//   - SyslogServer: syslog over UDP and TCP (RFC 3164 and RFC 5424; on TCP
//     octet-counted RFC 6587 framing or newline-terminated, per message).
//   - ReadLines: plain lines from any reader (a file given once, stdin).
//
// Postfix settings that point at them (mailtrail config postfix prints
// them):
//
//	# main.cf, Postfix >= 3.4: Postfix writes its own log file through postlogd
//	maillog_file = /var/log/postfix.log
//	maillog_file_rotate_suffix = %Y%m%d-%H%M%S   # postfix logrotate renames; Follow handles it
//	# master.cf must have the postlog service (stock since 3.4):
//	#   postlog   unix-dgram n  -  n  -  1  postlogd
//	# or through the system syslog daemon, forwarding the mail facility to
//	# mailtrail's listener (rsyslog):
//	#   if $programname startswith "postfix" then action(type="omfwd" target="127.0.0.1"
//	#       port="PORT" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_ForwardFormat")
//	# RSYSLOG_ForwardFormat keeps the whole tag ("postfix/submission/smtpd[1]:"); an
//	# RFC 5424 template would put only rsyslog's programname ("postfix") in APP-NAME
//	# unless parser.PermitSlashInProgramName is on, and then no line is recognised.
//	# or follow the syslog daemon's file (/var/log/mail.log) with Follow.
//
// With several smtpd services, give the submission service its own
// syslog_name (-o syslog_name=postfix/submission): only the last element of
// the program name ("smtpd", "smtp", "lmtp", ...) is used, so any prefix works.
//
// # Lines
//
// Classic syslog lines ("Nov 22 18:26:32 host postfix/smtpd[21805]: ...",
// no year: Clock puts them in the current year, or the previous one when
// that would be more than a week ahead, in Clock.Location) and RFC 3339
// timestamps (rsyslog's high-precision format) are accepted. The messages
// used are listed with Kind; everything else (connect, disconnect, warnings,
// statistics) is skipped.
//
// # Joining by queue id
//
// A message is the chain smtpd "client=" (with sasl_username: a submission)
// → cleanup "message-id=" → qmgr "from=, size=, nrcpt=" → one delivery line
// per recipient → qmgr "removed". Organizations come from org.Directory:
// a recipient is local when its domain belongs to an organization
// (OrganizationByDomain), the submitter's organization comes from
// sasl_username (FindLogin), else from the envelope sender's domain.
//
//   - ORGANIZATION_EMAIL_RECEIVED: once per message and organization with
//     local recipients (inbound mail, bounces Postfix sends to a local
//     sender, and internal mail from one user to another), emitted when every
//     recipient (nrcpt) has a delivery line of any status, at "removed", or
//     when the message leaves memory. recipients are the local recipients of
//     that organization; from is the envelope sender ("<>" for the null
//     sender of bounces), since plain Postfix does not log the From header;
//     messageId is cleanup's. spamVerdict, dkimVerdict, dmarcVerdict and
//     spfVerdict are omitted: plain Postfix evaluates none of them, and a
//     made-up PASS or GRAY would mislead a query (absent reads as "not
//     evaluated"). subject and messageTimestamp are not logged by Postfix
//     and are omitted too.
//   - MAILBOX_EMAIL_DELIVERED: per local recipient with status=sent
//     (recipient, folder "INBOX": Postfix hands mail to the delivery agent,
//     and Sieve filing is not visible in its log).
//   - INCOMING_EMAIL_BOUNCED: per local recipient with status=bounced or
//     expired after acceptance, and per local recipient refused at RCPT TO
//     with a 5xx ("NOQUEUE: reject: RCPT ... to=<local>": unknown user,
//     policy rejects). Relay refusals name no local recipient and produce
//     nothing. A RCPT reject is held until its smtpd session's
//     "disconnect from ... auth=N" line: in a session that authenticated
//     it is a refused submission (mailtrail's own policy deny among them),
//     recorded by the ACCESS_CONTROL_LOGS record and not as an inbound
//     bounce; a session without a disconnect line within PendingTTL counts
//     as unauthenticated. bouncedRecipient = {emailAddress, reason, status
//     (DSN)}.
//   - OUTGOING_EMAIL_SUBMITTED: once per authenticated submission
//     (recipients, from = envelope sender, sender = the authenticated
//     user's address when it differs: send-as), emitted like
//     ORGANIZATION_EMAIL_RECEIVED.
//   - OUTGOING_EMAIL_SENT / OUTGOING_EMAIL_BOUNCED: per remote recipient
//     with status=sent / bounced or expired, in the sender's organization.
//     A bounce carries both documented shapes: bouncedRecipient and
//     destination + reason (what AWS's own Insights queries read).
//   - status=deferred has no WorkMail event: the recipient stays pending
//     until its final status.
//   - AUTHENTICATION_LOGS (protocol SMTP): success from the smtpd
//     "client=..., sasl_method=, sasl_username=" line of each submitted
//     message, failure from "SASL <method> authentication failed: <reason>,
//     sasl_username=<u>" (user_id set when the login maps to a user; the
//     reason is Postfix's text, "(reason unavailable)" for a wrong password
//     through Dovecot). A failure without sasl_username names no
//     organization and is skipped. Set JoinerConfig.NoAuthRecords when
//     Dovecot's auth policy already records SMTP AUTH, to avoid two records
//     per attempt.
//
// Every record carries event_timestamp (email events get it as an extra
// top-level key next to traceId and event; event.Timestamp reads it): the
// time of the line that produced it; the head events use the message's
// first line. traceId is a UUID-shaped SHA-256 of queue id and Message-ID,
// shared by every event of one message; a NOQUEUE reject gets one from its
// line.
//
// # Memory
//
// A message is held from its first line until "removed"; one not heard of
// for JoinerConfig.PendingTTL of log time (default 2h, above Postfix's
// maximal retry backoff) or beyond JoinerConfig.MaxPending messages (least
// recently seen first) is flushed with what it has and forgotten. Lines
// that come later for it produce per-recipient events whose traceId lacks
// the Message-ID.
//
// # Exactly once: deterministic keys, low-water checkpoint, dedup window
//
// Every record has a deterministic key: request_id for authentication
// records (a hash of the line), traceId + eventName + recipient (or
// organization) for email events. A Processor drops records whose key is
// in its dedup window (Dedup). Follow's checkpoint, saved atomically after
// every commit (records stored first), holds the file identity (device,
// inode, fingerprint of its first bytes), the low-water offset (the first
// line of the oldest message still being joined, so a restart rebuilds
// every pending message) and the keys of records produced at or after that
// offset. A restart re-reads from the low-water mark and the restored
// window drops what was already stored, so restarts, re-reads of a rotated
// file and repeated lines store nothing twice. The remaining window is a
// crash between storing a batch and saving its checkpoint (one fsync
// apart): that batch may be stored twice, with identical keys, and a query
// can count distinct traceId/request_id. Syslog input has no offsets to
// re-read: a message lost in transit (UDP) is lost.
package postfixlog
