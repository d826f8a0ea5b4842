package postfixlog

import (
	"crypto/sha256"
	"encoding/binary"
)

// Dedup is the window of records already stored, by key. Every record has
// a deterministic key (request_id of audit records; traceId + eventName +
// recipient of email events), so re-reading lines that were already
// processed yields the same keys and Dedup drops them.
//
// Keys are kept as 64-bit hashes with the source offset of the line that
// produced them. A checkpoint saves the keys whose offset is at or after
// the point re-reading will start (the low-water mark), which is exactly
// the set a restart can produce again; older keys are trimmed. The window
// also holds at most max keys, oldest dropped first.
type Dedup struct {
	max  int
	set  map[uint64]int
	ring []dedupEntry
	head int // index of the oldest entry in ring
	n    int
}

type dedupEntry struct {
	h   uint64
	off int64
}

// NewDedup returns a window of at most max keys (default 200000).
func NewDedup(max int) *Dedup {
	if max <= 0 {
		max = 200000
	}
	return &Dedup{max: max, set: map[uint64]int{}}
}

func keyHash(key string) uint64 {
	s := sha256.Sum256([]byte(key))
	return binary.LittleEndian.Uint64(s[:8])
}

// Seen reports whether key is in the window.
func (d *Dedup) Seen(key string) bool { return d.set[keyHash(key)] > 0 }

// Add puts key, produced by the line at off, in the window.
func (d *Dedup) Add(key string, off int64) { d.add(keyHash(key), off) }

func (d *Dedup) add(h uint64, off int64) {
	if d.n == d.max {
		d.popOldest()
	}
	e := dedupEntry{h: h, off: off}
	if len(d.ring) < d.max {
		d.ring = append(d.ring, dedupEntry{})
	}
	d.ring[(d.head+d.n)%len(d.ring)] = e
	d.n++
	d.set[h]++
}

func (d *Dedup) popOldest() {
	e := d.ring[d.head]
	if d.set[e.h]--; d.set[e.h] <= 0 {
		delete(d.set, e.h)
	}
	d.head = (d.head + 1) % len(d.ring)
	d.n--
}

// Trim drops keys produced before offset lw, which cannot be produced again
// once re-reading starts at lw. Keys with an unknown offset (-1, from a
// rotated file) are dropped too.
func (d *Dedup) Trim(lw int64) {
	for d.n > 0 {
		e := d.ring[d.head]
		if e.off >= lw {
			break
		}
		d.popOldest()
	}
}

// ForgetOffsets marks every key as coming from an earlier file.
func (d *Dedup) ForgetOffsets() {
	for i := 0; i < d.n; i++ {
		d.ring[(d.head+i)%len(d.ring)].off = -1
	}
}

// entries returns the window oldest first (for checkpoints).
func (d *Dedup) entries() []dedupEntry {
	out := make([]dedupEntry, 0, d.n)
	for i := 0; i < d.n; i++ {
		out = append(out, d.ring[(d.head+i)%len(d.ring)])
	}
	return out
}
