package cwlogs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/gen"
	"github.com/mailtrail/mailtrail/internal/store"
)

// putBody builds a PutLogEvents request body of generated records up to
// the 1 MiB batch limit.
func putBody(tb testing.TB, group, stream string) ([]byte, int) {
	cfg := gen.DefaultConfig()
	cfg.N = 10000
	g, err := gen.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	type ev struct {
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	var evs []ev
	size := 0
	base := time.Now().Add(-time.Hour).UnixMilli()
	for r := range g.All() {
		if size+len(r.JSON)+26 > 1000000 {
			break
		}
		evs = append(evs, ev{base + int64(len(evs)/100), string(r.JSON)})
		size += len(r.JSON) + 26
	}
	body, _ := json.Marshal(map[string]any{"logGroupName": group, "logStreamName": stream, "logEvents": evs})
	return body, len(evs)
}

func newBenchServer(tb testing.TB) *Server {
	st, err := store.Open(tb.TempDir(), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkPutLogEventsHandler is the server side of PutLogEvents without
// HTTP transport or SigV4: JSON decoding, validation and the durable append.
func BenchmarkPutLogEventsHandler(b *testing.B) {
	s := newBenchServer(b)
	s.Store.EnsureLogGroup(s.DefaultAccount, "/g")
	for i := 0; i < 2; i++ {
		s.Store.EnsureLogStream(s.DefaultAccount, "/g", fmt.Sprint("s", i))
	}
	body, n := putBody(b, "/g", "s0")
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			req.Header.Set("X-Amz-Target", TargetPrefix+"PutLogEvents")
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
