package dovecot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// PolicyRequest is the body of one Dovecot auth policy request
// (auth_policy_server_url?command=allow|report). The member names are the
// ones auth_policy_request_attributes gives them; mailtrail's printed
// configuration (see the mailserver/dovecot package) uses these. Dovecot
// adds tls on its own, and success and policy_reject to reports.
type PolicyRequest struct {
	Login     string // %{requested_username}: the name as typed
	PwHash    string // %{hashed_password}: truncated hash of nonce+login+password
	Remote    string // %{rip}: client address (for SMTP, the one Postfix passes)
	Local     string // %{lip}
	DeviceID  string // %{client_id}
	Protocol  string // %s: imap, pop3, smtp (Postfix SASL), submission...
	SessionID string // %{session}: "" for Postfix SASL
	TLS       bool
	// Report only.
	Success      bool
	PolicyReject bool
	HasSuccess   bool // the body had "success" (it is a report)
}

type policyBody struct {
	Login        flex     `json:"login"`
	PwHash       flex     `json:"pwhash"`
	Remote       flex     `json:"remote"`
	Local        flex     `json:"local"`
	DeviceID     flex     `json:"device_id"`
	Protocol     flex     `json:"protocol"`
	SessionID    flex     `json:"session_id"`
	TLS          flexBool `json:"tls"`
	Success      flexBool `json:"success"`
	PolicyReject flexBool `json:"policy_reject"`
}

// ParsePolicyRequest decodes a policy request body. login and protocol are
// required: without them there is nothing to decide.
func ParsePolicyRequest(body []byte) (PolicyRequest, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return PolicyRequest{}, errors.New("policy request: empty body")
	}
	if b[0] != '{' {
		return PolicyRequest{}, fmt.Errorf("policy request: body is not a JSON object (starts with %q)", b[0])
	}
	var pb policyBody
	// Fast path: one struct decode; on error, decode member by member to
	// say which member is wrong.
	if json.Unmarshal(b, &pb) != nil {
		pb = policyBody{}
		err := decodeObject("policy request", b, map[string]json.Unmarshaler{
			"login": &pb.Login, "pwhash": &pb.PwHash, "remote": &pb.Remote, "local": &pb.Local,
			"device_id": &pb.DeviceID, "protocol": &pb.Protocol, "session_id": &pb.SessionID,
			"tls": &pb.TLS, "success": &pb.Success, "policy_reject": &pb.PolicyReject,
		})
		if err == nil {
			err = errors.New("policy request: invalid body")
		}
		return PolicyRequest{}, err
	}
	r := PolicyRequest{
		Login: string(pb.Login), PwHash: string(pb.PwHash), Remote: string(pb.Remote),
		Local: string(pb.Local), DeviceID: string(pb.DeviceID), Protocol: string(pb.Protocol),
		SessionID: string(pb.SessionID), TLS: pb.TLS.Value,
		Success: pb.Success.Value, PolicyReject: pb.PolicyReject.Value, HasSuccess: pb.Success.Set,
	}
	if r.Login == "" {
		return r, errors.New(`policy request: missing "login" (auth_policy_request_attributes must send login=%{requested_username})`)
	}
	if r.Protocol == "" {
		return r, errors.New(`policy request: missing "protocol" (auth_policy_request_attributes must send protocol=%s)`)
	}
	return r, nil
}

// PseudoSession names a sessionless request (Postfix SASL sends no session
// id) by what stays the same across one login's allow, allow and report.
func (r *PolicyRequest) PseudoSession() string {
	if r.SessionID != "" {
		return r.SessionID
	}
	return "nosession\x00" + r.Protocol + "\x00" + r.Login + "\x00" + r.Remote + "\x00" + r.PwHash
}

// ReportActivity is the authentication activity of a policy report: the
// n-th outcome of its session. passdbResult, when the exporter already told
// it, makes the failure reason precise (the report itself only says
// success and policy_reject).
func (r *PolicyRequest) ReportActivity(n int, t time.Time, passdbResult string) Activity {
	a := Activity{
		Kind: KindAuth, Time: t, Session: r.SessionID, Service: r.Protocol,
		Login: r.Login, SourceIP: r.Remote, Success: r.Success,
	}
	if r.SessionID != "" {
		a.ID = AuthID(r.SessionID, n)
	} else {
		a.ID = RequestID("dovecot-auth-nosession", r.Protocol, r.Login, r.Remote, r.PwHash, strconv.FormatInt(t.UnixNano(), 10))
	}
	if !r.Success {
		switch {
		case r.PolicyReject:
			a.FailReason = ReasonAccessDenied
		case PassdbReason(passdbResult) != "":
			a.FailReason = PassdbReason(passdbResult)
		default:
			a.FailReason = ReasonInvalidCredentials
		}
	}
	return a
}
