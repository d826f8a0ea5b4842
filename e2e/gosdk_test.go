package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func sdkClient(s *server, key, secret string) *cwl.Client {
	return cwl.New(cwl.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.url()),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

// sdkStreamClient is sdkClient for event streams, working around a race
// in the SDK's HTTP layer that a fast server exposes. smithy-go wraps
// request bodies in a closer whose WriteTo returns io.EOF once closed, and
// closes it when the response arrives. net/http flushes the headers of
// such a body first, copies it, and only then checks that nothing follows
// (a WriteTo into io.Discard); on loopback the server has already read
// the body and begun answering, so that check can run after the SDK's
// close, fails with EOF, and the transport's write loop closes the
// connection under the response: the stream ends at once with "use of
// closed network connection" (traced with httptrace: first response byte
// at 0.38 ms, write done with err=EOF at 0.45 ms; about one run in 16
// here). The SDK retries such errors for ordinary calls but cannot for a
// stream that has started. Handing net/http the body as an in-memory
// reader makes it write headers and body together and end the check
// without error; requests, signing and the event-stream decoding stay the
// SDK's own.
func sdkStreamClient(s *server, key, secret string) *cwl.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return cwl.New(cwl.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.url()),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:   &http.Client{Transport: inMemoryBodies{tr}},
	})
}

// inMemoryBodies reads each request body into memory before net/http sees
// it (see sdkStreamClient).
type inMemoryBodies struct{ next http.RoundTripper }

func (m inMemoryBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return m.next.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return m.next.RoundTrip(r)
}

func TestGoSDK(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	group, stream := "/aws/workmail/sdk", "s1"
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	var ae smithy.APIError
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate group: %v", err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	events := seedEvents(now)
	var in []types.InputLogEvent
	for _, e := range events {
		in = append(in, types.InputLogEvent{Timestamp: aws.Int64(e.TS), Message: aws.String(e.Msg)})
	}
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: in}); err != nil {
		t.Fatal(err)
	}
	// Many pages of groups: the paginator must end.
	for i := 0; i < 120; i++ {
		if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(fmt.Sprintf("/page/%03d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	p := cwl.NewDescribeLogGroupsPaginator(c, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/page/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.LogGroups)
	}
	if n != 120 {
		t.Fatalf("paginated %d groups, want 120", n)
	}

	fp := cwl.NewFilterLogEventsPaginator(c, &cwl.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String("{ $.protocol = \"IMAP\" }"), Limit: aws.Int32(2)})
	n = 0
	for fp.HasMorePages() {
		page, err := fp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Events)
	}
	if n != 4 {
		t.Fatalf("filter IMAP over pages of 2: %d events, want 4", n)
	}

	sq, err := c.StartQuery(ctx, &cwl.StartQueryInput{
		LogGroupNames: []string{group},
		StartTime:     aws.Int64(now.Add(-time.Hour).Unix()),
		EndTime:       aws.Int64(now.Add(time.Minute).Unix()),
		QueryString:   aws.String("filter auth_successful = 0 | stats count(*) as c by source_ip | sort c desc"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var res *cwl.GetQueryResultsOutput
	for {
		res, err = c.GetQueryResults(ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != types.QueryStatusRunning && res.Status != types.QueryStatusScheduled {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res.Status != types.QueryStatusComplete || len(res.Results) != 2 {
		t.Fatalf("query: %s, %d rows", res.Status, len(res.Results))
	}
	first := map[string]string{}
	for _, f := range res.Results[0] {
		first[*f.Field] = *f.Value
	}
	if first["source_ip"] != "203.0.113.9" || first["c"] != "2" {
		t.Fatalf("top failing IP: %v", first)
	}

	_, err = c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupNames: []string{group}, StartTime: aws.Int64(0), EndTime: aws.Int64(1), QueryString: aws.String("stats count(*) by")})
	var mq *types.MalformedQueryException
	if !errors.As(err, &mq) {
		t.Fatalf("malformed query: %v", err)
	}

	// Wrong secret and second account.
	_, err = sdkClient(s, keyA, "nope").DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}
	out, err := sdkClient(s, keyB, secretB).DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(out.LogGroups) != 0 {
		t.Fatalf("account B: %v %v", out, err)
	}
}

// noHostPrefix stops the SDK from prefixing the host with "stream-", which
// it does even for a custom endpoint; every emulator's users must do this.
// The flag is a stack value, so it must be set inside the stack.
func noHostPrefix(o *cwl.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("mailtrailNoHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

// TestGoSDKLiveTail streams events put after the session starts.
func TestGoSDKLiveTail(t *testing.T) {
	s := startServer(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sdkClient(s, keyA, secretA)
	group := "/tail"
	c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)})
	c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s")})
	arn := "arn:aws:logs:us-east-1:" + accountA + ":log-group:" + group
	tail := sdkStreamClient(s, keyA, secretA)
	lt, err := tail.StartLiveTail(ctx, &cwl.StartLiveTailInput{
		LogGroupIdentifiers:   []string{arn},
		LogEventFilterPattern: aws.String(`{ $.auth_successful IS FALSE }`),
	}, noHostPrefix)
	if err != nil {
		t.Fatal(err)
	}
	stream := lt.GetStream()
	defer stream.Close()
	// Errors come back before the stream starts.
	_, err = c.StartLiveTail(ctx, &cwl.StartLiveTailInput{LogGroupIdentifiers: []string{arn + "/none"}}, noHostPrefix)
	if !isErr[*types.ResourceNotFoundException](err) {
		t.Errorf("StartLiveTail on a missing group: %v, want ResourceNotFoundException", err)
	}
	_, err = c.StartLiveTail(ctx, &cwl.StartLiveTailInput{LogGroupIdentifiers: []string{arn}, LogStreamNames: []string{"s"}, LogStreamNamePrefixes: []string{"s"}}, noHostPrefix)
	if !isErr[*types.InvalidParameterException](err) {
		t.Errorf("StartLiveTail with both logStreamNames and logStreamNamePrefixes: %v, want InvalidParameterException", err)
	}
	events := seedEvents(time.Now())
	go func() {
		time.Sleep(300 * time.Millisecond)
		var in []types.InputLogEvent
		for _, e := range events {
			in = append(in, types.InputLogEvent{Timestamp: aws.Int64(e.TS), Message: aws.String(e.Msg)})
		}
		c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"), LogEvents: in})
	}()
	var start *types.LiveTailSessionStart
	var results []types.LiveTailSessionLogEvent
	for ev := range stream.Events() {
		switch e := ev.(type) {
		case *types.StartLiveTailResponseStreamMemberSessionStart:
			start = &e.Value
		case *types.StartLiveTailResponseStreamMemberSessionUpdate:
			if e.Value.SessionMetadata == nil || e.Value.SessionMetadata.Sampled {
				t.Errorf("sessionUpdate metadata %+v, want sampled false", e.Value.SessionMetadata)
			}
			results = append(results, e.Value.SessionResults...)
		}
		if len(results) >= 3 {
			break
		}
	}
	if start == nil || len(results) != 3 {
		t.Fatalf("live tail: sessionStart %v, %d events, want 3 (err %v)", start != nil, len(results), stream.Err())
	}
	if aws.ToString(start.SessionId) == "" || aws.ToString(start.RequestId) == "" || !reflect.DeepEqual(start.LogGroupIdentifiers, []string{arn}) ||
		aws.ToString(start.LogEventFilterPattern) != `{ $.auth_successful IS FALSE }` {
		t.Errorf("sessionStart: session %q request %q groups %v pattern %q", aws.ToString(start.SessionId), aws.ToString(start.RequestId), start.LogGroupIdentifiers, aws.ToString(start.LogEventFilterPattern))
	}
	// The failed logins, in order, with their stream and times.
	for i, idx := range []int{2, 3, 8} {
		r := results[i]
		if aws.ToString(r.Message) != events[idx].Msg || aws.ToInt64(r.Timestamp) != events[idx].TS || aws.ToString(r.LogStreamName) != "s" ||
			!strings.HasSuffix(aws.ToString(r.LogGroupIdentifier), group) || aws.ToInt64(r.IngestionTime) < events[idx].TS {
			t.Errorf("live tail event %d: stream %q group %q ts %d ingested %d %q; want %d %q", i, aws.ToString(r.LogStreamName), aws.ToString(r.LogGroupIdentifier),
				aws.ToInt64(r.Timestamp), aws.ToInt64(r.IngestionTime), aws.ToString(r.Message), events[idx].TS, events[idx].Msg)
		}
	}
}
