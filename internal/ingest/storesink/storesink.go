// Package storesink connects ingest to the store: a Sink that appends to
// one log group of a store.Store, creating streams as they first appear.
package storesink

import (
	"fmt"
	"sync"

	"github.com/mailtrail/mailtrail/internal/ingest"
	"github.com/mailtrail/mailtrail/internal/store"
)

// Sink appends ingest's events to a log group. Its Append may be called
// from several goroutines at once (ingest runs two appenders). It is an
// ingest.DeferredSink.
type Sink struct {
	st             *store.Store
	account, group string

	mu      sync.Mutex
	ensured map[string]bool
	bufs    sync.Pool // *[]store.Event, one per concurrent Append
}

// New returns a Sink for group in account, creating the group if needed.
func New(st *store.Store, account, group string) (*Sink, error) {
	if err := st.EnsureLogGroup(account, group); err != nil {
		return nil, fmt.Errorf("log group %q: %w", group, err)
	}
	return &Sink{st: st, account: account, group: group, ensured: map[string]bool{}}, nil
}

// Append stores events in stream; the store copies the messages and has
// made them durable when it returns.
func (s *Sink) Append(stream string, events []ingest.Event) error {
	return s.put(stream, events, func(buf []store.Event) error {
		return s.st.Append(s.account, s.group, stream, buf)
	})
}

// AppendDeferred is Append without waiting for the disk: the store copies
// the events and calls done once they are durable in segments (see
// store.Store.AppendDeferred), which spares a bulk load the write-ahead log.
func (s *Sink) AppendDeferred(stream string, events []ingest.Event, done func(error)) error {
	return s.put(stream, events, func(buf []store.Event) error {
		return s.st.AppendDeferred(s.account, s.group, stream, buf, done)
	})
}

// put ensures stream, converts events into a pooled slice and hands it
// to add (which the store copies from before returning).
func (s *Sink) put(stream string, events []ingest.Event, add func([]store.Event) error) error {
	if err := s.ensure(stream); err != nil {
		return err
	}
	bp, _ := s.bufs.Get().(*[]store.Event)
	if bp == nil {
		bp = new([]store.Event)
	}
	buf := (*bp)[:0]
	for _, e := range events {
		buf = append(buf, store.Event{Timestamp: e.Timestamp, Message: e.Message})
	}
	err := add(buf)
	clear(buf) // let go of the reader's chunk
	*bp = buf[:0]
	s.bufs.Put(bp)
	return err
}

// Sync returns once every event handed to AppendDeferred is durable.
func (s *Sink) Sync() error { return s.st.Sync() }

func (s *Sink) ensure(stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ensured[stream] {
		if err := s.st.EnsureLogStream(s.account, s.group, stream); err != nil {
			return fmt.Errorf("log stream %q: %w", stream, err)
		}
		s.ensured[stream] = true
	}
	return nil
}

// StoredBytes is the group's size on disk as the store reports it
// (segments; data still in memory or the write-ahead log is not counted
// until it is flushed).
func StoredBytes(st *store.Store, account, group string) int64 {
	groups, err := st.DescribeLogGroups(account, group)
	if err != nil {
		return 0
	}
	for _, g := range groups {
		if g.Name == group {
			return g.StoredBytes
		}
	}
	return 0
}
