package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// liveTailEnv is the environment that gives Debian's AWS CLI 2.9.19 a
// working `aws logs start-live-tail`: testdata/botocore adds the operation
// to the CLI's bundled botocore (AWS_DATA_PATH), and the plugin in
// testdata/awscli_plugin, loaded from a config file of the test's own,
// turns the event stream into a list the CLI's JSON formatter can print
// (see the plugin's doc comment). It stops after `events` log events.
func liveTailEnv(t *testing.T, key, secret string, events int) []string {
	t.Helper()
	dataPath, err := filepath.Abs("testdata/botocore")
	if err != nil {
		t.Fatal(err)
	}
	pluginDir, err := filepath.Abs("testdata/awscli_plugin")
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "config")
	body := fmt.Sprintf("[plugins]\ncli_legacy_plugin_path = %s\nlivetail = mailtrail_livetail\n", pluginDir)
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// Later entries win in exec.Cmd's Env, so these replace clientEnv's
	// AWS_CONFIG_FILE=/nonexistent.
	return append(clientEnv(key, secret),
		"AWS_CONFIG_FILE="+config,
		"AWS_DATA_PATH="+dataPath,
		fmt.Sprintf("MAILTRAIL_TAIL_EVENTS=%d", events),
		"MAILTRAIL_TAIL_SECONDS=30",
		"PYTHONDONTWRITEBYTECODE=1", // no __pycache__ in testdata
	)
}

// TestAWSCLILiveTail runs `aws logs start-live-tail` with a filter pattern
// while another `aws logs put-log-events` puts the seed scenario, and
// checks the session start and the tailed events the CLI prints; then
// `aws logs tail` over the same events.
func TestAWSCLILiveTail(t *testing.T) {
	need(t, awsCLI)
	s := startServer(t, "")
	a := cli{t, s, keyA, secretA}
	group := "/aws/workmail/tail"
	arn := "arn:aws:logs:us-east-1:" + accountA + ":log-group:" + group
	// Set up through the SDK: each CLI command costs a second of start-up.
	ctx := context.Background()
	c := sdkClient(s, keyA, secretA)
	must(c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}))(t, "CreateLogGroup")
	must(c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("org-1")}))(t, "CreateLogStream")

	// An error answer passes through the plugin to the CLI's own error
	// report; run alongside the rest.
	missing := exec.Command(awsCLI, "--endpoint-url", s.url(), "--output", "json", "--no-cli-pager",
		"logs", "start-live-tail", "--log-group-identifiers", arn+"/none")
	missing.Env = liveTailEnv(t, keyA, secretA, 1)
	var missingOut []byte
	missingDone := make(chan error, 1)
	go func() {
		var err error
		missingOut, err = missing.CombinedOutput()
		missingDone <- err
	}()

	pattern := `{ $.auth_successful IS FALSE }`
	tail := exec.Command(awsCLI, "--endpoint-url", s.url(), "--output", "json", "--no-cli-pager",
		"logs", "start-live-tail", "--log-group-identifiers", arn, "--log-event-filter-pattern", pattern)
	ready := filepath.Join(t.TempDir(), "ready")
	tail.Env = append(liveTailEnv(t, keyA, secretA, 3), "MAILTRAIL_TAIL_READY="+ready)
	var out, errb strings.Builder
	tail.Stdout, tail.Stderr = &out, &errb
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- tail.Wait() }()
	t.Cleanup(func() {
		if tail.ProcessState == nil {
			tail.Process.Kill()
			<-done
		}
	})
	// Events put before the session starts are not tailed, and the CLI
	// takes most of a second to start: wait for the plugin to see
	// sessionStart.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("start-live-tail ended before its session started: %v\n%s%s", err, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sessionStart after 30 s; server log:\n%s", s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}

	events := seedEvents(time.Now())
	var batch []map[string]any
	for _, e := range events {
		batch = append(batch, map[string]any{"timestamp": e.TS, "message": e.Msg})
	}
	evFile := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(evFile, []byte(mustJSON(batch)), 0o644)
	// Three of the ten events match the pattern.
	a.ok(nil, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "org-1", "--log-events", "file://"+evFile)

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("start-live-tail: %v\n%s%s\nserver log:\n%s", err, out.String(), errb.String(), s.log())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("start-live-tail still running after 60 s:\n%s%s", out.String(), errb.String())
	}
	var got struct {
		ResponseStream []struct {
			SessionStart *struct {
				RequestID             string   `json:"requestId"`
				SessionID             string   `json:"sessionId"`
				LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
				LogEventFilterPattern string   `json:"logEventFilterPattern"`
			} `json:"sessionStart"`
			SessionUpdate *struct {
				SessionMetadata struct {
					Sampled bool `json:"sampled"`
				} `json:"sessionMetadata"`
				SessionResults []struct {
					LogStreamName      string `json:"logStreamName"`
					LogGroupIdentifier string `json:"logGroupIdentifier"`
					Message            string `json:"message"`
					Timestamp          int64  `json:"timestamp"`
					IngestionTime      int64  `json:"ingestionTime"`
				} `json:"sessionResults"`
			} `json:"sessionUpdate"`
		} `json:"responseStream"`
	}
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("start-live-tail printed %q (%v); stderr %s", out.String(), err, errb.String())
	}
	if len(got.ResponseStream) == 0 || got.ResponseStream[0].SessionStart == nil {
		t.Fatalf("start-live-tail: the first event is not sessionStart:\n%s", out.String())
	}
	start := got.ResponseStream[0].SessionStart
	if start.SessionID == "" || start.RequestID == "" || !reflect.DeepEqual(start.LogGroupIdentifiers, []string{arn}) || start.LogEventFilterPattern != pattern {
		t.Errorf("sessionStart: %+v", start)
	}
	var tailed []string
	for _, ev := range got.ResponseStream[1:] {
		if ev.SessionUpdate == nil {
			t.Errorf("start-live-tail: an event after sessionStart is not sessionUpdate:\n%s", out.String())
			continue
		}
		if ev.SessionUpdate.SessionMetadata.Sampled {
			t.Errorf("sessionUpdate sampled with 3 events")
		}
		for _, r := range ev.SessionUpdate.SessionResults {
			tailed = append(tailed, r.Message)
			if r.LogStreamName != "org-1" || !strings.HasSuffix(r.LogGroupIdentifier, group) || r.Timestamp == 0 || r.IngestionTime < r.Timestamp {
				t.Errorf("tailed event: %+v", r)
			}
		}
	}
	if want := []string{events[2].Msg, events[3].Msg, events[8].Msg}; !reflect.DeepEqual(tailed, want) {
		t.Errorf("tailed events:\n got %q\nwant %q", tailed, want)
	}

	// `aws logs tail`, the CLI's own follow-up command built on
	// FilterLogEvents, prints the matching events' messages in order.
	tailOut, errs, ok := a.run("logs", "tail", group, "--since", "1h", "--filter-pattern", `"qq.com"`, "--format", "short")
	lines := strings.Split(strings.TrimSpace(tailOut), "\n")
	if !ok || len(lines) != 2 || !strings.HasSuffix(lines[0], " "+events[0].Msg) || !strings.HasSuffix(lines[1], " "+events[6].Msg) {
		t.Errorf("aws logs tail --filter-pattern qq.com: %q %s, want the two qq.com messages", tailOut, errs)
	}

	if err := <-missingDone; err == nil || !strings.Contains(string(missingOut), "(ResourceNotFoundException)") {
		t.Errorf("start-live-tail on a missing group: %v\n%s", err, missingOut)
	}
}
