package gen

import (
	"strconv"

	"github.com/mailtrail/mailtrail/internal/event"
)

const hexDigits = "0123456789abcdef"

// b64url is the alphabet of EWS-style item and folder ids.
const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// appendKV appends ,"key":"val" for a val known to need no escaping.
func appendKV(b []byte, key, val string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	b = append(b, val...)
	return append(b, '"')
}

// appendKS appends ,"key":<escaped val>.
func appendKS(b []byte, key, val string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return event.AppendString(b, val)
}

func appendKBool(b []byte, key string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

func appendKInt(b []byte, key string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

// appendUUID appends a version-4 UUID built from two random words.
func appendUUID(b []byte, hi, lo uint64) []byte {
	hi = hi&^(0xf<<12) | 0x4<<12 // version nibble
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	for i := 0; i < 16; i++ {
		var c byte
		if i < 8 {
			c = byte(hi >> (56 - 8*i))
		} else {
			c = byte(lo >> (56 - 8*(i-8)))
		}
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// appendB64 appends n characters of the id alphabet drawn from seed,
// rehashing every ten characters (60 bits) so long ids stay unique.
func appendB64(b []byte, seed uint64, n int) []byte {
	h := seed
	for i := 0; i < n; i++ {
		if i > 0 && i%10 == 0 {
			h = mix64(seed + uint64(i))
		}
		b = append(b, b64url[h&63])
		h >>= 6
	}
	return b
}

// appendISODate appends an RFC 3339 UTC timestamp with second precision
// for epoch milliseconds ms, without going through time.Time formatting.
func appendISODate(b []byte, ms int64) []byte {
	secs := ms / 1000
	days := secs / 86400
	rem := secs % 86400
	y, m, d := civil(days)
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(rem/3600))
	b = append(b, ':')
	b = append2(b, int(rem/60%60))
	b = append(b, ':')
	b = append2(b, int(rem%60))
	return append(b, 'Z')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(z int64) (year, month, day int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000%10), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
