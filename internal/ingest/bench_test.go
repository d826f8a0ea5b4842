package ingest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

// benchData repeats the sample records of testdata/bench.ndjson (lines of
// the reference generator, ~480 bytes each) to n records.
func benchData(b *testing.B, n int) []byte {
	seed, err := os.ReadFile("testdata/bench.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.SplitAfter(bytes.TrimSpace(seed), []byte("\n"))
	var out bytes.Buffer
	for i := 0; i < n; i++ {
		l := lines[i%len(lines)]
		out.Write(bytes.TrimSuffix(l, []byte("\n")))
		out.WriteByte('\n')
	}
	return out.Bytes()
}

type discardSink struct{ n int }

func (d *discardSink) Append(_ string, evs []Event) error { d.n += len(evs); return nil }

func reportRecords(b *testing.B, records, bytes int) {
	b.SetBytes(int64(bytes))
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkScanner is the per-record hot path: validate and find the time.
func BenchmarkScanner(b *testing.B) {
	data := benchData(b, 21)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	sc := jsonscan.NewScanner("")
	var f jsonscan.Fields
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l := lines[i%len(lines)]
		if err := sc.Object(l, &f); err != nil {
			b.Fatal(err)
		}
		if _, ok := jsonscan.Millis(f.EventTimestamp); !ok {
			b.Fatal("no time")
		}
	}
	b.SetBytes(int64(len(data) / len(lines)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRunNDJSON is the whole reading side (chunks, lines, validation,
// batches, the pipeline) into a sink that keeps nothing.
func BenchmarkRunNDJSON(b *testing.B) {
	const n = 100000
	data := benchData(b, n)
	for b.Loop() {
		sink := &discardSink{}
		res, err := New(Options{}).Run(context.Background(), []Input{bytesInput("bench", data)}, sink)
		if err != nil || res.Stored != n {
			b.Fatalf("stored %d, %v", res.Stored, err)
		}
	}
	reportRecords(b, n, len(data))
}

// BenchmarkRunNDJSONByType adds event.Classify per record to route it.
func BenchmarkRunNDJSONByType(b *testing.B) {
	const n = 100000
	data := benchData(b, n)
	for b.Loop() {
		res, err := New(Options{StreamByType: true}).Run(context.Background(), []Input{bytesInput("bench", data)}, &discardSink{})
		if err != nil || res.Stored != n {
			b.Fatalf("stored %d, %v", res.Stored, err)
		}
	}
	reportRecords(b, n, len(data))
}

func BenchmarkRunGzip(b *testing.B) {
	const n = 100000
	data := benchData(b, n)
	z := gz(data)
	for b.Loop() {
		res, err := New(Options{}).Run(context.Background(), []Input{bytesInput("bench.gz", z)}, &discardSink{})
		if err != nil || res.Stored != n {
			b.Fatalf("stored %d, %v", res.Stored, err)
		}
	}
	reportRecords(b, n, len(data))
}

// BenchmarkRunCloudTrail reads one compact CloudTrail log file.
func BenchmarkRunCloudTrail(b *testing.B) {
	const n = 20000
	rec := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/Alice","accountId":"111122223333","userName":"Alice"},"eventTime":"2024-01-02T03:04:%02dZ","eventSource":"workmail.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.12","userAgent":"aws-cli/2.15","requestParameters":{"organizationId":"m-0123456789abcdef0123456789abcdef","name":"bob"},"responseElements":{"userId":"S-1-1-12"},"requestID":"8b1f6c6a-1f1e-4c2e-9c1e-2f0c1e2d3c4b","eventID":"0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`
	var doc strings.Builder
	doc.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, rec, i%60)
	}
	doc.WriteString(`]}`)
	z := gz([]byte(doc.String()))
	for b.Loop() {
		res, err := New(Options{}).Run(context.Background(), []Input{bytesInput("ct.json.gz", z)}, &discardSink{})
		if err != nil || res.Stored != n {
			b.Fatalf("stored %d, %v", res.Stored, err)
		}
	}
	reportRecords(b, n, doc.Len())
}

// BenchmarkRunExport reads a CloudWatch Logs export file (not gzip'd, to
// measure the parser rather than the decompressor).
func BenchmarkRunExport(b *testing.B) {
	const n = 100000
	data := benchData(b, n)
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) > 0 {
			out.WriteString("2025-05-01T00:00:00.123Z ")
			out.Write(l)
		}
	}
	for b.Loop() {
		res, err := New(Options{}).Run(context.Background(), []Input{bytesInput("000000", out.Bytes())}, &discardSink{})
		if err != nil || res.Stored != n {
			b.Fatalf("stored %d, %v", res.Stored, err)
		}
	}
	reportRecords(b, n, out.Len())
}

// BenchmarkRunManyFiles is the per-file overhead: 1,000 small gzip'd
// CloudTrail log files of 10 records, as an S3 sync of a trail gives.
func BenchmarkRunManyFiles(b *testing.B) {
	const files, per = 1000, 10
	rec := `{"eventVersion":"1.08","eventTime":"2024-01-02T03:04:05Z","eventSource":"workmail.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","requestID":"8b1f6c6a-1f1e-4c2e-9c1e-2f0c1e2d3c4b"}`
	doc := []byte(`{"Records":[` + strings.TrimSuffix(strings.Repeat(rec+",", per), ",") + `]}`)
	z := gz(doc)
	inputs := make([]Input, files)
	for i := range inputs {
		inputs[i] = bytesInput(fmt.Sprintf("111122223333_CloudTrail_us-east-1_20240102T03%02dZ_abc%d.json.gz", i%60, i), z)
	}
	for b.Loop() {
		res, err := New(Options{}).Run(context.Background(), inputs, &discardSink{})
		if err != nil || res.Stored != files*per {
			b.Fatalf("stored %d, %v", res.Stored, err)
		}
	}
	reportRecords(b, files*per, files*len(doc))
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
