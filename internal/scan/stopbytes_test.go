package scan

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestStopBytes checks the word-at-a-time test of str's fast path against
// a byte loop: the lowest flagged byte is the first quote, backslash or
// control character, and a word without one is not flagged at all.
func TestStopBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 'a', 0x7f, 0x80, 0xc3, 0xff, '!' + 1, '[' + 1}
	var b [8]byte
	for n := 0; n < 200000; n++ {
		for i := range b {
			if r.IntN(3) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte(r.Uint32())
			}
		}
		want := 8
		for i, c := range b {
			if c == '"' || c == '\\' || c < 0x20 {
				want = i
				break
			}
		}
		m := stopBytes(binary.LittleEndian.Uint64(b[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) / 8
		}
		if got != want {
			t.Fatalf("% x: first stop byte at %d, want %d", b, got, want)
		}
	}
}
