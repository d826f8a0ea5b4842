package postfix

import (
	"strings"
	"testing"
)

func TestMainCF(t *testing.T) {
	s, err := MainCF(SnippetOptions{PolicyAddr: "127.0.0.1:10040"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"check_policy_service { inet:127.0.0.1:10040, timeout=10s, default_action=DEFER_IF_PERMIT }",
		"smtpd_end_of_data_restrictions =",
		"smtpd_policy_service_default_action = DEFER_IF_PERMIT",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("snippet lacks %q:\n%s", want, s)
		}
	}
	open, _ := MainCF(SnippetOptions{PolicyAddr: "[::1]:1", FailOpen: true})
	if !strings.Contains(open, "default_action=DUNNO") {
		t.Errorf("fail-open snippet:\n%s", open)
	}
	if _, err := MainCF(SnippetOptions{PolicyAddr: "nope"}); err == nil {
		t.Error("bad address accepted")
	}
}
