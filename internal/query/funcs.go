package query

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// funcDef describes a scalar function (A.5).
type funcDef struct {
	min, max   int // argument count; max -1 = variadic
	arity      string
	periodArgs []bool // which arguments must be time periods
	eval       func(args []Value, per *period) Value
}

// aggDef describes an aggregate function (A.6).
type aggDef struct {
	min, max int
	arity    string
}

var aggDefs = map[string]aggDef{
	"count":          {0, 1, "no argument, * or one field"},
	"count_distinct": {1, 1, "one argument"},
	"sum":            {1, 1, "one argument"},
	"avg":            {1, 1, "one argument"},
	"min":            {1, 1, "one argument"},
	"max":            {1, 1, "one argument"},
	"pct":            {2, 2, "a field and a percentile"},
	"stddev":         {1, 1, "one argument"},
	"earliest":       {1, 1, "one argument"},
	"latest":         {1, 1, "one argument"},
	"sortsfirst":     {1, 1, "one argument"},
	"sortslast":      {1, 1, "one argument"},
}

var funcDefs map[string]*funcDef

func init() {
	num1 := func(f func(float64) float64) *funcDef {
		return &funcDef{min: 1, max: 1, arity: "one number", eval: func(a []Value, _ *period) Value {
			x, ok := a[0].num()
			if !ok {
				return null
			}
			r := f(x)
			if math.IsNaN(r) || math.IsInf(r, 0) {
				return null
			}
			if a[0].k == kInt && r == math.Trunc(r) && math.Abs(r) < 1<<62 {
				return vInt(int64(r))
			}
			return vFloat(r)
		}}
	}
	str1 := func(f func(string) Value) *funcDef {
		return &funcDef{min: 1, max: 1, arity: "one argument", eval: func(a []Value, _ *period) Value {
			if a[0].isNull() {
				return null
			}
			return f(a[0].String())
		}}
	}
	ip1 := func(f func(netip.Addr) bool) *funcDef {
		return &funcDef{min: 1, max: 1, arity: "one address", eval: func(a []Value, _ *period) Value {
			if a[0].k != kStr {
				return vBool(false)
			}
			ad, err := netip.ParseAddr(a[0].s)
			return vBool(err == nil && f(ad))
		}}
	}
	inSubnet := func(f func(netip.Addr) bool) *funcDef {
		return &funcDef{min: 2, max: 2, arity: "an address and a CIDR", eval: func(a []Value, _ *period) Value {
			if a[0].k != kStr || a[1].k != kStr {
				return vBool(false)
			}
			ad, err := netip.ParseAddr(a[0].s)
			if err != nil || !f(ad) {
				return vBool(false)
			}
			pf, err := netip.ParsePrefix(a[1].s)
			if err != nil {
				return vBool(false)
			}
			return vBool(pf.Contains(ad))
		}}
	}
	trimmer := func(side int) *funcDef {
		return &funcDef{min: 1, max: 2, arity: "a string and optional characters", eval: func(a []Value, _ *period) Value {
			if a[0].isNull() {
				return null
			}
			s := a[0].String()
			if len(a) == 2 && !a[1].isNull() {
				cs := a[1].String()
				switch side {
				case 0:
					return vStr(strings.TrimLeft(s, cs))
				case 1:
					return vStr(strings.TrimRight(s, cs))
				}
				return vStr(strings.Trim(s, cs))
			}
			switch side {
			case 0:
				return vStr(strings.TrimLeftFunc(s, unicode.IsSpace))
			case 1:
				return vStr(strings.TrimRightFunc(s, unicode.IsSpace))
			}
			return vStr(strings.TrimSpace(s))
		}}
	}
	pick := func(greater bool) *funcDef {
		return &funcDef{min: 1, max: -1, arity: "one or more numbers", eval: func(a []Value, _ *period) Value {
			best := null
			bf := 0.0
			for _, v := range a {
				f, ok := v.num()
				if !ok {
					continue
				}
				if best.isNull() || greater && f > bf || !greater && f < bf {
					best, bf = v, f
				}
			}
			if best.k == kStr {
				return numValue(bf)
			}
			return best
		}}
	}
	funcDefs = map[string]*funcDef{
		"abs":   num1(math.Abs),
		"ceil":  num1(math.Ceil),
		"floor": num1(math.Floor),
		"log": {min: 1, max: 1, arity: "one number", eval: func(a []Value, _ *period) Value {
			x, ok := a[0].num()
			if !ok || x <= 0 {
				return null
			}
			return vFloat(math.Log(x))
		}},
		"sqrt": {min: 1, max: 1, arity: "one number", eval: func(a []Value, _ *period) Value {
			x, ok := a[0].num()
			if !ok || x < 0 {
				return null
			}
			return numValue(math.Sqrt(x))
		}},
		"greatest": pick(true),
		"least":    pick(false),
		"ispresent": {min: 1, max: 1, arity: "one field", eval: func(a []Value, _ *period) Value {
			return vBool(!a[0].isNull())
		}},
		"coalesce": {min: 1, max: -1, arity: "one or more arguments", eval: func(a []Value, _ *period) Value {
			for _, v := range a {
				if !v.isNull() {
					return v
				}
			}
			return null
		}},
		"isempty": {min: 1, max: 1, arity: "one argument", eval: func(a []Value, _ *period) Value {
			return boolNum(a[0].isNull() || a[0].k == kStr && a[0].s == "")
		}},
		"isblank": {min: 1, max: 1, arity: "one argument", eval: func(a []Value, _ *period) Value {
			return boolNum(a[0].isNull() || a[0].k == kStr && strings.TrimSpace(a[0].s) == "")
		}},
		"concat": {min: 1, max: -1, arity: "one or more arguments", eval: func(a []Value, _ *period) Value {
			var b strings.Builder
			for _, v := range a {
				b.WriteString(v.String())
			}
			return vStr(b.String())
		}},
		"ltrim":   trimmer(0),
		"rtrim":   trimmer(1),
		"trim":    trimmer(2),
		"strlen":  str1(func(s string) Value { return vInt(int64(utf8.RuneCountInString(s))) }),
		"toupper": str1(func(s string) Value { return vStr(strings.ToUpper(s)) }),
		"tolower": str1(func(s string) Value { return vStr(strings.ToLower(s)) }),
		"substr": {min: 2, max: 3, arity: "a string, a 0-based start and an optional length", eval: func(a []Value, _ *period) Value {
			if a[0].isNull() {
				return null
			}
			r := []rune(a[0].String())
			st, ok := a[1].intVal()
			if !ok {
				return null
			}
			if st < 0 {
				st = 0
			}
			if st > int64(len(r)) {
				return vStr("")
			}
			end := int64(len(r))
			if len(a) == 3 {
				n, ok := a[2].intVal()
				if !ok || n < 0 {
					return null
				}
				end = min(end, st+n)
			}
			return vStr(string(r[st:end]))
		}},
		"replace": {min: 3, max: 3, arity: "a string, a search string and a replacement", eval: func(a []Value, _ *period) Value {
			if a[0].isNull() {
				return null
			}
			if a[1].isNull() || a[1].String() == "" {
				return vStr(a[0].String())
			}
			return vStr(strings.ReplaceAll(a[0].String(), a[1].String(), a[2].String()))
		}},
		"strcontains": {min: 2, max: 2, arity: "a string and a search string", eval: func(a []Value, _ *period) Value {
			if a[0].isNull() || a[1].isNull() {
				return boolNum(false)
			}
			return boolNum(strings.Contains(a[0].String(), a[1].String()))
		}},
		// bin(p) is rewritten by the planner into bin(@timestamp, p).
		"bin": {min: 1, max: 1, arity: "a time period such as 5m", periodArgs: []bool{true}, eval: func(a []Value, p *period) Value {
			return floorTime(a[0], p)
		}},
		"datefloor": {min: 2, max: 2, arity: "a timestamp and a time period", periodArgs: []bool{false, true}, eval: func(a []Value, p *period) Value {
			return floorTime(a[0], p)
		}},
		"dateceil": {min: 2, max: 2, arity: "a timestamp and a time period", periodArgs: []bool{false, true}, eval: func(a []Value, p *period) Value {
			return ceilTime(a[0], p)
		}},
		"frommillis": {min: 1, max: 1, arity: "epoch milliseconds", eval: func(a []Value, _ *period) Value {
			ms, ok := a[0].intVal()
			if !ok {
				return null
			}
			return vTime(ms)
		}},
		"tomillis": {min: 1, max: 1, arity: "a timestamp", eval: func(a []Value, _ *period) Value {
			if a[0].k == kStr {
				if t, ok := parseTimeString(a[0].s); ok {
					return vInt(t)
				}
				return null
			}
			ms, ok := a[0].intVal()
			if !ok {
				return null
			}
			return vInt(ms)
		}},
		"isvalidip":   ip1(func(netip.Addr) bool { return true }),
		"isvalidipv4": ip1(func(a netip.Addr) bool { return a.Is4() }),
		"isvalidipv6": ip1(func(a netip.Addr) bool { return a.Is6() }),
		// IPv4-mapped IPv6 addresses do not count as IPv4 (our choice).
		"isipinsubnet":   inSubnet(func(netip.Addr) bool { return true }),
		"isipv4insubnet": inSubnet(func(a netip.Addr) bool { return a.Is4() }),
		"isipv6insubnet": inSubnet(func(a netip.Addr) bool { return a.Is6() }),
		"jsonparse": {min: 1, max: 1, arity: "one string", eval: func(a []Value, _ *period) Value {
			if a[0].k == kJSON {
				return a[0]
			}
			if a[0].k != kStr {
				return null
			}
			d := json.NewDecoder(strings.NewReader(a[0].s))
			d.UseNumber()
			var x any
			if err := d.Decode(&x); err != nil {
				return null
			}
			return fromJSON(x)
		}},
		"jsonstringify": {min: 1, max: 1, arity: "one value", eval: func(a []Value, _ *period) Value {
			switch a[0].k {
			case kNull:
				return null
			case kJSON:
				return vStr(a[0].String())
			case kStr:
				b, _ := json.Marshal(a[0].s)
				return vStr(string(bytes.TrimSpace(b)))
			}
			return vStr(a[0].String())
		}},
		// We do no masking, so unmask is the identity.
		"unmask": {min: 1, max: 1, arity: "one field", eval: func(a []Value, _ *period) Value { return a[0] }},
	}
}

func boolNum(b bool) Value {
	if b {
		return vInt(1)
	}
	return vInt(0)
}

func numValue(f float64) Value {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return vInt(int64(f))
	}
	return vFloat(f)
}

// floorTime rounds a timestamp down to a period boundary: fixed periods
// align to the Unix epoch, calendar periods (mo, q, y) to UTC month starts.
func floorTime(v Value, p *period) Value {
	ms, ok := v.intVal()
	if !ok {
		return null
	}
	if p.months == 0 {
		return vTime(floorDiv(ms, p.ms) * p.ms)
	}
	t := time.UnixMilli(ms).UTC()
	m := int(t.Year())*12 + int(t.Month()) - 1
	m -= ((m % p.months) + p.months) % p.months
	return vTime(time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli())
}

func ceilTime(v Value, p *period) Value {
	f := floorTime(v, p)
	if f.isNull() {
		return f
	}
	ms, _ := v.intVal()
	if f.i == ms {
		return f
	}
	if p.months == 0 {
		return vTime(f.i + p.ms)
	}
	t := time.UnixMilli(f.i).UTC()
	return vTime(t.AddDate(0, p.months, 0).UnixMilli())
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// parseTimeString accepts RFC 3339 and the Insights rendering.
func parseTimeString(s string) (int64, bool) {
	for _, layout := range []string{time.RFC3339Nano, tsLayout, "2006-01-02 15:04:05", "2006-01-02T15:04:05.000Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}
