package gen

import (
	"bytes"
	"testing"
)

// TestStories checks that the incidents an investigator hunts for are in a
// month of the default world: brute force, spraying, a break-in followed
// by mail reading and a forwarding rule, denials by named rules.
func TestStories(t *testing.T) {
	if testing.Short() {
		t.Skip("3M records")
	}
	g, err := New(cfgN(3_000_000))
	if err != nil {
		t.Fatal(err)
	}
	attacker := map[string]bool{}
	for _, ip := range g.w.bruteIPs {
		attacker[ip] = true
	}
	for _, ip := range g.w.sprayIPs {
		attacker[ip] = true
	}
	failsByIP := map[string]int{}
	usersByIP := map[string]map[string]bool{}
	var breakIns, intruderReads, forwards, imapDenied, deviceDenied, noRuleDenied int
	for r := range g.All() {
		j := string(r.JSON)
		switch r.Kind {
		case KindAuthentication:
			ip := field(j, "source_ip")
			if bytes.Contains(r.JSON, []byte(`"auth_successful":false`)) {
				failsByIP[ip]++
				if usersByIP[ip] == nil {
					usersByIP[ip] = map[string]bool{}
				}
				usersByIP[ip][field(j, "user")] = true
			} else if attacker[ip] {
				breakIns++
			}
		case KindMailboxAccess:
			if attacker[field(j, "source_ip")] {
				intruderReads++
			}
		case KindAccessControl:
			switch {
			case !bytes.Contains(r.JSON, []byte(`"access_granted":false`)):
			case field(j, "rule_id") == "block-imap-outside-office":
				imapDenied++
			case field(j, "scope") == "DeviceAccessControl":
				deviceDenied++
			case field(j, "rule_id") == "":
				noRuleDenied++
			}
		case KindEmailEvent:
			if bytes.Contains(r.JSON, []byte(`"action":"FORWARD"`)) && field(j, "targetRecipient") != "" {
				forwards++
			}
		}
	}
	var brute, spray int
	for ip, n := range failsByIP {
		if n >= 200 && len(usersByIP[ip]) <= 3 {
			brute++
		}
		if len(usersByIP[ip]) >= 150 {
			spray++
		}
	}
	t.Logf("brute-force sources %d, spray sources %d, attacker logins %d, intruder mailbox reads %d, forwards %d, IMAP denials %d, device denials %d, no-rule denials %d",
		brute, spray, breakIns, intruderReads, forwards, imapDenied, deviceDenied, noRuleDenied)
	for what, n := range map[string]int{
		"brute-force sources (≥200 failures, ≤3 users)": brute,
		"spray sources (≥150 users)":                    spray,
		"successful attacker logins":                    breakIns,
		"mailbox reads from attacker addresses":         intruderReads,
		"FORWARD mailbox rules":                         forwards,
		"IMAP denials by block-imap-outside-office":     imapDenied,
		"mobile device rule denials":                    deviceDenied,
		"denials with no matching rule":                 noRuleDenied,
	} {
		if n == 0 {
			t.Errorf("no %s in 3M records", what)
		}
	}
}
