package filterpattern

import (
	"sync"
	"testing"
)

// A Pattern is shared by the goroutines serving FilterLogEvents and live
// tail sessions; run under -race this checks the pooled scratch state.
func TestConcurrentMatch(t *testing.T) {
	patterns := []string{
		`{ $.protocol = "IMAP" && $.action_allowed IS TRUE }`,
		`{ $.event.recipients[1] = "bob@*" || $.auth_successful IS FALSE }`,
		`[first, ...]`,
		`?IMAP ?ActiveSync`,
	}
	msgs := [][]byte{msg(t, "@workmail-mailbox-read.json"), msg(t, "@workmail-auth-failed.json"),
		msg(t, "@email-received.json"), msg(t, "@cloudtrail-consolelogin.json")}
	for _, src := range patterns {
		p := MustCompile(src)
		want := make([]bool, len(msgs))
		for i, m := range msgs {
			want[i] = p.Match(m)
		}
		sel, _ := p.Selector("1")
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out []Extracted
				for n := 0; n < 200; n++ {
					i := (n + g) % len(msgs)
					if got := p.Match(msgs[i]); got != want[i] {
						t.Errorf("%q on message %d: %v, want %v", src, i, got, want[i])
						return
					}
					var ok bool
					if ok, out = p.Extract(msgs[i], []Selector{sel}, out); ok != want[i] {
						t.Errorf("%q Extract on message %d: %v, want %v", src, i, ok, want[i])
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
