package sigv4

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestBotocore verifies requests signed by botocore itself, the signer of
// the AWS CLI and boto3, when python3 with botocore is installed (Debian
// python3-botocore; CI installs it for the end-to-end tests). It covers
// botocore's own path normalisation, query encoding and session tokens, for
// both header and presigned signing.
func TestBotocore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts python3")
	}
	out, err := exec.Command("python3", "testdata/botocore_sign.py").Output()
	if err != nil {
		t.Skipf("python3 with botocore not available: %v", err)
	}
	var reqs []struct {
		Name    string
		Method  string
		URL     string
		Headers [][2]string
		Body    string
	}
	if err := json.Unmarshal(out, &reqs); err != nil {
		t.Fatalf("botocore_sign.py output: %v\n%s", err, out)
	}
	// Signed "now" by the script, so the real clock is the right one.
	v := NewVerifier(testCreds(t), Options{})
	for _, rq := range reqs {
		t.Run(rq.Name, func(t *testing.T) {
			const base = "http://127.0.0.1:4566"
			if !strings.HasPrefix(rq.URL, base) {
				t.Fatalf("unexpected URL %s", rq.URL)
			}
			var raw strings.Builder
			raw.WriteString(rq.Method + " " + strings.TrimPrefix(rq.URL, base) + " HTTP/1.1\r\nHost: 127.0.0.1:4566\r\n")
			for _, h := range rq.Headers {
				raw.WriteString(h[0] + ": " + h[1] + "\r\n")
			}
			raw.WriteString("\r\n")
			// The script ships body bytes as latin-1 code points.
			for _, r := range rq.Body {
				raw.WriteByte(byte(r))
			}
			id, err := v.Verify(serverRequest(t, []byte(raw.String())))
			if err != nil {
				t.Fatalf("botocore-signed request rejected: %v\n%s", err, raw.String())
			}
			if id.Service != "logs" || id.AccountID == "" {
				t.Errorf("identity %+v", id)
			}
		})
	}
}
