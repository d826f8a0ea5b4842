// Package dovecot turns what Dovecot 2.3 says about its users into
// WorkMail audit activities: authentication attempts (AUTHENTICATION_LOGS)
// and mailbox operations (WORKMAIL_MAILBOX_ACCESS_LOGS). It reads the three
// things Dovecot emits:
//
//   - auth policy requests (ParsePolicyRequest; the report of each attempt),
//   - exported events, event_exporter format = json (ParseEvent, Translator),
//   - log lines (Parser), for sites that only have logs and to catch up on
//     events the exporter lost (it neither buffers nor retries).
//
// An Activity is not yet tied to a WorkMail organization; Activity.Record
// builds the record once the caller (internal/mailserver/dovecot) has
// resolved the login to an organization ARN and user id. This package does
// no I/O and keeps only bounded per-session state.
//
// # Request ids and de-duplication between the paths
//
// Every request_id is derived, never random (RequestID: a SHA-256 shaped as
// a version-8 UUID), so reading the same log twice gives the same ids, and
// where two paths can name the same activity they give it the same id:
//
//   - Authentication: AuthID(session, n), the session's n-th outcome. Each
//     path sees one outcome per attempt, in order: a policy report, an
//     auth_request_finished event, a Login line or a failure line. Several
//     attempts on one connection (brute force) stay several records.
//   - Folder create/rename/delete: FolderOpID(session, action, folder), from
//     imap_command_finished CREATE/RENAME/DELETE or "Mailbox created: X" etc.
//   - LMTP deliveries: DeliveryID(session, recipient, Message-ID), from
//     mail_delivery_finished or "msgid=<id>: saved mail to INBOX".
//
// Message operations have different granularity: the exporter reports a
// command (UID COPY 1:* Projects), the log one line per message. For them
// the exporter's activities carry an OpKey (session, action, object type,
// folder) or SummaryKey (session, action) and the log's activities carry
// the same keys; a consumer that saw a key from the exporter drops the
// log's activities with that key. internal/mailserver/dovecot does exactly
// that with a bounded set of recent ids and keys, so a catch-up from the
// log file after an outage adds what the exporter lost and nothing twice.
//
// # Sources and what they give
//
// Policy report: login, protocol, client address, session, success,
// policy_reject. The failure reason is InvalidCredentials unless the
// exporter already told the passdb result (Translator.PassdbResult), or
// AccessDenied for a policy refusal.
//
// Events: auth_passdb_request_finished (result: the failure reason),
// auth_request_finished (one per attempt; lacks "success" on failure),
// imap_command_finished (see imapCommand for the command table),
// mail_delivery_finished (LMTP), and for POP3, which has no command events
// in 2.3, mail_opened and mail_expunged. Sessionless auth events (Postfix
// SASL) are skipped: the policy report and Postfix's own log record SMTP
// AUTH. Everything else is ignored.
//
// Log lines (log_timestamp "%Y-%m-%dT%H:%M:%S " or the default "%b %d
// %H:%M:%S ", Dovecot's own log file or syslog):
//
//	imap-login: Login: user=<u>, ..., rip=IP, ..., session=<S>     auth success
//	auth: passwd-file(u,IP,<S>): Password mismatch | unknown user   auth failure (auth_verbose = yes)
//	auth: policy(u,IP,<S>): Authentication failure due to policy server refusal: ...
//	imap-login: Disconnected: ... (auth failed, N attempts ...): ... attempts not explained above
//	imap(u)<pid><S>: save: | copy from X: | flag_change: | delete: | expunge: ...   (mail_log plugin)
//	imap(u)<pid><S>: Mailbox created: X | Mailbox renamed: A -> B | Mailbox deleted: X
//	lmtp(u)<pid><S>: msgid=<id>: saved mail to INBOX                 delivery (IncomingEmail)
//	pop3(u)<pid><S>: Disconnected: Logged out top=a/b, retr=c/d, ... read / read_summary
//	imap(u)<pid><S>: Disconnected: Logged out ... hdr_count=h ... body_count=b ...  read_summary / read on "/"
//	imap(u)<pid><S>: ID sent: name=N, version=V                      user_agent (imap_id_log)
//
// A failure line waits for its login process's line (which names the
// protocol); failures whose line never comes are counted, not recorded.
// The exporter's JSON copies in the log ("stats: Info: {...}") are ignored:
// the text lines say the same.
//
// # IMAP commands (exporter imap_command_finished)
//
//	SELECT, EXAMINE, STATUS, SEARCH, SORT, THREAD   read_summary Folder
//	LIST, LSUB, XLIST                               read_hierarchy Folder "/"
//	FETCH with a body part (BODY[], RFC822...)      read Message
//	FETCH of flags, envelope, sizes only            read_summary Message
//	APPEND                                          create Message (UID from APPENDUID)
//	STORE \Seen (+ or -)                            update_read_state Message
//	STORE +FLAGS/FLAGS \Deleted                     delete Message
//	STORE other flags or keywords, -FLAGS \Deleted  update Message
//	COPY / MOVE                                     copy / move Message in the source folder,
//	                                                and copy_to / move_to Folder (destination)
//	EXPUNGE                                         delete Message
//	CREATE / RENAME / DELETE                        create / update / delete Folder
//	GETACL, MYRIGHTS, LISTRIGHTS                    read_permissions Folder
//	SETACL, DELETEACL                               update_permissions Folder
//	ID                                              (sets the session's user_agent)
//
// UID variants are the same commands. A command answered NO gives records
// with action_allowed false; BAD (nothing attempted) and every other
// command give none.
//
// # Mapping choices
//
//   - mail_log save: create Message; copy from X: copy Message in X and
//     copy_to Folder; flag_change and undelete: update; delete (\Deleted
//     set) and expunge: delete Message. The log does not say which flags
//     changed, so flag_change is update even for \Seen (the exporter's
//     STORE tells update_read_state apart).
//   - Folder paths are "/" + the IMAP mailbox name; LIST is read_hierarchy
//     on "/". folder_id is a hash of owner and mailbox name (FolderID). A
//     RENAME's record has the old path and the new folder's id.
//   - item_id is the Message-ID when known, else <mailbox>;UID=<uid or set>
//     (RFC 5092), else <mailbox>;SEQ=<set> for sequence-number commands.
//   - POP3 records carry protocol "POP3" and LMTP deliveries "IncomingEmail"
//     (internal/access explains POP3).
//   - user_agent is the client's IMAP ID "name/version" (the ID command in
//     the exporter, "ID sent:" with imap_id_log in the log) on the mailbox
//     records that follow it in the session; Dovecot tells nothing of the
//     kind for authentication, so those carry "".
package dovecot
