package storesink

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store"
)

// TestIngestIntoStore runs a real ingest into a real store and reads the
// events back, through the WAL and deferred (straight into segments, with
// memtables small enough that several flushes happen during the run).
func TestIngestIntoStore(t *testing.T) {
	for _, deferred := range []bool{false, true} {
		t.Run(fmt.Sprintf("deferred=%v", deferred), func(t *testing.T) { testIngestIntoStore(t, deferred) })
	}
}

func testIngestIntoStore(t *testing.T, deferred bool) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{MemtableBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := New(st, store.DefaultAccount, "g")
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&in, `{"event_timestamp":%d,"n":%d}`+"\n", 1718000000000+int64(i), i)
	}
	inputs := []ingest.Input{{Name: "a.ndjson", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(in.String())), nil }}}
	res, err := ingest.New(ingest.Options{ChunkSize: 16 << 10, Deferred: deferred}).Run(context.Background(), inputs, sink)
	if err != nil || res.Stored != 5000 {
		t.Fatalf("stored %d, %v", res.Stored, err)
	}
	n := 0
	err = st.GetLogEvents(store.DefaultAccount, "g", "a", 0, 1<<62, func(ts, ingest int64, msg []byte) bool {
		if want := fmt.Sprintf(`{"event_timestamp":%d,"n":%d}`, ts, ts-1718000000000); string(msg) != want {
			t.Errorf("event %d = %s, want %s", n, msg, want)
		}
		n++
		return true
	})
	if err != nil || n != 5000 {
		t.Errorf("read back %d events, %v", n, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
