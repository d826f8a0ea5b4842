package dovecot

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// SnippetOptions describe where mailtrail listens, for ConfigSnippet.
type SnippetOptions struct {
	// BaseURL is how Dovecot reaches mailtrail's HTTP server, e.g.
	// http://127.0.0.1:4566 (no trailing path).
	BaseURL string
	// APIKey is Config.APIKey ("" when none).
	APIKey string
	// HashNonce is auth_policy_hash_nonce: a site secret that makes the
	// pwhash Dovecot sends unlinkable across sites. Empty prints a
	// placeholder to replace.
	HashNonce string
	// FailOpen prints auth_policy_reject_on_fail = no: logins proceed
	// unchecked while mailtrail is down. The default is fail closed.
	FailOpen bool
}

// ConfigSnippet returns the Dovecot 2.3 configuration that points the auth
// policy client and the event exporter at a Handler, turns on the log lines
// the log path reads (auth_verbose, mail_log), and explains the failure
// mode. Paste it into dovecot.conf (or conf.d/99-mailtrail.conf).
func ConfigSnippet(o SnippetOptions) (string, error) {
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("dovecot config: base URL %q: want http://host:port", o.BaseURL)
	}
	policy := *base
	policy.Path += PolicyPath
	events := *base
	events.Path += EventsPath
	if o.APIKey != "" {
		events.User = url.UserPassword("mailtrail", o.APIKey)
	}
	nonce := o.HashNonce
	if nonce == "" {
		nonce = "CHANGE-ME-to-a-long-random-secret"
	}
	reject := "yes"
	failure := "fail closed: while mailtrail is unreachable, logins are refused"
	if o.FailOpen {
		reject = "no"
		failure = "fail open: while mailtrail is unreachable, logins proceed unchecked and unrecorded"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# mailtrail: WorkMail-style access control and audit logs for Dovecot 2.3
# Access control decision point: every login is checked against the
# organization's access control rules before and after the password check.
auth_policy_server_url = %s
`, policy.String())
	if o.APIKey != "" {
		fmt.Fprintf(&b, "auth_policy_server_api_header = Authorization: Basic %s\n",
			base64.StdEncoding.EncodeToString([]byte("mailtrail:"+o.APIKey)))
	}
	fmt.Fprintf(&b, `auth_policy_hash_nonce = %s
auth_policy_request_attributes = login=%%{requested_username} pwhash=%%{hashed_password} remote=%%{rip} local=%%{lip} device_id=%%{client_id} protocol=%%s session_id=%%{session}
auth_policy_check_before_auth = yes
auth_policy_check_after_auth = yes
auth_policy_report_after_auth = yes
# %s
auth_policy_reject_on_fail = %s

# Log lines mailtrail reads to catch up on events lost while it was down.
auth_verbose = yes
imap_id_log = name version
mail_plugins = $mail_plugins notify mail_log
plugin {
  mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename flag_change save mailbox_create
  mail_log_fields = uid box msgid size from subject flags
}

# Audit events: one HTTP POST per event (the exporter does not retry).
event_exporter mailtrail {
  format = json
  format_args = time-rfc3339
  transport = http-post
  transport_args = %s
  transport_timeout = 2sec
}
metric mailtrail_audit {
  exporter = mailtrail
  exporter_include = name hostname timestamps categories fields
  filter = event=auth_request_finished OR event=auth_passdb_request_finished OR event=imap_command_finished OR event=mail_delivery_finished OR event=mail_opened OR event=mail_expunged
}
`, nonce, failure, reject, events.String())
	return b.String(), nil
}
