package workmail

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/org"
)

// benchHandler is a handler with one organization of n users and a DENY
// rule, served in-process (no network) so the figures are the handler's.
func benchHandler(b *testing.B, n int) (*Handler, org.Organization, []org.User) {
	b.Helper()
	data := b.TempDir()
	dir, err := org.Open(data+"/org", org.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rules, err := access.Open(data+"/access", dir, access.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(Config{Dir: dir, Rules: rules, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	o, err := dir.CreateOrganization(DefaultAccount, org.CreateOrganizationInput{Region: "us-east-1", Alias: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	var users []org.User
	for i := range n {
		u, err := dir.CreateUser(DefaultAccount, o.ID, org.CreateUserInput{Name: fmt.Sprintf("user%d", i), DisplayName: "User"})
		if err != nil {
			b.Fatal(err)
		}
		users = append(users, u)
	}
	if _, err := rules.PutRule(DefaultAccount, o.ID, access.Rule{Name: "deny-imap", Effect: access.Deny, Description: "d",
		IpRanges: []string{"0.0.0.0/0"}, Actions: []access.Action{access.ActionIMAP}, UserIds: []string{users[0].ID}}); err != nil {
		b.Fatal(err)
	}
	return h, o, users
}

func serve(b *testing.B, h http.Handler, op string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", TargetPrefix+op)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("%s: HTTP %d %s", op, rec.Code, rec.Body.Bytes())
	}
}

func BenchmarkGetAccessControlEffect(b *testing.B) {
	h, o, users := benchHandler(b, 1)
	body := fmt.Appendf(nil, `{"OrganizationId":%q,"IpAddress":"203.0.113.9","Action":"IMAP","UserId":%q}`, o.ID, users[0].ID)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, "GetAccessControlEffect", body)
	}
}

func BenchmarkListUsers100(b *testing.B) {
	h, o, _ := benchHandler(b, 100)
	body := fmt.Appendf(nil, `{"OrganizationId":%q}`, o.ID)
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, "ListUsers", body)
	}
}

func BenchmarkDecodePutAccessControlRule(b *testing.B) {
	body := []byte(`{"OrganizationId":"m-0123456789abcdef0123456789abcdef","Name":"deny-imap","Effect":"DENY","Description":"d","IpRanges":["0.0.0.0/0","10.0.0.0/8"],"Actions":["IMAP","EWS"],"UserIds":["12345678-1234-1234-1234-123456789012"]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var in PutAccessControlRuleInput
		if err := DecodeRequest(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}
