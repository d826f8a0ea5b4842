package cwlogs

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// requestID matches the x-amzn-RequestId value (random per request) and
// the request ids AWS embeds in some messages.
var requestID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// storeClock matches the times the store stamps with its own clock.
var storeClock = regexp.MustCompile(`"(creationTime|ingestionTime)":\d+`)

// TestWireGolden pins the bytes of answers, errors above all (status,
// headers, body), so that refactoring the protocol layer cannot change what
// clients receive. Request ids and the store's
// clock readings vary and are replaced by placeholders.
func TestWireGolden(t *testing.T) {
	s := newTestServer(t)
	setup(t, s)
	mustOK(t, s, "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s", "logEvents": []any{
		ev(testNow.Add(-time.Minute), `{"user":"bob <b@example.com>","n":1}`),
		ev(testNow.Add(-time.Second), `{"user":"al\u2028ice \"x\"","n":2.5,"tab":"a\tb"}`),
	}})
	start, end := testNow.Add(-time.Hour).Unix(), testNow.Unix()
	qid := mustOK(t, s, "StartQuery", map[string]any{"logGroupName": "/g", "startTime": start, "endTime": end, "queryString": "fields @timestamp, user, n, tab, @message"})["queryId"].(string)
	waitComplete(t, s, qid)
	sid := mustOK(t, s, "StartQuery", map[string]any{"logGroupName": "/g", "startTime": start, "endTime": end, "queryString": "stats count(*) as c, avg(n) by user"})["queryId"].(string)
	waitComplete(t, s, sid)
	tags := map[string]any{}
	for i := 0; i < 51; i++ {
		tags["k"+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	cases := []struct{ name, method, target, body string }{
		{"get-method", "GET", "", ""},
		{"unknown-operation", "POST", TargetPrefix + "FrobnicateLogs", "{}"},
		{"malformed-json", "POST", TargetPrefix + "CreateLogGroup", "{"},
		{"wrong-type", "POST", TargetPrefix + "CreateLogGroup", `{"logGroupName":5}`},
		{"missing-member", "POST", TargetPrefix + "CreateLogGroup", `{}`},
		{"already-exists", "POST", TargetPrefix + "CreateLogGroup", `{"logGroupName":"/g"}`},
		{"not-found", "POST", TargetPrefix + "DescribeLogStreams", `{"logGroupName":"/missing"}`},
		{"validation", "POST", TargetPrefix + "DescribeLogGroups", `{"limit":51}`},
		{"malformed-query", "POST", TargetPrefix + "StartQuery", `{"logGroupName":"/g","startTime":` + itoa(start) + `,"endTime":` + itoa(end) + `,"queryString":"stats count(*) by"}`},
		{"too-many-tags", "POST", TargetPrefix + "TagResource", `{"resourceArn":"arn:aws:logs:us-east-1:000000000000:log-group:/g","tags":` + jsonOf(tags) + `}`},
		{"query-not-found", "POST", TargetPrefix + "GetQueryResults", `{"queryId":"nope"}`},
		{"get-query-results", "POST", TargetPrefix + "GetQueryResults", `{"queryId":"` + qid + `"}`},
		{"get-query-results-stats", "POST", TargetPrefix + "GetQueryResults", `{"queryId":"` + sid + `"}`},
		{"get-query-results-page", "POST", TargetPrefix + "GetQueryResults", `{"queryId":"` + qid + `","maxItems":1}`},
		{"get-query-results-last-page", "POST", TargetPrefix + "GetQueryResults", `{"queryId":"` + qid + `","maxItems":1,"nextToken":"` + encodeOffsetToken(1) + `"}`},
		{"describe-log-groups", "POST", TargetPrefix + "DescribeLogGroups", `{}`},
		{"get-log-events", "POST", TargetPrefix + "GetLogEvents", `{"logGroupName":"/g","logStreamName":"s","startFromHead":true}`},
		{"negative-time", "POST", TargetPrefix + "FilterLogEvents", `{"logGroupName":"/g","startTime":-6795364578871}`},
		{"filter-pattern-error", "POST", TargetPrefix + "FilterLogEvents", `{"logGroupName":"/g","filterPattern":"{ $.user = "}`},
		{"null-member", "POST", TargetPrefix + "GetQueryResults", `{}`},
		{"filter-log-events", "POST", TargetPrefix + "FilterLogEvents", `{"logGroupName":"/g"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, "/", strings.NewReader(c.body))
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			var b strings.Builder
			b.WriteString(w.Result().Status + "\n")
			var keys []string
			for k := range w.Header() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, v := range w.Header()[k] {
					b.WriteString(k + ": " + v + "\n")
				}
			}
			b.WriteString("\n" + w.Body.String())
			got := requestID.ReplaceAllString(b.String(), "REQUEST-ID")
			got = storeClock.ReplaceAllString(got, `"$1":STORE-CLOCK`)
			path := filepath.Join("testdata", "wire", c.name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("answer differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func waitComplete(t *testing.T, s *Server, id string) map[string]any {
	t.Helper()
	for i := 0; ; i++ {
		res := mustOK(t, s, "GetQueryResults", map[string]any{"queryId": id})
		if res["status"] == "Complete" {
			return res
		}
		if i > 1000 {
			t.Fatalf("query %s never completed: %v", id, res)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
