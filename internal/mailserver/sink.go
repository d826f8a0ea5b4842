// Package mailserver is where mail servers meet mailtrail: the adapters in
// its subpackages (dovecot, postfix) turn what Dovecot and Postfix say and
// ask into WorkMail records, and this package routes those records into the
// organization's log groups.
//
// Log group layout (one set per organization, named by its alias):
//
//	/aws/workmail/emailevents/<alias>                  email events (WorkMail's console default)
//	/aws/vendedlogs/workmail/<alias>/<LOG_TYPE>        each audit log type, e.g.
//	    .../ACCESS_CONTROL_LOGS, .../AUTHENTICATION_LOGS, .../WORKMAIL_MAILBOX_ACCESS_LOGS,
//	    .../WORKMAIL_AVAILABILITY_PROVIDER_LOGS, .../WORKMAIL_PERSONAL_ACCESS_TOKEN_LOGS
//
// WorkMail delivers audit logs wherever the administrator points them; the
// /aws/vendedlogs/ prefix is the console's convention for vended logs. The
// stream is the organization id, as WorkMail's own deliveries use one
// stream per organization.
package mailserver

import (
	"errors"
	"fmt"
	"sync"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/store"
)

// GroupFor names the log group of an organization's records of type t.
func GroupFor(orgAlias string, t event.LogType) string {
	if t == event.LogTypeEmailEvent {
		return "/aws/workmail/emailevents/" + orgAlias
	}
	return "/aws/vendedlogs/workmail/" + orgAlias + "/" + string(t)
}

// Org identifies where an organization's records go.
type Org struct {
	Account string // AWS account that owns the organization
	ID      string // m-<32 hex>, the stream name
	Alias   string
}

// Record is one WorkMail record ready to store.
type Record struct {
	Type      event.LogType
	Timestamp int64  // epoch ms; the record's event_timestamp
	JSON      []byte // the record in WorkMail's exact JSON
}

// Notifier is told about events after they are durably stored (live tail).
type Notifier func(account, group, stream string, events []store.Event)

// Sink writes records into the store, creating groups and streams on first
// use. It is safe for concurrent use; Write returns once the records are on
// disk, so an adapter that acknowledges after Write loses nothing.
type Sink struct {
	Store  *store.Store
	Notify Notifier // optional

	mu    sync.Mutex
	ready map[string]bool // account \x00 group \x00 stream already ensured
}

// NewSink returns a sink over st.
func NewSink(st *store.Store, notify Notifier) *Sink {
	return &Sink{Store: st, Notify: notify, ready: map[string]bool{}}
}

// Write stores recs (any mix of types) for org. The records of each log
// group are appended together, group after group; when a later group fails
// after earlier ones were stored, the error is a *PartialWriteError saying
// which records are on disk, so a caller that retries does not store those
// twice (see Stored).
func (s *Sink) Write(org Org, recs ...Record) error {
	byGroup := map[string][]int{}
	var order []string
	for i, r := range recs {
		g := GroupFor(org.Alias, r.Type)
		if _, ok := byGroup[g]; !ok {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], i)
	}
	var stored []bool
	for gi, g := range order {
		idx := byGroup[g]
		evs := make([]store.Event, len(idx))
		for k, i := range idx {
			evs[k] = store.Event{Timestamp: recs[i].Timestamp, Message: recs[i].JSON}
		}
		err := s.ensure(org.Account, g, org.ID)
		if err == nil {
			err = s.Store.Append(org.Account, g, org.ID, evs)
			if errors.Is(err, store.ErrNotFound) {
				// Deleted through the API since we ensured it: recreate once.
				s.Forget()
				if err = s.ensure(org.Account, g, org.ID); err == nil {
					err = s.Store.Append(org.Account, g, org.ID, evs)
				}
			}
			if err != nil {
				err = fmt.Errorf("storing %d records in %s: %w", len(evs), g, err)
			}
		}
		if err != nil {
			if gi == 0 {
				return err
			}
			return &PartialWriteError{Stored: stored, Err: err}
		}
		if len(order) > 1 {
			if stored == nil {
				stored = make([]bool, len(recs))
			}
			for _, i := range idx {
				stored[i] = true
			}
		}
		if s.Notify != nil {
			s.Notify(org.Account, g, org.ID, evs)
		}
	}
	return nil
}

// PartialWriteError is a Write that stored the records of some log groups
// and then failed.
type PartialWriteError struct {
	Stored []bool // by index of the records given to Write
	Err    error
}

func (e *PartialWriteError) Error() string {
	n := 0
	for _, ok := range e.Stored {
		if ok {
			n++
		}
	}
	return fmt.Sprintf("%v (%d of %d records were stored)", e.Err, n, len(e.Stored))
}

func (e *PartialWriteError) Unwrap() error { return e.Err }

// Stored reports, for a Write of n records that returned err, whether
// record i is on disk: all of them when err is nil, those a
// *PartialWriteError names, else none.
func Stored(err error, n, i int) bool {
	if err == nil {
		return true
	}
	var pe *PartialWriteError
	if errors.As(err, &pe) && i < len(pe.Stored) {
		return pe.Stored[i]
	}
	return false
}

func (s *Sink) ensure(account, group, stream string) error {
	key := account + "\x00" + group + "\x00" + stream
	s.mu.Lock()
	ok := s.ready[key]
	s.mu.Unlock()
	if ok {
		return nil
	}
	if err := s.Store.EnsureLogGroup(account, group); err != nil {
		return fmt.Errorf("creating log group %s: %w", group, err)
	}
	if err := s.Store.EnsureLogStream(account, group, stream); err != nil {
		return fmt.Errorf("creating log stream %s in %s: %w", stream, group, err)
	}
	s.mu.Lock()
	s.ready[key] = true
	s.mu.Unlock()
	return nil
}

// Forget drops the cache of ensured groups (after a group is deleted through
// the API, the next Write recreates it).
func (s *Sink) Forget() {
	s.mu.Lock()
	s.ready = map[string]bool{}
	s.mu.Unlock()
}
