package cwlogs

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/store"
)

// benchStoreQueries opens the store named by MAILTRAIL_BENCH_DATA (filled
// by scripts/bench.sh) and reads Q1–Q7; the benchmarks skip without it.
func benchStoreQueries(b *testing.B) (*store.Store, string, [][2]string) {
	data := os.Getenv("MAILTRAIL_BENCH_DATA")
	if data == "" {
		b.Skip("set MAILTRAIL_BENCH_DATA to a store filled by scripts/bench.sh")
	}
	group := os.Getenv("MAILTRAIL_BENCH_GROUP")
	if group == "" {
		group = "bench"
	}
	text, err := os.ReadFile("../../../../shared/bench/queries/cwli.txt")
	if err != nil {
		b.Skip("shared/bench/queries/cwli.txt not found")
	}
	var qs [][2]string
	for _, line := range strings.Split(string(text), "\n") {
		if name, q, ok := strings.Cut(line, "\t"); ok && strings.HasPrefix(name, "Q") {
			qs = append(qs, [2]string{name, q})
		}
	}
	st, err := store.Open(data, store.Options{})
	if err != nil {
		b.Fatalf("opening bench store %s: %v", data, err)
	}
	b.Cleanup(func() { st.Close() })
	return st, group, qs
}

// BenchmarkQueryLatency compares, for each of Q1–Q7 in one process, the
// engine as the CLI runs it (query.Run without partial results) with the
// server's StartQuery → GetQueryResults-until-Complete path (handlers
// called directly: no HTTP transport, no SigV4, rows not decoded; the
// client polls every MAILTRAIL_BENCH_POLL, default 2ms). Each iteration runs both, one after
// the other, so the load of a shared machine weighs on both alike; it
// reports their medians (engine-ms, api-ms) and the server's overhead
// (api/engine).
func BenchmarkQueryLatency(b *testing.B) {
	st, group, qs := benchStoreQueries(b)
	s, err := New(Config{Store: st, QueryMemoryLimit: 2 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	poll := 2 * time.Millisecond
	if v := os.Getenv("MAILTRAIL_BENCH_POLL"); v != "" {
		if poll, err = time.ParseDuration(v); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range qs {
		b.Run(q[0], func(b *testing.B) {
			pq, err := query.Parse(q[1])
			if err != nil {
				b.Fatal(err)
			}
			opt := query.Options{Account: s.DefaultAccount, Groups: []string{group}, Limit: 10000, Workers: 2, MemoryLimit: 2 << 30}
			start, _ := json.Marshal(map[string]any{"logGroupName": group, "startTime": 0, "endTime": 4102444800, "queryString": q[1], "limit": 10000})
			var engine, api []time.Duration
			polls := 0
			for i := 0; b.Loop(); i++ {
				runEngine := func() {
					t0 := time.Now()
					if _, err := query.Run(context.Background(), st, pq, opt); err != nil {
						b.Fatal(err)
					}
					engine = append(engine, time.Since(t0))
				}
				runAPI := func() {
					t0 := time.Now()
					var sq startQueryOut
					serve(b, s, "StartQuery", string(start), &sq)
					get := `{"queryId":"` + sq.QueryID + `"}`
					for {
						polls++
						status := pollStatus(b, s, get)
						if status == "Complete" {
							break
						}
						if !isRunning(status) {
							b.Fatalf("%s: status %s", q[0], status)
						}
						time.Sleep(poll)
					}
					api = append(api, time.Since(t0))
				}
				// Alternate which goes first: a run warms the caches for
				// the one after it.
				if i%2 == 0 {
					runEngine()
					runAPI()
				} else {
					runAPI()
					runEngine()
				}
			}
			e, a := medianDur(engine), medianDur(api)
			b.ReportMetric(float64(e.Microseconds())/1000, "engine-ms")
			b.ReportMetric(float64(a.Microseconds())/1000, "api-ms")
			b.ReportMetric(float64(a)/float64(e), "api/engine")
			b.ReportMetric(float64(polls)/float64(len(api)), "polls/op")
		})
	}
}

func medianDur(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// pollStatus calls GetQueryResults and returns the status, found without
// decoding the rows: that is the client's cost, not the server's. The
// top-level status member comes after the results, and a "status" inside
// a row's value would be escaped.
func pollStatus(b *testing.B, s *Server, body string) string {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", TargetPrefix+"GetQueryResults")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	out := w.Body.Bytes()
	i := bytes.LastIndex(out, []byte(`"status":"`))
	if w.Code != 200 || i < 0 {
		b.Fatalf("GetQueryResults: %d %.200s", w.Code, out)
	}
	status, _, _ := strings.Cut(string(out[i+len(`"status":"`):]), `"`)
	return status
}

func serve(b *testing.B, s *Server, op, body string, out any) {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", TargetPrefix+op)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("%s: %d %s", op, w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
		b.Fatalf("%s: %v", op, err)
	}
}

// BenchmarkGetQueryResultsComplete is the server's cost of answering
// GetQueryResults for a finished query (Q1: 10,000 rows of 5 fields; Q6:
// 6,117 whole records), without HTTP transport.
func BenchmarkGetQueryResultsComplete(b *testing.B) {
	st, group, qs := benchStoreQueries(b)
	s, err := New(Config{Store: st, QueryMemoryLimit: 2 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	for _, q := range qs {
		if q[0] != "Q1" && q[0] != "Q6" && q[0] != "Q3" {
			continue
		}
		start, _ := json.Marshal(map[string]any{"logGroupName": group, "startTime": 0, "endTime": 4102444800, "queryString": q[1], "limit": 10000})
		var sq startQueryOut
		serve(b, s, "StartQuery", string(start), &sq)
		get := `{"queryId":"` + sq.QueryID + `"}`
		for {
			var res struct{ Status string }
			serve(b, s, "GetQueryResults", get, &res)
			if res.Status == "Complete" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.Run(q[0], func(b *testing.B) {
			var n int
			for b.Loop() {
				req := httptest.NewRequest("POST", "/", strings.NewReader(get))
				req.Header.Set("X-Amz-Target", TargetPrefix+"GetQueryResults")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				n = w.Body.Len()
			}
			b.SetBytes(int64(n))
		})
	}
}
