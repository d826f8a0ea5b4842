package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchBody is a PutLogEvents batch of n events of ~100-byte messages.
func benchBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"logGroupName":"/audit/bench","logStreamName":"s1","logEvents":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"timestamp":1714560000000,"message":"{\"eventName\":\"GetMessage\",\"user\":\"alice@example.com\",\"ip\":\"203.0.113.7\",\"ok\":true}"}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// benchVerify measures Verify on a server-side request, resetting the body
// each iteration as a fresh request would have it.
func benchVerify(b *testing.B, raw []byte, opts Options) {
	v := NewVerifier(testCreds(b), opts)
	proto := serverRequest(b, raw)
	body, _ := io.ReadAll(proto.Body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := *proto
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, err := v.Verify(&r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

func BenchmarkVerify(b *testing.B) {
	opts := Options{Now: fixedClock(signTime)}
	for _, events := range []int{1, 100, 10000} {
		body := benchBody(events)
		name := map[int]string{1: "header/1event", 100: "header/100events", 10000: "header/10000events"}[events]
		b.Run(name, func(b *testing.B) {
			r := jsonRequest(b, "PutLogEvents", body)
			sign(b, r, keyA, sha(body), "logs", "us-east-1", signTime)
			benchVerify(b, wire(b, r), opts)
		})
	}
	b.Run("header/unsigned-payload", func(b *testing.B) {
		body := benchBody(100)
		r := jsonRequest(b, "PutLogEvents", body)
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		sign(b, r, keyA, UnsignedPayload, "logs", "us-east-1", signTime)
		benchVerify(b, wire(b, r), opts)
	})
	b.Run("presigned", func(b *testing.B) {
		r := presign(b, "http://127.0.0.1:4566/?group=%2Faudit%2Fbench", keyA, UnsignedPayload, "logs", "us-east-1", signTime, time.Hour)
		benchVerify(b, wire(b, r), opts)
	})
	b.Run("parallel/100events", func(b *testing.B) {
		body := benchBody(100)
		r := jsonRequest(b, "PutLogEvents", body)
		sign(b, r, keyA, sha(body), "logs", "us-east-1", signTime)
		v := NewVerifier(testCreds(b), opts)
		proto := serverRequest(b, wire(b, r))
		raw, _ := io.ReadAll(proto.Body)
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r := *proto
				r.Body = io.NopCloser(bytes.NewReader(raw))
				if _, err := v.Verify(&r); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
	})
	b.Run("rejected/wrong-signature", func(b *testing.B) {
		raw := setHeader(&testing.T{}, signedPut(&testing.T{}), "X-Amz-Target", "Logs_20140328.X")
		v := NewVerifier(testCreds(b), opts)
		proto := serverRequest(b, raw)
		body, _ := io.ReadAll(proto.Body)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r := *proto
			r.Body = io.NopCloser(bytes.NewReader(body))
			if _, err := v.Verify(&r); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

var _ = http.MethodPost
