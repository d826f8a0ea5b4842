package syslogtime

import (
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	utc := time.UTC
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name  string
		now   string
		month time.Month
		day   int
		want  string
	}{
		{"same day", "2026-11-22T18:00:00Z", time.November, 22, "2026-11-22T10:00:00Z"},
		{"clock a few days fast stays this year", "2026-11-22T18:00:00Z", time.November, 27, "2026-11-27T10:00:00Z"},
		{"december line read in january", "2027-01-03T08:00:00Z", time.December, 31, "2026-12-31T10:00:00Z"},
		{"more than a week ahead is last year", "2026-11-22T18:00:00Z", time.December, 1, "2025-12-01T10:00:00Z"},
		{"leap day in a common year goes back to the last leap year", "2026-03-10T00:00:00Z", time.February, 29, "2024-02-29T10:00:00Z"},
		{"leap day in a leap year", "2028-03-01T00:00:00Z", time.February, 29, "2028-02-29T10:00:00Z"},
	} {
		got, ok := Resolve(c.month, c.day, 10, 0, 0, utc, at(c.now))
		if !ok || !got.Equal(at(c.want)) {
			t.Errorf("%s: Resolve(%v %d) at %s = %s, want %s", c.name, c.month, c.day, c.now, got.Format(time.RFC3339), c.want)
		}
	}
}

func TestResolveZone(t *testing.T) {
	loc := time.FixedZone("UTC+10", 10*3600)
	now := time.Date(2027, 1, 1, 0, 30, 0, 0, loc) // still 2026 in UTC
	got, _ := Resolve(time.January, 1, 0, 15, 0, loc, now)
	if want := time.Date(2027, 1, 1, 0, 15, 0, 0, loc); !got.Equal(want) {
		t.Errorf("got %s, want %s (the year is the host's local year)", got, want)
	}
}

func TestResolveNoSuchDay(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		m             time.Month
		d, h, mi, sec int
	}{
		{time.April, 31, 0, 0, 0}, {time.February, 30, 0, 0, 0}, {time.May, 0, 0, 0, 0},
		{time.May, 1, 24, 0, 0}, {time.May, 1, 0, 60, 0}, {time.May, 1, 0, 0, 61}, {13, 1, 0, 0, 0},
	} {
		if got, ok := Resolve(c.m, c.d, c.h, c.mi, c.sec, time.UTC, now); ok {
			t.Errorf("Resolve(%v %d %02d:%02d:%02d) = %s, want not ok", c.m, c.d, c.h, c.mi, c.sec, got)
		}
	}
}
