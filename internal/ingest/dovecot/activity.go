package dovecot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/mailserver"
)

// Kind says which WorkMail record an Activity becomes.
type Kind uint8

const (
	// KindAuth is one authentication attempt (AUTHENTICATION_LOGS).
	KindAuth Kind = iota + 1
	// KindMailbox is one operation on a folder or message
	// (WORKMAIL_MAILBOX_ACCESS_LOGS).
	KindMailbox
)

func (k Kind) String() string {
	switch k {
	case KindAuth:
		return "auth"
	case KindMailbox:
		return "mailbox"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Authentication failure reasons. WorkMail does not publish its vocabulary
// (formats.md §1.5), so these are mailtrail's, one per cause Dovecot tells
// apart.
const (
	ReasonInvalidPassword         = "InvalidPassword"         // passdb: password mismatch
	ReasonUnknownUser             = "UnknownUser"             // passdb: user unknown
	ReasonAccessDenied            = "AccessDenied"            // refused by the access control decision point
	ReasonInvalidCredentials      = "InvalidCredentials"      // policy report: failed, no finer reason known
	ReasonPolicyServerUnavailable = "PolicyServerUnavailable" // Dovecot could not reach the policy server (fail closed)
	ReasonUserDisabled            = "UserDisabled"            // passdb: user disabled
	ReasonPasswordExpired         = "PasswordExpired"         // passdb: password expired
	ReasonInternalError           = "InternalError"           // passdb: internal failure
	ReasonAuthenticationFailed    = "AuthenticationFailed"    // failed, cause not logged
)

// PassdbReason maps the `result` of Dovecot's auth_passdb_request_finished
// event to a failure reason ("" for ok and unknown values).
func PassdbReason(result string) string {
	switch result {
	case "password_mismatch":
		return ReasonInvalidPassword
	case "user_unknown":
		return ReasonUnknownUser
	case "user_disabled":
		return ReasonUserDisabled
	case "pass_expired":
		return ReasonPasswordExpired
	case "internal_failure":
		return ReasonInternalError
	}
	return ""
}

// Activity is one thing a Dovecot user did, as any of the three sources
// (auth policy requests, exported events, log lines) tells it, before it is
// tied to a WorkMail organization and user. Record turns it into the
// WorkMail record.
type Activity struct {
	Kind Kind
	Time time.Time
	// ID is the record's request_id. It is derived from the activity's
	// identity (see RequestID), never random, so the same activity told by
	// two sources gets the same id where both can name it.
	ID string
	// OpKey, when set, names the operation at the granularity both the
	// exporter and the log can see (session, action, object type, folder).
	// The log path drops a mailbox record whose OpKey the exporter path
	// already recorded: the exporter reports a command once (UID COPY 1:*),
	// the log once per message, and only one of the two should count.
	OpKey string
	// SummaryKey is the OpKey of log-only session summaries (logout lines),
	// which do not know the folder: "session\x00action".
	SummaryKey string

	Session   string // Dovecot session id, "" when unknown (SMTP AUTH via Postfix)
	Service   string // Dovecot service: imap, pop3, lmtp, smtp, submission
	Login     string // the login as typed (auth) or the mailbox user (mailbox)
	SourceIP  string
	UserAgent string // the client's IMAP ID name/version, "" when it sent none

	// Authentication.
	Success    bool
	FailReason string

	// Mailbox access.
	Action     event.MailboxAction
	ObjectType event.ObjectType
	Folder     string // IMAP mailbox name (INBOX, Projects); "" unknown
	// FolderIDName is the mailbox name whose id folder_id carries when it is
	// not Folder: a RENAME's record has the old name as folder_path and the
	// new folder's id, which later records of the folder share.
	FolderIDName string
	ItemID       string
	Allowed      bool
}

// Identity is who an Activity belongs to in WorkMail terms.
type Identity struct {
	OrganizationARN string
	UserID          string // "" when the login is no WorkMail user
}

// RequestID derives a request_id from the parts that identify an activity:
// a SHA-256 over the NUL-joined parts, shaped as a UUID (version 8, the
// RFC 9562 "custom" version) so it looks like the ids WorkMail writes.
func RequestID(parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	sum[6] = sum[6]&0x0f | 0x80
	sum[8] = sum[8]&0x3f | 0x80
	return event.UUID([16]byte(sum[:16]))
}

// AuthID is the request_id of a session's n-th (0-based) authentication
// outcome. Every source counts outcomes per session in the same order (one
// policy report, one auth_request_finished, one Login or failure line per
// attempt), so the three paths agree on it.
func AuthID(session string, n int) string {
	return RequestID("dovecot-auth", session, fmt.Sprint(n))
}

// FolderOpID is the request_id of a folder create/rename/delete: both the
// exporter (imap_command_finished CREATE) and the log (Mailbox created: X)
// name it by session, action and folder.
func FolderOpID(session string, action event.MailboxAction, folder string) string {
	return RequestID("dovecot-folder", session, string(action), folder)
}

// DeliveryID is the request_id of an LMTP delivery into a mailbox, named by
// the LMTP session, recipient and Message-ID in both the exporter
// (mail_delivery_finished) and the log (saved mail to).
func DeliveryID(session, user, messageID string) string {
	return RequestID("dovecot-delivery", session, strings.ToLower(user), messageID)
}

// OpKey is the cross-path key of a mailbox operation (see Activity.OpKey).
func OpKey(session string, action event.MailboxAction, obj event.ObjectType, folder string) string {
	return session + "\x00" + string(action) + "\x00" + string(obj) + "\x00" + folder
}

// SummaryKey is the cross-path key of a session-level action (see
// Activity.SummaryKey).
func SummaryKey(session string, action event.MailboxAction) string {
	return session + "\x00" + string(action)
}

// FolderID is the folder_id of a user's folder: WorkMail ids are opaque and
// Dovecot has none in its logs, so it is a hash of owner and mailbox name,
// stable for as long as the folder keeps its name.
func FolderID(ownerID, folder string) string {
	sum := sha256.Sum256([]byte("dovecot-folder\x00" + ownerID + "\x00" + folder))
	return hex.EncodeToString(sum[:16])
}

// FolderPath is the folder_path of an IMAP mailbox name: WorkMail paths
// start at the mailbox root ("/Inbox"); "" (unknown) stays "".
func FolderPath(folder string) string {
	if folder == "" {
		return ""
	}
	if folder == "/" {
		return "/"
	}
	return "/" + folder
}

// Protocol is the audit-log protocol of a Dovecot service (IMAP, POP3,
// SMTP, IncomingEmail for LMTP; access.DovecotService has the table). An
// unknown service is reported in upper case rather than dropped.
func Protocol(service string) string {
	if service == "" {
		return ""
	}
	svc, err := access.DovecotService(service)
	if err != nil {
		return strings.ToUpper(service)
	}
	return svc.Protocol
}

// Record builds the WorkMail record of a, for the organization and user in
// id. Mailbox records need a user (user_id and owner_id are required).
func (a *Activity) Record(id Identity) (mailserver.Record, error) {
	ms := a.Time.UnixMilli()
	switch a.Kind {
	case KindAuth:
		r := &event.Authentication{
			EventTimestamp:  ms,
			RequestID:       a.ID,
			OrganizationARN: id.OrganizationARN,
			UserID:          id.UserID,
			User:            a.Login,
			Protocol:        event.Protocol(Protocol(a.Service)),
			SourceIP:        a.SourceIP,
			UserAgent:       a.UserAgent,
			Method:          "basic",
			AuthSuccessful:  a.Success,
		}
		if !a.Success {
			r.AuthFailedReason = a.FailReason
			if r.AuthFailedReason == "" {
				r.AuthFailedReason = ReasonAuthenticationFailed
			}
		}
		b, err := event.Append(nil, r)
		if err != nil {
			return mailserver.Record{}, fmt.Errorf("encoding authentication record %s: %w", a.ID, err)
		}
		return mailserver.Record{Type: event.LogTypeAuthentication, Timestamp: ms, JSON: b}, nil
	case KindMailbox:
		if id.UserID == "" {
			return mailserver.Record{}, fmt.Errorf("mailbox record %s for %q: no WorkMail user id", a.ID, a.Login)
		}
		idName := a.Folder
		if a.FolderIDName != "" {
			idName = a.FolderIDName
		}
		r := &event.MailboxAccess{
			EventTimestamp:  ms,
			RequestID:       a.ID,
			OrganizationARN: id.OrganizationARN,
			UserID:          id.UserID,
			Protocol:        event.Protocol(Protocol(a.Service)),
			SourceIP:        a.SourceIP,
			UserAgent:       a.UserAgent,
			Action:          a.Action,
			OwnerID:         id.UserID,
			ObjectType:      a.ObjectType,
			ItemID:          a.ItemID,
			FolderPath:      FolderPath(a.Folder),
			FolderID:        FolderID(id.UserID, idName),
			ActionAllowed:   a.Allowed,
		}
		b, err := event.Append(nil, r)
		if err != nil {
			return mailserver.Record{}, fmt.Errorf("encoding mailbox access record %s: %w", a.ID, err)
		}
		return mailserver.Record{Type: event.LogTypeMailboxAccess, Timestamp: ms, JSON: b}, nil
	}
	return mailserver.Record{}, fmt.Errorf("activity %s: unknown kind %d", a.ID, a.Kind)
}

// itemID names a message: its Message-ID when known, else the IMAP URL
// form <mailbox>;UID=<uid or set> (RFC 5092), else "".
func itemID(msgid, folder, uid string) string {
	if msgid != "" {
		return msgid
	}
	if uid != "" {
		return folder + ";UID=" + uid
	}
	return ""
}
