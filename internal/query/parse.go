package query

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// MaxQueryLength is the longest query accepted (StartQuery's limit).
const MaxQueryLength = 10000

// unsupported are commands of the current Insights language that this
// engine does not run; they are rejected by name, never ignored.
var unsupported = map[string]string{
	"pattern":   "`pattern` (ML log clustering) is not supported by this server",
	"diff":      "`diff` (pattern comparison) is not supported by this server",
	"anomaly":   "`anomaly` (ML anomaly detection) is not supported by this server",
	"lookup":    "`lookup` is not supported by this server",
	"join":      "`join` is not supported by this server",
	"addtotals": "`addtotals` is not supported by this server",
	"estimate":  "`estimate` is not supported by this server",
	"eval":      "`eval` is not a Logs Insights command (use fields)",
	"where":     "`where` is not a Logs Insights command (use filter)",
	"head":      "`head` is not a Logs Insights command (use limit)",
}

type parser struct {
	src   string
	toks  []token
	i     int
	aggOK bool // aggregate calls allowed here (inside stats items)
}

// Parse parses a Logs Insights query. Errors are *ParseError.
func Parse(text string) (*Query, error) {
	if len(text) > MaxQueryLength {
		return nil, &ParseError{Line: 1, Col: 1, StartOffset: MaxQueryLength, EndOffset: len(text),
			Msg: fmt.Sprintf("query is %d characters long; the limit is %d", len(text), MaxQueryLength)}
	}
	toks, err := lex(text)
	if err != nil {
		return nil, err
	}
	p := &parser{src: text, toks: toks}
	q, err := p.query()
	if err != nil {
		return nil, err
	}
	if err := resolve(q); err != nil {
		return nil, err
	}
	return q, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.Kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errf(t token, format string, args ...any) error {
	return errAt(p.src, t.Pos, t.End, fmt.Sprintf(format, args...))
}

func (p *parser) expected(what string) error {
	t := p.peek()
	return p.errf(t, "expected %s, found %s", what, t.describe())
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.Kind == tPunct && t.Text == s
}

func (p *parser) isKw(w string) bool { return isWord(p.peek(), w) }

func (p *parser) accept(s string) bool {
	if p.isPunct(s) {
		p.i++
		return true
	}
	return false
}

func (p *parser) acceptKw(w string) bool {
	if p.isKw(w) {
		p.i++
		return true
	}
	return false
}

func (p *parser) want(s string) error {
	if !p.accept(s) {
		return p.expected("'" + s + "'")
	}
	return nil
}

func (p *parser) query() (*Query, error) {
	q := &Query{Text: p.src}
	if p.peek().Kind == tEOF {
		return nil, p.expected("a command such as fields, filter or stats")
	}
	if p.isKw("source") {
		s, err := p.source()
		if err != nil {
			return nil, err
		}
		q.Source = s
		if p.peek().Kind == tEOF {
			return q, nil
		}
		if err := p.want("|"); err != nil {
			return nil, err
		}
	}
	for {
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		q.Commands = append(q.Commands, c)
		if p.peek().Kind == tEOF {
			break
		}
		if !p.accept("|") {
			return nil, p.expected("'|' before the next command")
		}
	}
	return q, nil
}

// source parses SOURCE logGroups(...) or SOURCE "group" ... START=n END=n.
func (p *parser) source() (*SourceSpec, error) {
	p.next()
	s := &SourceSpec{}
	switch {
	case p.isKw("logGroups"):
		p.next()
		if err := p.want("("); err != nil {
			return nil, err
		}
		for !p.isPunct(")") {
			key := p.peek()
			if key.Kind != tIdent {
				return nil, p.expected("namePrefix, class or accountIdentifiers")
			}
			p.next()
			if err := p.want(":"); err != nil {
				return nil, err
			}
			vals, err := p.stringList()
			if err != nil {
				return nil, err
			}
			switch strings.ToLower(key.Text) {
			case "nameprefix":
				if len(vals) > 5 {
					return nil, p.errf(key, "namePrefix takes at most 5 prefixes")
				}
				s.NamePrefixes = append(s.NamePrefixes, vals...)
			case "class":
				s.Classes = append(s.Classes, vals...)
			case "accountidentifiers":
				if len(vals) > 20 {
					return nil, p.errf(key, "accountIdentifiers takes at most 20 accounts")
				}
				s.Accounts = append(s.Accounts, vals...)
			default:
				return nil, p.errf(key, "unknown logGroups parameter %q: expected namePrefix, class or accountIdentifiers", key.Text)
			}
			if !p.accept(",") {
				break
			}
		}
		if err := p.want(")"); err != nil {
			return nil, err
		}
	case p.peek().Kind == tString || p.peek().Kind == tQuoted:
		for p.peek().Kind == tString || p.peek().Kind == tQuoted {
			s.Groups = append(s.Groups, p.next().Text)
			p.accept(",")
		}
	default:
		return nil, p.expected("logGroups(...) or a quoted log group name after SOURCE")
	}
	for p.isKw("start") || p.isKw("end") {
		kw := p.next()
		if err := p.want("="); err != nil {
			return nil, err
		}
		neg := p.accept("-")
		t := p.peek()
		if t.Kind != tNumber {
			return nil, p.expected("epoch milliseconds")
		}
		p.next()
		v, err := strconv.ParseInt(t.Text, 10, 64)
		if err != nil {
			return nil, p.errf(t, "invalid epoch milliseconds %q", t.Text)
		}
		if neg {
			v = -v
		}
		if strings.EqualFold(kw.Text, "start") {
			s.Start, s.HasStart = v, true
		} else {
			s.End, s.HasEnd = v, true
		}
	}
	return s, nil
}

func (p *parser) stringList() ([]string, error) {
	if err := p.want("["); err != nil {
		return nil, err
	}
	var out []string
	for !p.isPunct("]") {
		t := p.peek()
		if t.Kind != tString {
			return nil, p.expected("a quoted string")
		}
		p.next()
		out = append(out, t.Text)
		if !p.accept(",") {
			break
		}
	}
	return out, p.want("]")
}

func (p *parser) command() (*Command, error) {
	t := p.peek()
	if t.Kind != tIdent {
		return nil, p.expected("a command (fields, display, filter, stats, sort, limit, parse, dedup, unnest)")
	}
	name := strings.ToLower(t.Text)
	p.next()
	c := &Command{Pos: t.Pos}
	var err error
	switch name {
	case "fields":
		c.kind = cFields
		c.items, err = p.items(false)
	case "display":
		c.kind = cDisplay
		c.items, err = p.items(false)
	case "filter", "filterindex":
		c.kind = cFilter
		c.expr, err = p.expr()
	case "stats":
		c.kind = cStats
		err = p.stats(c)
	case "sort":
		c.kind = cSort
		err = p.sortKeys(c)
	case "limit":
		c.kind = cLimit
		n := p.peek()
		if n.Kind != tNumber {
			return nil, p.expected("a row count after limit")
		}
		p.next()
		v, perr := strconv.Atoi(n.Text)
		if perr != nil || v < 1 || v > 10000 {
			return nil, p.errf(n, "limit must be an integer from 1 to 10000, found %s", n.Text)
		}
		c.n = v
	case "parse":
		c.kind = cParse
		err = p.parseCmd(c)
	case "dedup":
		c.kind = cDedup
		for {
			e, perr := p.primary()
			if perr != nil {
				return nil, perr
			}
			if _, ok := e.(*ref); !ok {
				return nil, errAt(p.src, spanOf(e).p, spanOf(e).e, "dedup takes field names")
			}
			c.dedup = append(c.dedup, e)
			if !p.accept(",") {
				break
			}
		}
	case "unnest":
		c.kind = cUnnest
		c.field, err = p.primary()
		if err != nil {
			return nil, err
		}
		if !p.acceptKw("into") {
			return nil, p.expected("'into' after the unnested field")
		}
		n := p.peek()
		if n.Kind != tIdent && n.Kind != tQuoted {
			return nil, p.expected("a field name after into")
		}
		p.next()
		c.into = n.Text
	case "unmask":
		c.kind = cUnmask
		c.field, err = p.primary()
	case "source":
		return nil, p.errf(t, "SOURCE must be the first command of the query")
	default:
		if msg, ok := unsupported[name]; ok {
			return nil, p.errf(t, "%s", msg)
		}
		return nil, p.errf(t, "unknown command %q: expected fields, display, filter, stats, sort, limit, parse, dedup, unnest or unmask", t.Text)
	}
	if err != nil {
		return nil, err
	}
	c.End = p.toks[max(p.i-1, 0)].End
	return c, nil
}

func spanOf(e Expr) pos { a, b := e.span(); return pos{a, b} }

// items parses "expr [as alias] {, ...}".
func (p *parser) items(inStats bool) ([]*item, error) {
	var out []*item
	for {
		e, err := p.exprIn(inStats)
		if err != nil {
			return nil, err
		}
		it := &item{expr: e}
		if p.acceptKw("as") {
			a := p.peek()
			if a.Kind != tIdent && a.Kind != tQuoted {
				return nil, p.expected("an alias after as")
			}
			p.next()
			it.name, it.alias = a.Text, true
		} else {
			it.name = p.textOf(e)
		}
		out = append(out, it)
		if !p.accept(",") {
			return out, nil
		}
	}
}

// textOf is the source text of e, which names unaliased columns.
func (p *parser) textOf(e Expr) string {
	if r, ok := e.(*ref); ok {
		return r.name
	}
	a, b := e.span()
	return strings.TrimSpace(p.src[a:b])
}

func (p *parser) stats(c *Command) error {
	var err error
	c.items, err = p.items(true)
	if err != nil {
		return err
	}
	if p.acceptKw("by") {
		c.by, err = p.items(false)
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) sortKeys(c *Command) error {
	for {
		e, err := p.expr()
		if err != nil {
			return err
		}
		k := sortKey{expr: e, desc: true}
		if p.acceptKw("asc") {
			k.desc = false
		} else {
			p.acceptKw("desc")
		}
		c.sort = append(c.sort, k)
		if !p.accept(",") {
			return nil
		}
	}
}

func (p *parser) parseCmd(c *Command) error {
	// The field is optional (defaults to @message): parse "glob" as ...
	if t := p.peek(); t.Kind == tString || t.Kind == tRegex {
		c.field = &ref{pos: pos{t.Pos, t.Pos}, name: "@message"}
	} else {
		e, err := p.primary()
		if err != nil {
			return err
		}
		c.field = e
	}
	t := p.peek()
	switch t.Kind {
	case tString:
		p.next()
		c.glob = strings.Split(t.Text, "*")
		if len(c.glob) < 2 {
			return p.errf(t, "parse pattern %q has no * to capture", t.Text)
		}
		if !p.acceptKw("as") {
			return p.expected("'as' and one name per * of the parse pattern")
		}
		for {
			n := p.peek()
			if n.Kind != tIdent && n.Kind != tQuoted {
				return p.expected("a field name")
			}
			p.next()
			c.names = append(c.names, n.Text)
			if !p.accept(",") {
				break
			}
		}
		if len(c.names) != len(c.glob)-1 {
			return p.errf(t, "parse pattern has %d * but %d names follow as", len(c.glob)-1, len(c.names))
		}
	case tRegex:
		p.next()
		re, err := regexp.Compile(t.Text)
		if err != nil {
			return p.errf(t, "invalid regular expression: %v", err)
		}
		for i, n := range re.SubexpNames() {
			if i > 0 && n != "" {
				c.names = append(c.names, n)
			}
		}
		if len(c.names) == 0 {
			return p.errf(t, "parse regular expression has no named group (?<name>...)")
		}
		c.re = re
	default:
		return p.expected("a quoted pattern with * or a /regex/ with named groups")
	}
	return nil
}

// Expressions, by precedence climbing.

func (p *parser) expr() (Expr, error) { return p.exprIn(false) }

// exprIn parses an expression; inStats allows aggregate calls.
func (p *parser) exprIn(inStats bool) (Expr, error) {
	save := p.aggOK
	p.aggOK = inStats
	defer func() { p.aggOK = save }()
	return p.or()
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKw("or") || p.isPunct("||") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: join(l, r), op: "or", l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKw("and") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: join(l, r), op: "and", l: l, r: r}
	}
	return l, nil
}

func (p *parser) not() (Expr, error) {
	if p.isKw("not") || p.isPunct("!") {
		t := p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		_, e := x.span()
		return &unary{pos: pos{t.Pos, e}, op: "not", x: x}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	not := false
	if isWord(t, "not") && (isWord(p.peekN(1), "like") || isWord(p.peekN(1), "in")) {
		p.next()
		not = true
		t = p.peek()
	}
	switch {
	case isWord(t, "like") || t.Kind == tPunct && t.Text == "=~":
		p.next()
		r := p.peek()
		m := &match{x: l, not: not}
		switch {
		case r.Kind == tRegex:
			re, err := regexp.Compile(r.Text)
			if err != nil {
				return nil, p.errf(r, "invalid regular expression: %v", err)
			}
			m.re = re
		case r.Kind == tString && t.Text != "=~":
			m.sub = r.Text
		default:
			if t.Text == "=~" {
				return nil, p.expected("a /regular expression/ after =~")
			}
			return nil, p.expected("a quoted string or /regular expression/ after like")
		}
		p.next()
		a, _ := l.span()
		m.pos = pos{a, r.End}
		return m, nil
	case isWord(t, "in"):
		p.next()
		if err := p.want("["); err != nil {
			return nil, err
		}
		in := &inList{x: l, not: not}
		for !p.isPunct("]") {
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			in.list = append(in.list, v)
			if !p.accept(",") {
				break
			}
		}
		end := p.peek()
		if err := p.want("]"); err != nil {
			return nil, err
		}
		a, _ := l.span()
		in.pos = pos{a, end.End}
		return in, nil
	case t.Kind == tPunct:
		op := t.Text
		switch op {
		case "==":
			op = "="
		case "<>":
			op = "!="
		}
		switch op {
		case "=", "!=", "<", "<=", ">", ">=":
			p.next()
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			return &binary{pos: join(l, r), op: op, l: l, r: r}, nil
		}
	}
	return l, nil
}

// literal parses a constant for in [...] lists.
func (p *parser) literal() (Value, error) {
	neg := p.accept("-")
	t := p.peek()
	switch t.Kind {
	case tString:
		if neg {
			return null, p.expected("a number after -")
		}
		p.next()
		return vStr(t.Text), nil
	case tNumber:
		p.next()
		v := numLit(t.Text)
		if neg {
			v = negate(v)
		}
		return v, nil
	}
	return null, p.expected("a string or number in the list")
}

func numLit(s string) Value {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return vInt(i)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return vFloat(f)
}

func negate(v Value) Value {
	switch v.k {
	case kInt:
		return vInt(-v.i)
	case kFloat:
		return vFloat(-v.f)
	}
	return v
}

func (p *parser) additive() (Expr, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isPunct("+") || p.isPunct("-") {
		op := p.next().Text
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: join(l, r), op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (Expr, error) {
	l, err := p.power()
	if err != nil {
		return nil, err
	}
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") {
		op := p.next().Text
		r, err := p.power()
		if err != nil {
			return nil, err
		}
		l = &binary{pos: join(l, r), op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) power() (Expr, error) {
	l, err := p.unaryMinus()
	if err != nil {
		return nil, err
	}
	if p.isPunct("^") {
		p.next()
		r, err := p.power() // right-associative
		if err != nil {
			return nil, err
		}
		return &binary{pos: join(l, r), op: "^", l: l, r: r}, nil
	}
	return l, nil
}

func (p *parser) unaryMinus() (Expr, error) {
	if p.isPunct("-") {
		t := p.next()
		x, err := p.unaryMinus()
		if err != nil {
			return nil, err
		}
		_, e := x.span()
		if l, ok := x.(*lit); ok && l.v.isNum() {
			return &lit{pos: pos{t.Pos, e}, v: negate(l.v)}, nil
		}
		return &unary{pos: pos{t.Pos, e}, op: "-", x: x}, nil
	}
	return p.primary()
}

func join(a, b Expr) pos {
	x, _ := a.span()
	_, y := b.span()
	return pos{x, y}
}

// keywords that cannot start a primary expression.
var reserved = map[string]bool{"and": true, "or": true, "not": true, "like": true, "in": true, "as": true, "by": true, "asc": true, "desc": true}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.Kind {
	case tNumber:
		p.next()
		return &lit{pos: pos{t.Pos, t.End}, v: numLit(t.Text)}, nil
	case tString:
		p.next()
		return &lit{pos: pos{t.Pos, t.End}, v: vStr(t.Text)}, nil
	case tDuration:
		p.next()
		per, err := parsePeriod(t.Text)
		if err != nil {
			return nil, p.errf(t, "%v", err)
		}
		per.pos = pos{t.Pos, t.End}
		return per, nil
	case tQuoted:
		p.next()
		return &ref{pos: pos{t.Pos, t.End}, name: t.Text}, nil
	case tRegex:
		return nil, p.errf(t, "a regular expression is only allowed after like, =~ or in parse")
	case tIdent:
		if reserved[strings.ToLower(t.Text)] {
			return nil, p.expected("a field, value or function")
		}
		p.next()
		// Function call: name followed by '(' (a space before it is allowed).
		if p.isPunct("(") && !strings.Contains(t.Text, ".") && !strings.HasPrefix(t.Text, "@") {
			return p.callExpr(t)
		}
		return &ref{pos: pos{t.Pos, t.End}, name: t.Text}, nil
	case tPunct:
		switch t.Text {
		case "(":
			p.next()
			e, err := p.or()
			if err != nil {
				return nil, err
			}
			end := p.peek()
			if err := p.want(")"); err != nil {
				return nil, err
			}
			// Keep the parentheses in the span so unaliased names match the text.
			return &paren{pos: pos{t.Pos, end.End}, x: e}, nil
		case "*":
			p.next()
			return &star{pos{t.Pos, t.End}}, nil
		}
	}
	return nil, p.expected("a field, value or function")
}

type paren struct {
	pos
	x Expr
}

func (p *parser) callExpr(name token) (Expr, error) {
	fname := strings.ToLower(name.Text)
	p.next() // (
	var args []Expr
	for !p.isPunct(")") {
		var e Expr
		var err error
		if fname == "count" && p.isPunct("*") {
			t := p.next()
			e = &star{pos{t.Pos, t.End}}
		} else {
			// Arguments of an aggregate are ordinary expressions.
			save := p.aggOK
			if _, isAgg := aggDefs[fname]; isAgg {
				p.aggOK = false
			}
			e, err = p.or()
			p.aggOK = save
			if err != nil {
				return nil, err
			}
		}
		args = append(args, e)
		if !p.accept(",") {
			break
		}
	}
	end := p.peek()
	if err := p.want(")"); err != nil {
		return nil, err
	}
	ps := pos{name.Pos, end.End}
	if ad, ok := aggDefs[fname]; ok {
		if !p.aggOK {
			return nil, p.errf(name, "aggregate function %s() is only allowed in stats", name.Text)
		}
		a := &aggCall{pos: ps, name: fname, args: args}
		if len(args) == 1 {
			if _, ok := args[0].(*star); ok {
				a.star = true
				a.args = nil
			}
		}
		if a.star && fname != "count" {
			return nil, p.errf(name, "%s(*) is not allowed; only count(*)", name.Text)
		}
		n := len(a.args)
		if n < ad.min || n > ad.max {
			return nil, p.errf(name, "%s() takes %s", name.Text, ad.arity)
		}
		if fname == "pct" {
			l, ok := unparen(a.args[1]).(*lit)
			var f float64
			fok := false
			if ok {
				f, fok = l.v.num()
			}
			if !fok || f < 0 || f > 100 {
				return nil, errAt(p.src, spanOf(a.args[1]).p, spanOf(a.args[1]).e, "pct() percentile must be a number from 0 to 100")
			}
			a.p = f
		}
		return a, nil
	}
	fd, ok := funcDefs[fname]
	if !ok {
		if fname == "if" || fname == "case" || fname == "round" || fname == "now" || fname == "split" || fname == "median" {
			return nil, p.errf(name, "function %s() does not exist in Logs Insights", name.Text)
		}
		return nil, p.errf(name, "unknown function %s()", name.Text)
	}
	for _, a := range args {
		if _, ok := a.(*star); ok {
			return nil, errAt(p.src, spanOf(a).p, spanOf(a).e, "* is only allowed in count(*)")
		}
	}
	if len(args) < fd.min || fd.max >= 0 && len(args) > fd.max {
		return nil, p.errf(name, "%s() takes %s", name.Text, fd.arity)
	}
	for i, want := range fd.periodArgs {
		if want && i < len(args) {
			if _, ok := args[i].(*period); !ok {
				return nil, errAt(p.src, spanOf(args[i]).p, spanOf(args[i]).e, fmt.Sprintf("%s() argument %d must be a time period such as 5m or 1h", name.Text, i+1))
			}
		}
	}
	return &call{pos: ps, name: fname, args: args, fn: fd}, nil
}

func unparen(e Expr) Expr {
	for {
		p, ok := e.(*paren)
		if !ok {
			return e
		}
		e = p.x
	}
}

// parsePeriod reads 5m, 1h, 2d, 1w, 1mo, 1q, 1y, 500ms.
func parsePeriod(s string) (*period, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("invalid time period %q: expected a positive whole number before the unit", s)
	}
	p := &period{text: s}
	switch strings.ToLower(s[i:]) {
	case "ms":
		p.ms = n
	case "s", "sec":
		p.ms = n * 1000
	case "m", "min":
		p.ms = n * 60000
	case "h", "hr":
		p.ms = n * 3600000
	case "d", "day":
		p.ms = n * 86400000
	case "w":
		p.ms = n * 7 * 86400000
	case "mo":
		p.months = int(n)
	case "q":
		p.months = int(n) * 3
	case "y":
		p.months = int(n) * 12
	default:
		return nil, fmt.Errorf("invalid time period unit in %q: expected ms, s, m, h, d, w, mo, q or y", s)
	}
	return p, nil
}
