package dovecot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// flex is a scalar JSON value read as text. Dovecot writes most event
// fields as strings and counters as numbers, and whether a given field is
// one or the other has changed between versions (success is "yes", ports
// are numbers), so every scalar is accepted and kept as its text.
type flex string

func (f *flex) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 && utf8.Valid(b) {
			*f = flex(b[1 : len(b)-1]) // no escapes: the common case
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flex(s)
	case 'n':
		*f = ""
	case '[', '{':
		return fmt.Errorf("want a string or number, got %s", kindOf(b[0]))
	default:
		*f = flex(b)
	}
	return nil
}

// flexList is a list of strings that may also come as a single string.
type flexList []string

func (l *flexList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' {
		*l = nil
		return nil
	}
	if b[0] == '[' {
		var xs []flex
		if err := json.Unmarshal(b, &xs); err != nil {
			return err
		}
		out := make([]string, len(xs))
		for i, x := range xs {
			out[i] = string(x)
		}
		*l = out
		return nil
	}
	var f flex
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	*l = []string{string(f)}
	return nil
}

func (l flexList) has(prefix string) bool {
	for _, s := range l {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// flexBool is a boolean that may come as true/false, "true"/"false",
// "yes"/"no" or 1/0; absent is unset.
type flexBool struct {
	Set, Value bool
}

func (v *flexBool) UnmarshalJSON(b []byte) error {
	var f flex
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(string(f)) {
	case "true", "yes", "1":
		*v = flexBool{true, true}
	case "false", "no", "0":
		*v = flexBool{true, false}
	case "":
		*v = flexBool{}
	default:
		return fmt.Errorf("want a boolean, got %q", string(f))
	}
	return nil
}

func kindOf(c byte) string {
	switch c {
	case '[':
		return "an array"
	case '{':
		return "an object"
	}
	return "a value"
}

// jsonError turns a decoding error into one that names the field and byte
// offset, for a 400 response Dovecot's administrator can act on.
func jsonError(what string, body []byte, err error) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Errorf("%s: invalid JSON at byte %d: %v", what, e.Offset, err)
	case *json.UnmarshalTypeError:
		return fmt.Errorf("%s: field %q at byte %d: want %s, got %s", what, e.Field, e.Offset, e.Type, e.Value)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%s: empty body", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// decodeObject decodes a JSON object member by member into the values
// named in fields (unknown members are ignored), so an error names the
// member it is about.
func decodeObject(what string, b []byte, fields map[string]json.Unmarshaler) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return jsonError(what, b, err)
	}
	if m == nil {
		return fmt.Errorf("%s: want a JSON object, got null", what)
	}
	for k, v := range m {
		if u, ok := fields[k]; ok {
			if err := u.UnmarshalJSON(v); err != nil {
				return fmt.Errorf("%s: member %q: %v", what, k, err)
			}
		}
	}
	return nil
}
