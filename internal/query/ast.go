package query

import (
	"regexp"
)

// Query is a parsed Logs Insights query.
type Query struct {
	Text     string
	Source   *SourceSpec // a leading SOURCE command, or nil
	Commands []*Command

	plan *plan // resolved names and execution plan, built by Parse
}

// SourceSpec is what a leading SOURCE command names. The server uses it in
// place of StartQuery's log group parameters.
type SourceSpec struct {
	// Groups are explicit log group names (SOURCE "name" ...).
	Groups []string
	// NamePrefixes, Classes and Accounts come from SOURCE logGroups(...);
	// all empty means every group of the account.
	NamePrefixes []string
	Classes      []string
	Accounts     []string
	// Start and End (epoch ms, inclusive) are set when the SOURCE command
	// carries START= / END= (the form AWS rewrites queries into).
	Start, End       int64
	HasStart, HasEnd bool
}

type cmdKind uint8

const (
	cFields cmdKind = iota + 1
	cDisplay
	cFilter
	cStats
	cSort
	cLimit
	cParse
	cDedup
	cUnnest
	cUnmask
)

var cmdNames = map[cmdKind]string{cFields: "fields", cDisplay: "display", cFilter: "filter", cStats: "stats", cSort: "sort",
	cLimit: "limit", cParse: "parse", cDedup: "dedup", cUnnest: "unnest", cUnmask: "unmask"}

// Command is one pipeline stage.
type Command struct {
	kind     cmdKind
	Pos, End int

	items []*item   // fields, display, stats aggregates
	by    []*item   // stats group keys
	expr  Expr      // filter, filterIndex
	sort  []sortKey // sort
	n     int       // limit
	field Expr      // parse, unnest, unmask source
	glob  []string  // parse glob: the constant pieces around the *s
	re    *regexp.Regexp
	names []string   // parse output names (glob aliases or regex groups)
	slots []int      // parse: slot of each name
	into  string     // unnest target
	intoS int        // unnest target slot
	dedup []Expr     // dedup fields
	aggs  []*aggCall // stats: every aggregate call in items, in order
}

// Name returns the command's keyword.
func (c *Command) Name() string { return cmdNames[c.kind] }

type item struct {
	expr  Expr
	name  string // alias, or source text
	slot  int
	alias bool
}

type sortKey struct {
	expr Expr
	desc bool
}

// Expr is an expression node.
type Expr interface {
	span() (int, int)
}

type pos struct{ p, e int }

func (p pos) span() (int, int) { return p.p, p.e }

// lit is a constant.
type lit struct {
	pos
	v Value
}

// period is a time period literal (5m, 1h, 1mo). Calendar units use months.
type period struct {
	pos
	ms     int64
	months int
	text   string
}

// ref is a field reference. It resolves to a slot, and optionally a path
// into a JSON value held in that slot (jsonParse results, unnest elements).
type ref struct {
	pos
	name string
	slot int
	path []string
}

type unary struct {
	pos
	op string // "-", "not"
	x  Expr
}

type binary struct {
	pos
	op   string // + - * / % ^ = != < <= > >= and or
	l, r Expr
}

// match is like / not like / =~.
type match struct {
	pos
	x   Expr
	sub string         // like "substring"
	re  *regexp.Regexp // like /re/, =~ /re/
	not bool
}

type inList struct {
	pos
	x    Expr
	list []Value
	not  bool
}

type call struct {
	pos
	name string // lower case
	args []Expr
	fn   *funcDef
}

// aggCall is an aggregate function inside stats.
type aggCall struct {
	pos
	name string
	args []Expr // empty for count(*)
	star bool
	idx  int // index in Command.aggs
	p    float64
}

type star struct{ pos }
