package query

import (
	"math"
	"slices"
	"strings"
)

// aggState accumulates one aggregate over the rows of one group. States of
// the same aggregate built by different workers are merged.
type aggState interface {
	add(v Value, ts int64)
	merge(o aggState)
	result() Value
	size() int64 // approximate bytes held, for the memory limit
	// snap returns an independent copy that other states of the same
	// aggregate can be merged into (partial results).
	snap() aggState
}

func newAgg(a *aggCall) aggState {
	switch a.name {
	case "count":
		if a.star || len(a.args) == 0 {
			return &aggCount{star: true}
		}
		return &aggCount{}
	case "count_distinct":
		return &aggDistinct{set: map[string]struct{}{}}
	case "sum":
		return &aggSum{}
	case "avg":
		return &aggSum{avg: true}
	case "min":
		return &aggMinMax{}
	case "max":
		return &aggMinMax{max: true}
	case "pct":
		return &aggPct{p: a.p}
	case "stddev":
		return &aggStddev{}
	case "earliest":
		return &aggPick{}
	case "latest":
		return &aggPick{latest: true}
	case "sortsfirst":
		return &aggSorts{}
	case "sortslast":
		return &aggSorts{last: true}
	}
	return &aggCount{}
}

// keep copies a string value so it outlives the block it came from.
func keep(v Value) Value {
	if v.k == kStr {
		v.s = strings.Clone(v.s)
	}
	return v
}

type aggCount struct {
	n    int64
	star bool
}

func (a *aggCount) add(v Value, _ int64) {
	if a.star || !v.isNull() {
		a.n++
	}
}
func (a *aggCount) merge(o aggState) { a.n += o.(*aggCount).n }
func (a *aggCount) result() Value    { return vInt(a.n) }
func (a *aggCount) snap() aggState   { c := *a; return &c }
func (a *aggCount) size() int64      { return 16 }

type aggDistinct struct {
	set   map[string]struct{}
	bytes int64
}

func (a *aggDistinct) add(v Value, _ int64) {
	if v.isNull() {
		return
	}
	s := v.String()
	if _, ok := a.set[s]; !ok {
		a.set[strings.Clone(s)] = struct{}{}
		a.bytes += int64(len(s)) + 48
	}
}
func (a *aggDistinct) merge(o aggState) {
	for k := range o.(*aggDistinct).set {
		if _, ok := a.set[k]; !ok {
			a.set[k] = struct{}{}
			a.bytes += int64(len(k)) + 48
		}
	}
}
func (a *aggDistinct) result() Value { return vInt(int64(len(a.set))) }
func (a *aggDistinct) snap() aggState {
	c := &aggDistinct{set: make(map[string]struct{}, len(a.set)), bytes: a.bytes}
	for k := range a.set {
		c.set[k] = struct{}{}
	}
	return c
}
func (a *aggDistinct) size() int64 { return a.bytes + 48 }

// aggSum is sum and avg over the numeric values (others are ignored).
type aggSum struct {
	avg     bool
	n       int64
	isum    int64
	fsum    float64
	isFloat bool
}

func (a *aggSum) add(v Value, _ int64) {
	switch v.k {
	case kInt, kBool, kTime:
		a.n++
		a.isum += v.i
		return
	case kNull:
		return
	}
	f, ok := v.num()
	if !ok {
		return
	}
	a.n++
	a.isFloat = true
	a.fsum += f
}
func (a *aggSum) merge(o aggState) {
	b := o.(*aggSum)
	a.n += b.n
	a.isum += b.isum
	a.fsum += b.fsum
	a.isFloat = a.isFloat || b.isFloat
}
func (a *aggSum) result() Value {
	if a.n == 0 {
		return null
	}
	if a.avg {
		return vFloat((float64(a.isum) + a.fsum) / float64(a.n))
	}
	if !a.isFloat {
		return vInt(a.isum)
	}
	return vFloat(float64(a.isum) + a.fsum)
}
func (a *aggSum) snap() aggState { c := *a; return &c }
func (a *aggSum) size() int64    { return 40 }

// aggMinMax compares numerically while every value is a number or a
// numeric string, and as strings as soon as one value is not.
type aggMinMax struct {
	max       bool
	numBest   Value
	strBest   string
	hasNum    bool
	hasStr    bool
	anyString bool
}

func (a *aggMinMax) add(v Value, _ int64) {
	if v.isNull() {
		return
	}
	if _, ok := v.num(); ok {
		a.addNum(v) // numbers, and strings that read as numbers (parse output)
	} else {
		a.anyString = true
	}
	a.addStr(v.String())
}

func (a *aggMinMax) addNum(v Value) {
	f, _ := v.num()
	if !a.hasNum {
		a.numBest, a.hasNum = v, true
	} else if b, _ := a.numBest.num(); a.max && f > b || !a.max && f < b {
		a.numBest = v
	}
}

func (a *aggMinMax) addStr(s string) {
	if !a.hasStr || a.max && s > a.strBest || !a.max && s < a.strBest {
		a.strBest, a.hasStr = strings.Clone(s), true
	}
}

func (a *aggMinMax) merge(o aggState) {
	b := o.(*aggMinMax)
	if b.hasNum {
		a.addNum(b.numBest)
	}
	if b.hasStr {
		a.addStr(b.strBest)
	}
	a.anyString = a.anyString || b.anyString
}
func (a *aggMinMax) result() Value {
	if a.hasNum && !a.anyString {
		return a.numBest
	}
	if a.hasStr {
		return vStr(a.strBest)
	}
	return null
}
func (a *aggMinMax) snap() aggState { c := *a; return &c }
func (a *aggMinMax) size() int64    { return 120 + int64(len(a.strBest)) }

// aggPct is the nearest-rank percentile of the numeric values.
type aggPct struct {
	p    float64
	vals []float64
}

func (a *aggPct) add(v Value, _ int64) {
	if f, ok := v.num(); ok {
		a.vals = append(a.vals, f)
	}
}
func (a *aggPct) merge(o aggState) { a.vals = append(a.vals, o.(*aggPct).vals...) }
func (a *aggPct) result() Value {
	if len(a.vals) == 0 {
		return null
	}
	slices.Sort(a.vals)
	rank := int(math.Ceil(a.p / 100 * float64(len(a.vals))))
	if rank < 1 {
		rank = 1
	}
	return numValue(a.vals[rank-1])
}
func (a *aggPct) snap() aggState {
	return &aggPct{p: a.p, vals: slices.Clone(a.vals)}
}
func (a *aggPct) size() int64 { return 32 + 8*int64(cap(a.vals)) }

// aggStddev is the sample standard deviation (Welford, merged with Chan's
// formula).
type aggStddev struct {
	n        float64
	mean, m2 float64
}

func (a *aggStddev) add(v Value, _ int64) {
	f, ok := v.num()
	if !ok {
		return
	}
	a.n++
	d := f - a.mean
	a.mean += d / a.n
	a.m2 += d * (f - a.mean)
}
func (a *aggStddev) merge(o aggState) {
	b := o.(*aggStddev)
	if b.n == 0 {
		return
	}
	n := a.n + b.n
	d := b.mean - a.mean
	a.m2 += b.m2 + d*d*a.n*b.n/n
	a.mean += d * b.n / n
	a.n = n
}
func (a *aggStddev) result() Value {
	switch {
	case a.n == 0:
		return null
	case a.n == 1:
		return vInt(0)
	}
	return vFloat(math.Sqrt(a.m2 / (a.n - 1)))
}
func (a *aggStddev) snap() aggState { c := *a; return &c }
func (a *aggStddev) size() int64    { return 32 }

// aggPick is earliest/latest: the value from the row with the smallest or
// largest @timestamp (rows lacking the field are skipped).
type aggPick struct {
	latest bool
	has    bool
	ts     int64
	v      Value
}

func (a *aggPick) add(v Value, ts int64) {
	if v.isNull() {
		return
	}
	if !a.has || a.latest && ts > a.ts || !a.latest && ts < a.ts {
		a.has, a.ts, a.v = true, ts, keep(v)
	}
}
func (a *aggPick) merge(o aggState) {
	b := o.(*aggPick)
	if b.has {
		a.add(b.v, b.ts)
	}
}
func (a *aggPick) result() Value  { return a.v }
func (a *aggPick) snap() aggState { c := *a; return &c }
func (a *aggPick) size() int64    { return 80 + int64(len(a.v.s)) }

type aggSorts struct {
	last bool
	has  bool
	v    Value
}

func (a *aggSorts) add(v Value, _ int64) {
	if v.isNull() {
		return
	}
	if !a.has {
		a.has, a.v = true, keep(v)
		return
	}
	c := sortCompare(v, a.v)
	if a.last && c > 0 || !a.last && c < 0 {
		a.v = keep(v)
	}
}
func (a *aggSorts) merge(o aggState) {
	b := o.(*aggSorts)
	if b.has {
		a.add(b.v, 0)
	}
}
func (a *aggSorts) result() Value  { return a.v }
func (a *aggSorts) snap() aggState { c := *a; return &c }
func (a *aggSorts) size() int64    { return 80 + int64(len(a.v.s)) }
