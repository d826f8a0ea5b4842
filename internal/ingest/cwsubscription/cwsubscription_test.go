package cwsubscription

import (
	"fmt"
	"strings"
	"testing"
)

const payload = `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"CloudTrail","logStream":"123456789012_CloudTrail_us-east-1","subscriptionFilters":["Destination"],"logEvents":[` +
	`{"id":"1","timestamp":1432826855000,"message":"{\"eventVersion\":\"1.03\",\"userIdentity\":{\"type\":\"Root\"}}"},` +
	`{"id":"2","timestamp":1432826855001,"message":"plain text \u00e9"},` +
	`{"id":"3","message":"no time"},` +
	`{"id":"4","timestamp":1432826855002,"message":""},` +
	`7]}`

func TestParse(t *testing.T) {
	if !Is([]byte(payload)) || Is([]byte(`{"messageType":"x"}`)) || Is([]byte(`{"a":1}`)) {
		t.Fatal("Is")
	}
	var got []string
	end, p, arena, err := Parse([]byte(payload+"  "), 0, nil, func(p *Payload, ts int64, msg []byte, off int, err error) {
		if err != nil {
			got = append(got, "err "+err.Error())
			return
		}
		got = append(got, fmt.Sprintf("%d %s", ts, msg))
	})
	if err != nil || end != len(payload) {
		t.Fatalf("end %d, err %v", end, err)
	}
	if p.LogStream != "123456789012_CloudTrail_us-east-1" || p.LogGroup != "CloudTrail" || p.MessageType != "DATA_MESSAGE" || p.Owner != "123456789012" {
		t.Errorf("payload %+v", p)
	}
	want := []string{
		`1432826855000 {"eventVersion":"1.03","userIdentity":{"type":"Root"}}`,
		"1432826855001 plain text é",
		"err log event has no timestamp in epoch milliseconds",
		"err log event has no message",
		"err logEvents element is not an object",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(arena) == 0 {
		t.Error("arena not used")
	}
	if _, _, _, err := Parse([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"1"`), 0, nil, func(*Payload, int64, []byte, int, error) {}); err == nil {
		t.Error("truncated payload accepted")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(payload))
	f.Add([]byte(`{"messageType":"CONTROL_MESSAGE","logEvents":[]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		Is(doc)
		Parse(doc, 0, nil, func(p *Payload, ts int64, msg []byte, off int, err error) {
			if err == nil && len(msg) == 0 {
				t.Fatal("empty message handed out")
			}
		})
	})
}
