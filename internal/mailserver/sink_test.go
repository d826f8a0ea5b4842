package mailserver

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"), store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func messages(t *testing.T, st *store.Store, account, group, stream string) []string {
	t.Helper()
	var out []string
	err := st.GetLogEvents(account, group, stream, 0, 1<<62, func(ts, _ int64, msg []byte) bool {
		out = append(out, fmt.Sprintf("%d %s", ts, msg))
		return true
	})
	if err != nil {
		t.Fatalf("GetLogEvents %s/%s: %v", group, stream, err)
	}
	return out
}

// TestSinkRoutes checks that a mixed batch lands in one group per log type,
// in the organization's stream, in order, and that listeners hear of each
// group's events once stored.
func TestSinkRoutes(t *testing.T) {
	st := openStore(t)
	var heard []string
	sink := NewSink(st, func(account, group, stream string, evs []store.Event) {
		heard = append(heard, fmt.Sprintf("%s %s %s %d", account, group, stream, len(evs)))
	})
	org := Org{Account: "111122223333", ID: "m-0123456789abcdef0123456789abcdef", Alias: "example"}
	recs := []Record{
		{Type: event.LogTypeAuthentication, Timestamp: 1000, JSON: []byte(`{"a":1}`)},
		{Type: event.LogTypeMailboxAccess, Timestamp: 1001, JSON: []byte(`{"m":1}`)},
		{Type: event.LogTypeAuthentication, Timestamp: 1002, JSON: []byte(`{"a":2}`)},
		{Type: event.LogTypeEmailEvent, Timestamp: 1003, JSON: []byte(`{"e":1}`)},
	}
	if err := sink.Write(org, recs...); err != nil {
		t.Fatal(err)
	}
	auth := GroupFor(org.Alias, event.LogTypeAuthentication)
	if auth != "/aws/vendedlogs/workmail/example/AUTHENTICATION_LOGS" {
		t.Errorf("GroupFor(auth) = %q", auth)
	}
	mail := GroupFor(org.Alias, event.LogTypeEmailEvent)
	if mail != "/aws/workmail/emailevents/example" {
		t.Errorf("GroupFor(email) = %q", mail)
	}
	box := GroupFor(org.Alias, event.LogTypeMailboxAccess)
	for group, want := range map[string][]string{
		auth: {`1000 {"a":1}`, `1002 {"a":2}`},
		box:  {`1001 {"m":1}`},
		mail: {`1003 {"e":1}`},
	} {
		if got := messages(t, st, org.Account, group, org.ID); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", group, got, want)
		}
	}
	wantHeard := []string{
		"111122223333 " + auth + " " + org.ID + " 2",
		"111122223333 " + box + " " + org.ID + " 1",
		"111122223333 " + mail + " " + org.ID + " 1",
	}
	if !slices.Equal(heard, wantHeard) {
		t.Errorf("notified %q, want %q", heard, wantHeard)
	}
	// Another account's store view stays empty.
	if groups, err := st.DescribeLogGroups("444455556666", ""); err != nil || len(groups) != 0 {
		t.Errorf("other account sees %v, %v", groups, err)
	}
}

// TestSinkRecreatesDeletedGroup checks that a group deleted through the
// API after the sink first used it is created again, not failed on.
func TestSinkRecreatesDeletedGroup(t *testing.T) {
	st := openStore(t)
	sink := NewSink(st, nil)
	org := Org{Account: "111122223333", ID: "m-0123456789abcdef0123456789abcdef", Alias: "example"}
	rec := func(ts int64) Record {
		return Record{Type: event.LogTypeAccessControl, Timestamp: ts, JSON: []byte(fmt.Sprintf(`{"t":%d}`, ts))}
	}
	if err := sink.Write(org, rec(1)); err != nil {
		t.Fatal(err)
	}
	group := GroupFor(org.Alias, event.LogTypeAccessControl)
	if err := st.DeleteLogGroup(org.Account, group); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(org, rec(2)); err != nil {
		t.Fatalf("write after the group was deleted: %v", err)
	}
	if got, want := messages(t, st, org.Account, group, org.ID), []string{`2 {"t":2}`}; !slices.Equal(got, want) {
		t.Errorf("after recreation: %q, want %q", got, want)
	}
}

// TestSinkPartialWrite checks that when a later log group fails, the error
// says which records the earlier groups stored, so a retry skips them.
func TestSinkPartialWrite(t *testing.T) {
	st := openStore(t)
	sink := NewSink(st, nil)
	// An alias long enough that the audit groups' names pass CloudWatch's
	// 512-character limit while the email-event group's does not.
	alias := strings.Repeat("a", 470)
	org := Org{Account: "111122223333", ID: "m-0123456789abcdef0123456789abcdef", Alias: alias}
	recs := []Record{
		{Type: event.LogTypeEmailEvent, Timestamp: 1, JSON: []byte(`{"e":1}`)},
		{Type: event.LogTypeMailboxAccess, Timestamp: 2, JSON: []byte(`{"m":1}`)},
		{Type: event.LogTypeEmailEvent, Timestamp: 3, JSON: []byte(`{"e":2}`)},
	}
	err := sink.Write(org, recs...)
	var pe *PartialWriteError
	if !errors.As(err, &pe) {
		t.Fatalf("Write = %v, want a *PartialWriteError", err)
	}
	for i, want := range []bool{true, false, true} {
		if got := Stored(err, len(recs), i); got != want {
			t.Errorf("Stored(record %d) = %v, want %v", i, got, want)
		}
	}
	if !strings.Contains(err.Error(), "2 of 3 records were stored") {
		t.Errorf("error %q does not say how many were stored", err)
	}
	if got := messages(t, st, org.Account, GroupFor(alias, event.LogTypeEmailEvent), org.ID); len(got) != 2 {
		t.Errorf("email events stored: %q, want 2", got)
	}
	// A Write that fails at its first group stored nothing.
	err = sink.Write(org, recs[1])
	if err == nil || errors.As(err, &pe) || Stored(err, 1, 0) {
		t.Errorf("single failing group: err %v, Stored %v", err, Stored(err, 1, 0))
	}
	if !Stored(nil, 1, 0) {
		t.Error("Stored(nil) = false")
	}
}
