package dovecot

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func serve(b *testing.B, h http.Handler, path string, body []byte, want int) {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
}

// BenchmarkPolicyAllow: a new session per request, so every request
// evaluates the rules and durably stores an access control record (the
// store's group commit shares fsyncs between concurrent requests, as
// Dovecot's auth process sends them).
func BenchmarkPolicyAllow(b *testing.B) {
	e := newEnv(b, "")
	var n atomic.Int64
	b.SetParallelism(16) // many logins in flight, as on a busy server
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Appendf(nil, `{"device_id":"","local":"127.0.0.1","login":"alice@example.test","protocol":"imap","pwhash":"0a7b","remote":"192.0.2.%d","session_id":"bench%d","tls":false}`, i%250, i)
			serve(b, e.h, PolicyPath+"?command=allow", body, http.StatusOK)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkPolicyAllowRepeat: the after-auth allow of a session already
// recorded: evaluation and answer only, no write.
func BenchmarkPolicyAllowRepeat(b *testing.B) {
	e := newEnv(b, "")
	body := []byte(`{"device_id":"","local":"127.0.0.1","login":"alice@example.test","protocol":"imap","pwhash":"0a7b","remote":"127.0.0.1","session_id":"ujRzm+Fgksh/AAAB","tls":false}`)
	serve(b, e.h, PolicyPath+"?command=allow", body, http.StatusOK)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, e.h, PolicyPath+"?command=allow", body, http.StatusOK)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkEvents: imap_command_finished posts (UID COPY, two records each).
func BenchmarkEvents(b *testing.B) {
	e := newEnv(b, "")
	var n atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Appendf(nil, `{"event":"imap_command_finished","hostname":"vm","start_time":"2026-11-22T18:27:02.594000Z","end_time":"2026-11-22T18:27:02.594500Z","categories":["service:imap","imap"],"fields":{"user":"alice@example.test","local_ip":"127.0.0.1","local_port":10143,"remote_ip":"127.0.0.1","remote_port":56900,"session":"bench%d","duration":1000,"cmd_tag":"A004","cmd_name":"UID COPY","cmd_input_name":"UID COPY","cmd_args":"1:* Projects","cmd_human_args":"1:* Projects","tagged_reply_state":"OK","tagged_reply":"OK Copy completed.","bytes_in":20,"bytes_out":60,"mailbox":"INBOX"}}`, i)
			serve(b, e.h, EventsPath, body, http.StatusNoContent)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
