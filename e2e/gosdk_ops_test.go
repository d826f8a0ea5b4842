package e2e

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// isErr reports whether err is (or wraps) the SDK's typed error T, which is
// how SDK users tell one AWS error from another.
func isErr[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// must returns v, or a function that fails the test when err is not nil;
// written must(c.Op(ctx, in))(t, "what") so that an SDK call's two results
// go straight in.
func must[T any](v T, err error) func(t *testing.T, what string) T {
	return func(t *testing.T, what string) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// sdkQuery starts an Insights query and polls GetQueryResults until it is
// no longer running; it returns the query id and the final answer, which
// must be Complete.
func sdkQuery(t *testing.T, c *cwl.Client, in *cwl.StartQueryInput) (string, *cwl.GetQueryResultsOutput) {
	t.Helper()
	ctx := context.Background()
	id := aws.ToString(must(c.StartQuery(ctx, in))(t, "StartQuery "+aws.ToString(in.QueryString)).QueryId)
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := must(c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: aws.String(id)}))(t, "GetQueryResults")
		switch {
		case res.Status == types.QueryStatusComplete:
			return id, res
		case res.Status != types.QueryStatusRunning && res.Status != types.QueryStatusScheduled:
			t.Fatalf("query %q ended %s", aws.ToString(in.QueryString), res.Status)
		case time.Now().After(deadline):
			t.Fatalf("query %q still %s after 60 s", aws.ToString(in.QueryString), res.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGoSDKOperations calls every operation mailtrail serves, through
// aws-sdk-go-v2 as an application would, and checks what comes back:
// content, order, the SDK paginators ending, and the typed errors.
// (StartLiveTail is TestGoSDKLiveTail.)
func TestGoSDKOperations(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	group := "/aws/workmail/ops"
	region := "us-east-1"
	groupARN := "arn:aws:logs:" + region + ":" + accountA + ":log-group:" + group

	// CreateLogGroup, with tags given at creation.
	must(c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group), Tags: map[string]string{"team": "mail"}}))(t, "CreateLogGroup")
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); !isErr[*types.ResourceAlreadyExistsException](err) {
		t.Errorf("CreateLogGroup again: %v, want ResourceAlreadyExistsException", err)
	}
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name!")}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("CreateLogGroup %q: %v, want InvalidParameterException", "bad name!", err)
	}
	for _, g := range []string{group + "/b", group + "/a"} {
		must(c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)}))(t, "CreateLogGroup "+g)
	}

	// CreateLogStream.
	for _, st := range []string{"org-2", "org-1"} {
		must(c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(st)}))(t, "CreateLogStream "+st)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-1")}); !isErr[*types.ResourceAlreadyExistsException](err) {
		t.Errorf("CreateLogStream again: %v, want ResourceAlreadyExistsException", err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("/nope"), LogStreamName: aws.String("s")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("CreateLogStream in a missing group: %v, want ResourceNotFoundException", err)
	}

	// PutLogEvents: the seed scenario into org-1, then 25 later numbered
	// events into org-2 (enough for several pages).
	now := time.Now()
	events := seedEvents(now.Add(-time.Minute))
	put := func(stream string, evs []auditEvent) *cwl.PutLogEventsOutput {
		t.Helper()
		var in []types.InputLogEvent
		for _, e := range evs {
			in = append(in, types.InputLogEvent{Timestamp: aws.Int64(e.TS), Message: aws.String(e.Msg)})
		}
		return must(c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: in}))(t, "PutLogEvents "+stream)
	}
	if out := put("org-1", events); out.RejectedLogEventsInfo != nil || aws.ToString(out.NextSequenceToken) == "" {
		t.Errorf("PutLogEvents: rejected %+v, nextSequenceToken %q", out.RejectedLogEventsInfo, aws.ToString(out.NextSequenceToken))
	}
	var numbered []auditEvent
	for i := 0; i < 25; i++ {
		numbered = append(numbered, auditEvent{TS: now.Add(-30*time.Second + time.Duration(i)*time.Millisecond).UnixMilli(), Msg: fmt.Sprintf(`{"n":%d,"kind":"tick"}`, i)})
	}
	put("org-2", numbered)
	// The last event is 3 hours ahead: accepted up to it, rejected from it.
	out := put("org-2", []auditEvent{{TS: now.UnixMilli(), Msg: `{"n":25,"kind":"late"}`}, {TS: now.Add(3 * time.Hour).UnixMilli(), Msg: "too new"}})
	if out.RejectedLogEventsInfo == nil || aws.ToInt32(out.RejectedLogEventsInfo.TooNewLogEventStartIndex) != 1 {
		t.Errorf("PutLogEvents with an event 3h ahead: rejectedLogEventsInfo %+v, want tooNewLogEventStartIndex 1", out.RejectedLogEventsInfo)
	}
	numbered = append(numbered, auditEvent{TS: now.UnixMilli(), Msg: `{"n":25,"kind":"late"}`})
	_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-1"), LogEvents: []types.InputLogEvent{
		{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String("b")}, {Timestamp: aws.Int64(now.UnixMilli() - 1000), Message: aws.String("a")}}})
	if !isErr[*types.InvalidParameterException](err) {
		t.Errorf("PutLogEvents out of order: %v, want InvalidParameterException", err)
	}
	// The batch limits: 10,000 events, 1,048,576 bytes (messages + 26 each).
	tooMany := make([]types.InputLogEvent, 10001)
	for i := range tooMany {
		tooMany[i] = types.InputLogEvent{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String("x")}
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-1"), LogEvents: tooMany}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("PutLogEvents of 10,001 events: %v, want InvalidParameterException", err)
	}
	big := strings.Repeat("m", 1048576/2)
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-1"), LogEvents: []types.InputLogEvent{
		{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String(big)}, {Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String(big)}}}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("PutLogEvents of 1 MiB + 52 bytes: %v, want InvalidParameterException", err)
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("nope"), LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(now.UnixMilli()), Message: aws.String("x")}}}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("PutLogEvents to a missing stream: %v, want ResourceNotFoundException", err)
	}

	// DescribeLogGroups, one group a page: the paginator must end, in name order.
	var groupNames []string
	var thisGroup types.LogGroup
	pages := 0
	for p := cwl.NewDescribeLogGroupsPaginator(c, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group), Limit: aws.Int32(1)}); p.HasMorePages(); pages++ {
		if pages > 10 {
			t.Fatal("DescribeLogGroups: the paginator does not end")
		}
		page := must(p.NextPage(ctx))(t, "DescribeLogGroups")
		for _, g := range page.LogGroups {
			groupNames = append(groupNames, aws.ToString(g.LogGroupName))
			if aws.ToString(g.LogGroupName) == group {
				thisGroup = g
			}
		}
	}
	if want := []string{group, group + "/a", group + "/b"}; !reflect.DeepEqual(groupNames, want) {
		t.Errorf("DescribeLogGroups by pages of 1: %v, want %v", groupNames, want)
	}
	if aws.ToString(thisGroup.Arn) != groupARN+":*" || aws.ToString(thisGroup.LogGroupArn) != groupARN || aws.ToInt64(thisGroup.CreationTime) < now.Add(-time.Minute).UnixMilli() || thisGroup.RetentionInDays != nil {
		t.Errorf("DescribeLogGroups: arn %q logGroupArn %q creationTime %d retention %v",
			aws.ToString(thisGroup.Arn), aws.ToString(thisGroup.LogGroupArn), aws.ToInt64(thisGroup.CreationTime), thisGroup.RetentionInDays)
	}
	// A pattern is a substring match; identifiers name groups exactly.
	byPattern := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("ops/")}))(t, "DescribeLogGroups pattern")
	if len(byPattern.LogGroups) != 2 || aws.ToString(byPattern.LogGroups[0].LogGroupName) != group+"/a" || aws.ToString(byPattern.LogGroups[1].LogGroupName) != group+"/b" {
		t.Errorf("DescribeLogGroups pattern ops/: %+v, want %s/a and /b", byPattern.LogGroups, group)
	}
	byID := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupIdentifiers: []string{group + "/b", groupARN}}))(t, "DescribeLogGroups identifiers")
	if len(byID.LogGroups) != 2 || aws.ToString(byID.LogGroups[0].LogGroupName) != group || aws.ToString(byID.LogGroups[1].LogGroupName) != group+"/b" {
		t.Errorf("DescribeLogGroups identifiers: %+v, want %s and %s/b", byID.LogGroups, group, group)
	}
	if _, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/a"), LogGroupNamePattern: aws.String("b")}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("DescribeLogGroups with prefix and pattern: %v, want InvalidParameterException", err)
	}

	// DescribeLogStreams: by name over pages of 1, then by last event.
	var streams []types.LogStream
	pages = 0
	for p := cwl.NewDescribeLogStreamsPaginator(c, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(group), Limit: aws.Int32(1)}); p.HasMorePages(); pages++ {
		if pages > 10 {
			t.Fatal("DescribeLogStreams: the paginator does not end")
		}
		streams = append(streams, must(p.NextPage(ctx))(t, "DescribeLogStreams").LogStreams...)
	}
	if len(streams) != 2 || aws.ToString(streams[0].LogStreamName) != "org-1" || aws.ToString(streams[1].LogStreamName) != "org-2" {
		t.Fatalf("DescribeLogStreams by pages of 1: %d streams %+v, want org-1, org-2", len(streams), streams)
	}
	if st := streams[0]; aws.ToInt64(st.FirstEventTimestamp) != events[0].TS || aws.ToInt64(st.LastEventTimestamp) != events[len(events)-1].TS ||
		aws.ToString(st.Arn) != groupARN+":log-stream:org-1" || aws.ToInt64(st.LastIngestionTime) < aws.ToInt64(st.CreationTime) {
		t.Errorf("DescribeLogStreams org-1: first %d last %d arn %q created %d ingested %d; want first %d last %d",
			aws.ToInt64(st.FirstEventTimestamp), aws.ToInt64(st.LastEventTimestamp), aws.ToString(st.Arn), aws.ToInt64(st.CreationTime), aws.ToInt64(st.LastIngestionTime),
			events[0].TS, events[len(events)-1].TS)
	}
	byLast := must(c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String(groupARN), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)}))(t, "DescribeLogStreams LastEventTime")
	if len(byLast.LogStreams) != 2 || aws.ToString(byLast.LogStreams[0].LogStreamName) != "org-2" {
		t.Errorf("DescribeLogStreams by last event, descending: %+v, want org-2 first", byLast.LogStreams)
	}
	if _, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("org")}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("DescribeLogStreams LastEventTime with a prefix: %v, want InvalidParameterException", err)
	}

	// GetLogEvents forward from the head, 4 a page, with the SDK paginator:
	// all events in order, and the forward token comes back unchanged at
	// the end (which is how the paginator stops).
	checkEvents := func(what string, got []types.OutputLogEvent, want []auditEvent) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d events, want %d", what, len(got), len(want))
			return
		}
		for i, e := range got {
			if aws.ToString(e.Message) != want[i].Msg || aws.ToInt64(e.Timestamp) != want[i].TS || aws.ToInt64(e.IngestionTime) < now.Add(-time.Minute).UnixMilli() {
				t.Errorf("%s: event %d is %d %q (ingested %d), want %d %q", what, i, aws.ToInt64(e.Timestamp), aws.ToString(e.Message), aws.ToInt64(e.IngestionTime), want[i].TS, want[i].Msg)
				return
			}
		}
	}
	var fwd []types.OutputLogEvent
	pages = 0
	for p := cwl.NewGetLogEventsPaginator(c, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-2"), StartFromHead: aws.Bool(true), Limit: aws.Int32(4)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true }); p.HasMorePages(); pages++ {
		if pages > 20 {
			t.Fatal("GetLogEvents forward: the paginator does not end")
		}
		page := must(p.NextPage(ctx))(t, "GetLogEvents")
		if len(page.Events) > 4 || !strings.HasPrefix(aws.ToString(page.NextForwardToken), "f/") || !strings.HasPrefix(aws.ToString(page.NextBackwardToken), "b/") {
			t.Fatalf("GetLogEvents page %d: %d events, tokens %q %q", pages, len(page.Events), aws.ToString(page.NextForwardToken), aws.ToString(page.NextBackwardToken))
		}
		fwd = append(fwd, page.Events...)
	}
	checkEvents("GetLogEvents forward by pages of 4", fwd, numbered)
	// Backward from the tail (startFromHead false): the first page holds
	// the latest events, still ascending; the backward token walks to the
	// head and then comes back unchanged.
	var pagesBack [][]types.OutputLogEvent
	var token *string
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("GetLogEvents backward: the backward token never repeats")
		}
		page := must(c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-2"), Limit: aws.Int32(4), NextToken: token}))(t, "GetLogEvents backward")
		pagesBack = append(pagesBack, page.Events)
		if token != nil && aws.ToString(page.NextBackwardToken) == *token {
			break
		}
		token = page.NextBackwardToken
	}
	if len(pagesBack[0]) != 4 || aws.ToString(pagesBack[0][3].Message) != numbered[len(numbered)-1].Msg {
		t.Errorf("GetLogEvents from the tail: first page %v, want the last 4 events", pagesBack[0])
	}
	var back []types.OutputLogEvent
	for i := len(pagesBack) - 1; i >= 0; i-- {
		back = append(back, pagesBack[i]...)
	}
	checkEvents("GetLogEvents backward by pages of 4", back, numbered)
	// startTime inclusive, endTime exclusive; by group ARN.
	win := must(c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupIdentifier: aws.String(groupARN), LogStreamName: aws.String("org-1"),
		StartTime: aws.Int64(events[2].TS), EndTime: aws.Int64(events[5].TS), StartFromHead: aws.Bool(true)}))(t, "GetLogEvents window")
	checkEvents("GetLogEvents [events[2], events[5])", win.Events, events[2:5])
	if _, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("nope")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("GetLogEvents on a missing stream: %v, want ResourceNotFoundException", err)
	}

	// FilterLogEvents: a JSON pattern over the group, one event a page.
	filter := func(in *cwl.FilterLogEventsInput) []types.FilteredLogEvent {
		t.Helper()
		var got []types.FilteredLogEvent
		pages := 0
		for p := cwl.NewFilterLogEventsPaginator(c, in); p.HasMorePages(); pages++ {
			if pages > 100 {
				t.Fatalf("FilterLogEvents %q: the paginator does not end", aws.ToString(in.FilterPattern))
			}
			got = append(got, must(p.NextPage(ctx))(t, "FilterLogEvents").Events...)
		}
		return got
	}
	failed := filter(&cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.auth_successful IS FALSE }`), Limit: aws.Int32(1)})
	if len(failed) != 3 {
		t.Errorf("FilterLogEvents IS FALSE: %d events, want 3", len(failed))
	} else {
		ids := map[string]bool{}
		for i, idx := range []int{2, 3, 8} {
			e := failed[i]
			if aws.ToString(e.Message) != events[idx].Msg || aws.ToInt64(e.Timestamp) != events[idx].TS || aws.ToString(e.LogStreamName) != "org-1" || aws.ToString(e.EventId) == "" || ids[aws.ToString(e.EventId)] {
				t.Errorf("FilterLogEvents IS FALSE event %d: %s %d %q id %q, want org-1 %d %q", i, aws.ToString(e.LogStreamName), aws.ToInt64(e.Timestamp), aws.ToString(e.Message), aws.ToString(e.EventId), events[idx].TS, events[idx].Msg)
			}
			ids[aws.ToString(e.EventId)] = true
		}
	}
	// Term, OR and exclusion patterns; a stream subset; a time window.
	for _, tc := range []struct {
		pattern string
		streams []string
		start   int64
		want    int
	}{
		{`"qq.com"`, nil, 0, 2},
		{`?mallory ?carol`, nil, 0, 2},
		{`IMAP -"203.0.113.9"`, nil, 0, 2},
		{`{ $.n >= 20 }`, nil, 0, 6},
		{`{ $.n >= 20 }`, []string{"org-1"}, 0, 0},
		{`{ $.kind = "tick" }`, []string{"org-2"}, numbered[10].TS, 15},
		{`{ $.kind = "tick" }`, nil, numbered[10].TS, 15},
		{``, nil, 0, len(events) + len(numbered)},
	} {
		in := &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(tc.pattern), LogStreamNames: tc.streams, Limit: aws.Int32(7)}
		if tc.start != 0 {
			in.StartTime = aws.Int64(tc.start)
			if tc.streams == nil { // the group by ARN
				in.LogGroupName, in.LogGroupIdentifier = nil, aws.String(groupARN)
			}
		}
		got := filter(in)
		if len(got) != tc.want {
			t.Errorf("FilterLogEvents %q streams %v from %d: %d events, want %d", tc.pattern, tc.streams, tc.start, len(got), tc.want)
		}
		if !sort.SliceIsSorted(got, func(i, j int) bool { return aws.ToInt64(got[i].Timestamp) < aws.ToInt64(got[j].Timestamp) }) {
			t.Errorf("FilterLogEvents %q: events not in time order", tc.pattern)
		}
	}
	if _, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.a = `)}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("FilterLogEvents with a broken pattern: %v, want InvalidParameterException", err)
	}

	// StartQuery, GetQueryResults, GetLogRecord on a result's @ptr.
	st, en := now.Add(-time.Hour).Unix(), now.Add(time.Minute).Unix()
	_, res := sdkQuery(t, c, &cwl.StartQueryInput{LogGroupName: aws.String(group), StartTime: aws.Int64(st), EndTime: aws.Int64(en),
		QueryString: aws.String(`fields @timestamp, user, source_ip | filter auth_successful = 0 | sort @timestamp desc`)})
	rows := resultRows(res.Results)
	if len(rows) != 3 || rows[0]["user"] != "mallory" || rows[1]["user"] != "carol" || rows[2]["user"] != "bob" || rows[0]["@timestamp"] != fmtTS(events[8].TS) || rows[0]["@ptr"] == "" {
		t.Fatalf("GetQueryResults failed logins: %v", rows)
	}
	if res.Statistics == nil || res.Statistics.RecordsMatched != 3 || res.Statistics.RecordsScanned < 3 || res.Statistics.BytesScanned <= 0 {
		t.Errorf("GetQueryResults statistics: %+v", res.Statistics)
	}
	rec := must(c.GetLogRecord(ctx, &cwl.GetLogRecordInput{LogRecordPointer: aws.String(rows[0]["@ptr"])}))(t, "GetLogRecord")
	if rec.LogRecord["@message"] != events[8].Msg || rec.LogRecord["user"] != "mallory" || rec.LogRecord["source_ip"] != "192.0.2.66" || rec.LogRecord["@logStream"] != "org-1" {
		t.Errorf("GetLogRecord: %v", rec.LogRecord)
	}
	if _, err := sdkClient(s, keyB, secretB).GetLogRecord(ctx, &cwl.GetLogRecordInput{LogRecordPointer: aws.String(rows[0]["@ptr"])}); err == nil {
		t.Errorf("GetLogRecord of account A's record by account B succeeded")
	}
	if _, err := c.GetLogRecord(ctx, &cwl.GetLogRecordInput{LogRecordPointer: aws.String("not-a-pointer")}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("GetLogRecord with a bad pointer: %v, want InvalidParameterException", err)
	}
	// Several groups at once, by identifiers; stats.
	_, res = sdkQuery(t, c, &cwl.StartQueryInput{LogGroupIdentifiers: []string{groupARN, group + "/a"}, StartTime: aws.Int64(st), EndTime: aws.Int64(en),
		QueryString: aws.String(`stats count(*) as c by @logStream | sort @logStream asc`)})
	if got := resultRows(res.Results); len(got) != 2 || got[0]["c"] != "10" || got[1]["c"] != "26" {
		t.Errorf("stats count by @logStream: %v, want org-1 10, org-2 26", got)
	}
	// StartQuery's limit caps the rows.
	_, res = sdkQuery(t, c, &cwl.StartQueryInput{LogGroupName: aws.String(group), StartTime: aws.Int64(st), EndTime: aws.Int64(en), Limit: aws.Int32(4),
		QueryString: aws.String(`fields n | filter kind = "tick" | sort n asc`)})
	if got := resultRows(res.Results); len(got) != 4 || got[0]["n"] != "0" || got[3]["n"] != "3" {
		t.Errorf("StartQuery limit 4: %v, want n 0..3", got)
	}
	// GetQueryResults by pages of 10 (maxItems, nextToken): the 25 rows in
	// order, and the token ends.
	qid, _ := sdkQuery(t, c, &cwl.StartQueryInput{LogGroupName: aws.String(group), StartTime: aws.Int64(st), EndTime: aws.Int64(en),
		QueryString: aws.String(`fields n | filter kind = "tick" | sort n asc`)})
	var paged []map[string]string
	token = nil
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("GetQueryResults maxItems 10: nextToken never ends")
		}
		page := must(c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: aws.String(qid), MaxItems: aws.Int32(10), NextToken: token}))(t, "GetQueryResults page")
		if len(page.Results) > 10 || page.Status != types.QueryStatusComplete {
			t.Fatalf("GetQueryResults maxItems 10: %d rows, %s", len(page.Results), page.Status)
		}
		paged = append(paged, resultRows(page.Results)...)
		if token = page.NextToken; token == nil {
			break
		}
	}
	for i, r := range paged {
		if r["n"] != fmt.Sprint(i) {
			t.Errorf("GetQueryResults by pages of 10: row %d is %v", i, r)
			break
		}
	}
	if len(paged) != 25 {
		t.Errorf("GetQueryResults by pages of 10: %d rows, want 25", len(paged))
	}
	if _, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String("/nope"), StartTime: aws.Int64(st), EndTime: aws.Int64(en), QueryString: aws.String("fields @message")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("StartQuery on a missing group: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: aws.String("00000000-0000-0000-0000-000000000000")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("GetQueryResults of an unknown id: %v, want ResourceNotFoundException", err)
	}

	// StopQuery on a query already complete: the query is not running.
	done, _ := sdkQuery(t, c, &cwl.StartQueryInput{LogGroupName: aws.String(group), StartTime: aws.Int64(st), EndTime: aws.Int64(en), QueryString: aws.String("fields @message | limit 1")})
	if _, err := c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: aws.String(done)}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("StopQuery of a complete query: %v, want InvalidParameterException", err)
	}
	if _, err := sdkClient(s, keyB, secretB).StopQuery(ctx, &cwl.StopQueryInput{QueryId: aws.String(done)}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("StopQuery of account A's query by account B: %v, want ResourceNotFoundException", err)
	}

	// DescribeQueries over pages of 2 (the SDK has no paginator for it):
	// every query started on the group, newest first, in AWS's rewritten
	// SOURCE form.
	var queries []types.QueryInfo
	token = nil
	for i := 0; ; i++ {
		if i > 20 {
			t.Fatal("DescribeQueries: nextToken never ends")
		}
		page := must(c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{LogGroupName: aws.String(group), MaxResults: aws.Int32(2), NextToken: token}))(t, "DescribeQueries")
		if len(page.Queries) > 2 {
			t.Fatalf("DescribeQueries maxResults 2: %d queries", len(page.Queries))
		}
		queries = append(queries, page.Queries...)
		if token = page.NextToken; token == nil {
			break
		}
	}
	if len(queries) != 5 {
		t.Errorf("DescribeQueries on %s: %d queries, want 5 (%+v)", group, len(queries), queries)
	}
	for i, q := range queries {
		if q.Status != types.QueryStatusComplete || !strings.HasPrefix(aws.ToString(q.QueryString), `SOURCE "`+group+`"`) || aws.ToString(q.LogGroupName) != group || aws.ToInt64(q.CreateTime) < now.Add(-time.Minute).UnixMilli() ||
			(i > 0 && aws.ToInt64(q.CreateTime) > aws.ToInt64(queries[i-1].CreateTime)) {
			t.Errorf("DescribeQueries %d: %s %q group %q created %d", i, q.Status, aws.ToString(q.QueryString), aws.ToString(q.LogGroupName), aws.ToInt64(q.CreateTime))
		}
	}
	if queries[0].QueryId == nil || *queries[0].QueryId != done {
		t.Errorf("DescribeQueries: newest is %v, want %s", aws.ToString(queries[0].QueryId), done)
	}
	if got := must(c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{Status: types.QueryStatusCancelled}))(t, "DescribeQueries Cancelled"); len(got.Queries) != 0 {
		t.Errorf("DescribeQueries status Cancelled: %+v, want none", got.Queries)
	}

	// Query definitions: create, update in place, list by prefix over
	// pages, delete.
	def := must(c.PutQueryDefinition(ctx, &cwl.PutQueryDefinitionInput{Name: aws.String("mail/failed logins"), QueryString: aws.String("filter auth_successful = 0"), LogGroupNames: []string{group}}))(t, "PutQueryDefinition")
	id := aws.ToString(def.QueryDefinitionId)
	upd := must(c.PutQueryDefinition(ctx, &cwl.PutQueryDefinitionInput{QueryDefinitionId: aws.String(id), Name: aws.String("mail/failed logins"), QueryString: aws.String("filter auth_successful = 0 | stats count(*) by source_ip")}))(t, "PutQueryDefinition update")
	if id == "" || aws.ToString(upd.QueryDefinitionId) != id {
		t.Errorf("PutQueryDefinition update: id %q, then %q", id, aws.ToString(upd.QueryDefinitionId))
	}
	must(c.PutQueryDefinition(ctx, &cwl.PutQueryDefinitionInput{Name: aws.String("mail/qq"), QueryString: aws.String(`filter event.from like "qq.com"`)}))(t, "PutQueryDefinition 2")
	must(c.PutQueryDefinition(ctx, &cwl.PutQueryDefinitionInput{Name: aws.String("other"), QueryString: aws.String(`fields @message`)}))(t, "PutQueryDefinition 3")
	var defs []types.QueryDefinition
	token = nil
	for i := 0; ; i++ {
		if i > 10 {
			t.Fatal("DescribeQueryDefinitions: nextToken never ends")
		}
		page := must(c.DescribeQueryDefinitions(ctx, &cwl.DescribeQueryDefinitionsInput{QueryDefinitionNamePrefix: aws.String("mail/"), MaxResults: aws.Int32(1), NextToken: token}))(t, "DescribeQueryDefinitions")
		defs = append(defs, page.QueryDefinitions...)
		if token = page.NextToken; token == nil {
			break
		}
	}
	if len(defs) != 2 {
		t.Fatalf("DescribeQueryDefinitions prefix mail/: %d, want 2: %+v", len(defs), defs)
	}
	for _, d := range defs {
		if aws.ToString(d.QueryDefinitionId) == id {
			if aws.ToString(d.Name) != "mail/failed logins" || aws.ToString(d.QueryString) != "filter auth_successful = 0 | stats count(*) by source_ip" || len(d.LogGroupNames) != 0 || aws.ToInt64(d.LastModified) < now.Add(-time.Minute).UnixMilli() {
				t.Errorf("DescribeQueryDefinitions after update (logGroupNames omitted, so emptied): %q %q %v %d", aws.ToString(d.Name), aws.ToString(d.QueryString), d.LogGroupNames, aws.ToInt64(d.LastModified))
			}
			id = ""
		}
	}
	if id != "" {
		t.Errorf("DescribeQueryDefinitions lacks %s: %+v", id, defs)
	}
	id = aws.ToString(def.QueryDefinitionId)
	if del := must(c.DeleteQueryDefinition(ctx, &cwl.DeleteQueryDefinitionInput{QueryDefinitionId: aws.String(id)}))(t, "DeleteQueryDefinition"); !del.Success {
		t.Errorf("DeleteQueryDefinition: success false")
	}
	if _, err := c.DeleteQueryDefinition(ctx, &cwl.DeleteQueryDefinitionInput{QueryDefinitionId: aws.String(id)}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("DeleteQueryDefinition again: %v, want ResourceNotFoundException", err)
	}
	if left := must(c.DescribeQueryDefinitions(ctx, &cwl.DescribeQueryDefinitionsInput{}))(t, "DescribeQueryDefinitions"); len(left.QueryDefinitions) != 2 {
		t.Errorf("DescribeQueryDefinitions after delete: %d, want 2", len(left.QueryDefinitions))
	}
	if other := must(sdkClient(s, keyB, secretB).DescribeQueryDefinitions(ctx, &cwl.DescribeQueryDefinitionsInput{}))(t, "DescribeQueryDefinitions B"); len(other.QueryDefinitions) != 0 {
		t.Errorf("account B sees account A's query definitions: %+v", other.QueryDefinitions)
	}

	// Retention.
	must(c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(30)}))(t, "PutRetentionPolicy")
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(31)}); !isErr[*types.InvalidParameterException](err) {
		t.Errorf("PutRetentionPolicy 31 days: %v, want InvalidParameterException", err)
	}
	retention := func() *int32 {
		g := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group), Limit: aws.Int32(1)}))(t, "DescribeLogGroups")
		return g.LogGroups[0].RetentionInDays
	}
	if r := retention(); aws.ToInt32(r) != 30 {
		t.Errorf("retention after PutRetentionPolicy 30: %v", r)
	}
	must(c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String(group)}))(t, "DeleteRetentionPolicy")
	if r := retention(); r != nil {
		t.Errorf("retention after DeleteRetentionPolicy: %d, want none", *r)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("/nope"), RetentionInDays: aws.Int32(30)}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("PutRetentionPolicy on a missing group: %v, want ResourceNotFoundException", err)
	}

	// Tags by resource ARN (the one DescribeLogGroups gives), including
	// those set by CreateLogGroup.
	tags := func() map[string]string {
		return must(c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(groupARN)}))(t, "ListTagsForResource").Tags
	}
	if got := tags(); !reflect.DeepEqual(got, map[string]string{"team": "mail"}) {
		t.Errorf("tags from CreateLogGroup: %v", got)
	}
	must(c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: thisGroup.LogGroupArn, Tags: map[string]string{"env": "test", "team": "security"}}))(t, "TagResource")
	if got := tags(); !reflect.DeepEqual(got, map[string]string{"team": "security", "env": "test"}) {
		t.Errorf("tags after TagResource: %v", got)
	}
	must(c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(groupARN), TagKeys: []string{"team", "absent"}}))(t, "UntagResource")
	if got := tags(); !reflect.DeepEqual(got, map[string]string{"env": "test"}) {
		t.Errorf("tags after UntagResource team: %v", got)
	}
	many := map[string]string{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	if _, err := c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(groupARN), Tags: many}); !isErr[*types.TooManyTagsException](err) {
		t.Errorf("TagResource to 51 tags: %v, want TooManyTagsException", err)
	}
	if got := tags(); !reflect.DeepEqual(got, map[string]string{"env": "test"}) {
		t.Errorf("tags after a refused TagResource: %v", got)
	}
	if _, err := sdkClient(s, keyB, secretB).TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(groupARN), Tags: map[string]string{"x": "y"}}); err == nil {
		t.Errorf("TagResource on account A's group by account B succeeded")
	}
	if _, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(groupARN + "/none")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("ListTagsForResource on a missing group: %v, want ResourceNotFoundException", err)
	}

	// GetLogGroupFields: the flattened fields of the group's JSON events,
	// each with the share of events that have it.
	fields := map[string]int32{}
	for _, f := range must(c.GetLogGroupFields(ctx, &cwl.GetLogGroupFieldsInput{LogGroupIdentifier: aws.String(groupARN)}))(t, "GetLogGroupFields").LogGroupFields {
		fields[aws.ToString(f.Name)] = f.Percent
	}
	for name, want := range map[string]int32{"n": 72, "kind": 72, "auth_successful": 11, "event.eventName": 11, "source_ip": 17} {
		if got, ok := fields[name]; !ok || got < want-1 || got > want+1 {
			t.Errorf("GetLogGroupFields %s: %d%% (present %v), want about %d%% of 36 events; all: %v", name, got, ok, want, fields)
		}
	}
	if _, err := c.GetLogGroupFields(ctx, &cwl.GetLogGroupFieldsInput{LogGroupName: aws.String("/nope")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("GetLogGroupFields on a missing group: %v, want ResourceNotFoundException", err)
	}

	// DeleteLogStream, DeleteLogGroup, and the typed errors after.
	must(c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-2")}))(t, "DeleteLogStream")
	if left := must(c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(group)}))(t, "DescribeLogStreams"); len(left.LogStreams) != 1 || aws.ToString(left.LogStreams[0].LogStreamName) != "org-1" {
		t.Errorf("DescribeLogStreams after deleting org-2: %+v", left.LogStreams)
	}
	if _, err := c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-2")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("DeleteLogStream again: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-2")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("GetLogEvents on a deleted stream: %v, want ResourceNotFoundException", err)
	}
	if got := filter(&cwl.FilterLogEventsInput{LogGroupName: aws.String(group)}); len(got) != len(events) {
		t.Errorf("FilterLogEvents after deleting org-2: %d events, want org-1's %d", len(got), len(events))
	}
	must(c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String(group)}))(t, "DeleteLogGroup")
	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String(group)}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("DeleteLogGroup again: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group)}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("FilterLogEvents on a deleted group: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String(group), StartTime: aws.Int64(st), EndTime: aws.Int64(en), QueryString: aws.String("fields @message")}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("StartQuery on a deleted group: %v, want ResourceNotFoundException", err)
	}
	if _, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(groupARN)}); !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("ListTagsForResource on a deleted group: %v, want ResourceNotFoundException", err)
	}
	left := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)}))(t, "DescribeLogGroups")
	if len(left.LogGroups) != 2 || aws.ToString(left.LogGroups[0].LogGroupName) != group+"/a" {
		t.Errorf("DescribeLogGroups after DeleteLogGroup: %+v", left.LogGroups)
	}
}

// resultRows turns Insights result rows into field→value maps.
func resultRows(rows [][]types.ResultField) []map[string]string {
	var out []map[string]string
	for _, row := range rows {
		m := map[string]string{}
		for _, f := range row {
			m[aws.ToString(f.Field)] = aws.ToString(f.Value)
		}
		out = append(out, m)
	}
	return out
}

// TestGoSDKStopQuery stops a running query. StopQuery reaches the server
// within a millisecond of StartQuery, so a group of a few thousand records
// and a query that parses each several times is still running; when it
// ended first anyway (StopQuery answers that it is not running), the work is
// doubled and the test tries again.
func TestGoSDKStopQuery(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	group := "/aws/workmail/stop"
	fillGroup(t, s, group, 20000)
	now := time.Now()
	for parses := 2; parses <= 64; parses *= 2 {
		var q strings.Builder
		for i := 0; i < parses; i++ {
			fmt.Fprintf(&q, "parse @message /\"(?<k%d>[a-z_]+)\":\"(?<v%d>[^\"]*)\"[,}](?<rest%d>.*)$/ | ", i, i, i)
		}
		q.WriteString("stats count(*) as n by k0")
		sq := must(c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String(group), StartTime: aws.Int64(now.Add(-2 * time.Hour).Unix()), EndTime: aws.Int64(now.Add(time.Minute).Unix()), QueryString: aws.String(q.String())}))(t, "StartQuery")
		stop, err := c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: sq.QueryId})
		if isErr[*types.InvalidParameterException](err) {
			t.Logf("a query of %d parse commands ended before StopQuery (%v); doubling", parses, err)
			continue
		}
		if err != nil || !stop.Success {
			t.Fatalf("StopQuery: %+v %v, want success", stop, err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			r := must(c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId}))(t, "GetQueryResults")
			if r.Status == types.QueryStatusCancelled {
				break
			}
			if (r.Status != types.QueryStatusRunning && r.Status != types.QueryStatusScheduled) || time.Now().After(deadline) {
				t.Fatalf("GetQueryResults after StopQuery: %s, want Cancelled", r.Status)
			}
			time.Sleep(20 * time.Millisecond)
		}
		dq := must(c.DescribeQueries(ctx, &cwl.DescribeQueriesInput{LogGroupName: aws.String(group), Status: types.QueryStatusCancelled}))(t, "DescribeQueries")
		if len(dq.Queries) != 1 || aws.ToString(dq.Queries[0].QueryId) != *sq.QueryId {
			t.Fatalf("DescribeQueries status Cancelled: %+v, want %s", dq.Queries, *sq.QueryId)
		}
		if _, err := c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: sq.QueryId}); !isErr[*types.InvalidParameterException](err) {
			t.Fatalf("StopQuery of a cancelled query: %v, want InvalidParameterException", err)
		}
		return
	}
	t.Fatal("every query ended before StopQuery reached the server")
}

// TestGoSDKQueryDefinitionClientToken checks PutQueryDefinition's
// idempotency token. The SDK fills clientToken with a fresh UUID on every
// call and sends the same one again when it retries after a network error;
// AWS then answers with the definition the first call saved, so a retry
// never saves a query twice.
func TestGoSDKQueryDefinitionClientToken(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	in := &cwl.PutQueryDefinitionInput{Name: aws.String("failed logins"), QueryString: aws.String("filter auth_successful = 0"),
		ClientToken: aws.String("mailtrail-e2e-0123456789abcdef0123456789")}
	once := must(c.PutQueryDefinition(ctx, in))(t, "PutQueryDefinition")
	again := must(c.PutQueryDefinition(ctx, in))(t, "PutQueryDefinition with the same clientToken")
	if aws.ToString(once.QueryDefinitionId) != aws.ToString(again.QueryDefinitionId) {
		t.Errorf("PutQueryDefinition twice with one clientToken: ids %s and %s, want the first again", aws.ToString(once.QueryDefinitionId), aws.ToString(again.QueryDefinitionId))
	}
	if defs := must(c.DescribeQueryDefinitions(ctx, &cwl.DescribeQueryDefinitionsInput{}))(t, "DescribeQueryDefinitions"); len(defs.QueryDefinitions) != 1 {
		t.Errorf("DescribeQueryDefinitions after a repeated clientToken: %d definitions, want 1", len(defs.QueryDefinitions))
	}
}

// TestGoSDKBigStream pages through a stream of 12,000 generated records,
// more than one answer holds (10,000 events or 1 MB): GetLogEvents from
// either end and FilterLogEvents must hand every event over exactly once,
// in order, and their paginators must end.
func TestGoSDKBigStream(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	group := "/aws/workmail/big"
	const n = 12000
	fillGroup(t, s, group, n)

	type seen struct {
		ts  int64
		msg string
	}
	inOrder := func(what string, evs []seen) {
		t.Helper()
		if len(evs) != n {
			t.Errorf("%s: %d events, want %d", what, len(evs), n)
			return
		}
		dup := map[string]bool{}
		for i, e := range evs {
			if i > 0 && e.ts < evs[i-1].ts {
				t.Errorf("%s: event %d at %d after %d", what, i, e.ts, evs[i-1].ts)
				return
			}
			if dup[e.msg] {
				t.Errorf("%s: event %d handed over twice: %.80s", what, i, e.msg)
				return
			}
			dup[e.msg] = true
		}
	}

	var fwd []seen
	pages := 0
	for p := cwl.NewGetLogEventsPaginator(c, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)},
		func(o *cwl.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true }); p.HasMorePages(); pages++ {
		if pages > 100 {
			t.Fatal("GetLogEvents forward: the paginator does not end")
		}
		page := must(p.NextPage(ctx))(t, "GetLogEvents")
		if len(page.Events) > 10000 {
			t.Fatalf("GetLogEvents: %d events in one page", len(page.Events))
		}
		for _, e := range page.Events {
			fwd = append(fwd, seen{aws.ToInt64(e.Timestamp), aws.ToString(e.Message)})
		}
	}
	inOrder("GetLogEvents forward", fwd)
	if pages < 3 {
		t.Errorf("GetLogEvents forward: %d pages for %d events, want several", pages, n)
	}

	// From the tail: the default, as `aws logs get-log-events` does.
	var back [][]seen
	var token *string
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("GetLogEvents backward: the backward token never repeats")
		}
		page := must(c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"), NextToken: token}))(t, "GetLogEvents backward")
		var evs []seen
		for _, e := range page.Events {
			evs = append(evs, seen{aws.ToInt64(e.Timestamp), aws.ToString(e.Message)})
		}
		back = append(back, evs)
		if token != nil && aws.ToString(page.NextBackwardToken) == *token {
			break
		}
		token = page.NextBackwardToken
	}
	var all []seen
	for i := len(back) - 1; i >= 0; i-- {
		all = append(all, back[i]...)
	}
	inOrder("GetLogEvents backward", all)
	if len(back[0]) == 0 || back[0][len(back[0])-1] != fwd[len(fwd)-1] {
		t.Errorf("GetLogEvents from the tail: the first page does not end with the stream's last event")
	}

	var filtered []seen
	pages = 0
	for p := cwl.NewFilterLogEventsPaginator(c, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group)}); p.HasMorePages(); pages++ {
		if pages > 100 {
			t.Fatal("FilterLogEvents: the paginator does not end")
		}
		for _, e := range must(p.NextPage(ctx))(t, "FilterLogEvents").Events {
			filtered = append(filtered, seen{aws.ToInt64(e.Timestamp), aws.ToString(e.Message)})
		}
	}
	inOrder("FilterLogEvents", filtered)
}

// TestGoSDKLogGroupClass creates a group in the Infrequent Access class:
// DescribeLogGroups reports each group's class and filters by it (the
// class decides what AWS allows on a group, so tools read it back).
func TestGoSDKLogGroupClass(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	must(c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/class/ia"), LogGroupClass: types.LogGroupClassInfrequentAccess}))(t, "CreateLogGroup INFREQUENT_ACCESS")
	must(c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/class/std")}))(t, "CreateLogGroup")
	all := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/class/")}))(t, "DescribeLogGroups")
	classes := map[string]types.LogGroupClass{}
	for _, g := range all.LogGroups {
		classes[aws.ToString(g.LogGroupName)] = g.LogGroupClass
	}
	if want := map[string]types.LogGroupClass{"/class/ia": types.LogGroupClassInfrequentAccess, "/class/std": types.LogGroupClassStandard}; !reflect.DeepEqual(classes, want) {
		t.Errorf("DescribeLogGroups classes: %v, want %v", classes, want)
	}
	ia := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupClass: types.LogGroupClassInfrequentAccess}))(t, "DescribeLogGroups by class")
	if len(ia.LogGroups) != 1 || aws.ToString(ia.LogGroups[0].LogGroupName) != "/class/ia" {
		t.Errorf("DescribeLogGroups logGroupClass INFREQUENT_ACCESS: %d groups, want /class/ia only", len(ia.LogGroups))
	}
}
