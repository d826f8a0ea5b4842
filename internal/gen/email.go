package gen

import (
	"strconv"

	"github.com/mailtrail/mailtrail/internal/event"
)

// Email events are modelled per message: when a message is accepted its
// whole trace (received, rule and DMARC actions, one delivery or bounce per
// recipient, journaling; or submitted then sent/bounced per recipient) is
// rendered into a slot, and each later email-event pick emits the next
// event of one of up to four messages in flight. Traces therefore
// interleave, every event of a trace comes after the one before it, and the
// email-event share of the stream stays at its weight.

// message is one trace in flight. Each event is stored as everything after
// its event_timestamp, so emitting it is a copy.
type message struct {
	org   int
	arena []byte
	ends  []int
	next  int
}

type mailQueue struct {
	slots [4]message
	live  [4]bool
	n     int
	rcpts []string // scratch
}

const (
	newMessageChance = 0.3  // per email pick, while fewer than 4 are in flight
	inboundShare     = 0.86 // of messages; the rest are sent by users
)

func (g *Generator) emailEvent(b []byte) []byte {
	q := &g.mail
	r := &g.r
	if q.n == 0 || (q.n < len(q.slots) && r.chance(newMessageChance)) {
		for i := range q.slots {
			if !q.live[i] {
				g.newMessage(&q.slots[i])
				q.live[i] = true
				q.n++
				break
			}
		}
	}
	k := r.intn(q.n)
	idx := 0
	for i := range q.slots {
		if q.live[i] {
			if k == 0 {
				idx = i
				break
			}
			k--
		}
	}
	m := &q.slots[idx]
	start := 0
	if m.next > 0 {
		start = m.ends[m.next-1]
	}
	end := m.ends[m.next]
	m.next++
	g.kind, g.org = KindEmailEvent, m.org
	b = append(b, `{"event_timestamp":`...)
	b = strconv.AppendInt(b, g.ts, 10)
	b = append(b, m.arena[start:end]...)
	if m.next == len(m.ends) {
		q.live[idx] = false
		q.n--
	}
	return b
}

// ev opens an event of the message: envelope, then "event":{"eventName".
func (m *message) ev(trace []byte, arn, name string) {
	a := m.arena
	a = append(a, `,"traceId":"`...)
	a = append(a, trace...)
	a = append(a, `","organization_arn":"`...)
	a = append(a, arn...)
	a = append(a, `","event":{"eventName":"`...)
	a = append(a, name...)
	m.arena = append(a, '"')
}

func (m *message) done() {
	m.arena = append(m.arena, '}', '}')
	m.ends = append(m.ends, len(m.arena))
}

func (m *message) str(key, val string) { m.arena = appendKS(m.arena, key, val) }

func (m *message) list(key string, vals []string) {
	a := append(m.arena, ',', '"')
	a = append(a, key...)
	a = append(a, '"', ':', '[')
	for i, v := range vals {
		if i > 0 {
			a = append(a, ',')
		}
		a = event.AppendString(a, v)
	}
	m.arena = append(a, ']')
}

func (m *message) ruleActions(action string, rcpts []string) {
	m.arena = append(m.arena, `,"ruleActions":[{"action":"`...)
	m.arena = append(m.arena, action...)
	m.arena = append(m.arena, '"')
	m.list("recipients", rcpts)
	m.arena = append(m.arena, '}', ']')
}

func (m *message) bounced(addr string, k int) {
	br := bounceReasons[k]
	m.arena = append(m.arena, `,"bouncedRecipient":{"emailAddress":`...)
	m.arena = event.AppendString(m.arena, addr)
	m.arena = appendKV(m.arena, "status", br.status)
	m.arena = appendKS(m.arena, "reason", br.reason)
	m.arena = append(m.arena, '}')
}

// externalAddress makes up a correspondent at dom. Chinese webmail
// addresses are mostly numeric, as they are in life.
func (g *Generator) externalAddress(dom string) string {
	r := &g.r
	var b []byte
	switch {
	case dom == "qq.com" || dom == "163.com":
		b = strconv.AppendUint(b, 10000+r.u64()%3_000_000_000, 10)
	case dom == "newsletter.shop.example" || dom == "bank-notices.example":
		b = append(b, []string{"news", "noreply", "offers", "alerts"}[r.intn(4)]...)
	default:
		b = append(b, givenNames[r.intn(len(givenNames))]...)
		if r.chance(0.5) {
			b = append(b, '.')
			b = append(b, familyNames[r.intn(len(familyNames))]...)
		} else {
			b = strconv.AppendInt(b, int64(r.intn(1000)), 10)
		}
	}
	b = append(b, '@')
	b = append(b, dom...)
	return string(b)
}

func (g *Generator) messageID(dom string) string {
	b := []byte{'<'}
	h := g.r.u64()
	for k := 0; k < 16; k++ {
		b = append(b, hexDigits[(h>>(60-4*k))&15])
	}
	b = append(b, '.')
	b = appendB64(b, g.r.u64(), 12)
	b = append(b, '@')
	b = append(b, dom...)
	return string(append(b, '>'))
}

func (g *Generator) newMessage(m *message) {
	m.arena, m.ends, m.next = m.arena[:0], m.ends[:0], 0
	if g.r.chance(inboundShare) {
		g.inbound(m)
	} else {
		g.outbound(m)
	}
}

var inboundRuleNames = []string{"quarantine-external-spam", "tag-external-senders", "block-bulk-senders", "allow-partner-domains"}

func (g *Generator) inbound(m *message) {
	r := &g.r
	w := g.w
	ui := r.skewed(len(w.users))
	u := &w.users[ui]
	og := &w.orgs[u.org]
	m.org = int(u.org)
	var trace [36]byte
	appendUUID(trace[:0], r.u64(), r.u64())

	users := []int32{int32(ui)}
	if r.chance(0.12) {
		for range 1 + r.intn(3) {
			v := og.users[r.intn(len(og.users))]
			dup := false
			for _, x := range users {
				dup = dup || x == v
			}
			if !dup {
				users = append(users, v)
			}
		}
	}
	rcpts := g.mail.rcpts[:0]
	for _, x := range users {
		rcpts = append(rcpts, w.users[x].email)
	}
	typo := ""
	if r.chance(0.01) {
		typo = u.local[1:] + "@" + og.domain
		rcpts = append(rcpts, typo)
	}
	g.mail.rcpts = rcpts

	dom := externalDomains.pick(r)
	from := g.externalAddress(dom)
	spam := verdicts[spamVerdicts.draw(r)]
	dkim := verdicts[authVerdicts.draw(r)]
	dmarc := verdicts[authVerdicts.draw(r)]
	spf := verdicts[authVerdicts.draw(r)]
	policy := ""
	if dmarc == "FAIL" {
		policy = []string{"NONE", "NONE", "QUARANTINE", "REJECT"}[r.intn(4)]
	}

	m.ev(trace[:], og.arn, "ORGANIZATION_EMAIL_RECEIVED")
	m.list("recipients", rcpts)
	if r.chance(0.03) {
		m.str("sender", g.externalAddress(dom))
	}
	m.str("from", from)
	m.str("subject", subjects[r.intn(len(subjects))])
	m.str("messageId", g.messageID(dom))
	m.str("spamVerdict", spam)
	m.str("dkimVerdict", dkim)
	m.str("dmarcVerdict", dmarc)
	if policy != "" {
		m.str("dmarcPolicy", policy)
	}
	m.str("spfVerdict", spf)
	m.arena = appendKInt(m.arena, "messageTimestamp", g.ts-1000-int64(r.intn(120_000)))
	m.done()

	deliver, folder := true, "/Inbox"
	if spam == "FAIL" {
		folder = "/Junk E-mail"
	}
	if policy == "QUARANTINE" || policy == "REJECT" {
		m.ev(trace[:], og.arn, "DMARC_POLICY_APPLIED")
		m.str("from", from)
		m.list("recipients", rcpts)
		m.str("policy", policy)
		m.done()
		if policy == "REJECT" {
			deliver = false
		} else {
			folder = "/Junk E-mail"
		}
	}
	if deliver && r.chance(0.05) {
		action := inboundRuleActions.pick(r)
		m.ev(trace[:], og.arn, "RULE_APPLIED")
		m.str("ruleName", inboundRuleNames[r.intn(len(inboundRuleNames))])
		m.str("ruleType", "INBOUND_RULE")
		m.ruleActions(action, rcpts)
		m.done()
		switch action {
		case "DROP":
			deliver = false
		case "BOUNCE":
			deliver = false
			for _, rc := range rcpts {
				m.ev(trace[:], og.arn, "INCOMING_EMAIL_BOUNCED")
				m.bounced(rc, 2)
				m.done()
			}
		case "MOVE_TO_JUNK":
			folder = "/Junk E-mail"
		case "BYPASS_SPAM_CHECK":
			folder = "/Inbox"
		}
	}
	if !deliver {
		return
	}
	journal := false
	for k, x := range users {
		v := &w.users[x]
		journal = journal || v.legalHold
		if r.chance(0.002) {
			m.ev(trace[:], og.arn, "INCOMING_EMAIL_BOUNCED")
			m.bounced(rcpts[k], 1)
			m.done()
			continue
		}
		m.ev(trace[:], og.arn, "MAILBOX_EMAIL_DELIVERED")
		m.str("recipient", v.email)
		m.str("folder", folder)
		m.done()
		switch {
		case v.forward != "":
			m.ev(trace[:], og.arn, "RULE_APPLIED")
			m.str("ruleName", "fwd")
			m.str("ruleType", "MAILBOX_RULE")
			m.ruleActions("FORWARD", rcpts[k:k+1])
			m.str("targetRecipient", v.forward)
			m.done()
		case dom == "newsletter.shop.example" && x%5 == 0:
			m.ev(trace[:], og.arn, "RULE_APPLIED")
			m.str("ruleName", "newsletters")
			m.str("ruleType", "MAILBOX_RULE")
			m.ruleActions("MOVE", rcpts[k:k+1])
			m.str("targetFolder", "/Inbox/Newsletters")
			m.done()
		}
	}
	if typo != "" {
		m.ev(trace[:], og.arn, "INCOMING_EMAIL_BOUNCED")
		m.bounced(typo, 0)
		m.done()
	}
	if journal {
		m.ev(trace[:], og.arn, "JOURNALING_INITIATED")
		m.str("journalingAddress", "journal@"+og.domain)
		m.done()
	}
}

func (g *Generator) outbound(m *message) {
	r := &g.r
	w := g.w
	ui := r.skewed(len(w.users))
	u := &w.users[ui]
	og := &w.orgs[u.org]
	m.org = int(u.org)
	var trace [36]byte
	appendUUID(trace[:0], r.u64(), r.u64())

	from, sender := u.email, ""
	if u.delegate >= 0 && r.chance(0.2) {
		from, sender = w.users[u.delegate].email, u.email
	}
	n := 1
	if r.chance(0.3) {
		n += r.intn(4)
	}
	rcpts := g.mail.rcpts[:0]
	var internal []bool
	for range n {
		if r.chance(0.75) {
			dom := externalDomains.pick(r)
			if dom == "newsletter.shop.example" || dom == "bank-notices.example" {
				dom = "gmail.com" // nobody writes to a no-reply sender
			}
			rcpts = append(rcpts, g.externalAddress(dom))
			internal = append(internal, false)
		} else {
			rcpts = append(rcpts, w.users[og.users[r.intn(len(og.users))]].email)
			internal = append(internal, true)
		}
	}
	g.mail.rcpts = rcpts

	m.ev(trace[:], og.arn, "OUTGOING_EMAIL_SUBMITTED")
	m.list("recipients", rcpts)
	if sender != "" {
		m.str("sender", sender)
	}
	m.str("from", from)
	m.str("subject", subjects[r.intn(len(subjects))])
	m.done()
	if r.chance(0.02) {
		m.ev(trace[:], og.arn, "RULE_APPLIED")
		m.str("ruleName", "external-disclaimer")
		m.str("ruleType", "OUTBOUND_RULE")
		m.ruleActions("DEFAULT", rcpts)
		m.done()
	}
	msgID := g.messageID(og.domain)
	for k, rc := range rcpts {
		switch {
		case internal[k]:
			m.ev(trace[:], og.arn, "MAILBOX_EMAIL_DELIVERED")
			m.str("recipient", rc)
			m.str("folder", "/Inbox")
		case r.chance(0.025):
			m.ev(trace[:], og.arn, "OUTGOING_EMAIL_BOUNCED")
			m.bounced(rc, []int{0, 1, 2, 3, 0, 0}[r.intn(6)])
		default:
			m.ev(trace[:], og.arn, "OUTGOING_EMAIL_SENT")
			m.str("recipient", rc)
			if sender != "" {
				m.str("sender", sender)
			}
			m.str("from", from)
			m.str("messageId", msgID)
		}
		m.done()
	}
	if u.legalHold {
		m.ev(trace[:], og.arn, "JOURNALING_INITIATED")
		m.str("journalingAddress", "journal@"+og.domain)
		m.done()
	}
}
