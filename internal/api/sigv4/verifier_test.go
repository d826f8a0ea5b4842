package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// signTime is the fixed signing time of every generated request; the
// verifier's clock is pinned to it unless a case moves it.
var signTime = time.Date(2026, 11, 22, 18, 20, 42, 0, time.UTC)

var (
	keyA = Credential{AccessKeyID: "AKIAMAILTRAIL00000A", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", AccountID: "111111111111"}
	keyB = Credential{AccessKeyID: "AKIAMAILTRAIL00000B", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", AccountID: "222222222222"}
	// keyX is not in the store.
	keyX = Credential{AccessKeyID: "AKIAUNKNOWN0000000X", SecretAccessKey: "unknown-secret"}
)

func testCreds(t testing.TB) *Credentials {
	t.Helper()
	c, err := NewCredentials(keyA, keyB)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

const putBody = `{"logGroupName":"/audit/test","logStreamName":"s1","logEvents":[{"timestamp":1714560000000,"message":"hello"}]}`

// jsonRequest builds a CloudWatch Logs JSON 1.1 request as the SDK would.
func jsonRequest(t testing.TB, target, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328."+target)
	return req
}

func sha(body string) string {
	s := sha256.Sum256([]byte(body))
	return hex.EncodeToString(s[:])
}

// sign signs req with the real AWS SDK signer.
func sign(t testing.TB, req *http.Request, cred Credential, payloadHash, service, region string, at time.Time) {
	t.Helper()
	err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey},
		req, payloadHash, service, region, at)
	if err != nil {
		t.Fatal(err)
	}
}

// presign returns a GET request for a URL presigned by the real AWS SDK.
func presign(t testing.TB, rawURL string, cred Credential, payloadHash, service, region string, at time.Time, expires time.Duration) *http.Request {
	t.Helper()
	if expires > 0 {
		sep := "?"
		if strings.Contains(rawURL, "?") {
			sep = "&"
		}
		rawURL += fmt.Sprintf("%sX-Amz-Expires=%d", sep, int64(expires/time.Second))
	}
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey},
		req, payloadHash, service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if strings.EqualFold(k, "host") {
			continue
		}
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	return out
}

// wire serialises a client request and parses it back the way net/http's
// server does, so the verifier sees exactly what a handler would (RequestURI,
// Host lifted out of the header map, Content-Length header, body stream).
func wire(t testing.TB, req *http.Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func serverRequest(t testing.TB, raw []byte) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("parse request: %v\n%s", err, raw)
	}
	return r
}

func TestVerifyValid(t *testing.T) {
	creds := testCreds(t)
	cases := []struct {
		name    string
		req     func(t *testing.T) *http.Request
		opts    Options
		account string
		region  string
		service string
		presign bool
		unsig   bool
	}{
		{
			name: "header signed PutLogEvents",
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "PutLogEvents", putBody)
				sign(t, r, keyA, sha(putBody), "logs", "us-east-1", signTime)
				return r
			},
			account: "111111111111", region: "us-east-1", service: "logs",
		},
		{
			name: "second account, other region",
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "DescribeLogGroups", `{}`)
				sign(t, r, keyB, sha(`{}`), "logs", "eu-west-3", signTime)
				return r
			},
			account: "222222222222", region: "eu-west-3", service: "logs",
		},
		{
			name: "empty body",
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "DescribeLogGroups", "")
				sign(t, r, keyA, emptySHA256, "logs", "us-east-1", signTime)
				return r
			},
			account: "111111111111", region: "us-east-1", service: "logs",
		},
		{
			name: "UNSIGNED-PAYLOAD",
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "PutLogEvents", putBody)
				r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
				sign(t, r, keyA, UnsignedPayload, "logs", "us-east-1", signTime)
				return r
			},
			account: "111111111111", region: "us-east-1", service: "logs", unsig: true,
		},
		{
			name: "signed X-Amz-Content-Sha256",
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "PutLogEvents", putBody)
				r.Header.Set("X-Amz-Content-Sha256", sha(putBody))
				sign(t, r, keyA, sha(putBody), "logs", "us-east-1", signTime)
				return r
			},
			account: "111111111111", region: "us-east-1", service: "logs",
		},
		{
			name: "many signed headers, repeated values, inner spaces",
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "PutLogEvents", putBody)
				r.Header.Set("X-Amz-Meta-Note", "  a   b \t c  ")
				r.Header.Add("X-Amz-Meta-Multi", "one")
				r.Header.Add("X-Amz-Meta-Multi", " two  three ")
				r.Header.Set("Amz-Sdk-Invocation-Id", "4c986aaf-3e3e-4b45-8f11-ed95d029d88d")
				r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
				r.Header.Set("X-Amz-Security-Token", "session-token-is-not-checked")
				sign(t, r, keyA, sha(putBody), "logs", "us-east-1", signTime)
				return r
			},
			account: "111111111111", region: "us-east-1", service: "logs",
		},
		{
			name: "awkward path and query are canonicalised as AWS does",
			req: func(t *testing.T) *http.Request {
				r, err := http.NewRequest(http.MethodGet, "http://example.com:8080/a%20b/c%2Fd/%C3%BC/~x/?z=1&a=b%20c&a=a&empty=&slash=%2F&flag&plus=%2B&utf=%E2%9C%93&tilde=~", nil)
				if err != nil {
					t.Fatal(err)
				}
				sign(t, r, keyA, emptySHA256, "logs", "us-east-1", signTime)
				return r
			},
			account: "111111111111", region: "us-east-1", service: "logs",
		},
		{
			name: "S3-style single-encoded path",
			opts: Options{SingleEncodePath: true, Services: []string{"s3"}},
			req: func(t *testing.T) *http.Request {
				r, err := http.NewRequest(http.MethodGet, "http://example.com/bucket/a%20b/c", nil)
				if err != nil {
					t.Fatal(err)
				}
				err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(),
					aws.Credentials{AccessKeyID: keyA.AccessKeyID, SecretAccessKey: keyA.SecretAccessKey},
					r, emptySHA256, "s3", "us-east-1", signTime)
				if err != nil {
					t.Fatal(err)
				}
				return r
			},
			account: "111111111111", region: "us-east-1", service: "s3",
		},
		{
			name: "workmail among configured services",
			opts: Options{Services: []string{"logs", "workmail"}},
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "ListOrganizations", `{}`)
				r.Header.Set("X-Amz-Target", "WorkMailService.ListOrganizations")
				sign(t, r, keyA, sha(`{}`), "workmail", "eu-west-1", signTime)
				return r
			},
			account: "111111111111", region: "eu-west-1", service: "workmail",
		},
		{
			name: "signed 14 minutes ago",
			req: func(t *testing.T) *http.Request {
				r := jsonRequest(t, "PutLogEvents", putBody)
				sign(t, r, keyA, sha(putBody), "logs", "us-east-1", signTime.Add(-14*time.Minute))
				return r
			},
			account: "111111111111", region: "us-east-1", service: "logs",
		},
		{
			name: "presigned, unsigned payload (S3 style)",
			req: func(t *testing.T) *http.Request {
				return presign(t, "http://127.0.0.1:4566/?Action=Tail&group=%2Faudit%2Ftest", keyA, UnsignedPayload, "logs", "us-east-1", signTime.Add(-10*time.Minute), time.Hour)
			},
			account: "111111111111", region: "us-east-1", service: "logs", presign: true, unsig: true,
		},
		{
			name: "presigned over the empty-body hash, no X-Amz-Expires",
			req: func(t *testing.T) *http.Request {
				return presign(t, "http://127.0.0.1:4566/", keyB, emptySHA256, "logs", "us-west-2", signTime, 0)
			},
			account: "222222222222", region: "us-west-2", service: "logs", presign: true,
		},
		{
			name: "presigned for a week, used 6 days later",
			opts: Options{Now: fixedClock(signTime.Add(6 * 24 * time.Hour))},
			req: func(t *testing.T) *http.Request {
				return presign(t, "http://127.0.0.1:4566/path", keyA, UnsignedPayload, "logs", "us-east-1", signTime, MaxPresignExpiry)
			},
			account: "111111111111", region: "us-east-1", service: "logs", presign: true, unsig: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts.Now == nil {
				opts.Now = fixedClock(signTime)
			}
			v := NewVerifier(creds, opts)
			raw := wire(t, tc.req(t))
			r := serverRequest(t, raw)
			wantBody := bodyOf(t, serverRequest(t, raw))
			id, err := v.Verify(r)
			if err != nil {
				t.Fatalf("Verify: %v\nrequest:\n%s", err, raw)
			}
			if id.AccountID != tc.account || id.Region != tc.region || id.Service != tc.service ||
				id.Presigned != tc.presign || id.UnsignedPayload != tc.unsig {
				t.Errorf("identity = %+v, want account %s region %s service %s presigned %v unsigned %v",
					id, tc.account, tc.region, tc.service, tc.presign, tc.unsig)
			}
			if got := bodyOf(t, r); got != wantBody {
				t.Errorf("body after Verify = %q, want %q (must be restored)", got, wantBody)
			}
		})
	}
}

func bodyOf(t testing.TB, r *http.Request) string {
	t.Helper()
	if r.Body == nil {
		return ""
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tamperCase describes a request edited after signing (or signed wrongly)
// and the exact AWS error it must get.
type tamperCase struct {
	name   string
	raw    func(t *testing.T) []byte
	opts   Options
	code   string
	status int
}

func signedPut(t *testing.T) []byte {
	r := jsonRequest(t, "PutLogEvents", putBody)
	sign(t, r, keyA, sha(putBody), "logs", "us-east-1", signTime)
	return wire(t, r)
}

func replaceOnce(t *testing.T, raw []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(raw, []byte(old)) {
		t.Fatalf("%q not in request:\n%s", old, raw)
	}
	return bytes.Replace(raw, []byte(old), []byte(new), 1)
}

// setHeader replaces (or with value "" removes) one header line of a wire
// request.
func setHeader(t *testing.T, raw []byte, name, value string) []byte {
	t.Helper()
	head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\r\n")
	out := lines[:1]
	found := false
	for _, l := range lines[1:] {
		k, _, _ := strings.Cut(l, ":")
		if strings.EqualFold(k, name) {
			found = true
			if value != "" {
				out = append(out, name+": "+value)
			}
			continue
		}
		out = append(out, l)
	}
	if !found && value != "" {
		out = append(out, name+": "+value)
	}
	return append([]byte(strings.Join(out, "\r\n")+"\r\n\r\n"), body...)
}

func headerOf(t *testing.T, raw []byte, name string) string {
	t.Helper()
	return serverRequest(t, raw).Header.Get(name)
}

func tamperCases() []tamperCase {
	const bad = http.StatusBadRequest
	return []tamperCase{
		{name: "body changed", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			return replaceOnce(t, signedPut(t), `"message":"hello"`, `"message":"HELLO"`)
		}},
		{name: "body truncated and Content-Length fixed", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			r := jsonRequest(t, "PutLogEvents", putBody)
			sign(t, r, keyA, sha(putBody), "logs", "us-east-1", signTime)
			r.Body = io.NopCloser(strings.NewReader(putBody[:20]))
			r.ContentLength = 20
			return wire(t, r)
		}},
		{name: "signed header X-Amz-Target changed", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "X-Amz-Target", "Logs_20140328.DeleteLogGroup")
		}},
		{name: "Host changed", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "Host", "127.0.0.1:4567")
		}},
		{name: "X-Amz-Date moved within the day", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "X-Amz-Date", "20261122T182043Z")
		}},
		{name: "X-Amz-Date moved to another day", code: CodeInvalidSignature, status: bad,
			opts: Options{Now: fixedClock(time.Date(2026, 11, 23, 0, 0, 1, 0, time.UTC))},
			raw: func(t *testing.T) []byte {
				return setHeader(t, signedPut(t), "X-Amz-Date", "20261123T000000Z")
			}},
		{name: "X-Amz-Date not ISO-8601 basic", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "X-Amz-Date", "2026-11-22T18:20:42Z")
		}},
		{name: "no date header at all", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "X-Amz-Date", "")
		}},
		{name: "unknown access key", code: CodeUnrecognizedClient, status: bad, raw: func(t *testing.T) []byte {
			r := jsonRequest(t, "PutLogEvents", putBody)
			sign(t, r, keyX, sha(putBody), "logs", "us-east-1", signTime)
			return wire(t, r)
		}},
		{name: "known key, wrong secret", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			r := jsonRequest(t, "PutLogEvents", putBody)
			wrong := keyA
			wrong.SecretAccessKey = keyB.SecretAccessKey
			sign(t, r, wrong, sha(putBody), "logs", "us-east-1", signTime)
			return wire(t, r)
		}},
		{name: "key id swapped to another account's key", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			raw := signedPut(t)
			return replaceOnce(t, raw, "Credential="+keyA.AccessKeyID, "Credential="+keyB.AccessKeyID)
		}},
		{name: "region in scope edited", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			return replaceOnce(t, signedPut(t), "/us-east-1/logs/", "/eu-west-1/logs/")
		}},
		{name: "region not region-shaped", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			r := jsonRequest(t, "PutLogEvents", putBody)
			sign(t, r, keyA, sha(putBody), "logs", "US_EAST_1", signTime)
			return wire(t, r)
		}},
		{name: "service scope s3", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			r := jsonRequest(t, "PutLogEvents", putBody)
			sign(t, r, keyA, sha(putBody), "s3", "us-east-1", signTime)
			return wire(t, r)
		}},
		{name: "service scope logs when only workmail is served", code: CodeInvalidSignature, status: bad,
			opts: Options{Services: []string{"workmail"}},
			raw:  signedPut},
		{name: "scope terminator edited", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			return replaceOnce(t, signedPut(t), "/logs/aws4_request", "/logs/aws4_reqest")
		}},
		{name: "clock 16 minutes ahead of signer", code: CodeInvalidSignature, status: bad,
			opts: Options{Now: fixedClock(signTime.Add(16 * time.Minute))},
			raw:  signedPut},
		{name: "clock 16 minutes behind signer", code: CodeInvalidSignature, status: bad,
			opts: Options{Now: fixedClock(signTime.Add(-16 * time.Minute))},
			raw:  signedPut},
		{name: "custom 5 minute skew window", code: CodeInvalidSignature, status: bad,
			opts: Options{MaxSkew: 5 * time.Minute, Now: fixedClock(signTime.Add(6 * time.Minute))},
			raw:  signedPut},
		{name: "signed header missing from request", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "X-Amz-Target", "")
		}},
		{name: "host not signed", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return replaceOnce(t, signedPut(t), "SignedHeaders=content-length;content-type;host;", "SignedHeaders=content-length;content-type;")
		}},
		{name: "extra signed header name", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return replaceOnce(t, signedPut(t), "SignedHeaders=content-length;", "SignedHeaders=accept;content-length;")
		}},
		{name: "no Authorization header", code: CodeMissingAuthenticationToken, status: bad, raw: func(t *testing.T) []byte {
			return wire(t, jsonRequest(t, "PutLogEvents", putBody))
		}},
		{name: "Authorization without commas", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			raw := signedPut(t)
			a := headerOf(t, raw, "Authorization")
			return setHeader(t, raw, "Authorization", strings.ReplaceAll(a, ", ", " "))
		}},
		{name: "Authorization component without equal sign", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			raw := signedPut(t)
			a := headerOf(t, raw, "Authorization")
			return setHeader(t, raw, "Authorization", strings.Replace(a, "Credential=", "Credential ", 1))
		}},
		{name: "Authorization missing Signature", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			raw := signedPut(t)
			a := headerOf(t, raw, "Authorization")
			i := strings.Index(a, ", Signature=")
			return setHeader(t, raw, "Authorization", a[:i])
		}},
		{name: "Authorization is a bearer token", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x")
		}},
		{name: "SigV4a algorithm", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return replaceOnce(t, signedPut(t), "AWS4-HMAC-SHA256 ", "AWS4-ECDSA-P256-SHA256 ")
		}},
		{name: "credential with four elements", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return replaceOnce(t, signedPut(t), "/us-east-1/logs/", "/us-east-1/")
		}},
		{name: "signature not hex", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			raw := signedPut(t)
			a := headerOf(t, raw, "Authorization")
			i := strings.Index(a, "Signature=")
			return setHeader(t, raw, "Authorization", a[:i]+"Signature=not-a-signature")
		}},
		{name: "signature upper-cased", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			raw := signedPut(t)
			a := headerOf(t, raw, "Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			return setHeader(t, raw, "Authorization", a[:i]+strings.ToUpper(a[i:]))
		}},
		{name: "declared content hash does not match body", code: CodeInvalidSignature, status: bad, raw: func(t *testing.T) []byte {
			r := jsonRequest(t, "PutLogEvents", putBody)
			r.Header.Set("X-Amz-Content-Sha256", sha(putBody))
			sign(t, r, keyA, sha(putBody), "logs", "us-east-1", signTime)
			return replaceOnce(t, wire(t, r), `"message":"hello"`, `"message":"HELLO"`)
		}},
		{name: "declared content hash malformed", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "X-Amz-Content-Sha256", "deadbeef")
		}},
		{name: "chunked streaming payload", code: CodeIncompleteSignature, status: bad, raw: func(t *testing.T) []byte {
			return setHeader(t, signedPut(t), "X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
		}},
		{name: "UNSIGNED-PAYLOAD refused when configured", code: CodeInvalidSignature, status: bad,
			opts: Options{RejectUnsignedPayload: true},
			raw: func(t *testing.T) []byte {
				r := jsonRequest(t, "PutLogEvents", putBody)
				r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
				sign(t, r, keyA, UnsignedPayload, "logs", "us-east-1", signTime)
				return wire(t, r)
			}},
		{name: "body over the limit", code: CodeRequestEntityTooLarge, status: http.StatusRequestEntityTooLarge,
			opts: Options{MaxBodyBytes: 64},
			raw:  signedPut},
		{name: "presigned URL expired", code: CodeInvalidSignature, status: bad,
			opts: Options{Now: fixedClock(signTime.Add(61 * time.Minute))},
			raw: func(t *testing.T) []byte {
				return wire(t, presign(t, "http://127.0.0.1:4566/", keyA, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour))
			}},
		{name: "presigned URL without X-Amz-Expires used after the skew window", code: CodeInvalidSignature, status: bad,
			opts: Options{Now: fixedClock(signTime.Add(16 * time.Minute))},
			raw: func(t *testing.T) []byte {
				return wire(t, presign(t, "http://127.0.0.1:4566/", keyA, UnsignedPayload, "logs", "us-east-1", signTime, 0))
			}},
		{name: "presigned URL signed in the future", code: CodeInvalidSignature, status: bad,
			raw: func(t *testing.T) []byte {
				return wire(t, presign(t, "http://127.0.0.1:4566/", keyA, UnsignedPayload, "logs", "us-east-1", signTime.Add(20*time.Minute), time.Hour))
			}},
		{name: "presigned X-Amz-Expires over a week", code: CodeIncompleteSignature, status: bad,
			raw: func(t *testing.T) []byte {
				raw := wire(t, presign(t, "http://127.0.0.1:4566/", keyA, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour))
				return replaceOnce(t, raw, "X-Amz-Expires=3600", "X-Amz-Expires=604801")
			}},
		{name: "presigned X-Amz-Expires extended", code: CodeInvalidSignature, status: bad,
			raw: func(t *testing.T) []byte {
				raw := wire(t, presign(t, "http://127.0.0.1:4566/", keyA, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour))
				return replaceOnce(t, raw, "X-Amz-Expires=3600", "X-Amz-Expires=7200")
			}},
		{name: "presigned query parameter added", code: CodeInvalidSignature, status: bad,
			raw: func(t *testing.T) []byte {
				raw := wire(t, presign(t, "http://127.0.0.1:4566/?group=a", keyA, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour))
				return replaceOnce(t, raw, "group=a", "group=b")
			}},
		{name: "presigned missing X-Amz-Signature and X-Amz-Date", code: CodeIncompleteSignature, status: bad,
			raw: func(t *testing.T) []byte {
				return wire(t, mustGet(t, "http://127.0.0.1:4566/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAMAILTRAIL00000A%2F20261122%2Fus-east-1%2Flogs%2Faws4_request&X-Amz-SignedHeaders=host"))
			}},
		{name: "presigned unknown key", code: CodeUnrecognizedClient, status: bad,
			raw: func(t *testing.T) []byte {
				return wire(t, presign(t, "http://127.0.0.1:4566/", keyX, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour))
			}},
		{name: "presigned wrong algorithm", code: CodeIncompleteSignature, status: bad,
			raw: func(t *testing.T) []byte {
				raw := wire(t, presign(t, "http://127.0.0.1:4566/", keyA, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour))
				return replaceOnce(t, raw, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1")
			}},
		{name: "both Authorization header and presigned query", code: CodeIncompleteSignature, status: bad,
			raw: func(t *testing.T) []byte {
				raw := wire(t, presign(t, "http://127.0.0.1:4566/", keyA, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour))
				return setHeader(t, raw, "Authorization", headerOf(t, signedPut(t), "Authorization"))
			}},
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	r, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestVerifyTampered checks the exact AWS code and status of every
// tampering, and the full messages against testdata/errors.golden.
func TestVerifyTampered(t *testing.T) {
	creds := testCreds(t)
	var golden strings.Builder
	for _, tc := range tamperCases() {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts.Now == nil {
				opts.Now = fixedClock(signTime)
			}
			v := NewVerifier(creds, opts)
			raw := tc.raw(t)
			id, err := v.Verify(serverRequest(t, raw))
			if err == nil {
				t.Fatalf("accepted tampered request as %+v:\n%s", id, raw)
			}
			e, ok := AsError(err)
			if !ok {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Code != tc.code || e.Status != tc.status {
				t.Errorf("got %s (%d) %q, want %s (%d)", e.Code, e.Status, e.Message, tc.code, tc.status)
			}
			fmt.Fprintf(&golden, "== %s\n%s %d\n%s\n\n", tc.name, e.Code, e.Status, e.Message)
		})
	}
	checkGolden(t, "errors.golden", golden.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from this run (go test -update rewrites it); first difference at byte %d", path, firstDiff(string(want), got))
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestCapturedRequests replays the aws-cli requests captured in the spec
// (Part E, credentials test/test) byte for byte.
func TestCapturedRequests(t *testing.T) {
	creds, err := NewCredentials(Credential{AccessKeyID: "test", SecretAccessKey: "test"})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/captured/*.http")
	if len(files) == 0 {
		t.Fatal("no captured requests in testdata/captured")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r := serverRequest(t, raw)
			at, err := time.Parse(amzDateLayout, r.Header.Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			v := NewVerifier(creds, Options{Now: fixedClock(at.Add(3 * time.Minute))})
			id, err := v.Verify(r)
			if err != nil {
				t.Fatalf("captured request rejected: %v", err)
			}
			if id.AccessKeyID != "test" || id.AccountID != DefaultAccountID || id.Region != "us-east-1" || id.Service != "logs" {
				t.Errorf("identity %+v", id)
			}
			// The same capture with one byte of body changed must fail.
			tampered := bytes.Replace(raw, []byte(`"/audit/test"`), []byte(`"/audit/tesT"`), 1)
			if _, err := v.Verify(serverRequest(t, tampered)); err == nil {
				t.Error("tampered capture accepted")
			}
			// And a day later it is stale.
			late := NewVerifier(creds, Options{Now: fixedClock(at.Add(24 * time.Hour))})
			if _, err := late.Verify(serverRequest(t, raw)); err == nil || !strings.HasPrefix(err.(*Error).Message, "Signature expired: ") {
				t.Errorf("day-old capture: %v", err)
			}
		})
	}
}

// TestOverHTTP drives a real net/http server with the real SDK signer over
// loopback, covering what the Go server does to headers and bodies.
func TestOverHTTP(t *testing.T) {
	v := NewVerifier(testCreds(t), Options{Services: []string{"logs"}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r)
		if err != nil {
			e, _ := AsError(err)
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status)
			fmt.Fprintf(w, `{"__type":%q}`, e.Code)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %d", id.AccessKeyID, id.AccountID, len(body))
	}))
	defer srv.Close()

	// Large enough to arrive in several reads.
	big := `{"logEvents":[` + strings.Repeat(`{"timestamp":1,"message":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},`, 20000) + `{"timestamp":1,"message":"end"}]}`
	for _, tc := range []struct {
		name string
		cred Credential
		body string
		want string
		code int
	}{
		{"small", keyA, putBody, fmt.Sprintf("%s 111111111111 %d", keyA.AccessKeyID, len(putBody)), 200},
		{"large", keyB, big, fmt.Sprintf("%s 222222222222 %d", keyB.AccessKeyID, len(big)), 200},
		{"unknown key", keyX, putBody, `{"__type":"UnrecognizedClientException"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
			sign(t, req, tc.cred, sha(tc.body), "logs", "us-east-1", time.Now())
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code || string(got) != tc.want {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, got, tc.code, tc.want)
			}
		})
	}
}

func TestVerifyBody(t *testing.T) {
	v := NewVerifier(testCreds(t), Options{Now: fixedClock(signTime)})
	r := serverRequest(t, signedPut(t))
	body := []byte(bodyOf(t, r))
	r.Body = nil // VerifyBody must not touch it
	if _, err := v.VerifyBody(r, body); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyBody(r, append(body, ' ')); err == nil {
		t.Fatal("VerifyBody accepted a different body")
	}
}

func TestIdentityContext(t *testing.T) {
	id := Identity{AccessKeyID: "a", AccountID: "123456789012"}
	got, ok := IdentityFrom(WithIdentity(context.Background(), id))
	if !ok || got != id {
		t.Fatalf("IdentityFrom = %+v %v", got, ok)
	}
	if _, ok := IdentityFrom(context.Background()); ok {
		t.Fatal("identity in empty context")
	}
}

// TestCredentialsReload checks that a replaced secret takes effect at once
// despite the derived-key cache.
func TestCredentialsReload(t *testing.T) {
	creds := testCreds(t)
	v := NewVerifier(creds, Options{Now: fixedClock(signTime)})
	raw := signedPut(t)
	if _, err := v.Verify(serverRequest(t, raw)); err != nil {
		t.Fatal(err)
	}
	rotated := keyA
	rotated.SecretAccessKey = "rotated-secret"
	if err := creds.Replace(rotated, keyB); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(serverRequest(t, raw))
	if e, ok := AsError(err); !ok || e.Code != CodeInvalidSignature {
		t.Fatalf("after rotation: %v", err)
	}
}
