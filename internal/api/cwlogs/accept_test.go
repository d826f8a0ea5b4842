package cwlogs

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/store"
)

// The defects below were found by driving `mailtrail serve` with the AWS
// CLI v2 as a user would; each case is the request that went wrong and the
// answer AWS's model (or AWS itself) gives.

func TestValidationErrors(t *testing.T) {
	s := newTestServer(t)
	setup(t, s)
	start, end := testNow.Add(-time.Hour).Unix(), testNow.Unix()
	grp := func(extra map[string]any) map[string]any {
		m := map[string]any{"logGroupName": "/g"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	// A token that decodes (base64 of arbitrary bytes) but that no page
	// ever handed out.
	garbage := "garbage"
	cases := []struct {
		name, op string
		body     any
		code     string
		msg      string
	}{
		// Timestamp members have min 0 in the model.
		{"put negative timestamp", "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s", "logEvents": []any{map[string]any{"timestamp": -1, "message": "m"}}},
			"InvalidParameterException", "1 validation error detected: Value '-1' at 'logEvents.1.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"put no logEvents", "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s"},
			"InvalidParameterException", "Value null at 'logEvents' failed to satisfy constraint: Member must not be null"},
		{"put empty logEvents", "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s", "logEvents": []any{}},
			"InvalidParameterException", "Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"filter negative start", "FilterLogEvents", grp(map[string]any{"startTime": -5}),
			"InvalidParameterException", "Value '-5' at 'startTime' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"filter negative end", "FilterLogEvents", grp(map[string]any{"endTime": -5}),
			"InvalidParameterException", "Value '-5' at 'endTime' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"get negative start", "GetLogEvents", grp(map[string]any{"logStreamName": "s", "startTime": -5}),
			"InvalidParameterException", "Value '-5' at 'startTime' failed"},
		{"fields negative time", "GetLogGroupFields", grp(map[string]any{"time": -5}),
			"InvalidParameterException", "Value '-5' at 'time' failed"},
		{"query negative start", "StartQuery", grp(map[string]any{"startTime": -5, "endTime": end, "queryString": "fields @message"}),
			"InvalidParameterException", "Value '-5' at 'startTime' failed"},
		// A filter pattern error says where, once.
		{"filter pattern position", "FilterLogEvents", grp(map[string]any{"filterPattern": "{ $.x = "}),
			"InvalidParameterException", "Invalid filter pattern at character 8: "},
		// Required members.
		{"results no queryId", "GetQueryResults", map[string]any{},
			"InvalidParameterException", "Value null at 'queryId' failed to satisfy constraint: Member must not be null"},
		{"stop no queryId", "StopQuery", map[string]any{},
			"InvalidParameterException", "Value null at 'queryId' failed to satisfy constraint: Member must not be null"},
		// DescribeLogGroups checks its filters as the model does.
		{"groups class", "DescribeLogGroups", map[string]any{"logGroupClass": "BAD"},
			"InvalidParameterException", "Value 'BAD' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set"},
		{"groups prefix", "DescribeLogGroups", map[string]any{"logGroupNamePrefix": "bad name"},
			"InvalidParameterException", "Value 'bad name' at 'logGroupNamePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"groups pattern", "DescribeLogGroups", map[string]any{"logGroupNamePattern": "a*"},
			"InvalidParameterException", "at 'logGroupNamePattern' failed to satisfy constraint"},
		// Tokens no page handed out are refused, not paged from.
		{"groups garbage token", "DescribeLogGroups", map[string]any{"nextToken": garbage},
			"InvalidParameterException", "The specified nextToken is invalid."},
		{"definitions garbage token", "DescribeQueryDefinitions", map[string]any{"nextToken": garbage},
			"InvalidParameterException", "The specified nextToken is invalid."},
		{"definitions name token", "DescribeQueryDefinitions", map[string]any{"nextToken": base64.RawURLEncoding.EncodeToString([]byte("name"))},
			"InvalidParameterException", "The specified nextToken is invalid."},
		{"filter token without pointer", "FilterLogEvents", grp(map[string]any{"nextToken": base64.RawURLEncoding.EncodeToString([]byte(`{"t":1}`))}),
			"InvalidParameterException", "The specified nextToken is invalid."},
		// Tag constraints name the constraint broken.
		{"tag value length", "TagLogGroup", grp(map[string]any{"tags": map[string]string{"k": strings.Repeat("v", 257)}}),
			"InvalidParameterException", "at 'tags.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"tag key length", "TagLogGroup", grp(map[string]any{"tags": map[string]string{strings.Repeat("k", 129): "v"}}),
			"InvalidParameterException", "at 'tags.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"tag key charset", "TagLogGroup", grp(map[string]any{"tags": map[string]string{"bad!": "v"}}),
			"InvalidParameterException", "at 'tags.key' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"tag key reserved", "TagLogGroup", grp(map[string]any{"tags": map[string]string{"aws:x": "v"}}),
			"InvalidParameterException", "reserved for AWS use"},
		{"create tag reserved", "CreateLogGroup", map[string]any{"logGroupName": "/t", "tags": map[string]string{"AWS:cost": "v"}},
			"InvalidParameterException", "reserved for AWS use"},
		// Names in filters and lists are checked, not searched for.
		{"streams prefix", "DescribeLogStreams", grp(map[string]any{"logStreamNamePrefix": "a:b"}),
			"InvalidParameterException", "Value 'a:b' at 'logStreamNamePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
		{"filter stream names", "FilterLogEvents", grp(map[string]any{"logStreamNames": []string{"s", "a*"}}),
			"InvalidParameterException", "Value '[s, a*]' at 'logStreamNames' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: [^:*]*]"},
		{"filter stream prefix", "FilterLogEvents", grp(map[string]any{"logStreamNamePrefix": "a:"}),
			"InvalidParameterException", "at 'logStreamNamePrefix' failed to satisfy constraint"},
		{"query group names", "StartQuery", map[string]any{"logGroupNames": []string{"/g", "a b"}, "startTime": start, "endTime": end, "queryString": "fields @message"},
			"InvalidParameterException", "Value '[/g, a b]' at 'logGroupNames' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+]"},
		// The store's refusals without its "invalid parameter: " prefix.
		{"reserved group name", "CreateLogGroup", map[string]any{"logGroupName": "aws/x"},
			"InvalidParameterException", `log group name "aws/x": names starting with aws/ are reserved`},
		// Unchanged answers next to the new ones.
		{"query reversed", "StartQuery", grp(map[string]any{"startTime": end, "endTime": start, "queryString": "fields @message"}),
			"InvalidParameterException", "End time should not be before the start time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, s, c.op, c.body, c.code, c.msg)
		})
	}
	if _, out := call(t, s, "CreateLogGroup", map[string]any{"logGroupName": "aws/y"}); strings.HasPrefix(fmt.Sprint(out["message"]), "invalid parameter") {
		t.Errorf("store prefix kept: %v", out["message"])
	}
}

// FilterLogEvents returns events of equal timestamp and ingestion time in
// the order they were put (AWS: "timestamp, then ingestion time, then
// request order"), across page boundaries too. The store's pointers do not
// sort as text in that order past the first few events.
func TestFilterLogEventsRequestOrder(t *testing.T) {
	s := newTestServer(t)
	setup(t, s)
	var evs []any
	var want []string
	for i := 0; i < 300; i++ {
		msg := fmt.Sprintf("m%03d", i)
		want = append(want, msg)
		evs = append(evs, ev(testNow.Add(-time.Hour+time.Duration(i/7)*time.Millisecond), msg))
	}
	mustOK(t, s, "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s", "logEvents": evs})
	for _, limit := range []int{10000, 7, 4, 1} {
		var got []string
		req := map[string]any{"logGroupName": "/g", "limit": limit}
		for pages := 0; ; pages++ {
			if pages > 400 {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			out := mustOK(t, s, "FilterLogEvents", req)
			for _, e := range out["events"].([]any) {
				got = append(got, e.(map[string]any)["message"].(string))
			}
			tok, ok := out["nextToken"]
			if !ok {
				break
			}
			req["nextToken"] = tok
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("limit %d: order\n got %v\nwant %v", limit, got, want)
		}
	}
}

func TestPtrSeq(t *testing.T) {
	for _, c := range []struct {
		ptr  string
		want uint64
	}{
		{"", 0},
		{"garbage!", 0},
		{base64.RawURLEncoding.EncodeToString([]byte{1, 2, 3}), 3},
		{base64.RawURLEncoding.EncodeToString([]byte{1, 2, 0x96, 0x01}), 150},
		{base64.RawURLEncoding.EncodeToString([]byte{1, 2, 3, 4}), 0}, // trailing byte
		{base64.RawURLEncoding.EncodeToString([]byte{1, 2}), 0},       // no sequence
		{strings.Repeat("A", 100), 0},
	} {
		if got := ptrSeq(c.ptr); got != c.want {
			t.Errorf("ptrSeq(%q) = %d, want %d", c.ptr, got, c.want)
		}
	}
}

// GetQueryResults with maxItems 0 used to answer no rows and a token to
// the same place, so a client paging until the token is gone never ended.
func TestQueryResultsMaxItemsZeroEnds(t *testing.T) {
	s := newTestServer(t)
	setup(t, s)
	var evs []any
	for i := 0; i < 5; i++ {
		evs = append(evs, ev(testNow.Add(-time.Minute+time.Duration(i)*time.Second), fmt.Sprint("m", i)))
	}
	mustOK(t, s, "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s", "logEvents": evs})
	qid := mustOK(t, s, "StartQuery", map[string]any{"logGroupName": "/g", "startTime": testNow.Add(-time.Hour).Unix(), "endTime": testNow.Unix(), "queryString": "fields @message"})["queryId"]
	waitComplete(t, s, qid.(string))
	for _, maxItems := range []int{0, 1, 2, 5} {
		req := map[string]any{"queryId": qid, "maxItems": maxItems}
		rows := 0
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("maxItems %d: paging does not end", maxItems)
			}
			out := mustOK(t, s, "GetQueryResults", req)
			rows += len(out["results"].([]any))
			tok, ok := out["nextToken"]
			if !ok {
				break
			}
			req["nextToken"] = tok
		}
		if rows != 5 {
			t.Errorf("maxItems %d: %d rows, want 5", maxItems, rows)
		}
	}
}

// Paging with the tokens handed out still works where garbage is refused.
func TestDescribePagingTokens(t *testing.T) {
	s := newTestServer(t)
	for i := 0; i < 5; i++ {
		mustOK(t, s, "CreateLogGroup", map[string]any{"logGroupName": fmt.Sprintf("/p/%d", i)})
		mustOK(t, s, "PutQueryDefinition", map[string]any{"name": fmt.Sprintf("d%d", i), "queryString": "fields @message"})
	}
	for _, c := range []struct{ op, list, limitName string }{
		{"DescribeLogGroups", "logGroups", "limit"},
		{"DescribeQueryDefinitions", "queryDefinitions", "maxResults"},
	} {
		req := map[string]any{c.limitName: 2}
		n := 0
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatalf("%s: paging does not end", c.op)
			}
			out := mustOK(t, s, c.op, req)
			n += len(out[c.list].([]any))
			tok, ok := out["nextToken"]
			if !ok {
				break
			}
			req["nextToken"] = tok
		}
		if n != 5 {
			t.Errorf("%s: %d items over the pages, want 5", c.op, n)
		}
	}
}

// DescribeLogGroups treats another account's ARN among logGroupIdentifiers
// as it treats a name that does not exist: not listed. It used to fail the
// whole call with ResourceNotFoundException.
func TestDescribeLogGroupsOtherAccountIdentifier(t *testing.T) {
	s := newTestServer(t)
	mustOK(t, s, "CreateLogGroup", map[string]any{"logGroupName": "/mine"})
	out := mustOK(t, s, "DescribeLogGroups", map[string]any{"logGroupIdentifiers": []string{
		"arn:aws:logs:us-east-1:" + s.DefaultAccount + ":log-group:/mine",
		"arn:aws:logs:us-east-1:999999999999:log-group:/mine",
		"/nope",
	}})
	if gs := out["logGroups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["logGroupName"] != "/mine" {
		t.Errorf("groups: %v", out)
	}
}

// A FilterLogEvents page holds at most 1 MiB of messages (AWS: "as many
// log events as can fit in 1 MB"); it used to return every match up to
// limit, whatever their size.
func TestFilterLogEventsPageBytes(t *testing.T) {
	s := newTestServer(t)
	setup(t, s)
	big := strings.Repeat("x", 400_000)
	for i := 0; i < 5; i++ {
		// One event per call: a PutLogEvents batch has the same 1 MiB bound.
		mustOK(t, s, "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s", "logEvents": []any{
			ev(testNow.Add(-time.Hour+time.Duration(i)*time.Second), fmt.Sprint(i, big)),
		}})
	}
	mustOK(t, s, "PutLogEvents", map[string]any{"logGroupName": "/g", "logStreamName": "s", "logEvents": []any{
		ev(testNow.Add(-time.Minute), "small1"), ev(testNow.Add(-time.Minute), "small2"),
	}})
	var sizes []int
	var got []string
	req := map[string]any{"logGroupName": "/g"}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		out := mustOK(t, s, "FilterLogEvents", req)
		sizes = append(sizes, len(out["events"].([]any)))
		for _, e := range out["events"].([]any) {
			got = append(got, e.(map[string]any)["message"].(string)[:1])
		}
		tok, ok := out["nextToken"]
		if !ok {
			break
		}
		req["nextToken"] = tok
	}
	// 400 kB each: two fit in 1 MiB, not three; the last page has the
	// fifth big one and both small ones.
	if fmt.Sprint(sizes) != "[2 2 3]" || strings.Join(got, "") != "01234ss" {
		t.Errorf("page sizes %v, events %v; want [2 2 3] and 01234ss", sizes, got)
	}
}

func TestPageFit(t *testing.T) {
	sizes := func(s ...int) func(int) int { return func(i int) int { return s[i] } }
	for _, c := range []struct {
		n, limit int
		size     func(int) int
		want     int
	}{
		{0, 10, sizes(), 0},
		{3, 10, sizes(1, 1, 1), 3},
		{3, 2, sizes(1, 1, 1), 2},
		{3, 10, sizes(maxBatchBytes, 1, 1), 1}, // one always, even over the bound
		{3, 10, sizes(600_000, 600_000, 1), 1},
		{3, 10, sizes(500_000, 500_000, 100_000), 2},
	} {
		if got := pageFit(c.n, c.limit, c.size); got != c.want {
			t.Errorf("pageFit(%d, %d) = %d, want %d", c.n, c.limit, got, c.want)
		}
	}
}

// CreateLogGroup's logGroupClass is kept and reported (it was dropped:
// every group said STANDARD), survives a restart, and does not pass to a
// later group of the same name.
func TestLogGroupClass(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	open := func() *Server {
		s, err := New(Config{Store: st, DataDir: dir, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	classes := func(s *Server, req map[string]any) string {
		out := mustOK(t, s, "DescribeLogGroups", req)
		var b []string
		for _, g := range out["logGroups"].([]any) {
			g := g.(map[string]any)
			b = append(b, fmt.Sprint(g["logGroupName"], "=", g["logGroupClass"]))
		}
		return strings.Join(b, " ")
	}
	s := open()
	mustOK(t, s, "CreateLogGroup", map[string]any{"logGroupName": "/ia", "logGroupClass": "INFREQUENT_ACCESS"})
	mustOK(t, s, "CreateLogGroup", map[string]any{"logGroupName": "/std"})
	mustOK(t, s, "CreateLogGroup", map[string]any{"logGroupName": "/std2", "logGroupClass": "STANDARD"})
	for _, c := range []struct {
		req  map[string]any
		want string
	}{
		{map[string]any{}, "/ia=INFREQUENT_ACCESS /std=STANDARD /std2=STANDARD"},
		{map[string]any{"logGroupClass": "INFREQUENT_ACCESS"}, "/ia=INFREQUENT_ACCESS"},
		{map[string]any{"logGroupClass": "STANDARD"}, "/std=STANDARD /std2=STANDARD"},
		{map[string]any{"logGroupClass": "DELIVERY"}, ""},
	} {
		if got := classes(s, c.req); got != c.want {
			t.Errorf("DescribeLogGroups %v: %s, want %s", c.req, got, c.want)
		}
	}
	// A restart keeps the class.
	if got := classes(open(), map[string]any{"logGroupClass": "INFREQUENT_ACCESS"}); got != "/ia=INFREQUENT_ACCESS" {
		t.Errorf("after a restart: %s", got)
	}
	// Deleted and created again without a class: STANDARD.
	mustOK(t, s, "DeleteLogGroup", map[string]any{"logGroupName": "/ia"})
	mustOK(t, s, "CreateLogGroup", map[string]any{"logGroupName": "/ia"})
	if got := classes(s, map[string]any{"logGroupNamePrefix": "/ia"}); got != "/ia=STANDARD" {
		t.Errorf("recreated: %s", got)
	}
}

// PutQueryDefinition with a clientToken already used answers the first
// call's definition (the SDKs send one token per call, the same again on a
// retry); it saved a second copy.
func TestQueryDefinitionClientToken(t *testing.T) {
	s := newTestServer(t)
	in := map[string]any{"name": "failed", "queryString": "filter auth_successful = 0", "clientToken": "0123456789abcdef0123456789abcdef0123"}
	first := mustOK(t, s, "PutQueryDefinition", in)["queryDefinitionId"]
	again := mustOK(t, s, "PutQueryDefinition", in)["queryDefinitionId"]
	other := mustOK(t, s, "PutQueryDefinition", map[string]any{"name": "failed", "queryString": "filter auth_successful = 0", "clientToken": "1123456789abcdef0123456789abcdef0123"})["queryDefinitionId"]
	if first != again || first == other {
		t.Errorf("ids: first %v, same token %v, other token %v", first, again, other)
	}
	if defs := mustOK(t, s, "DescribeQueryDefinitions", map[string]any{})["queryDefinitions"].([]any); len(defs) != 2 {
		t.Errorf("%d definitions, want 2", len(defs))
	}
	// A deleted definition's token saves anew.
	mustOK(t, s, "DeleteQueryDefinition", map[string]any{"queryDefinitionId": first})
	if id := mustOK(t, s, "PutQueryDefinition", in)["queryDefinitionId"]; id == first {
		t.Errorf("token of a deleted definition answered its id %v", id)
	}
	wantErr(t, s, "PutQueryDefinition", map[string]any{"name": "x", "queryString": "fields a", "clientToken": "short"},
		"InvalidParameterException", "Value 'short' at 'clientToken' failed to satisfy constraint: Member must have length between 36 and 128")
}

// DescribeQueries lists newest first; a query started between two pages
// used to shift the offset token, so the next page repeated the last one.
func TestDescribeQueriesPagingWhileStarting(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var tick time.Duration
	s, err := New(Config{Store: st, Now: func() time.Time { tick += time.Second; return testNow.Add(tick) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	setup(t, s)
	startQ := func() string {
		return mustOK(t, s, "StartQuery", map[string]any{"logGroupName": "/g", "startTime": testNow.Add(-time.Hour).Unix(), "endTime": testNow.Unix(), "queryString": "fields @message"})["queryId"].(string)
	}
	var want []string
	for i := 0; i < 4; i++ {
		want = append([]string{startQ()}, want...) // newest first
	}
	seen := map[string]int{}
	var got []string
	req := map[string]any{"maxResults": 2}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		out := mustOK(t, s, "DescribeQueries", req)
		for _, q := range out["queries"].([]any) {
			id := q.(map[string]any)["queryId"].(string)
			seen[id]++
			got = append(got, id)
		}
		if pages == 0 {
			startQ() // newer than every listed query: not on later pages
		}
		tok, ok := out["nextToken"]
		if !ok {
			break
		}
		req["nextToken"] = tok
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("paged queries\n got %v\nwant %v", got, want)
	}
	wantErr(t, s, "DescribeQueries", map[string]any{"nextToken": encodeOffsetToken(2)}, "InvalidParameterException", "The specified nextToken is invalid.")
}

// DescribeLogStreams in name order pages after the last name listed: a
// stream created between two pages used to shift the offset token and
// repeat a listed stream.
func TestDescribeLogStreamsPagingWhileCreating(t *testing.T) {
	s := newTestServer(t)
	mustOK(t, s, "CreateLogGroup", map[string]any{"logGroupName": "/g"})
	for _, n := range []string{"b", "d", "f", "h"} {
		mustOK(t, s, "CreateLogStream", map[string]any{"logGroupName": "/g", "logStreamName": n})
	}
	for _, desc := range []bool{false, true} {
		var got []string
		req := map[string]any{"logGroupName": "/g", "limit": 2, "descending": desc}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			out := mustOK(t, s, "DescribeLogStreams", req)
			for _, st := range out["logStreams"].([]any) {
				got = append(got, st.(map[string]any)["logStreamName"].(string))
			}
			if pages == 0 {
				// Before the page boundary in either order.
				name := map[bool]string{false: "a", true: "z"}[desc]
				mustOK(t, s, "CreateLogStream", map[string]any{"logGroupName": "/g", "logStreamName": name})
			}
			tok, ok := out["nextToken"]
			if !ok {
				break
			}
			req["nextToken"] = tok
		}
		// a (ascending) and z (descending) sort before the first page's
		// end: not listed, and nothing listed twice. The descending pass
		// also has the a of the ascending one.
		want := map[bool]string{false: "b d f h", true: "h f d b a"}[desc]
		if strings.Join(got, " ") != want {
			t.Errorf("descending %v: paged %v, want %s", desc, got, want)
		}
	}
}

// BenchmarkFilterLogEventsPage: one 10,000-event page out of 20,000 (the
// sort key now carries the sequence number read from each @ptr).
func BenchmarkFilterLogEventsPage(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, err := New(Config{Store: st, Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st.CreateLogGroup(s.DefaultAccount, "/g", store.GroupOptions{})
	st.CreateLogStream(s.DefaultAccount, "/g", "s")
	for batch := 0; batch < 4; batch++ {
		evs := make([]store.Event, 5000)
		for i := range evs {
			evs[i] = store.Event{Timestamp: testNow.Add(-time.Hour).UnixMilli() + int64(batch*5000+i)/3, Message: []byte(fmt.Sprintf(`{"n":%d,"user":"u%d@example.com"}`, i, i%97))}
		}
		if err := st.Append(s.DefaultAccount, "/g", "s", evs); err != nil {
			b.Fatal(err)
		}
	}
	req := []byte(`{"logGroupName":"/g"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := s.ops["FilterLogEvents"](context.Background(), Identity{Account: s.DefaultAccount}, req)
		if err != nil || len(out.(filterLogEventsOut).Events) != 10000 {
			b.Fatalf("FilterLogEvents: %v", err)
		}
	}
}

func BenchmarkPtrSeq(b *testing.B) {
	ptr := base64.RawURLEncoding.EncodeToString([]byte{7, 0x80, 0x80, 0x80, 0x80, 0x10, 0x96, 0x81, 0x02})
	for i := 0; i < b.N; i++ {
		if ptrSeq(ptr) == 0 {
			b.Fatal("no sequence")
		}
	}
}
