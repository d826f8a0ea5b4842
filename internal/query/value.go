package query

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// kind is the runtime type of a value. Insights itself knows strings and
// numbers; timestamps, booleans and JSON structures are numbers or strings
// with a distinct rendering.
type kind uint8

const (
	kNull kind = iota
	kStr
	kInt
	kFloat
	kTime // epoch ms in i, rendered as YYYY-MM-DD HH:MM:SS.mmm
	kBool // 1/0 in i
	kJSON // map[string]any or []any in j
)

// Value is one runtime value.
type Value struct {
	s string
	j any
	i int64
	f float64
	k kind
}

func vStr(s string) Value    { return Value{k: kStr, s: s} }
func vInt(i int64) Value     { return Value{k: kInt, i: i} }
func vFloat(f float64) Value { return Value{k: kFloat, f: f} }
func vTime(ms int64) Value   { return Value{k: kTime, i: ms} }
func vBool(b bool) Value {
	if b {
		return Value{k: kBool, i: 1}
	}
	return Value{k: kBool}
}

var null Value

func fromScan(v scan.Value) Value {
	switch v.Kind {
	case scan.KindString:
		return vStr(v.S)
	case scan.KindInt:
		return vInt(v.I)
	case scan.KindFloat:
		return vFloat(v.F)
	}
	return null
}

func (v Value) isNull() bool { return v.k == kNull }

// isNum reports whether v is a number (timestamps and booleans are).
func (v Value) isNum() bool { return v.k == kInt || v.k == kFloat || v.k == kTime || v.k == kBool }

// num returns v as a float64, coercing strings that parse completely as a
// number (Insights rule 1 of A.2).
func (v Value) num() (float64, bool) {
	switch v.k {
	case kInt, kTime, kBool:
		return float64(v.i), true
	case kFloat:
		return v.f, true
	case kStr:
		return parseNum(v.s)
	}
	return 0, false
}

func parseNum(s string) (float64, bool) {
	if s == "" || len(s) > 64 {
		return 0, false
	}
	c := s[0]
	if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// intVal returns v as an int64 when it is integral.
func (v Value) intVal() (int64, bool) {
	switch v.k {
	case kInt, kTime, kBool:
		return v.i, true
	}
	f, ok := v.num()
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(f), true
}

// truthy is how filter reads a value: booleans as themselves, numbers as
// non-zero; strings and null are false.
func (v Value) truthy() bool {
	switch v.k {
	case kBool, kInt, kTime:
		return v.i != 0
	case kFloat:
		return v.f != 0
	}
	return false
}

const tsLayout = "2006-01-02 15:04:05.000"

// formatTime renders epoch ms the way Insights shows @timestamp.
func formatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(tsLayout)
}

// String renders v as Insights returns it in a result row.
func (v Value) String() string {
	switch v.k {
	case kStr:
		return v.s
	case kInt, kBool:
		return strconv.FormatInt(v.i, 10)
	case kFloat:
		return scan.FormatFloat(v.f)
	case kTime:
		return formatTime(v.i)
	case kJSON:
		b, err := json.Marshal(v.j)
		if err != nil {
			return ""
		}
		return string(b)
	}
	return ""
}

// numOrder compares two numbers.
func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare implements the comparison rules of A.2: numeric when both sides
// are numbers, or one is and the other is a string that parses as one;
// otherwise byte-wise on the rendered strings. ok is false when either side
// is null (comparisons with null are false).
func compare(a, b Value) (c int, ok bool) {
	if a.k == kNull || b.k == kNull {
		return 0, false
	}
	if a.k == kInt && b.k == kInt || a.k == kTime && b.k == kTime {
		switch {
		case a.i < b.i:
			return -1, true
		case a.i > b.i:
			return 1, true
		}
		return 0, true
	}
	an, bn := a.isNum(), b.isNum()
	if an || bn {
		x, xok := a.num()
		y, yok := b.num()
		if xok && yok {
			return cmpF(x, y), true
		}
	}
	return strings.Compare(a.String(), b.String()), true
}

func equal(a, b Value) bool {
	c, ok := compare(a, b)
	return ok && c == 0
}

// sortCompare orders values for sort and sortsFirst/sortsLast: numbers
// before strings, numbers numerically, strings byte-wise. Nulls are handled
// by the caller (always last).
func sortCompare(a, b Value) int {
	an, bn := a.isNum(), b.isNum()
	switch {
	case an && bn:
		if a.k != kFloat && b.k != kFloat {
			switch {
			case a.i < b.i:
				return -1
			case a.i > b.i:
				return 1
			}
			return 0
		}
		x, _ := a.num()
		y, _ := b.num()
		return cmpF(x, y)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a.String(), b.String())
}

// fromJSON converts a decoded JSON value (decoded with UseNumber) to a Value.
func fromJSON(x any) Value {
	switch t := x.(type) {
	case nil:
		return null
	case string:
		return vStr(t)
	case bool:
		if t {
			return vInt(1)
		}
		return vInt(0)
	case json.Number:
		return fromScan(scan.NumberValue([]byte(t)))
	case float64:
		return vFloat(t)
	case map[string]any, []any:
		return Value{k: kJSON, j: t}
	}
	return null
}
