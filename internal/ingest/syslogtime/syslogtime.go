// Package syslogtime completes classic syslog timestamps ("Nov 22
// 18:25:52"), which carry neither year nor zone, the same way for every
// mail-server log mailtrail reads, so a Dovecot line and a Postfix line
// written in the same second land on the same instant.
package syslogtime

import "time"

// Ahead is how far in the future a completed stamp may lie before it is
// taken to be from the year before. A December line read in January is
// about a year ahead; a host whose clock runs a few days fast is not, and
// moving its lines back a whole year would be far worse than leaving them
// a few days early.
const Ahead = 7 * 24 * time.Hour

// Resolve returns the instant of month/day hh:mm:ss in loc, in now's year or
// the most recent earlier year in which it is at most Ahead past now. A
// February 29 is put in the latest leap year that qualifies, never moved to
// March 1. ok is false when no year has such a day (April 31, February 30)
// or the clock fields are out of range.
func Resolve(month time.Month, day, hh, mm, ss int, loc *time.Location, now time.Time) (t time.Time, ok bool) {
	if month < time.January || month > time.December || day < 1 || day > 31 ||
		hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.Local
	}
	now = now.In(loc)
	limit := now.Add(Ahead)
	for y := now.Year(); y > now.Year()-8; y-- {
		t = time.Date(y, month, day, hh, mm, ss, 0, loc)
		if t.Month() != month { // no such day this year (Feb 29 of a common year)
			continue
		}
		if !t.After(limit) {
			return t, true
		}
	}
	// Eight years always include a leap year, so only days that exist in
	// no year get here.
	return time.Time{}, false
}
