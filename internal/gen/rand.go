package gen

import "math/bits"

// rng is a wyrand-style generator: one add and one 128-bit multiply per
// draw. It is several times cheaper than math/rand/v2's PCG in the inner
// loop, and its output depends only on the seed, which is all
// determinism needs.
type rng struct{ s uint64 }

func newRNG(seed uint64) rng { return rng{s: mix64(seed ^ 0x6a09e667f3bcc908)} }

func (r *rng) u64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a number in [0, n) by multiply-high (Lemire without the
// rejection step; the bias is below 2^-32 for every n used here).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) * 0x1p-53 }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// skewed returns an index in [0, n) with density falling off like 1/sqrt:
// low indices are the heavy users, yet even the last index is drawn often
// enough to appear in a month of data.
func (r *rng) skewed(n int) int {
	u := r.float()
	return int(u * u * float64(n))
}

// mix64 is the splitmix64 finalizer: a cheap bijective hash used to derive
// stable identifiers (item ids, token ids) from small integers.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// dist is a discrete distribution over 0..len(weights)-1, drawn by a
// linear scan of cumulative thresholds; the tables are short and the most
// likely entries come first, so the scan usually stops in one or two steps.
type dist struct{ cum []float64 }

func newDist(weights ...float64) dist {
	cum := make([]float64, len(weights))
	total := 0.0
	for i, w := range weights {
		total += w
		cum[i] = total
	}
	for i := range cum {
		cum[i] /= total
	}
	return dist{cum}
}

func (d dist) draw(r *rng) int {
	u := r.float()
	for i, c := range d.cum {
		if u < c {
			return i
		}
	}
	return len(d.cum) - 1
}

// pick returns one element of a weighted string table.
type table struct {
	vals []string
	d    dist
}

func newTable(pairs ...any) table {
	var t table
	var w []float64
	for i := 0; i+1 < len(pairs); i += 2 {
		t.vals = append(t.vals, pairs[i].(string))
		switch x := pairs[i+1].(type) {
		case int:
			w = append(w, float64(x))
		case float64:
			w = append(w, x)
		}
	}
	t.d = newDist(w...)
	return t
}

func (t table) pick(r *rng) string { return t.vals[t.d.draw(r)] }
