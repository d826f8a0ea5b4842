package gen

import (
	"strconv"

	"github.com/mailtrail/mailtrail/internal/event"
)

// Campaign rates, per authentication pick while idle. With the defaults
// they give ~60 brute-force bursts and ~15 sprays per 10M records: about
// 35k attacker failures next to ~8k failures by legitimate users.
const (
	bruteStart = 3.6e-5
	sprayStart = 1.4e-5
	// Legitimate users mistype passwords, keep stale ones on a phone, ...
	legitFailRate = 0.0056
)

type bruteState struct {
	left   int // attempts to go
	tries  int // attempts so far
	ip     int // index into world.bruteIPs
	target int // user index, or -1 for a guessed non-mailbox name
	guess  string
	org    int
	proto  string
	agent  string
}

type sprayState struct {
	left   int
	ip     int
	org    int
	cursor int // next position in the org's user list
	proto  string
	agent  string
}

type intruderState struct {
	left  int // mailbox reads to go
	user  int
	ip    string
	agent string
	proto string
}

// mbx holds the fields of one mailbox access record after the head.
type mbx struct {
	user, owner  int
	impersonator string
	proto, ip    string
	agent        string // "" for transport-side access (no client)
	action       string
	objectType   string
	item         uint64 // 0: no item
	folder       int    // index into folderPaths.vals, or -1 with folderName set
	folderName   string
	attachment   string
	allowed      bool
}

func (g *Generator) appendMailbox(b []byte, m *mbx) []byte {
	users := g.w.users
	b = appendKV(b, "user_id", users[m.user].id)
	if m.impersonator != "" {
		b = appendKV(b, "impersonator_id", m.impersonator)
	}
	b = appendKV(b, "protocol", m.proto)
	b = appendKV(b, "source_ip", m.ip)
	// Transport-side access has no client; the key stays, empty, because
	// every mailbox access record carries a user_agent.
	b = appendKS(b, "user_agent", m.agent)
	b = appendKV(b, "action", m.action)
	b = appendKV(b, "owner_id", users[m.owner].id)
	b = appendKV(b, "object_type", m.objectType)
	if m.item != 0 {
		b = append(b, `,"item_id":"AAMkA`...)
		b = appendB64(b, mix64(uint64(m.owner)<<24^m.item), 24)
		b = append(b, `AAA="`...)
	}
	folder, fkey := m.folderName, uint64(0)
	if m.folder >= 0 {
		folder, fkey = folderPaths.vals[m.folder], uint64(m.folder)+1
	} else {
		for i := 0; i < len(folder); i++ {
			fkey = fkey*131 + uint64(folder[i])
		}
	}
	b = appendKS(b, "folder_path", folder)
	b = append(b, `,"folder_id":"AQMkA`...)
	b = appendB64(b, mix64(uint64(m.owner)<<20^fkey^0xf01de5), 22)
	b = append(b, `AAAB"`...)
	if m.attachment != "" {
		b = appendKS(b, "attachment_path", m.attachment)
	}
	b = appendKBool(b, "action_allowed", m.allowed)
	return append(b, '}')
}

// itemNumber draws an item of a mailbox's working set: a few thousand
// items, a handful of them hot.
func (g *Generator) itemNumber() uint64 {
	x := g.r.float()
	return 1 + uint64(x*x*x*4000)
}

// usableDevice returns one of u's devices that access control lets in.
func (g *Generator) usableDevice(u *user) *device {
	n := len(u.devices)
	k := g.r.intn(n)
	for j := range n {
		if d := &u.devices[(k+j)%n]; d.blocked == 0 {
			return d
		}
	}
	return &u.devices[k]
}

// deviceIP is where a device connects from this time: its home or office
// address, or for phones now and then anywhere.
func (g *Generator) deviceIP(d *device) string {
	if clientKinds[d.kind].mobile && g.r.chance(0.12) {
		return g.w.ips[g.r.intn(len(g.w.ips))]
	}
	return g.w.ips[d.ip]
}

func (g *Generator) mailbox(b []byte) []byte {
	if g.followOK {
		g.followOK = false
		g.kind, g.org = KindMailboxAccess, g.followOrg
		b = append(b, `{"event_timestamp":`...)
		b = strconv.AppendInt(b, g.ts, 10)
		return append(b, g.follow...)
	}
	if g.intruder.left > 0 && g.r.chance(0.05) {
		return g.intruderRead(b)
	}
	if g.r.chance(0.015) {
		return g.transport(b)
	}
	r := &g.r
	users := g.w.users
	ui := r.skewed(len(users))
	u := &users[ui]
	og := &g.w.orgs[u.org]
	m := mbx{user: ui, owner: ui, allowed: true}
	if u.delegate >= 0 && r.chance(0.15) {
		m.owner = int(u.delegate)
	}
	if r.chance(0.003) {
		// An archiving or CRM integration reading through an
		// impersonation role over EWS.
		m.impersonator = og.impRoleIDs[r.intn(len(og.impRoleIDs))]
		m.proto, m.ip, m.agent = pEWS, g.w.ips[og.office[0]], "ExchangeServicesClient/15.00.0913.015"
		m.owner = ui
	} else {
		d := g.usableDevice(u)
		m.proto = clientKinds[d.kind].protos.pick(r)
		m.ip, m.agent = g.deviceIP(d), d.agent
	}
	m.action = mailboxActions.pick(r)
	switch m.action {
	case "read_hierarchy", "read_permissions", "update_permissions":
		m.objectType = "Folder"
	case "read_attachment":
		m.objectType = "Attachment"
	case "create":
		m.objectType = "Message"
		if r.chance(0.15) {
			m.objectType = "Folder"
		}
	default:
		m.objectType = "Message"
		if r.chance(0.07) {
			m.objectType = "Folder"
		}
	}
	m.folder = folderPaths.d.draw(r)
	if m.objectType != "Folder" {
		m.item = g.itemNumber()
	}
	if m.objectType == "Attachment" {
		m.attachment = "/" + subjects[m.item%uint64(len(subjects))] + "/" + attachmentNames[(m.item>>3)%uint64(len(attachmentNames))]
	}
	if m.owner != m.user && (m.action == "delete" || m.action == "move" || m.action == "update_permissions") && r.chance(0.3) {
		m.allowed = false // a delegate with read-only rights
	} else if r.chance(0.0008) {
		m.allowed = false
	}
	b = g.head(b, KindMailboxAccess, int(u.org))
	reqAt := g.reqAt
	b = g.appendMailbox(b, &m)

	if m.allowed && (m.action == "move" || m.action == "copy") {
		// The destination side of the same request.
		f := g.follow[:0]
		f = append(f, `,"request_id":"`...)
		f = append(f, b[reqAt:reqAt+36]...)
		f = append(f, `","organization_arn":"`...)
		f = append(f, og.arn...)
		f = append(f, '"')
		d := m
		d.action += "_to"
		d.objectType, d.item, d.attachment = "Folder", 0, ""
		d.folder, d.folderName = -1, moveTargets.pick(r)
		g.follow = g.appendMailbox(f, &d)
		g.followOK, g.followOrg = true, int(u.org)
	}
	return b
}

// transport is mailbox access by WorkMail's own mail flow: delivery into a
// mailbox and pickup of a message being sent.
func (g *Generator) transport(b []byte) []byte {
	r := &g.r
	ui := r.skewed(len(g.w.users))
	u := &g.w.users[ui]
	m := mbx{user: ui, owner: ui, allowed: true, objectType: "Message", item: g.itemNumber(), folder: -1}
	m.ip = g.w.mtaIPs[r.intn(len(g.w.mtaIPs))]
	if r.chance(0.75) {
		m.proto, m.action, m.folderName = pIncomingEmail, "create", "/Inbox"
		if r.chance(0.06) {
			m.folderName = "/Junk E-mail"
		}
	} else {
		m.proto, m.action, m.folderName = pOutgoingEmail, "read", "/Outbox"
	}
	b = g.head(b, KindMailboxAccess, int(u.org))
	return g.appendMailbox(b, &m)
}

// intruderRead is the attacker who got in reading the victim's mail.
func (g *Generator) intruderRead(b []byte) []byte {
	r := &g.r
	it := &g.intruder
	it.left--
	u := &g.w.users[it.user]
	m := mbx{user: it.user, owner: it.user, allowed: true, proto: it.proto, ip: it.ip, agent: it.agent}
	switch x := r.intn(10); {
	case x < 5:
		m.action, m.objectType = "read", "Message"
	case x < 7:
		m.action, m.objectType = "read_attachment", "Attachment"
	case x < 9:
		m.action, m.objectType = "read_summary", "Message"
	default:
		m.action, m.objectType = "read_hierarchy", "Folder"
	}
	m.folder = folderPaths.d.draw(r)
	if m.objectType != "Folder" {
		m.item = 1 + uint64(r.intn(4000))
	}
	if m.objectType == "Attachment" {
		m.attachment = "/" + subjects[m.item%uint64(len(subjects))] + "/" + attachmentNames[(m.item>>3)%uint64(len(attachmentNames))]
	}
	b = g.head(b, KindMailboxAccess, int(u.org))
	return g.appendMailbox(b, &m)
}

// campaigns starts brute-force bursts and sprays.
func (g *Generator) campaigns() {
	r := &g.r
	w := g.w
	if g.brute.left == 0 && r.chance(bruteStart) {
		bs := bruteState{ip: w.bruteDist.draw(r), left: 60 + r.intn(900), target: -1}
		if r.chance(0.65) {
			bs.target = r.intn(len(w.users))
			bs.org = int(w.users[bs.target].org)
		} else {
			bs.org = r.intn(len(w.orgs))
			bs.guess = guessedLocals[r.intn(len(guessedLocals))] + "@" + w.orgs[bs.org].domain
		}
		bs.proto = attackProtocols.pick(r)
		bs.agent = attackAgents[(bs.ip+r.intn(2))%len(attackAgents)]
		g.brute = bs
	}
	if g.spray.left == 0 && r.chance(sprayStart) {
		o := r.intn(len(w.orgs))
		n := len(w.orgs[o].users)
		g.spray = sprayState{ip: r.intn(len(w.sprayIPs)), org: o, cursor: r.intn(n),
			left: min(n, 200+r.intn(1000)), proto: attackProtocols.pick(r),
			agent: attackAgents[r.intn(len(attackAgents))]}
	}
}

func (g *Generator) auth(b []byte) []byte {
	r := &g.r
	g.campaigns()
	if g.brute.left > 0 && r.chance(0.55) {
		return g.bruteAttempt(b)
	}
	if g.spray.left > 0 && r.chance(0.3) {
		return g.sprayAttempt(b)
	}
	if it := &g.intruder; it.left > 0 && r.chance(0.01) {
		// The intruder logs in again with the stolen password.
		b = g.head(b, KindAuthentication, int(g.w.users[it.user].org))
		return g.appendAuth(b, it.user, g.w.users[it.user].email, it.proto, it.ip, it.agent, true, "", false)
	}
	users := g.w.users
	ui := r.skewed(len(users))
	u := &users[ui]
	d := g.usableDevice(u)
	proto := clientKinds[d.kind].protos.pick(r)
	if proto == pWebMail {
		// WebMail logins are not logged; the browser's EWS calls are.
		proto = pEWS
	}
	pat := u.patID != "" && (proto == pIMAP || proto == pSMTP) && r.chance(0.7)
	ok := !r.chance(legitFailRate)
	reason := ""
	if !ok {
		reason = authFailReasons.pick(r)
		if reason == "Invalid personal access token" && !pat {
			reason = "Invalid username or password"
		}
	}
	b = g.head(b, KindAuthentication, int(u.org))
	return g.appendAuth(b, ui, u.email, proto, g.deviceIP(d), d.agent, ok, reason, pat)
}

func (g *Generator) appendAuth(b []byte, ui int, login, proto, ip, agent string, ok bool, reason string, pat bool) []byte {
	if ok && ui >= 0 {
		b = appendKV(b, "user_id", g.w.users[ui].id)
	}
	b = appendKS(b, "user", login)
	b = appendKV(b, "protocol", proto)
	b = appendKV(b, "source_ip", ip)
	b = appendKS(b, "user_agent", agent)
	b = append(b, `,"method":"basic"`...)
	b = appendKBool(b, "auth_successful", ok)
	if !ok {
		b = appendKS(b, "auth_failed_reason", reason)
	}
	if pat && ui >= 0 {
		b = appendKV(b, "personal_access_token_id", g.w.users[ui].patID)
	}
	return append(b, '}')
}

func (g *Generator) bruteAttempt(b []byte) []byte {
	r := &g.r
	bs := &g.brute
	bs.left--
	bs.tries++
	proto := bs.proto
	if r.chance(0.2) {
		proto = attackProtocols.pick(r)
	}
	ip := g.w.bruteIPs[bs.ip]
	login, ui := bs.guess, -1
	if bs.target >= 0 {
		ui = bs.target
		login = g.w.users[ui].email
	}
	ok := ui >= 0 && r.intn(4000) == 0
	reason := "Invalid username or password"
	if !ok && ui >= 0 && bs.tries > 50 && r.chance(0.3) {
		reason = "Account is locked"
	}
	b = g.head(b, KindAuthentication, bs.org)
	b = g.appendAuth(b, ui, login, proto, ip, bs.agent, ok, reason, false)
	if ok {
		g.breakIn(ui, ip, bs.agent)
	}
	return b
}

func (g *Generator) sprayAttempt(b []byte) []byte {
	r := &g.r
	sp := &g.spray
	sp.left--
	og := &g.w.orgs[sp.org]
	ui := int(og.users[sp.cursor%len(og.users)])
	sp.cursor++
	ip := g.w.sprayIPs[sp.ip]
	ok := r.intn(2500) == 0
	b = g.head(b, KindAuthentication, sp.org)
	b = g.appendAuth(b, ui, g.w.users[ui].email, sp.proto, ip, sp.agent, ok, "Invalid username or password", false)
	if ok {
		g.breakIn(ui, ip, sp.agent)
	}
	return b
}

// breakIn starts an intrusion: the attacker reads the victim's mail for a
// while and plants a forwarding rule to an outside address.
func (g *Generator) breakIn(ui int, ip, agent string) {
	r := &g.r
	proto := pIMAP
	if r.chance(0.4) {
		proto = pEWS
	}
	g.intruder = intruderState{left: 100 + r.intn(300), user: ui, ip: ip, agent: agent, proto: proto}
	g.w.users[ui].forward = "archive." + strconv.Itoa(r.intn(100000)) + "@protonmail.com"
}

// evaluate applies an org's access control rules in WorkMail's order
// (formats.md §3.1): DENY wins, then ALLOW, and no match is a DENY with no
// rule_id.
func evaluate(og *org, proto string, office, listed bool) (rule string, granted bool) {
	switch {
	case listed:
		return og.ruleBlockBad, false
	case proto == pIMAP && og.ruleBlockIMAP != "" && !office:
		return og.ruleBlockIMAP, false
	case office:
		return og.ruleAllowOffice, true
	case proto == pActiveSync:
		return og.ruleAllowMobile, true
	case og.ruleAllowAll != "":
		return og.ruleAllowAll, true
	case og.ruleAllowClients != "" && proto != pIMAP && proto != pSMTP:
		return og.ruleAllowClients, true
	}
	return "", false
}

func (g *Generator) appendACL(b []byte, ui int, impersonator, proto, ip, scope, rule string, granted bool) []byte {
	b = appendKV(b, "user_id", g.w.users[ui].id)
	if impersonator != "" {
		b = appendKV(b, "impersonator_id", impersonator)
	}
	b = appendKV(b, "protocol", proto)
	b = appendKV(b, "source_ip", ip)
	b = appendKV(b, "scope", scope)
	if rule != "" {
		b = appendKV(b, "rule_id", rule)
	}
	b = appendKBool(b, "access_granted", granted)
	return append(b, '}')
}

func (g *Generator) accessControl(b []byte) []byte {
	r := &g.r
	w := g.w
	if g.brute.left > 0 && r.chance(0.25) {
		bs := &g.brute
		ui := bs.target
		if ui < 0 {
			og := &w.orgs[bs.org]
			ui = int(og.users[r.intn(len(og.users))])
		}
		rule, ok := evaluate(&w.orgs[bs.org], bs.proto, false, w.badListed[bs.ip])
		b = g.head(b, KindAccessControl, bs.org)
		return g.appendACL(b, ui, "", bs.proto, w.bruteIPs[bs.ip], "AccessControl", rule, ok)
	}
	if g.spray.left > 0 && r.chance(0.08) {
		sp := &g.spray
		og := &w.orgs[sp.org]
		ui := int(og.users[(sp.cursor+len(og.users)-1)%len(og.users)]) // the user just tried
		rule, ok := evaluate(og, sp.proto, false, false)
		b = g.head(b, KindAccessControl, sp.org)
		return g.appendACL(b, ui, "", sp.proto, w.sprayIPs[sp.ip], "AccessControl", rule, ok)
	}
	ui := r.skewed(len(w.users))
	u := &w.users[ui]
	og := &w.orgs[u.org]
	b = g.head(b, KindAccessControl, int(u.org))
	if r.chance(0.02) {
		role := og.impRoleIDs[r.intn(len(og.impRoleIDs))]
		rule, ok := og.impAllowRuleID, true
		if r.chance(0.08) {
			rule, ok = og.impDenyRuleID, false
		}
		return g.appendACL(b, ui, role, pEWS, w.ips[og.office[0]], "ImpersonationAccessControl", rule, ok)
	}
	// Blocked clients retry far more often than working ones sync.
	var d *device
	for k := range u.devices {
		if u.devices[k].blocked != 0 && r.chance(0.85) {
			d = &u.devices[k]
			break
		}
	}
	if d == nil {
		d = g.usableDevice(u)
	}
	proto := clientKinds[d.kind].protos.pick(r)
	ip := g.deviceIP(d)
	if proto == pActiveSync && r.chance(0.35) {
		if d.blocked == blockedDevice {
			return g.appendACL(b, ui, "", proto, ip, "DeviceAccessControl", og.deviceDenyID, false)
		}
		return g.appendACL(b, ui, "", proto, ip, "DeviceAccessControl", og.deviceAllowID, true)
	}
	office := d.office && ip == w.ips[d.ip]
	rule, ok := evaluate(og, proto, office, false)
	return g.appendACL(b, ui, "", proto, ip, "AccessControl", rule, ok)
}

func (g *Generator) availability(b []byte) []byte {
	r := &g.r
	ui := r.skewed(len(g.w.users))
	u := &g.w.users[ui]
	og := &g.w.orgs[u.org]
	k := r.intn(len(og.availDomain))
	errMsg := availErrors.pick(r)
	b = g.head(b, KindAvailabilityProvider, int(u.org))
	b = appendKV(b, "user_id", u.id)
	if k < 2 {
		if errMsg == "Lambda invocation timed out" {
			errMsg = "The request timed out"
		}
		b = append(b, `,"type":"EWS"`...)
		b = appendKV(b, "domain", og.availDomain[k])
		b = appendKV(b, "ews_endpoint", og.ewsEndpoint)
	} else {
		b = append(b, `,"type":"LAMBDA"`...)
		b = appendKV(b, "domain", og.availDomain[k])
		b = appendKV(b, "function_arn", og.lambdaARN)
	}
	b = appendKBool(b, "availability_event_successful", errMsg == "")
	if errMsg != "" {
		b = appendKS(b, "error_message", errMsg)
	}
	return append(b, '}')
}

func (g *Generator) personalAccessToken(b []byte) []byte {
	r := &g.r
	ui := r.skewed(len(g.w.users))
	u := &g.w.users[ui]
	d := &u.devices[0]
	agent := clientKinds[4].agents[ui%len(clientKinds[4].agents)]
	action := "create"
	if r.chance(0.3) {
		action = "delete"
	}
	b = g.head(b, KindPersonalAccessToken, int(u.org))
	b = appendKV(b, "user_id", u.id)
	b = appendKS(b, "user", u.local)
	b = append(b, `,"protocol":"webapp"`...)
	b = appendKV(b, "source_ip", g.w.ips[d.ip])
	b = appendKS(b, "user_agent", agent)
	b = appendKV(b, "action", action)
	b = appendKS(b, "name", patNames[(ui+r.intn(2))%len(patNames)])
	days := []int64{30, 90, 180, 365}[r.intn(4)]
	b = append(b, `,"expires_time":"`...)
	b = appendISODate(b, (g.ts/86_400_000+days)*86_400_000)
	b = append(b, `","scopes":[`...)
	for i, s := range patScopes[r.intn(len(patScopes))] {
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendString(b, s)
	}
	return append(b, ']', '}')
}
