package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// memSink keeps copies of what it is given, as the store does.
type memSink struct {
	mu      sync.Mutex
	events  []storedEvent
	failAt  int // fail the Append that would take the total past failAt
	appends int
}

type storedEvent struct {
	stream string
	ts     int64
	msg    string
}

func (m *memSink) Append(stream string, evs []Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appends++
	if m.failAt > 0 && len(m.events)+len(evs) > m.failAt {
		return errors.New("disk full")
	}
	for _, e := range evs {
		m.events = append(m.events, storedEvent{stream, e.Timestamp, string(e.Message)})
	}
	return nil
}

var fixedNow = time.UnixMilli(1700000000000)

// run ingests inputs with opts (Now fixed) and returns the sink, result,
// rejects and notes.
func run(t *testing.T, opts Options, inputs ...Input) (*memSink, Result, []string, []string) {
	t.Helper()
	var rejects, notes []string
	opts.OnReject = func(r Reject) { rejects = append(rejects, r.String()) }
	opts.OnNote = func(f, m string) { notes = append(notes, f+": "+m) }
	opts.Now = func() time.Time { return fixedNow }
	opts.Appenders = 1 // golden output in input order
	sink := &memSink{}
	res, err := New(opts).Run(context.Background(), inputs, sink)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Read != res.Stored+res.Rejected || int64(len(rejects)) != res.Rejected+res.FileErrors {
		t.Errorf("read %d != stored %d + rejected %d, or %d reports for %d file errors", res.Read, res.Stored, res.Rejected, len(rejects), res.FileErrors)
	}
	return sink, res, rejects, notes
}

func bytesInput(name string, data []byte) Input {
	return Input{Name: name, Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

func gz(data ...[]byte) []byte {
	var b bytes.Buffer
	for _, d := range data { // one gzip member per argument
		w := gzip.NewWriter(&b)
		w.Write(d)
		w.Close()
	}
	return b.Bytes()
}

const truncatedNDJSON = `{"event_timestamp":1718000000000,"user":"a"}
{"event_timestamp":1718000001000,"user":"b"}

{"event_timestamp":1718000002000,"user":"c
{"event_timestamp":"1718000003000","user":"d"}
{"eventTime":"2014-03-06T21:22:54Z","eventName":"X"}
{"user":"no time"}
`

func TestTruncatedLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"plain", []byte(truncatedNDJSON)},
		{"gzip", gz([]byte(truncatedNDJSON))},
		{"gzip members", gz([]byte(truncatedNDJSON[:100]), []byte(truncatedNDJSON[100:]))},
		{"crlf", []byte(strings.ReplaceAll(truncatedNDJSON, "\n", "\r\n"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink, res, rejects, _ := run(t, Options{}, bytesInput("f.json", tc.data))
			if res.Stored != 5 || res.Rejected != 1 || res.Read != 6 {
				t.Errorf("read/stored/rejected = %d/%d/%d, want 6/5/1", res.Read, res.Stored, res.Rejected)
			}
			if len(rejects) != 1 || !strings.HasPrefix(rejects[0], "f.json:4: invalid JSON") {
				t.Errorf("rejects = %q, want one for f.json:4", rejects)
			}
			want := []int64{1718000000000, 1718000001000, 1718000003000, 1394140974000, fixedNow.UnixMilli()}
			for i, e := range sink.events {
				if e.ts != want[i] || e.stream != "f" {
					t.Errorf("event %d = %s %d, want stream f, time %d", i, e.stream, e.ts, want[i])
				}
			}
		})
	}
}

func TestTimeField(t *testing.T) {
	data := []byte(`{"ts":1000}
{"ts":"2024-01-01T00:00:00.250Z"}
{"ts":"1500"}
{"meta":{"ts":2000}}
{"ts":"yesterday"}
{"event_timestamp":5,"ts":9}
{"event_timestamp":"soon"}
{"eventTime":1}
`)
	sink, res, rejects, _ := run(t, Options{TimeField: "ts"}, bytesInput("-", data))
	var got []int64
	for _, e := range sink.events {
		got = append(got, e.ts)
		if e.stream != StdinStream {
			t.Errorf("stream %q, want %q", e.stream, StdinStream)
		}
	}
	want := []int64{1000, 1704067200250, 1500, fixedNow.UnixMilli(), 5}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("times = %v, want %v", got, want)
	}
	wantRej := []string{
		`<stdin>:5: ts is neither epoch milliseconds nor an RFC 3339 time: "yesterday"`,
		`<stdin>:7: event_timestamp is not epoch milliseconds: "soon"`,
		`<stdin>:8: eventTime is not an RFC 3339 time: 1`,
	}
	if fmt.Sprint(rejects) != fmt.Sprint(wantRej) || res.Rejected != 3 {
		t.Errorf("rejects = %q, want %q", rejects, wantRej)
	}
	sink, _, _, _ = run(t, Options{TimeField: "meta.ts"}, bytesInput("-", data))
	if sink.events[3].ts != 2000 {
		t.Errorf("meta.ts gave %d, want 2000", sink.events[3].ts)
	}
}

// TestChunkBoundaries runs records through chunks far smaller than the
// records, so that every line straddles chunks and buffers must grow.
func TestChunkBoundaries(t *testing.T) {
	var in bytes.Buffer
	for i := range 200 {
		fmt.Fprintf(&in, `{"event_timestamp":%d,"pad":"%s"}`+"\n", i, strings.Repeat("x", i*7))
	}
	in.WriteString(`{"event_timestamp":1,"big":"` + strings.Repeat("y", 5000) + `"}` + "\n")
	in.WriteString(`{"event_timestamp":201}`) // no final newline
	for _, chunk := range []int{16, 100, 1000, 1 << 20} {
		sink, res, rejects, _ := run(t, Options{ChunkSize: chunk, MaxEventSize: 4000}, bytesInput("c.ndjson", in.Bytes()))
		if res.Stored != 201 || res.Rejected != 1 {
			t.Errorf("chunk %d: stored %d rejected %d, want 201 and 1", chunk, res.Stored, res.Rejected)
		}
		if len(rejects) != 1 || !strings.HasPrefix(rejects[0], "c.ndjson:201: ") {
			t.Errorf("chunk %d: rejects %q, want line 201", chunk, rejects)
		}
		for i, e := range sink.events[:200] {
			if e.ts != int64(i) || len(e.msg) != len(fmt.Sprintf(`{"event_timestamp":%d,"pad":""}`, i))+i*7 {
				t.Fatalf("chunk %d: event %d = %d %q", chunk, i, e.ts, e.msg)
			}
		}
		if last := sink.events[200]; last.ts != 201 {
			t.Errorf("chunk %d: last event %v", chunk, last)
		}
	}
}

func TestExport(t *testing.T) {
	data := []byte("2024-05-01T12:00:00.000Z {\"event_timestamp\":1,\"a\":1}\n" +
		"2024-05-01T12:00:01.500Z plain text message\n" +
		"not an export line\n" +
		"2024-05-01T12:00:02.000Z \xff\n")
	sink, res, rejects, _ := run(t, Options{}, bytesInput("exportedlogs/0f1e/mystream/000000.gz", gz(data)))
	if res.Stored != 2 || res.Rejected != 2 {
		t.Fatalf("stored %d rejected %d (%q)", res.Stored, res.Rejected, rejects)
	}
	if e := sink.events[0]; e.ts != 1714564800000 || e.msg != `{"event_timestamp":1,"a":1}` || e.stream != "mystream" {
		t.Errorf("event 0 = %+v", e)
	}
	if e := sink.events[1]; e.ts != 1714564801500 || e.msg != "plain text message" {
		t.Errorf("event 1 = %+v", e)
	}
	want := "exportedlogs/0f1e/mystream/000000.gz:3: export line does not start with an ISO 8601 timestamp"
	if rejects[0] != want || !strings.HasSuffix(rejects[1], ":4: message is not valid UTF-8") {
		t.Errorf("rejects = %q", rejects)
	}
}

// TestSamples ingests every sample file and compares what was stored with
// testdata/golden/<name>.txt (go test -update rewrites them).
func TestSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json*")
	if len(files) < 10 {
		t.Fatalf("only %d sample files", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(path)
			// Plain, gzip'd, and compact (one line) must store the same.
			var outs []string
			for _, in := range [][]byte{data, gz(data)} {
				sink, res, rejects, notes := run(t, Options{}, bytesInput(name, in))
				var b strings.Builder
				fmt.Fprintf(&b, "read %d stored %d rejected %d digests %d\n", res.Read, res.Stored, res.Rejected, res.Digests)
				for _, r := range rejects {
					fmt.Fprintf(&b, "reject %s\n", r)
				}
				for _, n := range notes {
					fmt.Fprintf(&b, "note %s\n", n)
				}
				for _, e := range sink.events {
					if !json.Valid([]byte(e.msg)) || strings.Contains(e.msg, "\n") {
						t.Errorf("stored message is not one line of JSON: %q", e.msg)
					}
					fmt.Fprintf(&b, "%s %d %s\n", e.stream, e.ts, e.msg)
				}
				outs = append(outs, b.String())
			}
			if outs[0] != outs[1] {
				t.Errorf("gzip'd input stored differently:\n%s\nvs\n%s", outs[0], outs[1])
			}
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(outs[0]), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if outs[0] != string(want) {
				t.Errorf("stored:\n%s\nwant (%s):\n%s", outs[0], golden, want)
			}
		})
	}
}

func TestCloudTrailCompactAndBroken(t *testing.T) {
	rec := `{"eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z","eventName":"CreateUser"}`
	compact := `{"Records":[` + rec + `,` + rec + `,17]}`
	name := "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/02/111122223333_CloudTrail_us-east-1_20240102T0310Z_abcdEFGH12345678.json.gz"
	sink, res, rejects, _ := run(t, Options{}, bytesInput(name, gz([]byte(compact))))
	if res.Stored != 2 || res.Rejected != 1 || sink.events[0].msg != rec || sink.events[0].stream != "111122223333_CloudTrail_us-east-1" || sink.events[0].ts != 1704164645000 {
		t.Errorf("stored %d rejected %d %q %+v", res.Stored, res.Rejected, rejects, sink.events)
	}
	// A log file cut off in the middle of its third record.
	broken := "{\"Records\":[\n" + rec + ",\n" + rec + ",\n" + rec[:40]
	sink, res, rejects, _ = run(t, Options{}, bytesInput("ct.json", []byte(broken)))
	if res.Stored != 2 || res.Rejected != 1 || len(rejects) != 1 || !strings.HasPrefix(rejects[0], "ct.json:4: Records: ") {
		t.Errorf("broken: stored %d rejected %d %q", res.Stored, res.Rejected, rejects)
	}
	// Records not first, pretty array of records.
	other := `{"x":1,"Records":[` + rec + `]}`
	_, res, _, _ = run(t, Options{}, bytesInput("o.json", []byte(other)))
	if res.Stored != 1 {
		t.Errorf("Records not first: stored %d", res.Stored)
	}
	arr := "[\n  " + rec + ",\n  {\"event_timestamp\": 7}\n]\n"
	sink, res, _, _ = run(t, Options{}, bytesInput("a.json", []byte(arr)))
	if res.Stored != 2 || sink.events[1].msg != `{"event_timestamp":7}` {
		t.Errorf("array: %+v", sink.events)
	}
}

func TestTruncatedGzip(t *testing.T) {
	var in bytes.Buffer
	for i := range 5000 {
		fmt.Fprintf(&in, `{"event_timestamp":%d,"n":"%d"}`+"\n", i, i*i)
	}
	z := gz(in.Bytes())
	_, res, rejects, _ := run(t, Options{}, bytesInput("t.gz", z[:len(z)/2]))
	if res.Stored == 0 || res.FileErrors != 1 || !strings.Contains(strings.Join(rejects, "\n"), "reading stopped: unexpected EOF") {
		t.Errorf("stored %d rejected %d rejects %q", res.Stored, res.Rejected, rejects)
	}
}

func TestUnreadableFileDoesNotStopRun(t *testing.T) {
	missing := fileInput(filepath.Join(t.TempDir(), "missing.json"), -1, "")
	_, res, rejects, _ := run(t, Options{}, missing, bytesInput("ok.json", []byte(`{"event_timestamp":1}`)))
	if res.Stored != 1 || res.Rejected != 0 || res.FileErrors != 1 || !strings.Contains(rejects[0], "cannot read") {
		t.Errorf("stored %d rejected %d %q", res.Stored, res.Rejected, rejects)
	}
}

func TestSinkError(t *testing.T) {
	var in bytes.Buffer
	for i := range 30000 {
		fmt.Fprintf(&in, `{"event_timestamp":%d}`+"\n", i)
	}
	sink := &memSink{failAt: 10000}
	res, err := New(Options{AppendEvents: 1000, Appenders: 1}).Run(context.Background(), []Input{bytesInput("x", in.Bytes())}, sink)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the sink's", err)
	}
	if res.Stored != 10000 || int64(len(sink.events)) != res.Stored {
		t.Errorf("stored %d, sink has %d", res.Stored, len(sink.events))
	}
}

// slowReader hands out data a little at a time and cancels ctx partway.
type slowReader struct {
	data   []byte
	cancel func()
	at     int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 4096)], s.data)
	s.data = s.data[n:]
	s.at += n
	if s.at > 100000 && s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	return n, nil
}

func TestInterrupt(t *testing.T) {
	var in bytes.Buffer
	for i := range 20000 {
		fmt.Fprintf(&in, `{"event_timestamp":%d}`+"\n", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sr := &slowReader{data: in.Bytes(), cancel: cancel}
	inp := Input{Name: "big.json", Open: func() (io.ReadCloser, error) { return io.NopCloser(sr), nil }}
	sink := &memSink{}
	res, err := New(Options{ChunkSize: 32 << 10, Appenders: 1}).Run(ctx, []Input{inp, bytesInput("next.json", []byte(`{}`))}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || !strings.HasPrefix(res.StoppedAt, "big.json:") {
		t.Errorf("Interrupted %v at %q", res.Interrupted, res.StoppedAt)
	}
	if res.Stored != res.Read || res.Stored == 0 || res.Stored >= 20000 || int64(len(sink.events)) != res.Stored {
		t.Errorf("read %d stored %d (sink %d)", res.Read, res.Stored, len(sink.events))
	}
	// Everything stored is a prefix of the input, in order.
	for i, e := range sink.events {
		if e.ts != int64(i) {
			t.Fatalf("event %d has time %d", i, e.ts)
		}
	}
	if want := fmt.Sprintf("big.json:%d", res.Stored); res.StoppedAt != want {
		t.Errorf("StoppedAt = %q, want %q", res.StoppedAt, want)
	}
}

func TestDefaultStream(t *testing.T) {
	tests := []struct{ in, want string }{
		{"-", "ingest"},
		{"/data/audit.ndjson.gz", "audit"},
		{"logs/2024-05-01.json", "2024-05-01"},
		{"s3/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz", "111122223333_CloudTrail_us-east-2"},
		{"b/AWSLogs/111122223333/AUTHENTICATION_LOGS/us-east-1/2024/05/01/10/x.log.gz", "AUTHENTICATION_LOGS"},
		{"b/AWSLogs/o-abc/111122223333/WORKMAIL_MAILBOX_ACCESS_LOGS/us-east-1/f.log.gz", "WORKMAIL_MAILBOX_ACCESS_LOGS"},
		{"exportedlogs/3d6b0f1e-aaaa/stream:with*odd/000001.gz", "stream_with_odd"},
		{"weird:name*.json", "weird_name_"},
	}
	for _, tt := range tests {
		if got := DefaultStream(tt.in); got != tt.want {
			t.Errorf("DefaultStream(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in   string
		want format
	}{
		{`{"a":1}` + "\n" + `{"b":2}`, formatNDJSON},
		{`{"a":` + "\n" + `{"b":2}`, formatNDJSON},
		{"{\n  \"a\": 1\n}\n", formatDocument},
		{`{"Records":[]}`, formatDocument},
		{`{ "Records" : [`, formatDocument},
		{`{"awsAccountId":"1","digestStartTime":"x","digestEndTime":"y","digestS3Object":"z","logFiles":[]}`, formatDocument},
		{"[{}]", formatDocument},
		{"2024-05-01T12:00:00.000Z hello\n", formatExport},
		{"garbage\n", formatNDJSON},
		{"", formatNDJSON},
		{"\xEF\xBB\xBF{\"a\":1}\n", formatNDJSON},
	}
	for _, tt := range tests {
		if got := detect([]byte(tt.in), true); got != tt.want {
			t.Errorf("detect(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// FuzzIngest feeds arbitrary files through the whole reader: it must not
// panic, and every record must be either stored or rejected.
func FuzzIngest(f *testing.F) {
	f.Add([]byte(truncatedNDJSON), false)
	f.Add([]byte(`{"Records":[{"eventTime":"2024-01-02T03:04:05Z"},1]}`), true)
	f.Add([]byte("2024-05-01T12:00:00.000Z x\n"), false)
	f.Add([]byte("{\n\"a\": [1, {\"b\": 2}]\n}"), false)
	f.Add([]byte(`{"messageType":"DATA_MESSAGE","logStream":"s","logEvents":[{"id":"1","timestamp":5,"message":"m"}]}{"messageType":"CONTROL_MESSAGE","logEvents":[]}`), true)
	if data, err := os.ReadFile("testdata/cloudtrail-digest.sample.json"); err == nil {
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, zip bool) {
		if zip {
			data = gz(data)
		}
		sink := &memSink{}
		var rejects int64
		opts := Options{ChunkSize: 64, MaxEventSize: 200, OnReject: func(Reject) { rejects++ }}
		// Twice, so that state carried from one input to the next (parked
		// document batches, read blocks) is exercised too.
		res, err := New(opts).Run(context.Background(), []Input{bytesInput("f", data), bytesInput("g", data)}, sink)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(sink.events)) != res.Stored || res.Rejected+res.FileErrors != rejects || res.Read > res.Stored+res.Rejected {
			t.Fatalf("read %d stored %d (sink %d) rejected %d (reported %d)", res.Read, res.Stored, len(sink.events), res.Rejected, rejects)
		}
		for _, e := range sink.events {
			if len(e.msg) == 0 {
				t.Fatal("stored an empty message")
			}
		}
	})
}

func TestConcurrentAppenders(t *testing.T) {
	var in bytes.Buffer
	const n = 30000
	for i := range n {
		fmt.Fprintf(&in, `{"event_timestamp":%d}`+"\n", i)
	}
	sink := &memSink{}
	res, err := New(Options{ChunkSize: 16 << 10, Appenders: 3, AppendEvents: 100}).Run(context.Background(),
		[]Input{bytesInput("a", in.Bytes()), bytesInput("b", gz(in.Bytes()))}, sink)
	if err != nil || res.Stored != 2*n || len(sink.events) != 2*n {
		t.Fatalf("stored %d (sink %d), %v", res.Stored, len(sink.events), err)
	}
	seen := map[string]int{}
	for _, e := range sink.events {
		if e.msg != fmt.Sprintf(`{"event_timestamp":%d}`, e.ts) {
			t.Fatalf("event %d has message %q", e.ts, e.msg)
		}
		seen[fmt.Sprint(e.stream, e.ts)]++
	}
	if len(seen) != 2*n {
		t.Errorf("%d distinct events, want %d", len(seen), 2*n)
	}
}

// blockingReader returns its lines, then blocks until release is closed
// (or forever), like a pipe whose writer has gone quiet.
type blockingReader struct {
	data    []byte
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	<-b.release
	return 0, io.EOF
}

// countingSink reports how many events it holds.
func (m *memSink) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestQuietPipe: records from an input that has gone quiet are stored
// without waiting for the chunk to fill or the input to end.
func TestQuietPipe(t *testing.T) {
	br := &blockingReader{data: []byte("{\"event_timestamp\":1}\n{\"event_timestamp\":2}\n{\"event_time"), release: make(chan struct{})}
	sink := &memSink{}
	done := make(chan Result)
	go func() {
		res, _ := New(Options{}).Run(context.Background(), []Input{{Name: "-", Open: func() (io.ReadCloser, error) { return io.NopCloser(br), nil }}}, sink)
		done <- res
	}()
	waitFor(t, "the first two records", func() bool { return sink.count() == 2 })
	close(br.release)
	res := <-done
	if res.Stored != 2 || res.Rejected != 1 {
		t.Errorf("stored %d rejected %d", res.Stored, res.Rejected)
	}
}

// TestInterruptBlockedRead: an interrupt while the input blocks forever
// stores what was read and returns.
func TestInterruptBlockedRead(t *testing.T) {
	br := &blockingReader{data: []byte("{\"event_timestamp\":1}\n{\"event_timestamp\":2}\n{\"event_ti"), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	sink := &memSink{}
	done := make(chan Result)
	go func() {
		res, _ := New(Options{}).Run(ctx, []Input{{Name: "-", Open: func() (io.ReadCloser, error) { return io.NopCloser(br), nil }}}, sink)
		done <- res
	}()
	waitFor(t, "the first two records", func() bool { return sink.count() == 2 })
	cancel()
	res := <-done
	if !res.Interrupted || res.StoppedAt != "<stdin>:2" || res.Stored != 2 || res.Rejected != 0 {
		t.Errorf("result %+v", res)
	}
	close(br.release)
}

func TestConcatenatedObjects(t *testing.T) {
	data := []byte(`{"event_timestamp":1}{"event_timestamp":2} {"event_timestamp":3}
{"event_timestamp":4}[5]{"event_timestamp":6}{"event_timestamp":
{"event_timestamp":7}
`)
	sink, res, rejects, _ := run(t, Options{}, bytesInput("fh", data))
	var got []int64
	for _, e := range sink.events {
		got = append(got, e.ts)
	}
	if fmt.Sprint(got) != "[1 2 3 4 6 7]" || res.Read != 8 || res.Rejected != 2 {
		t.Errorf("times %v, read %d, rejected %d %q", got, res.Read, res.Rejected, rejects)
	}
	if sink.events[1].msg != `{"event_timestamp":2}` {
		t.Errorf("second record %q", sink.events[1].msg)
	}
	if len(rejects) != 2 || !strings.HasPrefix(rejects[0], "fh:2: value at byte 21: record is valid JSON but not an object") || !strings.HasPrefix(rejects[1], "fh:2: invalid JSON") {
		t.Errorf("rejects %q", rejects)
	}
}

func TestPrettyObjectsBackToBack(t *testing.T) {
	data := []byte("{\n  \"event_timestamp\": 1\n}\n{\n  \"event_timestamp\": 2\n}{\"event_timestamp\":3}\n")
	sink, res, rejects, _ := run(t, Options{}, bytesInput("p.json", data))
	if res.Stored != 3 || len(rejects) != 0 || sink.events[1].msg != `{"event_timestamp":2}` {
		t.Errorf("stored %d, rejects %q, events %+v", res.Stored, rejects, sink.events)
	}
}

func TestDocumentLimits(t *testing.T) {
	doc := []byte("{\n  \"Records\": [" + strings.Repeat(`{"eventTime":"2024-01-02T03:04:05Z","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},`, 2000) + "{}]}")
	_, res, rejects, _ := run(t, Options{MaxDocument: 1000, ChunkSize: 512}, bytesInput("big.json", doc))
	if res.FileErrors != 1 || res.Stored != 0 || !strings.Contains(rejects[0], "JSON document larger than 1000 bytes") {
		t.Errorf("too big: %+v %q", res, rejects)
	}
	// A gzip'd log file cut in half keeps the records before the cut.
	z := gz(doc)
	_, res, rejects, _ = run(t, Options{}, bytesInput("cut.json.gz", z[:len(z)/2]))
	if res.FileErrors != 1 || res.Stored == 0 || res.Stored >= 2001 || res.Rejected != 1 {
		t.Errorf("cut: %+v %q", res, rejects)
	}
}

func TestStreamByType(t *testing.T) {
	var in bytes.Buffer
	for _, f := range []string{"workmail-audit-authentication.sample.json", "workmail-audit-mailbox-access.sample.json", "workmail-email-event-rule-applied.sample.json", "cloudtrail-workmail-createuser.record.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		in.Write(jsonscanCompact(data))
		in.WriteByte('\n')
	}
	in.WriteString(`{"event_timestamp":1,"what":"unknown"}` + "\n")
	sink, res, _, _ := run(t, Options{StreamByType: true}, bytesInput("mixed.ndjson", in.Bytes()))
	var got []string
	for _, e := range sink.events {
		got = append(got, e.stream)
	}
	want := "[mixed AUTHENTICATION_LOGS WORKMAIL_MAILBOX_ACCESS_LOGS WORKMAIL_EMAIL_EVENT_LOGS CLOUDTRAIL]"
	if res.Stored != 5 || fmt.Sprint(got) != want {
		t.Errorf("streams %v, want %s", got, want)
	}
}

func jsonscanCompact(b []byte) []byte { return jsonscan.AppendCompact(nil, b) }

func TestSubscriptionPayloads(t *testing.T) {
	p := func(stream string, msgs ...string) string {
		var evs []string
		for i, m := range msgs {
			evs = append(evs, fmt.Sprintf(`{"id":"%d","timestamp":%d,"message":%q}`, i, 1000+i, m))
		}
		return fmt.Sprintf(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":%q,"subscriptionFilters":["f"],"logEvents":[%s]}`, stream, strings.Join(evs, ","))
	}
	control := `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`
	// Firehose: each record gzip'd, concatenated, no newlines.
	data := gz([]byte(p("s1", `{"event_timestamp":5}`, "text")), []byte(control), []byte(p("s2", `{"a":1}`)))
	sink, res, rejects, notes := run(t, Options{}, bytesInput("firehose-1-2024-01-01-00-00-00-abc.gz", data))
	var got []string
	for _, e := range sink.events {
		got = append(got, fmt.Sprintf("%s %d %s", e.stream, e.ts, e.msg))
	}
	want := `[s1 1000 {"event_timestamp":5} s1 1001 text s2 1000 {"a":1}]`
	if fmt.Sprint(got) != want || len(rejects) != 0 || res.Stored != 3 {
		t.Errorf("got %v\nwant %s\nrejects %q", got, want, rejects)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "1 CloudWatch Logs CONTROL_MESSAGE") {
		t.Errorf("notes %q", notes)
	}
	// With --stream, everything goes to that stream; newline-separated too.
	sink, _, _, _ = run(t, Options{}, Input{Name: "x", Stream: "mine", Open: bytesInput("x", []byte(p("s1", "a")+"\n"+p("s2", "b")+"\n")).Open})
	if len(sink.events) != 2 || sink.events[0].stream != "mine" || sink.events[1].stream != "mine" {
		t.Errorf("explicit stream: %+v", sink.events)
	}
}

// TestSmallDocumentsShareAppends: consecutive small documents are stored
// in one Append per stream, each event still in its own file's stream.
func TestSmallDocumentsShareAppends(t *testing.T) {
	rec := `{"eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z"}`
	doc := gz([]byte(`{"Records":[` + rec + `,` + rec + `]}`))
	name := func(region string, i int) string {
		return fmt.Sprintf("111122223333_CloudTrail_%s_20240102T03%02dZ_abc.json.gz", region, i)
	}
	var inputs []Input
	for i := range 50 {
		inputs = append(inputs, bytesInput(name("us-east-1", i), doc), bytesInput(name("eu-west-1", i), doc))
	}
	inputs = append(inputs, bytesInput("plain.ndjson", []byte(`{"event_timestamp":1}`+"\n")))
	inputs = append(inputs, bytesInput(name("us-east-1", 59), doc))
	sink, res, _, _ := run(t, Options{}, inputs...)
	if res.Stored != 203 {
		t.Fatalf("stored %d", res.Stored)
	}
	count := map[string]int{}
	for _, e := range sink.events {
		count[e.stream]++
	}
	if count["111122223333_CloudTrail_us-east-1"] != 102 || count["111122223333_CloudTrail_eu-west-1"] != 100 || count["plain"] != 1 {
		t.Errorf("per stream %v", count)
	}
	if sink.appends > 5 {
		t.Errorf("%d appends for 101 small documents and a line file", sink.appends)
	}
}

// deferredSink is a memSink that also takes events deferred: it holds
// them until every fourth batch or Sync, and then "makes them durable"
// (moves them to the memSink and calls their done functions), failing from
// the failFlush-th such flush on when failFlush > 0.
type deferredSink struct {
	memSink
	dmu       sync.Mutex
	held      []storedEvent
	dones     []func(error)
	flushes   int
	failFlush int
}

func (d *deferredSink) AppendDeferred(stream string, evs []Event, done func(error)) error {
	d.dmu.Lock()
	defer d.dmu.Unlock()
	for _, e := range evs {
		d.held = append(d.held, storedEvent{stream, e.Timestamp, string(e.Message)})
	}
	d.dones = append(d.dones, done)
	if len(d.dones) == 4 {
		d.flushLocked()
	}
	return nil
}

func (d *deferredSink) Sync() error {
	d.dmu.Lock()
	defer d.dmu.Unlock()
	return d.flushLocked()
}

func (d *deferredSink) flushLocked() error {
	d.flushes++
	var err error
	if d.failFlush > 0 && d.flushes >= d.failFlush {
		err = errors.New("disk full")
	} else {
		d.mu.Lock()
		d.events = append(d.events, d.held...)
		d.mu.Unlock()
	}
	for _, done := range d.dones {
		done(err)
	}
	d.held, d.dones = nil, nil
	return err
}

// TestDeferredSink checks that with Options.Deferred events count as
// stored only once the sink says they are durable, that Run waits for the
// last of them, and that a failure to make them durable stops the run.
func TestDeferredSink(t *testing.T) {
	var in bytes.Buffer
	for i := range 30000 {
		fmt.Fprintf(&in, `{"event_timestamp":%d}`+"\n", i)
	}
	for _, tc := range []struct {
		name      string
		failFlush int
		wantErr   bool
	}{
		{"all durable", 0, false},
		{"third flush fails", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &deferredSink{failFlush: tc.failFlush}
			res, err := New(Options{AppendEvents: 1000, Appenders: 2, Deferred: true}).Run(context.Background(), []Input{bytesInput("x", in.Bytes())}, sink)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			if int64(len(sink.events)) != res.Stored {
				t.Errorf("reported %d stored, sink made %d durable", res.Stored, len(sink.events))
			}
			if !tc.wantErr && res.Stored != 30000 {
				t.Errorf("stored %d, want 30000", res.Stored)
			}
			if sink.appends != 0 {
				t.Errorf("%d plain Appends, want none", sink.appends)
			}
		})
	}
}
