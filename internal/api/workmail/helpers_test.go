package workmail

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/org"
)

// env is a handler over a real directory and rule store in a temp dir,
// served by an httptest.Server.
type env struct {
	t     *testing.T
	data  string // the data directory: org/ and access/
	srv   *httptest.Server
	dir   *org.Directory
	rules *access.Store

	mu    sync.Mutex
	calls []reportedCall
}

type reportedCall struct {
	Account string
	Call    ManagementCall
}

// fixedClock starts at a whole second and advances one second per call,
// so answers are reproducible (golden transcript) and ordered.
func fixedClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func newEnv(t *testing.T, edit func(*Config)) *env {
	t.Helper()
	data := t.TempDir()
	clock := fixedClock()
	dir, err := org.Open(data+"/org", org.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := access.Open(data+"/access", dir, access.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, data: data, dir: dir, rules: rules}
	cfg := Config{
		Dir: dir, Rules: rules, Region: "eu-west-1", Now: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnCall: func(account string, c ManagementCall) {
			e.mu.Lock()
			e.calls = append(e.calls, reportedCall{account, c})
			e.mu.Unlock()
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// response is one decoded answer.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// code is the answer's __type ("" on success).
func (r response) code() string {
	s, _ := r.Body["__type"].(string)
	return s
}

func (r response) str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// post sends a raw request body to target.
func (e *env) post(target string, body []byte, hdr ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ContentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		e.t.Fatalf("%s: answer is not a JSON object: %v\n%s", req.Header.Get("X-Amz-Target"), err, raw)
	}
	if res.Header.Get("x-amzn-RequestId") == "" {
		e.t.Errorf("%s: no x-amzn-RequestId header", req.Header.Get("X-Amz-Target"))
	}
	if ct := res.Header.Get("Content-Type"); ct != ContentType {
		e.t.Errorf("%s: Content-Type %q, want %q", req.Header.Get("X-Amz-Target"), ct, ContentType)
	}
	if code := r.code(); code != "" && res.Header.Get("X-Amzn-ErrorType") != code {
		e.t.Errorf("X-Amzn-ErrorType %q, body __type %q", res.Header.Get("X-Amzn-ErrorType"), code)
	}
	return r
}

// call sends op with body (marshalled to JSON).
func (e *env) call(op string, body any) response {
	e.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.post(TargetPrefix+op, b)
}

// ok calls op and fails the test unless it succeeds.
func (e *env) ok(op string, body any) response {
	e.t.Helper()
	r := e.call(op, body)
	if r.Status != http.StatusOK {
		e.t.Fatalf("%s %v: HTTP %d %s", op, body, r.Status, r.Raw)
	}
	return r
}

func (e *env) createOrg(alias string) string {
	e.t.Helper()
	id := e.ok("CreateOrganization", M{"Alias": alias}).str("OrganizationId")
	if !org.ValidOrganizationID(id) {
		e.t.Fatalf("CreateOrganization returned organization id %q", id)
	}
	return id
}

func (e *env) createUser(orgID, name string) string {
	e.t.Helper()
	return e.ok("CreateUser", M{"OrganizationId": orgID, "Name": name, "DisplayName": name, "Password": "Secret-Pass1"}).str("UserId")
}

func (e *env) reported() []reportedCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]reportedCall(nil), e.calls...)
}

// M is a JSON object literal.
type M = map[string]any

// L is a JSON list literal.
type L = []any

// jsonDiff compares two values by their JSON form (key order does not
// matter, numbers compare by value) and describes the difference, "" when
// they are equal.
func jsonDiff(want, got any) string {
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	var wv, gv any
	json.Unmarshal(w, &wv)
	json.Unmarshal(g, &gv)
	if reflect.DeepEqual(wv, gv) {
		return ""
	}
	return "want " + string(w) + "\n got " + string(g)
}
