package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

const awsCLI = "/usr/bin/aws" // Debian's awscli: the AWS CLI v2

type cli struct {
	t           *testing.T
	s           *server
	key, secret string
}

// run invokes the AWS CLI against the server; it returns stdout, stderr and
// whether the command succeeded.
func (c cli) run(args ...string) (string, string, bool) {
	c.t.Helper()
	full := append([]string{"--endpoint-url", c.s.url(), "--output", "json", "--no-cli-pager"}, args...)
	cmd := exec.Command(awsCLI, full...)
	cmd.Env = clientEnv(c.key, c.secret)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

// ok runs the CLI, fails the test on error, and decodes JSON output into v
// (when v is not nil).
func (c cli) ok(v any, args ...string) {
	c.t.Helper()
	out, errs, ok := c.run(args...)
	if !ok {
		c.t.Fatalf("aws %s failed:\n%s%s\nserver log:\n%s", strings.Join(args, " "), out, errs, c.s.log())
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			c.t.Fatalf("aws %s: decoding %q: %v", strings.Join(args, " "), out, err)
		}
	}
}

// fails runs the CLI and expects an error whose text contains code.
func (c cli) fails(code string, args ...string) string {
	c.t.Helper()
	out, errs, ok := c.run(args...)
	if ok {
		c.t.Fatalf("aws %s succeeded, want %s:\n%s", strings.Join(args, " "), code, out)
	}
	if !strings.Contains(errs, "("+code+")") {
		c.t.Fatalf("aws %s: want error %s, got:\n%s", strings.Join(args, " "), code, errs)
	}
	return errs
}

type queryResults struct {
	Status     string `json:"status"`
	Results    [][]struct{ Field, Value string }
	Statistics struct{ RecordsMatched, RecordsScanned, BytesScanned float64 }
}

// query runs an Insights query through start-query and polls
// get-query-results until it is no longer running.
func (c cli) query(group, q string, start, end int64) queryResults {
	c.t.Helper()
	var sq struct {
		QueryID string `json:"queryId"`
	}
	c.ok(&sq, "logs", "start-query", "--log-group-name", group, "--start-time", itoa(start), "--end-time", itoa(end), "--query-string", q)
	deadline := time.Now().Add(60 * time.Second)
	for {
		var r queryResults
		c.ok(&r, "logs", "get-query-results", "--query-id", sq.QueryID)
		if r.Status != "Running" && r.Status != "Scheduled" {
			if r.Status != "Complete" {
				c.t.Fatalf("query %q ended %s", q, r.Status)
			}
			return r
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("query %q still %s after 60s", q, r.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func rowsOf(r queryResults, skip ...string) [][]string {
	var out [][]string
	for _, row := range r.Results {
		var cells []string
	next:
		for _, f := range row {
			for _, s := range skip {
				if f.Field == s {
					continue next
				}
			}
			cells = append(cells, f.Field+"="+f.Value)
		}
		out = append(out, cells)
	}
	return out
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func TestAWSCLI(t *testing.T) {
	need(t, awsCLI)
	s := startServer(t, "")
	a := cli{t, s, keyA, secretA}
	group := "/aws/workmail/audit"

	a.ok(nil, "logs", "create-log-group", "--log-group-name", group)
	a.fails("ResourceAlreadyExistsException", "logs", "create-log-group", "--log-group-name", group)
	a.fails("InvalidParameterException", "logs", "create-log-group", "--log-group-name", "bad name!")
	a.ok(nil, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "org-1")
	a.fails("ResourceNotFoundException", "logs", "create-log-stream", "--log-group-name", "/nope", "--log-stream-name", "x")

	now := time.Now()
	events := seedEvents(now)
	var batch []map[string]any
	for _, e := range events {
		batch = append(batch, map[string]any{"timestamp": e.TS, "message": e.Msg})
	}
	evFile := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(evFile, []byte(mustJSON(batch)), 0o644)
	var put struct {
		NextSequenceToken string         `json:"nextSequenceToken"`
		Rejected          map[string]int `json:"rejectedLogEventsInfo"`
	}
	a.ok(&put, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "org-1", "--log-events", "file://"+evFile)
	if put.Rejected != nil || put.NextSequenceToken == "" {
		t.Fatalf("put-log-events: %+v", put)
	}
	// One event too old, one fine: partial acceptance.
	old := filepath.Join(t.TempDir(), "old.json")
	os.WriteFile(old, []byte(mustJSON([]map[string]any{
		{"timestamp": now.Add(-15 * 24 * time.Hour).UnixMilli(), "message": "too old"},
	})), 0o644)
	a.ok(&put, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "org-1", "--log-events", "file://"+old)
	if v, ok := put.Rejected["tooOldLogEventEndIndex"]; !ok || v != 0 {
		t.Fatalf("old event: rejectedLogEventsInfo = %v, want tooOldLogEventEndIndex 0", put.Rejected)
	}
	a.fails("ResourceNotFoundException", "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "missing", "--log-events", "file://"+evFile)

	var groups struct {
		LogGroups []struct {
			LogGroupName string `json:"logGroupName"`
			Arn          string `json:"arn"`
			StoredBytes  *int64 `json:"storedBytes"`
			Retention    *int   `json:"retentionInDays"`
		} `json:"logGroups"`
	}
	a.ok(&groups, "logs", "describe-log-groups", "--log-group-name-prefix", "/aws/workmail")
	if len(groups.LogGroups) != 1 || groups.LogGroups[0].LogGroupName != group || !strings.HasPrefix(groups.LogGroups[0].Arn, "arn:aws:logs:us-east-1:"+accountA+":log-group:"+group) {
		t.Fatalf("describe-log-groups: %+v", groups)
	}

	var streams struct {
		LogStreams []struct {
			Name  string `json:"logStreamName"`
			First int64  `json:"firstEventTimestamp"`
			Last  int64  `json:"lastEventTimestamp"`
		} `json:"logStreams"`
	}
	a.ok(&streams, "logs", "describe-log-streams", "--log-group-name", group)
	if len(streams.LogStreams) != 1 || streams.LogStreams[0].First != events[0].TS || streams.LogStreams[0].Last != events[len(events)-1].TS {
		t.Fatalf("describe-log-streams: %+v", streams)
	}

	var got struct {
		Events []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"events"`
	}
	a.ok(&got, "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "org-1", "--start-from-head")
	if len(got.Events) != len(events) {
		t.Fatalf("get-log-events: %d events, want %d", len(got.Events), len(events))
	}
	for i, e := range got.Events {
		if e.Message != events[i].Msg || e.Timestamp != events[i].TS {
			t.Fatalf("event %d: got %d %q, want %d %q", i, e.Timestamp, e.Message, events[i].TS, events[i].Msg)
		}
	}

	var filtered struct {
		Events []struct{ Message string } `json:"events"`
	}
	// One event a page: the CLI follows nextToken to the end (and aborts
	// if a token comes back twice).
	a.ok(&filtered, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "{ $.auth_successful IS FALSE }", "--page-size", "1")
	if len(filtered.Events) != 3 || filtered.Events[0].Message != events[2].Msg || filtered.Events[2].Message != events[8].Msg {
		t.Fatalf("filter-log-events IS FALSE by pages of 1: %d events, want events 2, 3, 8: %+v", len(filtered.Events), filtered.Events)
	}
	a.ok(&filtered, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", `"qq.com"`)
	if len(filtered.Events) != 2 {
		t.Fatalf("filter-log-events qq.com: %d events, want 2", len(filtered.Events))
	}

	// The seed documents' investigations, through start-query.
	st, en := now.Add(-time.Hour).Unix(), now.Add(time.Minute).Unix()
	r := a.query(group, `fields user, source_ip, protocol, auth_successful, auth_failed_reason | filter auth_successful = 0`, st, en)
	want := [][]string{
		{"user=mallory", "source_ip=192.0.2.66", "protocol=EWS", "auth_successful=0", "auth_failed_reason=Invalid username or password"},
		{"user=carol", "source_ip=203.0.113.9", "protocol=IMAP", "auth_successful=0", "auth_failed_reason=Invalid username or password"},
		{"user=bob", "source_ip=203.0.113.9", "protocol=IMAP", "auth_successful=0", "auth_failed_reason=Invalid username or password"},
	}
	if got := rowsOf(r, "@ptr"); !reflect.DeepEqual(got, want) {
		t.Errorf("failed logins:\n got %v\nwant %v", got, want)
	}
	if r.Statistics.RecordsMatched != 3 || r.Statistics.RecordsScanned < 3 || r.Statistics.RecordsScanned > float64(len(events)) {
		t.Errorf("statistics: %+v", r.Statistics)
	}
	r = a.query(group, "fields @timestamp, event.eventName\n| sort @timestamp asc\n| filter (event.from like \"qq.com\" and event.eventName = \"ORGANIZATION_EMAIL_RECEIVED\")", st, en)
	want = [][]string{
		{"@timestamp=" + fmtTS(events[0].TS), "event.eventName=ORGANIZATION_EMAIL_RECEIVED"},
		{"@timestamp=" + fmtTS(events[6].TS), "event.eventName=ORGANIZATION_EMAIL_RECEIVED"},
	}
	if got := rowsOf(r, "@ptr"); !reflect.DeepEqual(got, want) {
		t.Errorf("mail from qq.com:\n got %v\nwant %v", got, want)
	}
	r = a.query(group, `fields user_id, source_ip, protocol, rule_id, access_granted | filter access_granted = 0`, st, en)
	want = [][]string{{"user_id=u-dave", "source_ip=198.51.100.4", "protocol=IMAP", "rule_id=deny-imap", "access_granted=0"}}
	if got := rowsOf(r, "@ptr"); !reflect.DeepEqual(got, want) {
		t.Errorf("access denied:\n got %v\nwant %v", got, want)
	}
	r = a.query(group, "stats count(*) as c by event.recipient\n| filter event.eventName = \"MAILBOX_EMAIL_DELIVERED\"\n| sort c desc", st, en)
	want = [][]string{{"event.recipient=bob@example.com", "c=1"}}
	if got := rowsOf(r); !reflect.DeepEqual(got, want) {
		t.Errorf("deliveries per recipient:\n got %v\nwant %v", got, want)
	}

	// GetLogRecord with a pointer from a result row.
	r = a.query(group, `fields @message | filter user = "mallory"`, st, en)
	var ptr string
	for _, f := range r.Results[0] {
		if f.Field == "@ptr" {
			ptr = f.Value
		}
	}
	var rec struct {
		LogRecord map[string]string `json:"logRecord"`
	}
	a.ok(&rec, "logs", "get-log-record", "--log-record-pointer", ptr)
	if rec.LogRecord["@message"] != events[8].Msg || rec.LogRecord["user"] != "mallory" {
		t.Errorf("get-log-record: %v", rec.LogRecord)
	}

	a.fails("MalformedQueryException", "logs", "start-query", "--log-group-name", group, "--start-time", itoa(st), "--end-time", itoa(en), "--query-string", "fields a | frobnicate b")

	var dq struct {
		Queries []struct{ QueryString, Status string } `json:"queries"`
	}
	a.ok(&dq, "logs", "describe-queries", "--log-group-name", group, "--page-size", "2")
	if len(dq.Queries) != 5 || !strings.HasPrefix(dq.Queries[0].QueryString, `SOURCE "`+group+`" START=`) {
		t.Errorf("describe-queries: %+v", dq)
	}

	var fields struct {
		LogGroupFields []struct {
			Name    string `json:"name"`
			Percent int    `json:"percent"`
		} `json:"logGroupFields"`
	}
	a.ok(&fields, "logs", "get-log-group-fields", "--log-group-name", group)
	names := map[string]bool{}
	for _, f := range fields.LogGroupFields {
		names[f.Name] = true
	}
	for _, n := range []string{"event.eventName", "auth_successful", "source_ip"} {
		if !names[n] {
			t.Errorf("get-log-group-fields lacks %s: %+v", n, fields)
		}
	}

	// Retention, tags, saved queries.
	a.ok(nil, "logs", "put-retention-policy", "--log-group-name", group, "--retention-in-days", "30")
	a.fails("InvalidParameterException", "logs", "put-retention-policy", "--log-group-name", group, "--retention-in-days", "31")
	a.ok(&groups, "logs", "describe-log-groups")
	if groups.LogGroups[0].Retention == nil || *groups.LogGroups[0].Retention != 30 {
		t.Errorf("retention not set: %+v", groups)
	}
	a.ok(nil, "logs", "delete-retention-policy", "--log-group-name", group)
	arn := strings.TrimSuffix(groups.LogGroups[0].Arn, ":*")
	a.ok(nil, "logs", "tag-resource", "--resource-arn", arn, "--tags", "team=mail,env=test")
	var tags struct {
		Tags map[string]string `json:"tags"`
	}
	a.ok(&tags, "logs", "list-tags-for-resource", "--resource-arn", arn)
	if !reflect.DeepEqual(tags.Tags, map[string]string{"team": "mail", "env": "test"}) {
		t.Errorf("tags: %v", tags.Tags)
	}
	a.ok(nil, "logs", "untag-resource", "--resource-arn", arn, "--tag-keys", "env")
	tags.Tags = nil
	a.ok(&tags, "logs", "list-tags-for-resource", "--resource-arn", arn)
	if !reflect.DeepEqual(tags.Tags, map[string]string{"team": "mail"}) {
		t.Errorf("tags after untag: %v", tags.Tags)
	}
	var def struct {
		QueryDefinitionID string `json:"queryDefinitionId"`
	}
	a.ok(&def, "logs", "put-query-definition", "--name", "failed logins", "--query-string", "filter auth_successful = 0")
	var defs struct {
		QueryDefinitions []struct{ Name, QueryDefinitionID, QueryString string } `json:"queryDefinitions"`
	}
	a.ok(&defs, "logs", "describe-query-definitions")
	if len(defs.QueryDefinitions) != 1 || defs.QueryDefinitions[0].Name != "failed logins" ||
		defs.QueryDefinitions[0].QueryDefinitionID != def.QueryDefinitionID || defs.QueryDefinitions[0].QueryString != "filter auth_successful = 0" {
		t.Errorf("describe-query-definitions: %+v", defs)
	}
	var deleted struct {
		Success bool `json:"success"`
	}
	a.ok(&deleted, "logs", "delete-query-definition", "--query-definition-id", def.QueryDefinitionID)
	defs.QueryDefinitions = nil
	a.ok(&defs, "logs", "describe-query-definitions")
	if !deleted.Success || len(defs.QueryDefinitions) != 0 {
		t.Errorf("delete-query-definition: success %v, then %+v", deleted.Success, defs)
	}

	// Authentication and account isolation.
	bad := cli{t, s, keyA, "wrong-secret"}
	bad.fails("InvalidSignatureException", "logs", "describe-log-groups")
	unknown := cli{t, s, "AKIAUNKNOWNKEY000000", "whatever"}
	unknown.fails("UnrecognizedClientException", "logs", "describe-log-groups")
	b := cli{t, s, keyB, secretB}
	b.ok(&groups, "logs", "describe-log-groups")
	if len(groups.LogGroups) != 0 {
		t.Errorf("account B sees account A's groups: %+v", groups)
	}
	b.fails("ResourceNotFoundException", "logs", "start-query", "--log-group-name", group, "--start-time", itoa(st), "--end-time", itoa(en), "--query-string", "fields @message")
	b.fails("ResourceNotFoundException", "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "org-1")
	b.ok(&dq, "logs", "describe-queries")
	if len(dq.Queries) != 0 {
		t.Errorf("account B sees account A's queries: %+v", dq)
	}

	a.ok(nil, "logs", "delete-log-stream", "--log-group-name", group, "--log-stream-name", "org-1")
	a.fails("ResourceNotFoundException", "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", "org-1")
	a.ok(nil, "logs", "delete-log-group", "--log-group-name", group)
	a.fails("ResourceNotFoundException", "logs", "delete-log-group", "--log-group-name", group)

	if err := s.stop(); err != nil {
		t.Errorf("server shutdown: %v\n%s", err, s.log())
	}
}

// TestAWSCLIStopQuery stops a running query with `aws logs stop-query` and
// checks that get-query-results and describe-queries then say Cancelled.
// The query must outlast the CLI's own start-up (about half a second per
// command), so it parses every record of a group filled through the Go SDK
// several times over; when it still ends first (stop-query answers that
// the query is not running) the work is doubled and the test tries again.
// The engine looks at the query's context every 1,024 rows inside a
// block, so Cancelled shows within milliseconds of stop-query; the loop
// below only allows for a slow machine.
func TestAWSCLIStopQuery(t *testing.T) {
	need(t, awsCLI)
	s := startServer(t, "")
	group := "/aws/workmail/stop"
	fillGroup(t, s, group, 50000)
	a := cli{t, s, keyA, secretA}
	now := time.Now()
	st, en := itoa(now.Add(-2*time.Hour).Unix()), itoa(now.Add(time.Minute).Unix())
	for parses := 4; parses <= 256; parses *= 2 {
		var q strings.Builder
		for i := 0; i < parses; i++ {
			fmt.Fprintf(&q, "parse @message /\"(?<k%d>[a-z_]+)\":\"(?<v%d>[^\"]*)\"[,}](?<rest%d>.*)$/ | ", i, i, i)
		}
		q.WriteString("stats count(*) as n by k0")
		var sq struct {
			QueryID string `json:"queryId"`
		}
		a.ok(&sq, "logs", "start-query", "--log-group-name", group, "--start-time", st, "--end-time", en, "--query-string", q.String())
		out, errs, ok := a.run("logs", "stop-query", "--query-id", sq.QueryID)
		if !ok {
			if strings.Contains(errs, "(InvalidParameterException)") && strings.Contains(errs, "not running") {
				t.Logf("a query of %d parse commands ended before stop-query; doubling", parses)
				continue
			}
			t.Fatalf("stop-query: %s%s", out, errs)
		}
		var stop struct {
			Success bool `json:"success"`
		}
		if err := json.Unmarshal([]byte(out), &stop); err != nil || !stop.Success {
			t.Fatalf("stop-query answered %q (%v), want success true", out, err)
		}
		t.Logf("stop-query with %d parse commands: success", parses)
		deadline := time.Now().Add(30 * time.Second)
		for {
			var r queryResults
			a.ok(&r, "logs", "get-query-results", "--query-id", sq.QueryID)
			if r.Status == "Cancelled" {
				break
			}
			if r.Status != "Running" || time.Now().After(deadline) {
				t.Fatalf("get-query-results after stop-query: status %s, want Cancelled", r.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
		var dq struct {
			Queries []struct{ QueryID, Status string } `json:"queries"`
		}
		a.ok(&dq, "logs", "describe-queries", "--log-group-name", group, "--status", "Cancelled")
		if len(dq.Queries) != 1 || dq.Queries[0].QueryID != sq.QueryID || dq.Queries[0].Status != "Cancelled" {
			t.Fatalf("describe-queries --status Cancelled: %+v, want query %s", dq.Queries, sq.QueryID)
		}
		a.fails("InvalidParameterException", "logs", "stop-query", "--query-id", sq.QueryID)
		return
	}
	t.Fatal("every query ended before stop-query reached the server")
}

// fillGroup creates group and puts n generated WorkMail records into it
// through the Go SDK, timestamped within the last hour.
func fillGroup(t *testing.T, s *server, group string, n int) {
	t.Helper()
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binPath, "gen", "-n", strconv.Itoa(n), "-seed", "5").Output()
	if err != nil {
		t.Fatalf("mailtrail gen: %v", err)
	}
	base := time.Now().Add(-time.Hour).UnixMilli()
	var batch []types.InputLogEvent
	size := 0
	put := func() {
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"), LogEvents: batch}); err != nil {
			t.Fatal(err)
		}
		batch, size = batch[:0], 0
	}
	for i, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if size+len(line)+26 > 1000000 || len(batch) == 10000 {
			put()
		}
		batch = append(batch, types.InputLogEvent{Timestamp: aws.Int64(base + int64(i/50)), Message: aws.String(line)})
		size += len(line) + 26
	}
	put()
}
