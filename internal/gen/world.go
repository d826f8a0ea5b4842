package gen

import (
	"strconv"
)

// world is everything fixed before the first record: organizations and
// their rules, users and their devices, the address pools.
type world struct {
	orgs  []org
	users []user
	ips   []string // legitimate client addresses

	bruteIPs  []string // brute-force sources, weighted by bruteDist
	bruteDist dist
	sprayIPs  []string // password-spray sources
	mtaIPs    []string // inbound relays (transport-side mailbox access)
	badListed []bool   // bruteIPs[i] is on the orgs' block list
}

type org struct {
	arn    string
	domain string
	users  []int32 // indices into world.users, in creation order

	office []int32 // NAT addresses of the offices, indices into world.ips

	// Access control rules are referred to by name (the API has no other
	// id for them); mobile-device and impersonation rules by their ids.
	ruleBlockBad     string
	ruleBlockIMAP    string // "" when the org allows IMAP from anywhere
	ruleAllowOffice  string
	ruleAllowMobile  string
	ruleAllowAll     string // "" when the org removed the default rule: no match means deny
	ruleAllowClients string // the narrower allow rule of an org without the default one
	deviceAllowID    string
	deviceDenyID     string
	impRoleIDs       []string
	impAllowRuleID   string
	impDenyRuleID    string

	lambdaARN   string
	ewsEndpoint string
	availDomain [4]string // partner domains whose free/busy is asked for
}

type user struct {
	org       int32
	id        string
	email     string
	local     string
	devices   []device
	delegate  int32 // mailbox this user may send on behalf of / open, -1 none
	legalHold bool  // mail to this user is journaled
	patID     string
	forward   string // external address a mailbox rule forwards to, "" none
}

type device struct {
	kind    uint8
	agent   string
	ip      int32
	office  bool
	blocked uint8 // 0 allowed, blockedIMAP, blockedDevice
}

const (
	blockedIMAP   = 1
	blockedDevice = 2
)

// ipv4 renders a public-looking address from a hash, steering clear of
// private, loopback, CGNAT, link-local and multicast ranges.
func ipv4(h uint64) string {
	a := 11 + h%212
	switch a {
	case 100, 127, 169, 172, 192:
		a++
	}
	b := make([]byte, 0, 15)
	b = strconv.AppendUint(b, a, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, (h>>8)&255, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, (h>>16)&255, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, 1+(h>>24)%254, 10)
	return string(b)
}

func newWorld(cfg Config, r *rng) *world {
	w := &world{}
	seed := cfg.Seed

	w.ips = make([]string, cfg.IPs)
	for i := range w.ips {
		w.ips[i] = ipv4(mix64(seed<<24 ^ uint64(i)*0x9e3779b9))
	}
	for k := range 12 {
		w.bruteIPs = append(w.bruteIPs, ipv4(mix64(seed^0xb7e15162<<8+uint64(k))))
		// Two of the loudest sources are already on the block list.
		w.badListed = append(w.badListed, k%3 != 1)
	}
	w.bruteDist = newDist(30, 20, 12, 9, 7, 5, 4, 4, 3, 3, 2, 1)
	for k := range 6 {
		w.sprayIPs = append(w.sprayIPs, ipv4(mix64(seed^0x5a5a0000+uint64(k))))
	}
	for k := range 50 {
		w.mtaIPs = append(w.mtaIPs, ipv4(mix64(seed^0x3170000+uint64(k))))
	}

	for o := range cfg.Orgs {
		w.orgs = append(w.orgs, newOrg(cfg, o))
	}

	w.users = make([]user, cfg.Users)
	taken := make(map[string]int, cfg.Users)
	for i := range w.users {
		u := &w.users[i]
		// Org 0 is the largest: it gets every third user on top of its
		// round-robin share.
		o := int(mix64(uint64(i)^seed) % uint64(cfg.Orgs))
		switch {
		case i < cfg.Orgs:
			o = i // no org is left without users
		case i%3 == 0:
			o = 0
		}
		u.org = int32(o)
		og := &w.orgs[o]
		og.users = append(og.users, int32(i))

		local := givenNames[r.intn(len(givenNames))] + "." + familyNames[r.intn(len(familyNames))]
		key := local + "@" + og.domain
		if n := taken[key]; n > 0 {
			taken[key] = n + 1
			local += strconv.Itoa(n + 1)
		} else {
			taken[key] = 1
		}
		u.local = local
		u.email = local + "@" + og.domain
		u.id = userID(seed, o, i)
		u.delegate = -1
		u.legalHold = r.chance(0.03)
		if r.chance(0.004) {
			u.forward = local + "." + strconv.Itoa(r.intn(100)) + "@gmail.com"
		}

		nd := 1 + r.intn(3)
		for range nd {
			u.devices = append(u.devices, w.newDevice(cfg, o, r))
		}
		usable := false
		for _, d := range u.devices {
			usable = usable || d.blocked == 0
		}
		if !usable {
			// Everybody can read their mail somehow; a blocked client
			// keeps retrying next to a browser that works.
			u.devices = append(u.devices, device{kind: 4, agent: clientKinds[4].agents[0], ip: og.office[0], office: true})
		}
		for _, d := range u.devices {
			if clientKinds[d.kind].imap && u.patID == "" && r.chance(0.3) {
				var b []byte
				u.patID = string(appendUUID(b, mix64(seed^uint64(i)<<20), mix64(seed+uint64(i)*7)))
			}
		}
	}
	// Delegates (assistants, shared mailboxes) within the same org.
	for i := range w.users {
		u := &w.users[i]
		og := &w.orgs[u.org]
		if len(og.users) > 1 && r.chance(0.08) {
			u.delegate = og.users[r.intn(len(og.users))]
		}
	}
	return w
}

// userID returns a WorkMail entity id: SID-like for even orgs (older
// organizations), GUIDs for odd ones.
func userID(seed uint64, o, i int) string {
	if o%2 == 1 {
		return string(appendUUID(nil, mix64(seed^uint64(i)<<17^0xace), mix64(seed+uint64(i)^0xfee)))
	}
	h := mix64(seed*131 + uint64(o))
	b := []byte("S-1-1-12-")
	b = strconv.AppendUint(b, 1000000000+h%3000000000, 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, 100000000+(h>>20)%899999999, 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, 100000000+(h>>36)%899999999, 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, 1100+uint64(i), 10)
	return string(b)
}

func newOrg(cfg Config, o int) org {
	seed := cfg.Seed
	h := mix64(seed*31 + uint64(o))
	region := orgRegions[o%len(orgRegions)]
	account := strconv.FormatUint(100000000000+h%899999999999, 10)
	b := []byte("arn:aws:workmail:" + region + ":" + account + ":organization/m-")
	for _, x := range []uint64{mix64(h), mix64(h + 1)} {
		for k := 0; k < 16; k++ {
			b = append(b, hexDigits[(x>>(60-4*k))&15])
		}
	}
	og := org{arn: string(b)}
	og.domain = orgDomains[o%len(orgDomains)]
	if o >= len(orgDomains) {
		og.domain = "org" + strconv.Itoa(o) + "." + og.domain
	}
	for k := range 20 {
		og.office = append(og.office, int32((o*20+k)%cfg.IPs))
	}

	og.ruleBlockBad = "block-known-bad-ips"
	og.ruleAllowOffice = "allow-office-network"
	og.ruleAllowMobile = "allow-activesync-anywhere"
	switch o % 3 {
	case 0:
		// The org of the AWS blog post: IMAP only from the office.
		og.ruleBlockIMAP = "block-imap-outside-office"
		og.ruleAllowAll = "default-allow-all"
	case 1:
		og.ruleAllowAll = "default-allow-all"
	case 2:
		// Deleted the default rule: what matches nothing is denied.
		og.ruleBlockIMAP = "deny-imap-external"
		og.ruleAllowClients = "allow-outlook-ews-webmail"
	}
	ruleID := func(k uint64) string {
		return string(appendUUID(nil, mix64(h^k<<32^0x5eed), mix64(h^k<<40^0xd00d)))
	}
	og.deviceAllowID = ruleID(1)
	og.deviceDenyID = ruleID(2)
	og.impRoleIDs = []string{ruleID(3), ruleID(4)}
	og.impAllowRuleID = ruleID(5)
	og.impDenyRuleID = ruleID(6)
	og.lambdaARN = "arn:aws:lambda:" + region + ":" + account + ":function:workmail-availability-provider"
	og.ewsEndpoint = "https://mail.partner" + strconv.Itoa(o) + ".example/EWS/Exchange.asmx"
	for k := range og.availDomain {
		og.availDomain[k] = "partner" + strconv.Itoa(o*4+k) + ".example"
	}
	return og
}

func (w *world) newDevice(cfg Config, o int, r *rng) device {
	og := &w.orgs[o]
	k := clientKindDist.draw(r)
	ck := &clientKinds[k]
	d := device{kind: uint8(k), agent: ck.agents[r.intn(len(ck.agents))]}
	if !ck.mobile && r.chance(0.55) {
		d.ip = og.office[r.intn(len(og.office))]
		d.office = true
	} else {
		d.ip = int32(r.intn(cfg.IPs))
	}
	switch {
	case ck.imap && og.ruleBlockIMAP != "" && !d.office:
		d.blocked = blockedIMAP
	case ck.mobile && r.chance(0.04):
		d.blocked = blockedDevice
	}
	return d
}
