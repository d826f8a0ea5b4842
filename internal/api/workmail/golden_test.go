package workmail

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestGoldenTranscript pins the wire form of every operation: member names,
// epoch-second timestamps, empty answers and error bodies. Random ids are
// replaced by placeholders (<org-1>, <user-1>, <directory-1>) and the clock
// is fixed, so the transcript is reproducible. Run with -update after an
// intended change and review the diff.
func TestGoldenTranscript(t *testing.T) {
	e := newEnv(t, nil)
	script := []struct{ op, body string }{
		{"CreateOrganization", `{"Alias":"acme","ClientToken":"token-1"}`},
		{"CreateOrganization", `{"Alias":"acme","ClientToken":"token-1"}`},
		{"CreateOrganization", `{"Alias":"acme"}`},
		{"DescribeOrganization", `{"OrganizationId":"<org-1>"}`},
		{"ListOrganizations", `{}`},
		{"CreateUser", `{"OrganizationId":"<org-1>","Name":"bob","DisplayName":"Bob Example","Password":"Secret-Pass1","FirstName":"Bob"}`},
		{"CreateUser", `{"OrganizationId":"<org-1>","Name":"alice@acme.example","DisplayName":"Alice"}`},
		{"ListUsers", `{"OrganizationId":"<org-1>","MaxResults":1}`},
		{"DescribeUser", `{"OrganizationId":"<org-1>","UserId":"bob"}`},
		{"ListAccessControlRules", `{"OrganizationId":"<org-1>"}`},
		{"PutAccessControlRule", `{"OrganizationId":"<org-1>","Name":"deny-imap","Effect":"DENY","Description":"No IMAP for bob","IpRanges":["0.0.0.0/0"],"Actions":["imap"],"UserIds":["<user-1>"]}`},
		{"PutAccessControlRule", `{"OrganizationId":"<org-1>","Name":"office-only","Effect":"DENY","Description":"Outside the office","NotIpRanges":["192.0.2.0/24"],"NotActions":["SMTP"],"NotUserIds":["<user-2>"]}`},
		{"ListAccessControlRules", `{"OrganizationId":"<org-1>"}`},
		{"GetAccessControlEffect", `{"OrganizationId":"<org-1>","IpAddress":"192.0.2.10","Action":"IMAP","UserId":"<user-1>"}`},
		{"GetAccessControlEffect", `{"OrganizationId":"<org-1>","IpAddress":"192.0.2.10","Action":"WebMail","UserId":"<user-2>"}`},
		{"DeleteAccessControlRule", `{"OrganizationId":"<org-1>","Name":"deny-imap"}`},
		{"PutAccessControlRule", `{"OrganizationId":"<org-1>","Name":"bad","Effect":"DENY","Description":"x","IpRanges":["300.0.0.0/8"]}`},
		{"DescribeOrganization", `{"OrganizationId":"m-00000000000000000000000000000000"}`},
		{"DeleteOrganization", `{}`},
	}
	ids := map[string]string{}   // placeholder -> real id
	masks := map[string]string{} // real id -> placeholder
	register := func(kind, id string) {
		if id == "" || masks[id] != "" {
			return
		}
		n := 1
		for ids[fmt.Sprintf("<%s-%d>", kind, n)] != "" {
			n++
		}
		p := fmt.Sprintf("<%s-%d>", kind, n)
		ids[p], masks[id] = id, p
	}
	mask := func(s string) string {
		keys := make([]string, 0, len(masks))
		for k := range masks {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
		for _, k := range keys {
			s = strings.ReplaceAll(s, k, masks[k])
		}
		return s
	}
	var out bytes.Buffer
	for _, step := range script {
		body := step.body
		for p, id := range ids {
			body = strings.ReplaceAll(body, p, id)
		}
		r := e.post(TargetPrefix+step.op, []byte(body))
		register("org", r.str("OrganizationId"))
		register("user", r.str("UserId"))
		register("directory", r.str("DirectoryId"))
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, bytes.TrimSpace(r.Raw), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "### %s\n> %s\n< HTTP %d", step.op, step.body, r.Status)
		if et := r.Header.Get("X-Amzn-ErrorType"); et != "" {
			fmt.Fprintf(&out, " X-Amzn-ErrorType: %s", et)
		}
		fmt.Fprintf(&out, "\n  %s\n\n", mask(pretty.String()))
	}
	path := filepath.Join("testdata", "transcript.golden")
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, out.Bytes()) {
		t.Errorf("transcript differs from %s (run with -update and review):\n%s", path, lineDiff(string(want), out.String()))
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
