package event_test

import (
	"errors"
	"fmt"

	"github.com/mailtrail/mailtrail/internal/event"
)

func ExampleDecode() {
	raw := []byte(`{"event_timestamp":"1718000001000","request_id":"r","organization_arn":"arn:aws:workmail:us-east-1:111122223333:organization/m-0123456789abcdef0123456789abcdef","user_id":"u","protocol":"IMAPS","source_ip":"192.0.2.7","scope":"AccessControl","access_granted":"false"}`)
	ms, _ := event.Timestamp(raw)
	rec, lt, err := event.Decode(raw)
	if err != nil {
		panic(err)
	}
	fmt.Println(lt, ms)
	var fe *event.FieldError
	if err := rec.Validate(); errors.As(err, &fe) {
		fmt.Println(fe.Field, fe.Value)
		fmt.Println(err)
	}
	// Output:
	// ACCESS_CONTROL_LOGS 1718000001000
	// protocol "IMAPS"
	// protocol: "IMAPS" is not one of AutoDiscover, EWS, IMAP, WindowsOutlook, ActiveSync, SMTP, WebMail, IncomingEmail, OutgoingEmail
}
