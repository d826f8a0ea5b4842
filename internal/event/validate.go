package event

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// FieldError is one validation failure: the JSON path of the field, the
// offending value as JSON (empty when the field is missing) and what is
// wrong, e.g. `protocol: "IMAPS" is not one of AutoDiscover, EWS, ...`.
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Reason
	}
	return e.Field + ": " + e.Value + " " + e.Reason
}

// validator collects FieldErrors; err joins them (errors.Join), so callers
// can print them all or unwrap each with errors.As.
type validator struct {
	prefix string
	errs   []error
}

func (v *validator) add(field, value, reason string) {
	v.errs = append(v.errs, &FieldError{Field: v.prefix + field, Value: value, Reason: reason})
}

func (v *validator) err() error { return errors.Join(v.errs...) }

// structure checks presence: in a decoded record every required or
// present field must have been present; in any record required strings
// must be non-empty.
func (v *validator) structure(rec any, m *meta) {
	rv := reflect.ValueOf(rec).Elem()
	ti := infoFor(rv.Type())
	for i := range ti.fields {
		f := &ti.fields[i]
		if f.req == optional {
			continue
		}
		if m.decoded && !m.has(i) {
			v.add(f.name, "", "is required but missing")
			continue
		}
		fv := rv.Field(f.index)
		if f.req == required && fv.Kind() == reflect.String && fv.Len() == 0 {
			v.add(f.name, `""`, "must not be empty")
		}
	}
}

// oneOf checks that a present value is in the set.
func oneOf[T ~string](v *validator, field string, val T, set []T) {
	if val == "" {
		return
	}
	for _, s := range set {
		if val == s {
			return
		}
	}
	names := make([]string, len(set))
	for i, s := range set {
		names[i] = string(s)
	}
	v.add(field, strconv.Quote(string(val)), "is not one of "+strings.Join(names, ", "))
}

func (v *validator) absent(field, val, reason string) {
	if val != "" {
		v.add(field, strconv.Quote(val), reason)
	}
}

func (v *validator) epochMillis(field string, ms int64, present bool) {
	if !present {
		return
	}
	// 2000-01-01 .. 2200-01-01: catches seconds or microseconds mistaken for
	// milliseconds, the usual bug.
	if ms < 946684800000 || ms > 7258118400000 {
		v.add(field, strconv.FormatInt(ms, 10), "is not epoch milliseconds between 2000 and 2200")
	}
}

func isOrgARN(s string) bool {
	// arn:<partition>:workmail:<region>:<12 digits>:organization/m-<32 hex>
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") ||
		parts[2] != "workmail" || parts[3] == "" || !isDigits(parts[4], 12) {
		return false
	}
	id, ok := strings.CutPrefix(parts[5], "organization/m-")
	if !ok || len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (v *validator) orgARN(field, s string) {
	if s != "" && !isOrgARN(s) {
		v.add(field, strconv.Quote(s), "is not a WorkMail organization ARN (arn:aws:workmail:<region>:<account>:organization/m-<32 hex>)")
	}
}

// parseTrailTime parses CloudTrail's UTC timestamps. Records use
// YYYY-MM-DDTHH:MM:SSZ; RFC 3339 with fractions or offsets is accepted too.
func parseTrailTime(s string) (time.Time, error) {
	if len(s) == 20 && s[19] == 'Z' {
		if t, ok := parseSimpleUTC(s); ok {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339Nano, s)
}

// parseSimpleUTC parses exactly YYYY-MM-DDTHH:MM:SSZ without allocating.
func parseSimpleUTC(s string) (time.Time, bool) {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' || (s[19] != 'Z' && s[19] != 'z') {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, se := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC)
	if t.Day() != d && se != 60 { // 2025-02-30 normalises to March
		return time.Time{}, false
	}
	return t, true
}

func (v *validator) trailTime(field, s string) {
	if s == "" {
		return
	}
	if _, err := parseTrailTime(s); err != nil {
		v.add(field, strconv.Quote(s), "is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)")
	}
}

// identifier checks CloudTrail enum-like strings that AWS extends over
// time: letters and digits only.
func (v *validator) identifier(field, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			v.add(field, strconv.Quote(s), "is not an identifier (letters and digits)")
			return
		}
	}
}

func (v *validator) nested(prefix string, err error) {
	if err == nil {
		return
	}
	var fe *FieldError
	for _, e := range flatten(err) {
		if errors.As(e, &fe) {
			v.errs = append(v.errs, &FieldError{Field: v.prefix + prefix + "." + fe.Field, Value: fe.Value, Reason: fe.Reason})
		} else {
			v.errs = append(v.errs, fmt.Errorf("%s%s: %w", v.prefix, prefix, e))
		}
	}
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
