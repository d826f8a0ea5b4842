package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The codec in this file gives every record type exact JSON round trips
// without hand-writing a decoder per type:
//
//   - keys match exactly (encoding/json matches case-insensitively, which
//     would let "requestId" fill RequestID and then be lost);
//   - duplicate keys are an error, not "last one wins": an audit record with
//     two event_timestamp keys is an attempt to make two tools disagree;
//   - unknown keys are kept, in order, and written back;
//   - a known key that was present with an empty value ("", false, 0, [],
//     {} or null) is written back as it was, while a key that was absent
//     stays absent (all fields are omitempty on the Go side);
//   - booleans accept "true"/"false" strings and integers accept numeric
//     strings (formats.md §1.2); both are written back as JSON booleans and
//     numbers, the form we emit;
//   - fields tagged `event:"required"` or `event:"present"` are written even
//     when empty in records built in Go, and are reported missing by
//     Validate when a decoded record lacked them.

var (
	errStop      = errors.New("stop walking")
	errNotObject = errors.New("not a JSON object")
)

// ErrNotObject is returned when a record is not a JSON object.
var ErrNotObject = errNotObject

type reqKind uint8

const (
	optional reqKind = iota
	required         // must be present; strings must also be non-empty
	present          // must be present; may be empty or null (written as such when empty)
)

type fieldInfo struct {
	name   string
	quoted []byte // "name":
	index  int
	req    reqKind
	// unmarshaler: the field's pointer implements json.Unmarshaler (nested
	// records, FlexTime, StringList, json.RawMessage).
	unmarshaler bool
}

type typeInfo struct {
	fields []fieldInfo
	byName map[string]int // JSON name -> position in fields
}

var typeInfos sync.Map // reflect.Type -> *typeInfo

func infoFor(t reflect.Type) *typeInfo {
	if ti, ok := typeInfos.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{byName: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("json")
		if !ok || !sf.IsExported() || tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		fi := fieldInfo{name: name, quoted: append(AppendString(nil, name), ':'), index: i,
			unmarshaler: sf.Type.Kind() != reflect.Pointer && reflect.PointerTo(sf.Type).Implements(unmarshalerType)}
		switch sf.Tag.Get("event") {
		case "required":
			fi.req = required
		case "present":
			fi.req = present
		}
		ti.byName[name] = len(ti.fields)
		ti.fields = append(ti.fields, fi)
	}
	if len(ti.fields) > 64 {
		panic(fmt.Sprintf("event: %s has more than 64 JSON fields", t))
	}
	typeInfos.Store(t, ti)
	return ti
}

// Member is a JSON object member kept verbatim (compacted).
type Member struct {
	Key   string
	Value json.RawMessage
}

// meta is embedded in every record type. It holds what the typed fields
// cannot: which keys the input had, unknown members, and known members that
// were present with an empty value.
type meta struct {
	decoded bool
	seen    uint64
	extra   []Member
	empty   []Member
}

// Unknown returns the members of the decoded object that have no field in
// the Go type, in input order. They are written back by MarshalJSON.
func (m *meta) Unknown() []Member { return m.extra }

// SetUnknown replaces the unknown members written after the typed fields.
// Each value must be valid JSON and each key unique; keys that name a typed
// field are ignored when encoding.
func (m *meta) SetUnknown(members []Member) error {
	out := make([]Member, 0, len(members))
	seen := make(map[string]bool, len(members))
	for _, e := range members {
		if seen[e.Key] {
			return fmt.Errorf("unknown member %q given twice", e.Key)
		}
		seen[e.Key] = true
		if !json.Valid(e.Value) {
			return fmt.Errorf("unknown member %q: invalid JSON %s", e.Key, abbrev(e.Value))
		}
		out = append(out, Member{Key: e.Key, Value: compactCopy(e.Value)})
	}
	m.extra = out
	return nil
}

// has reports whether the decoded input had the key of field i.
func (m *meta) has(i int) bool { return m.seen&(1<<uint(i)) != 0 }

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// decodeStruct decodes the JSON object b into the struct v (addressable),
// whose embedded meta is m.
func decodeStruct(b []byte, v reflect.Value, m *meta) error {
	ti := infoFor(v.Type())
	v.SetZero()
	m.decoded = true
	return walkObject(b, func(mb *member) error {
		var idx int
		var ok bool
		if mb.Escaped {
			idx, ok = ti.byName[mb.name()]
		} else {
			idx, ok = ti.byName[string(mb.Key)] // no allocation
		}
		if !ok {
			m.extra = append(m.extra, Member{Key: mb.name(), Value: compactCopy(mb.Val)})
			return nil
		}
		f := &ti.fields[idx]
		if m.has(idx) {
			return synErr(mb.Off, "duplicate key %q", f.name)
		}
		m.seen |= 1 << uint(idx)
		fv := v.Field(f.index)
		var err error
		if f.unmarshaler {
			err = fv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(mb.Val)
		} else {
			err = decodeValue(mb.Val, fv)
		}
		if err != nil {
			return &DecodeError{Field: f.name, Offset: mb.Off, Err: err}
		}
		if isEmptyValue(fv) {
			m.empty = append(m.empty, Member{Key: f.name, Value: compactCopy(mb.Val)})
		}
		return nil
	})
}

// DecodeError says which field of a record could not be decoded and where.
type DecodeError struct {
	Field  string // JSON key, dotted for nested objects
	Offset int    // byte offset of the key within its object
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s (key at byte %d): %v", e.Field, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

func decodeValue(raw []byte, fv reflect.Value) error {
	isNull := string(raw) == "null"
	if fv.Kind() != reflect.Pointer && fv.Addr().Type().Implements(unmarshalerType) {
		return fv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
	}
	switch fv.Kind() {
	case reflect.String:
		if isNull {
			return nil
		}
		s, ok := stringValue(raw)
		if !ok {
			return fmt.Errorf("expected a JSON string, got %s", abbrev(raw))
		}
		fv.SetString(s)
	case reflect.Bool:
		if isNull {
			return nil
		}
		b, ok := parseBool(raw)
		if !ok {
			return fmt.Errorf("expected a boolean, got %s", abbrev(raw))
		}
		fv.SetBool(b)
	case reflect.Int64, reflect.Int:
		if isNull {
			return nil
		}
		n, ok := parseInt64(raw)
		if !ok {
			return fmt.Errorf("expected an integer, got %s", abbrev(raw))
		}
		fv.SetInt(n)
	case reflect.Pointer:
		if isNull {
			fv.SetZero()
			return nil
		}
		nv := reflect.New(fv.Type().Elem())
		if err := decodeValue(raw, nv.Elem()); err != nil {
			return err
		}
		fv.Set(nv)
	case reflect.Slice:
		if isNull {
			fv.SetZero()
			return nil
		}
		if raw[0] != '[' {
			return fmt.Errorf("expected an array, got %s", abbrev(raw))
		}
		s := reflect.MakeSlice(fv.Type(), 0, 4)
		err := walkArray(raw, func(elem []byte, off int) error {
			ev := reflect.New(fv.Type().Elem()).Elem()
			if err := decodeValue(elem, ev); err != nil {
				return fmt.Errorf("element %d: %w", s.Len(), err)
			}
			s = reflect.Append(s, ev)
			return nil
		})
		if err != nil {
			return err
		}
		fv.Set(s)
	default:
		if err := json.Unmarshal(raw, fv.Addr().Interface()); err != nil {
			return err
		}
	}
	return nil
}

// isEmptyValue is encoding/json's omitempty test.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	case reflect.Struct:
		return v.IsZero()
	}
	return false
}

// emptyJSON is what a required field is written as when a record built in
// Go leaves it empty.
func emptyJSON(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return `""`
	case reflect.Bool:
		return "false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "0"
	case reflect.Slice:
		if t == rawMessageType {
			return "null"
		}
		return "[]"
	case reflect.Map, reflect.Struct:
		return "{}"
	}
	return "null"
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	marshalerType  = reflect.TypeFor[json.Marshaler]()
	holderType     = reflect.TypeFor[metaHolder]()
)

// metaHolder is implemented by pointers to every record type, through the
// embedded meta.
type metaHolder interface{ metaPtr() *meta }

func (m *meta) metaPtr() *meta { return m }

func marshal(p metaHolder) ([]byte, error) {
	return appendStruct(make([]byte, 0, 512), reflect.ValueOf(p).Elem(), p.metaPtr())
}

func unmarshal(p metaHolder, b []byte) error {
	return decodeStruct(b, reflect.ValueOf(p).Elem(), p.metaPtr())
}

// Append appends the JSON encoding of r to dst; MarshalJSON without the
// copy, for writers that reuse a buffer.
func Append(dst []byte, r Record) ([]byte, error) {
	h, ok := r.(metaHolder)
	if !ok {
		b, err := r.MarshalJSON()
		return append(dst, b...), err
	}
	return appendStruct(dst, reflect.ValueOf(h).Elem(), h.metaPtr())
}

// appendStruct writes the fields of v (addressable) in declaration order:
// non-empty fields; empty fields that the decoded input had (verbatim);
// required empty fields of records built in Go; then unknown members.
func appendStruct(b []byte, v reflect.Value, m *meta) ([]byte, error) {
	ti := infoFor(v.Type())
	b = append(b, '{')
	first := true
	for i := range ti.fields {
		f := &ti.fields[i]
		fv := v.Field(f.index)
		var raw []byte
		if isEmptyValue(fv) {
			switch {
			case m.decoded:
				if !m.has(i) {
					continue
				}
				for _, e := range m.empty {
					if e.Key == f.name {
						raw = e.Value
						break
					}
				}
				if raw == nil { // emptied after decoding
					continue
				}
			case f.req == optional:
				continue
			default:
				raw = []byte(emptyJSON(fv.Type()))
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.quoted...)
		if raw != nil {
			b = append(b, raw...)
			continue
		}
		var err error
		if b, err = appendValue(b, fv); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, e := range m.extra {
		if _, known := ti.byName[e.Key]; known {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = AppendString(b, e.Key)
		b = append(b, ':')
		b = append(b, e.Value...)
	}
	return append(b, '}'), nil
}

func appendValue(b []byte, fv reflect.Value) ([]byte, error) {
	t := fv.Type()
	if t == rawMessageType {
		raw := fv.Bytes()
		if len(raw) == 0 {
			return append(b, "null"...), nil
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("invalid raw JSON %s", abbrev(raw))
		}
		return append(b, compactCopy(raw)...), nil
	}
	if fv.Kind() == reflect.Struct && fv.CanAddr() && reflect.PointerTo(t).Implements(holderType) {
		h := fv.Addr().Interface().(metaHolder)
		return appendStruct(b, fv, h.metaPtr())
	}
	if t.Implements(marshalerType) {
		out, err := fv.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return nil, err
		}
		return append(b, out...), nil
	}
	switch fv.Kind() {
	case reflect.String:
		return AppendString(b, fv.String()), nil
	case reflect.Bool:
		return strconv.AppendBool(b, fv.Bool()), nil
	case reflect.Int, reflect.Int64:
		return strconv.AppendInt(b, fv.Int(), 10), nil
	case reflect.Float64:
		return appendFloat(b, fv.Float())
	case reflect.Pointer:
		if fv.IsNil() {
			return append(b, "null"...), nil
		}
		return appendValue(b, fv.Elem())
	case reflect.Slice:
		if fv.IsNil() {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i := 0; i < fv.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, fv.Index(i)); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fv.Interface()); err != nil {
		return nil, err
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

// appendFloat formats like encoding/json: shortest representation, plain
// notation between 1e-6 and 1e21.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("unsupported float %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 -> e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// compactCopy returns a copy of the valid JSON value raw without
// insignificant whitespace, with invalid UTF-8 (which can only be inside
// strings) replaced by U+FFFD so that what we write is always valid UTF-8.
func compactCopy(raw []byte) json.RawMessage {
	if !utf8.Valid(raw) {
		raw = replaceInvalidUTF8(raw)
	}
	out := make([]byte, 0, len(raw))
	inStr := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inStr {
			out = append(out, c)
			if c == '\\' && i+1 < len(raw) {
				i++
				out = append(out, raw[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inStr = true
		}
		out = append(out, c)
	}
	return out
}

func abbrev(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:37]) + "..."
	}
	return string(raw)
}

// hasKey reports whether the field with JSON name key was in the decoded
// input; for records built in Go it is always true.
func (m *meta) hasKey(rec any, key string) bool {
	if !m.decoded {
		return true
	}
	i, ok := infoFor(reflect.TypeOf(rec).Elem()).byName[key]
	return ok && m.has(i)
}

// replaceInvalidUTF8 replaces each invalid byte with U+FFFD, as
// encoding/json does when it decodes a string.
func replaceInvalidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}
