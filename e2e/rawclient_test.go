package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rawClient speaks the CloudWatch Logs JSON 1.1 protocol over plain
// net/http with SigV4 (the SDK's signer) and hands back answers as bytes.
// The query benchmark uses it next to the SDK to tell the API's own
// latency (until the last byte of the answer is in the client) from the
// SDK's decoding of it: aws-sdk-go-v2 decodes a JSON answer into a generic
// map first and then into its types, which for 10,000 result rows costs it
// 25–35 ms of CPU that no server can save it.
type rawClient struct {
	url    string
	creds  aws.Credentials
	signer *v4.Signer
	hc     *http.Client
}

func newRawClient(s *server, key, secret string) *rawClient {
	return &rawClient{
		url:    s.url() + "/",
		creds:  aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		signer: v4.NewSigner(),
		hc:     &http.Client{Timeout: time.Minute},
	}
}

// call posts one signed request for operation op and returns the whole
// answer; an HTTP status other than 200 is an error carrying the body.
func (c *rawClient) call(ctx context.Context, op string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), "logs", "us-east-1", time.Now()); err != nil {
		return nil, fmt.Errorf("signing %s: %w", op, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	// One buffer of the announced size, as the SDKs' pooled buffers
	// manage, rather than io.ReadAll's doublings for a 2.5 MB answer.
	var out []byte
	if resp.ContentLength >= 0 {
		out = make([]byte, resp.ContentLength)
		_, err = io.ReadFull(resp.Body, out)
	} else {
		out, err = io.ReadAll(resp.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, out)
	}
	return out, nil
}

// queryStatus finds a GetQueryResults answer's status without decoding its
// rows: the last "status" member of the answer, which is the top-level one
// because rows hold only field/value pairs whose values are escaped
// strings (a `"status":"` inside a value would be written `\"status\":\"`).
func queryStatus(answer []byte) string {
	const key = `"status":"`
	i := bytes.LastIndex(answer, []byte(key))
	if i < 0 {
		return ""
	}
	rest := answer[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// rawQuery runs q from StartQuery until GetQueryResults says Complete,
// pausing poll between calls, and returns the final answer (not decoded)
// and how many GetQueryResults calls it took.
func (c *rawClient) rawQuery(ctx context.Context, group, q string, poll time.Duration) ([]byte, int, error) {
	in, _ := json.Marshal(map[string]any{
		"logGroupName": group, "startTime": 0, "endTime": 4102444800, "queryString": q, "limit": 10000,
	})
	out, err := c.call(ctx, "StartQuery", in)
	if err != nil {
		return nil, 0, err
	}
	var sq struct {
		QueryID string `json:"queryId"`
	}
	if err := json.Unmarshal(out, &sq); err != nil || sq.QueryID == "" {
		return nil, 0, fmt.Errorf("StartQuery answered %q", out)
	}
	get, _ := json.Marshal(map[string]string{"queryId": sq.QueryID})
	for polls := 1; ; polls++ {
		ans, err := c.call(ctx, "GetQueryResults", get)
		if err != nil {
			return nil, polls, err
		}
		switch st := queryStatus(ans); st {
		case "Complete":
			return ans, polls, nil
		case "Running", "Scheduled":
			time.Sleep(poll)
		default:
			return nil, polls, fmt.Errorf("query %s: status %q", sq.QueryID, st)
		}
	}
}
