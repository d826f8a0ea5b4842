package workmail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/org"
)

// inputTypes returns a fresh value of every request shape.
func inputTypes() []any {
	return []any{
		new(CreateOrganizationInput), new(OrganizationInput), new(ListOrganizationsInput),
		new(CreateUserInput), new(ListUsersInput), new(DescribeUserInput),
		new(PutAccessControlRuleInput), new(DeleteAccessControlRuleInput), new(GetAccessControlEffectInput),
	}
}

var fuzzSeeds = []string{
	``, `{}`, `null`, `[]`, `"x"`, `{"Alias":"acme"}`, `{"Alias":"acme","Domains":[{"DomainName":"acme.example","HostedZoneId":"Z1"}]}`,
	`{"MaxResults":2,"NextToken":"bzE"}`, `{"MaxResults":2.5}`, `{"MaxResults":-1}`, `{"MaxResults":1e400}`,
	`{"OrganizationId":"m-0123456789abcdef0123456789abcdef","Name":"bob","DisplayName":"Bob","Password":"Secret-Pass1"}`,
	`{"OrganizationId":"m-0123456789abcdef0123456789abcdef","Filters":{"UsernamePrefix":"b"}}`,
	`{"OrganizationId":"m-0123456789abcdef0123456789abcdef","Name":"deny-imap","Effect":"DENY","Description":"d","IpRanges":["0.0.0.0/0"],"Actions":["IMAP"],"UserIds":["12345678-1234-1234-1234-123456789012"]}`,
	`{"OrganizationId":"m-0123456789abcdef0123456789abcdef","IpAddress":"192.0.2.1","Action":"EWS","ImpersonationRoleId":"r"}`,
	`{"IpRanges":[null,1]}`, `{"Filters":null}`, `{"Description":null}`, `{"a":` + strings.Repeat("[", 100) + `}`,
	"{\"Name\":\"\xff\xfe\"}", `{"Name":"\ud800"}`, `{} {}`, `{}x`, `{"Alias":"a","Alias":"b"}`,
}

// FuzzDecodeRequest checks that request decoding never panics, refuses
// only with SerializationException, and that what it accepts re-encodes
// to a body that decodes to the same request.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for i, v := range inputTypes() {
			err := DecodeRequest(body, v)
			if err != nil {
				var ae *apiError
				if !errors.As(err, &ae) || ae.Code != CodeSerialization || ae.Status != 400 {
					t.Fatalf("%T: refusal %v is not a SerializationException", v, err)
				}
				continue
			}
			first, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("%T: re-encoding %+v: %v", v, v, err)
			}
			again := inputTypes()[i]
			if err := DecodeRequest(first, again); err != nil {
				t.Fatalf("%T: re-encoded body %s refused: %v", v, first, err)
			}
			second, _ := json.Marshal(again)
			if !bytes.Equal(first, second) {
				t.Fatalf("%T: round trip changed the request:\n%s\n%s", v, first, second)
			}
			if tm := trailMap(v); tm != nil {
				if _, err := json.Marshal(tm); err != nil {
					t.Fatalf("%T: call report not encodable: %v", v, err)
				}
			}
		}
	})
}

// FuzzHandler sends arbitrary bodies to every operation of a live handler
// (real directory and rule store in a temp dir) and checks the answer is
// always a well-formed AWS JSON 1.1 response: 200 with a JSON object, or a
// client error whose __type matches X-Amzn-ErrorType. A 500 would mean an
// operation failed internally on bad input.
func FuzzHandler(f *testing.F) {
	data := f.TempDir()
	dir, err := org.Open(data+"/org", org.Options{})
	if err != nil {
		f.Fatal(err)
	}
	rules, err := access.Open(data+"/access", dir, access.Options{})
	if err != nil {
		f.Fatal(err)
	}
	h, err := NewHandler(Config{Dir: dir, Rules: rules, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnCall: func(string, ManagementCall) {}, ReportReadOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	o, err := dir.CreateOrganization(DefaultAccount, org.CreateOrganizationInput{Region: "us-east-1", Alias: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	u, err := dir.CreateUser(DefaultAccount, o.ID, org.CreateUserInput{Name: "bob", DisplayName: "Bob"})
	if err != nil {
		f.Fatal(err)
	}
	ops := Operations()
	slices.Sort(ops)
	ops = append(ops, "NoSuchOperation")
	for i := range ops {
		for _, s := range fuzzSeeds {
			s = strings.ReplaceAll(s, "m-0123456789abcdef0123456789abcdef", o.ID)
			s = strings.ReplaceAll(s, "12345678-1234-1234-1234-123456789012", u.ID)
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := ops[int(opIndex)%len(ops)]
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", TargetPrefix+op)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%s %q: answer %q is not a JSON object: %v", op, body, rec.Body.Bytes(), err)
		}
		switch rec.Code {
		case 200:
			if _, isErr := answer["__type"]; isErr {
				t.Fatalf("%s: 200 with an error body %s", op, rec.Body.Bytes())
			}
		case 400:
			code, _ := answer["__type"].(string)
			if code == "" || rec.Header().Get("X-Amzn-ErrorType") != code {
				t.Fatalf("%s: error body %s, header %q", op, rec.Body.Bytes(), rec.Header().Get("X-Amzn-ErrorType"))
			}
		default:
			t.Fatalf("%s %q: HTTP %d %s", op, body, rec.Code, rec.Body.Bytes())
		}
	})
}
