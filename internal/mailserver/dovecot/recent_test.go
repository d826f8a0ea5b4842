package dovecot

import "testing"

// TestRecentSetReaddAfterRemove: an id unclaimed after a failed write and
// claimed again must stay claimed for a full window, not be dropped when
// its stale first slot is recycled (which would let a replay store it twice).
func TestRecentSetReaddAfterRemove(t *testing.T) {
	s := newRecentSet(4)
	s.add("a")    // slot 0
	s.remove("a") // the write failed
	s.add("a")    // claimed again: slot 1; slot 0 still names it
	s.add("b")
	s.add("c")
	s.add("d") // recycles slot 0
	for _, tc := range []struct {
		k    string
		want bool
	}{{"a", true}, {"b", true}, {"c", true}, {"d", true}} {
		if s.has(tc.k) != tc.want {
			t.Errorf("after recycling the stale slot: has(%s) = %v, want %v", tc.k, !tc.want, tc.want)
		}
	}
	s.add("e") // recycles slot 1, a's live one
	if s.has("a") {
		t.Error("a outlived its slot")
	}
}
