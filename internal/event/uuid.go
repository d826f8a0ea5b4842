package event

import "encoding/hex"

// UUID writes b in the lower-case 8-4-4-4-12 form of RFC 9562. The ids of
// WorkMail records (request_id, traceId) have this shape; the sources that
// derive them from hashes of what identifies an activity (so that reading
// the same log twice yields the same ids) format them here. Version and
// variant bits are the caller's: b is written as it is.
func UUID(b [16]byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], b[10:16])
	return string(buf[:])
}
