package event

import (
	"strconv"
)

// EmailEvent is one WorkMail email-flow event (formats.md §2.2): a
// top-level traceId linking every event of one message, and the event
// object. Only these two envelope keys are documented; any other key is
// kept (see Unknown) and written back.
type EmailEvent struct {
	meta
	TraceID string           `json:"traceId,omitempty" event:"required"`
	Event   EmailEventDetail `json:"event,omitzero" event:"required"`
}

// EmailEventDetail is the `event` object. It carries the union of the nine
// event names' fields (camelCase); which apply depends on EventName, and
// Validate checks that. Undocumented keys (e.g. messageSize) are kept.
type EmailEventDetail struct {
	meta
	EventName EventName `json:"eventName,omitempty" event:"required"`

	// ORGANIZATION_EMAIL_RECEIVED, OUTGOING_EMAIL_SUBMITTED, DMARC_POLICY_APPLIED.
	Recipients []string `json:"recipients,omitempty"`
	// MAILBOX_EMAIL_DELIVERED, OUTGOING_EMAIL_SENT.
	Recipient string `json:"recipient,omitempty"`
	// Sender is set only for send-as / send-on-behalf and then holds the
	// real sender; From is the From header.
	Sender    string `json:"sender,omitempty"`
	From      string `json:"from,omitempty"`
	Subject   string `json:"subject,omitempty"`
	MessageID string `json:"messageId,omitempty"` // SMTP Message-ID

	SpamVerdict  Verdict     `json:"spamVerdict,omitempty"`
	DKIMVerdict  Verdict     `json:"dkimVerdict,omitempty"`
	DMARCVerdict Verdict     `json:"dmarcVerdict,omitempty"`
	DMARCPolicy  DMARCPolicy `json:"dmarcPolicy,omitempty"` // only when DMARCVerdict is FAIL
	SPFVerdict   Verdict     `json:"spfVerdict,omitempty"`
	VirusVerdict Verdict     `json:"virusVerdict,omitempty"` // undocumented for WorkMail; accepted
	// MessageTimestamp is ISO 8601 or epoch ms; the type is undocumented.
	MessageTimestamp FlexTime `json:"messageTimestamp,omitzero"`

	// MAILBOX_EMAIL_DELIVERED.
	Folder string `json:"folder,omitempty"`

	// RULE_APPLIED.
	RuleName        string       `json:"ruleName,omitempty"`
	RuleType        RuleType     `json:"ruleType,omitempty"`
	RuleActions     []RuleResult `json:"ruleActions,omitempty"`
	TargetFolder    string       `json:"targetFolder,omitempty"`    // Move/Copy mailbox rule
	TargetRecipient string       `json:"targetRecipient,omitempty"` // Forward/Redirect mailbox rule

	// JOURNALING_INITIATED.
	JournalingAddress string `json:"journalingAddress,omitempty"`

	// INCOMING_EMAIL_BOUNCED, and OUTGOING_EMAIL_BOUNCED in its documented shape.
	BouncedRecipient *BouncedRecipient `json:"bouncedRecipient,omitempty"`
	// OUTGOING_EMAIL_BOUNCED in the shape AWS's own Insights query reads
	// (event.destination, event.reason). Destination may be a string or an
	// array; it keeps its form.
	Destination StringList `json:"destination,omitzero"`
	Reason      string     `json:"reason,omitempty"`

	// DMARC_POLICY_APPLIED.
	Policy DMARCPolicy `json:"policy,omitempty"`
}

// RuleResult is one element of ruleActions: what a rule did for which
// recipients (actions may differ per recipient).
type RuleResult struct {
	meta
	Action     string   `json:"action,omitempty" event:"required"` // spelling unverified (e.g. DROP)
	Recipients []string `json:"recipients,omitempty"`
}

// BouncedRecipient is the bouncedRecipient object.
type BouncedRecipient struct {
	meta
	EmailAddress string `json:"emailAddress,omitempty" event:"required"`
	Reason       string `json:"reason,omitempty"`
	Status       string `json:"status,omitempty"` // enhanced status code, e.g. 5.2.2
}

func (r EmailEvent) MarshalJSON() ([]byte, error)        { return marshal(&r) }
func (r *EmailEvent) UnmarshalJSON(b []byte) error       { return unmarshal(r, b) }
func (r EmailEventDetail) MarshalJSON() ([]byte, error)  { return marshal(&r) }
func (r *EmailEventDetail) UnmarshalJSON(b []byte) error { return unmarshal(r, b) }
func (r RuleResult) MarshalJSON() ([]byte, error)        { return marshal(&r) }
func (r *RuleResult) UnmarshalJSON(b []byte) error       { return unmarshal(r, b) }
func (r BouncedRecipient) MarshalJSON() ([]byte, error)  { return marshal(&r) }
func (r *BouncedRecipient) UnmarshalJSON(b []byte) error { return unmarshal(r, b) }

func (*EmailEvent) LogType() LogType { return LogTypeEmailEvent }

// Validate checks the envelope, the event name, the fields each event name
// needs (§2.2) and the value sets.
func (r *EmailEvent) Validate() error {
	var v validator
	v.structure(r, &r.meta)
	if r.meta.hasKey(r, "event") {
		v.nested("event", r.Event.Validate())
	}
	return v.err()
}

// Validate checks the event object on its own; field names in errors are
// relative to it.
func (e *EmailEventDetail) Validate() error {
	var v validator
	v.structure(e, &e.meta)
	oneOf(&v, "eventName", e.EventName, EventNames)
	need := func(field string, ok bool) {
		if !ok {
			v.add(field, "", "is required for "+string(e.EventName))
		}
	}
	switch e.EventName {
	case EventOrganizationEmailReceived:
		need("recipients", len(e.Recipients) > 0)
		need("from", e.From != "")
	case EventMailboxEmailDelivered:
		need("recipient", e.Recipient != "")
	case EventRuleApplied:
		need("ruleName", e.RuleName != "")
		need("ruleType", e.RuleType != "")
	case EventJournalingInitiated:
		need("journalingAddress", e.JournalingAddress != "")
	case EventIncomingEmailBounced:
		need("bouncedRecipient", e.BouncedRecipient != nil)
	case EventOutgoingEmailSubmitted:
		need("recipients", len(e.Recipients) > 0)
		need("from", e.From != "")
	case EventOutgoingEmailSent:
		need("recipient", e.Recipient != "")
	case EventOutgoingEmailBounced:
		if e.BouncedRecipient == nil && len(e.Destination.Values) == 0 {
			v.add("bouncedRecipient", "", "or destination is required for OUTGOING_EMAIL_BOUNCED")
		}
	case EventDMARCPolicyApplied:
		need("policy", e.Policy != "")
	}
	oneOf(&v, "spamVerdict", e.SpamVerdict, Verdicts)
	oneOf(&v, "dkimVerdict", e.DKIMVerdict, Verdicts)
	oneOf(&v, "dmarcVerdict", e.DMARCVerdict, Verdicts)
	oneOf(&v, "spfVerdict", e.SPFVerdict, Verdicts)
	oneOf(&v, "virusVerdict", e.VirusVerdict, Verdicts)
	oneOf(&v, "dmarcPolicy", e.DMARCPolicy, DMARCPolicies)
	oneOf(&v, "policy", e.Policy, DMARCPolicies)
	oneOf(&v, "ruleType", e.RuleType, RuleTypes)
	if e.DMARCPolicy != "" && e.DMARCVerdict != VerdictFail {
		v.add("dmarcPolicy", strconv.Quote(string(e.DMARCPolicy)), "is only valid when dmarcVerdict is FAIL")
	}
	if !e.MessageTimestamp.IsZero() {
		if _, err := e.MessageTimestamp.Time(); err != nil {
			v.add("messageTimestamp", e.MessageTimestamp.raw, "is not a time: "+err.Error())
		}
	}
	for i := range e.RuleActions {
		v.nested("ruleActions."+strconv.Itoa(i), e.RuleActions[i].validate())
	}
	if e.BouncedRecipient != nil {
		v.nested("bouncedRecipient", e.BouncedRecipient.validate())
	}
	return v.err()
}

func (r *RuleResult) validate() error {
	var v validator
	v.structure(r, &r.meta)
	return v.err()
}

func (r *BouncedRecipient) validate() error {
	var v validator
	v.structure(r, &r.meta)
	return v.err()
}
