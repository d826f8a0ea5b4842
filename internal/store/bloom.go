package store

// bloom is a split-free Bloom filter over byte strings: m bits (a multiple
// of 8), k probes derived from one 64-bit FNV-1a hash by double hashing. The
// layout is fixed by doc/segment.md because filters are stored on disk.
type bloom []byte

const (
	bloomBitsPerKey = 8
	bloomProbes     = 5
)

func newBloom(keys int) bloom {
	nbits := keys * bloomBitsPerKey
	if nbits < 64 {
		nbits = 64
	}
	return make(bloom, (nbits+7)/8)
}

func hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	// final avalanche so the two halves are independent enough
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func (bl bloom) add(key []byte) {
	h := hash64(key)
	h1, h2 := uint32(h), uint32(h>>32)|1
	m := uint32(len(bl) * 8)
	for i := uint32(0); i < bloomProbes; i++ {
		bit := (h1 + i*h2) % m
		bl[bit>>3] |= 1 << (bit & 7)
	}
}

// mayContain reports whether key may have been added; an empty filter
// (corrupt or absent) answers true so that callers never skip wrongly.
func (bl bloom) mayContain(key []byte) bool {
	if len(bl) == 0 {
		return true
	}
	h := hash64(key)
	h1, h2 := uint32(h), uint32(h>>32)|1
	m := uint32(len(bl) * 8)
	for i := uint32(0); i < bloomProbes; i++ {
		bit := (h1 + i*h2) % m
		if bl[bit>>3]&(1<<(bit&7)) == 0 {
			return false
		}
	}
	return true
}
