package sigv4

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const sampleAuth = "AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/logs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=4405e262dd65a0275f11e041f8f5c827022f3683915f5e58c7ecc3842cd7372e"

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		sampleAuth,
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=host,Signature=00",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256 Credential",
		"AWS4-HMAC-SHA256 Credential==x, , ,Signature=",
		"Bearer x",
		"AWS4-ECDSA-P256-SHA256 Credential=x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h, false)
		if err != nil {
			if err.Code != CodeIncompleteSignature || err.Status != http.StatusBadRequest {
				t.Fatalf("unexpected error %+v", err)
			}
			return
		}
		for _, p := range []string{a.Credential, a.SignedHeaders, a.Signature} {
			if strings.Contains(p, ",") {
				t.Fatalf("component %q contains a comma", p)
			}
		}
		// Rendering the parsed components the SDK way must parse back to
		// the same components.
		again := fmt.Sprintf("%s Credential=%s, SignedHeaders=%s, Signature=%s", Algorithm, a.Credential, a.SignedHeaders, a.Signature)
		b, err := parseAuthorization(again, false)
		if err == nil && b != a {
			t.Fatalf("round trip: %+v != %+v", b, a)
		}
		if sc, err := parseCredential(a.Credential); err == nil {
			if sc.AccessKeyID+"/"+sc.String() != a.Credential {
				t.Fatalf("credential round trip: %q != %q", sc.AccessKeyID+"/"+sc.String(), a.Credential)
			}
		}
		splitSignedHeaders(a.SignedHeaders)
	})
}

func FuzzParseCredentials(f *testing.F) {
	f.Add([]byte("# c\nAKID SECRET 111111111111\nB S2 # x\n"))
	f.Add([]byte("\xef\xbb\xbfA S\r\n\tB\tS\t000000000000\n"))
	f.Add([]byte("A\n"))
	f.Add([]byte("A S 1 2 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		creds, err := ParseCredentials(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var out strings.Builder
		for _, c := range creds {
			if err := c.validate(); err != nil {
				t.Fatalf("accepted invalid credential %v: %v", c, err)
			}
			fmt.Fprintf(&out, "%s %s %s\n", c.AccessKeyID, c.SecretAccessKey, c.AccountID)
		}
		again, err := ParseCredentials(strings.NewReader(out.String()), "again")
		if err != nil {
			t.Fatalf("re-parse of accepted credentials failed: %v\n%s", err, out.String())
		}
		if len(again) != len(creds) {
			t.Fatalf("re-parse gave %d credentials, want %d", len(again), len(creds))
		}
		for i := range creds {
			a, b := again[i], creds[i]
			if a.AccessKeyID != b.AccessKeyID || a.SecretAccessKey != b.SecretAccessKey || a.AccountID != b.AccountID {
				t.Fatalf("credential %d changed on re-parse", i)
			}
		}
		if _, err := NewCredentials(creds...); err != nil {
			t.Fatalf("store refused parsed credentials: %v", err)
		}
	})
}

// FuzzVerify throws arbitrary Authorization headers, query strings, dates
// and bodies at the verifier: it must never panic, never accept, and only
// answer with the documented codes.
func FuzzVerify(f *testing.F) {
	f.Add(sampleAuth, "", "20261122T182042Z", "{}")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261122%2Fus-east-1%2Flogs%2Faws4_request&X-Amz-Date=20261122T182042Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-content-sha256, Signature=zz", "a=%zz&b=+&&=", "20261122T182042Z", "x")
	creds, err := NewCredentials(Credential{AccessKeyID: "test", SecretAccessKey: "test"})
	if err != nil {
		f.Fatal(err)
	}
	v := NewVerifier(creds, Options{Now: fixedClock(signTime), MaxBodyBytes: 1 << 16})
	codes := map[string]bool{
		CodeMissingAuthenticationToken: true, CodeIncompleteSignature: true,
		CodeInvalidSignature: true, CodeUnrecognizedClient: true, CodeRequestEntityTooLarge: true,
	}
	f.Fuzz(func(t *testing.T, authz, query, date, body string) {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.URL.RawQuery = query
		r.RequestURI = "/?" + query
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		r.Header["X-Amz-Content-Sha256"] = []string{body}
		id, verr := v.Verify(r)
		if verr == nil {
			t.Fatalf("accepted a fuzzed request as %+v", id)
		}
		e, ok := AsError(verr)
		if !ok || !codes[e.Code] || (e.Status != 400 && e.Status != 413) {
			t.Fatalf("unexpected error %T %v", verr, verr)
		}
	})
}
