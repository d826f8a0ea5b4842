package jsonscan

import (
	"math"
	"strconv"
)

// Millis reads epoch milliseconds from a raw token: a JSON number, or a
// string holding one (WorkMail does not document the JSON type of
// event_timestamp, so both are accepted). A fraction is truncated.
func Millis(raw []byte) (int64, bool) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	if len(raw) == 0 || len(raw) > 40 {
		return 0, false
	}
	neg := raw[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	var v int64
	digits := 0
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
		d := int64(raw[i] - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, false
		}
		v = v*10 + d
		digits++
	}
	if digits == 0 {
		return 0, false
	}
	if i == len(raw) {
		if neg {
			v = -v
		}
		return v, true
	}
	// A fraction or an exponent: let strconv check the rest.
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f <= math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// RFC3339Millis reads a raw JSON string token holding an RFC 3339 time
// (CloudTrail's eventTime: "2014-03-06T21:22:54Z"; fractions and numeric
// offsets are accepted too) and returns epoch milliseconds. It is written
// out by hand because time.Parse costs several times more per record.
func RFC3339Millis(raw []byte) (int64, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return 0, false
	}
	return ParseRFC3339(raw[1 : len(raw)-1])
}

// ParseRFC3339 is RFC3339Millis for unquoted text.
func ParseRFC3339(s []byte) (int64, bool) {
	// YYYY-MM-DDTHH:MM:SS is 19 bytes, then [.frac] and Z or ±HH:MM.
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	if t := s[10]; t != 'T' && t != 't' && t != ' ' {
		return 0, false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	i := 19
	var ms int64
	if s[i] == '.' {
		i++
		start := i
		scale := int64(100)
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			ms += int64(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i >= len(s) {
		return 0, false
	}
	var off int64
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return 0, false
		}
		oh, ok1 := num(s[i+1 : i+3])
		om, ok2 := num(s[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		off = (oh*60 + om) * 60
		if s[i] == '-' {
			off = -off
		}
		i += 6
	default:
		return 0, false
	}
	if i != len(s) {
		return 0, false
	}
	secs := daysFromCivil(year, month, day)*86400 + hour*3600 + minute*60 + sec - off
	return secs*1000 + ms, true
}

func num(b []byte) (int64, bool) {
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
