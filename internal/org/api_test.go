package org

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAPIShapes(t *testing.T) {
	ts := time.Date(2026, 11, 22, 18, 25, 52, 191_000_000, time.UTC)
	o := Organization{ID: "m-0123456789abcdef0123456789abcdef", Alias: "acme", ARN: "arn:aws:workmail:us-east-1:111122223333:organization/m-0123456789abcdef0123456789abcdef",
		State: StateActive, DirectoryID: "d-0123456789", DirectoryType: DirectoryTypeWorkMail, DefaultMailDomain: "example.test", CreatedAt: ts}
	u := User{ID: "a3a9176d-1111-4222-8333-444455556666", Name: "alice", DisplayName: "Alice", Email: "alice@example.test",
		State: EntityEnabled, Role: RoleUser, CreatedAt: ts, EnabledDate: ts}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"org summary", o.Summary(), `{"OrganizationId":"m-0123456789abcdef0123456789abcdef","Alias":"acme","DefaultMailDomain":"example.test","State":"Active"}`},
		{"describe org", o.Describe(), `{"OrganizationId":"m-0123456789abcdef0123456789abcdef","Alias":"acme","State":"Active","DirectoryId":"d-0123456789","DirectoryType":"WorkMailDirectory","DefaultMailDomain":"example.test","CompletedDate":1795371952.191,"ARN":"arn:aws:workmail:us-east-1:111122223333:organization/m-0123456789abcdef0123456789abcdef","InteroperabilityEnabled":false}`},
		{"user summary", u.Summary(), `{"Id":"a3a9176d-1111-4222-8333-444455556666","Email":"alice@example.test","Name":"alice","DisplayName":"Alice","State":"ENABLED","UserRole":"USER","EnabledDate":1795371952.191}`},
		{"describe user", u.Describe(), `{"UserId":"a3a9176d-1111-4222-8333-444455556666","Name":"alice","Email":"alice@example.test","DisplayName":"Alice","State":"ENABLED","UserRole":"USER","EnabledDate":1795371952.191,"MailboxProvisionedDate":1795371952.191,"HiddenFromGlobalAddressList":false}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("%s:\n got %s %v\nwant %s", tt.name, b, err, tt.want)
		}
	}
	var e Epoch
	if err := json.Unmarshal([]byte("1795371952.191"), &e); err != nil || !time.Time(e).Equal(ts) {
		t.Errorf("Epoch round trip = %v, %v", time.Time(e), err)
	}
	if err := json.Unmarshal([]byte(`"x"`), &e); Code(err) != CodeInvalidParameter {
		t.Errorf("bad epoch err = %v", err)
	}
}
