package scan

import (
	"math"
	"strconv"
)

// Kind is the logical type of a single value, as Insights sees it: every
// value is a string or a number, or absent.
type Kind uint8

const (
	KindNull Kind = iota
	KindString
	KindInt
	KindFloat
)

// Value is one field value.
type Value struct {
	Kind Kind
	S    string
	I    int64
	F    float64
}

func Str(s string) Value     { return Value{Kind: KindString, S: s} }
func Int(i int64) Value      { return Value{Kind: KindInt, I: i} }
func Float(f float64) Value  { return Value{Kind: KindFloat, F: f} }
func (v Value) IsNull() bool { return v.Kind == KindNull }

// IsNumber reports whether v is numeric.
func (v Value) IsNumber() bool { return v.Kind == KindInt || v.Kind == KindFloat }

// Num returns v as a float64: numbers as themselves, strings that parse
// completely as a number as that number (Insights coercion).
func (v Value) Num() (float64, bool) {
	switch v.Kind {
	case KindInt:
		return float64(v.I), true
	case KindFloat:
		return v.F, true
	case KindString:
		f, err := strconv.ParseFloat(v.S, 64)
		if err != nil || math.IsNaN(f) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// String renders v the way Insights returns it in result rows: integers in
// decimal, floats in the shortest form that round-trips, strings as is.
func (v Value) String() string {
	switch v.Kind {
	case KindString:
		return v.S
	case KindInt:
		return strconv.FormatInt(v.I, 10)
	case KindFloat:
		return FormatFloat(v.F)
	}
	return ""
}

// FormatFloat renders a float as Insights does in results: integral values
// without a fraction, others in shortest round-trip form, no exponent for
// ordinary magnitudes.
func FormatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
