package query

import (
	"math"
	"strconv"
	"strings"

	"github.com/mailtrail/mailtrail/internal/scan"
)

// evalFn evaluates an expression for the current row of an ectx.
type evalFn func(c *ectx) Value

// ectx is the row an expression is evaluated on: either a materialised row
// (row != nil) or row k of a batch. one/oneVal override a single slot, which
// lets a predicate be evaluated once per dictionary entry.
type ectx struct {
	row    []Value
	bt     *batch
	k      int
	one    int
	oneVal Value
	aggRes []Value
}

func (c *ectx) slot(s int) Value {
	if s == c.one {
		return c.oneVal
	}
	if c.row != nil {
		return c.row[s]
	}
	return c.bt.get(s, c.k)
}

// colValue reads row i of a source column as a Value.
func colValue(col *scan.Column, i int, isTime bool) Value {
	if col == nil || !col.Has(i) {
		return null
	}
	switch col.Type {
	case scan.TypeString:
		return vStr(col.Strs[i])
	case scan.TypeDict:
		return vStr(col.Dict[col.Codes[i]])
	case scan.TypeInt:
		if isTime {
			return vTime(col.Ints[i])
		}
		return vInt(col.Ints[i])
	case scan.TypeFloat:
		return vFloat(col.Floats[i])
	case scan.TypeMixed:
		return fromScan(col.Values[i])
	}
	return null
}

func compile(e Expr) evalFn {
	switch x := e.(type) {
	case *lit:
		v := x.v
		return func(*ectx) Value { return v }
	case *period:
		v := vInt(x.ms)
		return func(*ectx) Value { return v }
	case *star:
		return func(*ectx) Value { return vInt(1) }
	case *paren:
		return compile(x.x)
	case *ref:
		s := x.slot
		if x.path == nil {
			return func(c *ectx) Value { return c.slot(s) }
		}
		path := x.path
		return func(c *ectx) Value { return jsonPath(c.slot(s), path) }
	case *aggCall:
		i := x.idx
		return func(c *ectx) Value { return c.aggRes[i] }
	case *unary:
		f := compile(x.x)
		if x.op == "not" {
			return func(c *ectx) Value { return vBool(!f(c).truthy()) }
		}
		return func(c *ectx) Value { return arith("-", vInt(0), f(c)) }
	case *binary:
		l, r := compile(x.l), compile(x.r)
		switch x.op {
		case "and":
			return func(c *ectx) Value { return vBool(l(c).truthy() && r(c).truthy()) }
		case "or":
			return func(c *ectx) Value { return vBool(l(c).truthy() || r(c).truthy()) }
		case "=":
			return func(c *ectx) Value { return vBool(equal(l(c), r(c))) }
		case "!=":
			return func(c *ectx) Value {
				n, ok := compare(l(c), r(c))
				return vBool(ok && n != 0)
			}
		case "<", "<=", ">", ">=":
			op := x.op
			return func(c *ectx) Value {
				n, ok := compare(l(c), r(c))
				if !ok {
					return vBool(false)
				}
				switch op {
				case "<":
					return vBool(n < 0)
				case "<=":
					return vBool(n <= 0)
				case ">":
					return vBool(n > 0)
				}
				return vBool(n >= 0)
			}
		}
		op := x.op
		return func(c *ectx) Value { return arith(op, l(c), r(c)) }
	case *match:
		f := compile(x.x)
		not := x.not
		if x.re != nil {
			re := x.re
			return func(c *ectx) Value {
				v := f(c)
				if v.isNull() {
					return vBool(false)
				}
				return vBool(re.MatchString(v.String()) != not)
			}
		}
		sub := x.sub
		return func(c *ectx) Value {
			v := f(c)
			if v.isNull() {
				return vBool(false)
			}
			return vBool(strings.Contains(v.String(), sub) != not)
		}
	case *inList:
		f := compile(x.x)
		list, not := x.list, x.not
		return func(c *ectx) Value {
			v := f(c)
			if v.isNull() {
				return vBool(false)
			}
			for _, e := range list {
				if equal(v, e) {
					return vBool(!not)
				}
			}
			return vBool(not)
		}
	case *call:
		args := make([]evalFn, 0, len(x.args))
		var per *period
		for _, a := range x.args {
			if p, ok := a.(*period); ok {
				per = p
				continue
			}
			args = append(args, compile(a))
		}
		fn := x.fn.eval
		if len(args) == 1 {
			a0 := args[0]
			return func(c *ectx) Value {
				var buf [1]Value
				buf[0] = a0(c)
				return fn(buf[:], per)
			}
		}
		return func(c *ectx) Value {
			vals := make([]Value, len(args))
			for i, a := range args {
				vals[i] = a(c)
			}
			return fn(vals, per)
		}
	}
	return func(*ectx) Value { return null }
}

// arith applies an arithmetic operator; non-numeric operands and division
// by zero give null.
func arith(op string, a, b Value) Value {
	x, ok1 := a.num()
	y, ok2 := b.num()
	if !ok1 || !ok2 {
		return null
	}
	isTime := (a.k == kTime) != (b.k == kTime) && (op == "+" || op == "-") && !(op == "-" && b.k == kTime)
	ints := a.k != kFloat && b.k != kFloat && (a.k != kStr || isIntString(a.s)) && (b.k != kStr || isIntString(b.s))
	if ints {
		xi, yi := int64(x), int64(y)
		var r int64
		switch op {
		case "+":
			r = xi + yi
		case "-":
			r = xi - yi
		case "*":
			r = xi * yi
		case "%":
			if yi == 0 {
				return null
			}
			r = xi % yi
		default:
			goto float
		}
		if isTime {
			return vTime(r)
		}
		return vInt(r)
	}
float:
	var f float64
	switch op {
	case "+":
		f = x + y
	case "-":
		f = x - y
	case "*":
		f = x * y
	case "/":
		if y == 0 {
			return null
		}
		f = x / y
	case "%":
		if y == 0 {
			return null
		}
		f = math.Mod(x, y)
	case "^":
		f = math.Pow(x, y)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return null
	}
	if isTime {
		return vTime(int64(f))
	}
	return vFloat(f)
}

func isIntString(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// jsonPath walks a MAP/LIST value by dotted path segments.
func jsonPath(v Value, path []string) Value {
	if v.k != kJSON {
		return null
	}
	x := v.j
	for _, seg := range path {
		switch t := x.(type) {
		case map[string]any:
			var ok bool
			if x, ok = t[seg]; !ok {
				return null
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return null
			}
			x = t[i]
		default:
			return null
		}
	}
	return fromJSON(x)
}
