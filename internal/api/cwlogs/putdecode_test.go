package cwlogs

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The fast decoder must agree with encoding/json on every body both accept.
func TestDecodePutLogEventsMatchesJSON(t *testing.T) {
	for _, body := range []string{
		`{}`,
		`{"logGroupName": "/g", "logStreamName": "s1", "logEvents": [{"timestamp": 1714560000000, "message": "{\"event\":{\"from\":\"a@example.com\"},\"auth_successful\":false}"}, {"timestamp": 1714560000001, "message": "plain line \u00e9 \ud83d\ude00"}]}`,
		`{"logGroupName":"/g","logStreamName":"s","logEvents":[{"message":"no ts"}],"sequenceToken":"x","entity":{"keyAttributes":{"a":"b"}}}`,
		`{"logGroupName":"/g","logStreamName":"s","logEvents":[]}`,
		`{"logGroupName":"/g","logStreamName":"s","logEvents":null}`,
		`{"logEvents":[{"timestamp":1,"message":"m"}],"logEvents":[]}`,
	} {
		var want, got putLogEventsIn
		if err := decode([]byte(body), &want); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if err := decodePutLogEvents([]byte(body), &got); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s:\n got %+v\nwant %+v", body, got, want)
		}
	}
}

func TestDecodePutLogEventsErrors(t *testing.T) {
	for _, body := range []string{
		`{"logGroupName": 5}`,
		`{"logEvents": [{"timestamp": "x", "message": "m"}]}`,
		`{"logEvents": [{"timestamp": 1.5, "message": "m"}]}`,
		`{"logEvents": [{"timestamp": 1, "message": 7}]}`,
		`{"logEvents": "nope"}`,
		`{"logEvents": [`,
		`not json`,
	} {
		var in putLogEventsIn
		err := decodePutLogEvents([]byte(body), &in)
		ae, ok := err.(*APIError)
		if !ok || ae.Code != "SerializationException" {
			t.Errorf("%s: got %v, want SerializationException", body, err)
		}
	}
}

func FuzzDecodePutLogEvents(f *testing.F) {
	f.Add(`{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"m"}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var fast, slow putLogEventsIn
		// encoding/json matches member names case-insensitively; AWS (and
		// the fast decoder) do not, so such bodies are no oracle.
		for _, m := range []string{"logGroupName", "logStreamName", "logEvents", "timestamp", "message", "sequenceToken"} {
			if strings.Count(strings.ToLower(body), strings.ToLower(m)) != strings.Count(body, m) {
				return
			}
		}
		ferr := decodePutLogEvents([]byte(body), &fast)
		serr := decode([]byte(body), &slow)
		if ferr == nil && serr == nil && json.Valid([]byte(body)) {
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q: fast %+v, encoding/json %+v", body, fast, slow)
			}
		}
	})
}
