package scan

import (
	"strconv"
)

// Block is a batch of events with their requested fields laid out by
// column. Row i of every column belongs to the same event.
type Block struct {
	Rows int
	// MinTime and MaxTime bound @timestamp of the rows (inclusive).
	MinTime, MaxTime int64
	// Columns holds the requested fields present in the block; a field
	// absent from every row may be missing from the map.
	Columns map[string]*Column
	// MessageBytes is the total size of the rows' @message (for
	// bytesScanned statistics), whether or not @message was requested.
	MessageBytes int64

	// Load, when set, decodes a column named in Request.Lazy that the
	// backend left out of Columns. rows lists, ascending, the block rows the
	// engine will read; the returned column is indexed by block row like any
	// other, and rows not listed may hold zero values. It returns nil when
	// no listed row has the field. Like the block, it is valid only until fn
	// returns, and is called from fn's goroutine.
	Load func(name string, rows []int32) (*Column, error)
}

// Col returns the named column, or nil when no row has the field.
func (b *Block) Col(name string) *Column { return b.Columns[name] }

// Type is a column's physical representation.
type Type uint8

const (
	TypeString Type = iota + 1 // Strs
	TypeDict                   // Dict + Codes
	TypeInt                    // Ints (also JSON booleans as 1/0)
	TypeFloat                  // Floats
	TypeMixed                  // Values: rows of differing types
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeDict:
		return "dict"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeMixed:
		return "mixed"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Column is one field over the rows of a block. Exactly the slice matching
// Type is used. Rows where the field is absent have Present bit clear (a nil
// Present means every row has the field); their slot in the value slice
// holds a zero value.
type Column struct {
	Type    Type
	Present Bitmap

	Strs  []string // TypeString
	Dict  []string // TypeDict: distinct values
	Codes []uint32 // TypeDict: index into Dict per row
	// DictIPv4 is optional on TypeDict columns whose values are all IPv4
	// addresses: DictIPv4[k] is Dict[k] as a number (a.b.c.d is
	// a<<24|b<<16|c<<8|d), Dict[k] being its canonical dotted quad (no
	// leading zeros). Consumers may key on it instead of hashing text
	// (count_distinct of addresses). nil when not known.
	DictIPv4 []uint32
	Ints     []int64   // TypeInt
	Floats   []float64 // TypeFloat
	Values   []Value   // TypeMixed
}

// Has reports whether row i has the field.
func (c *Column) Has(i int) bool {
	return c != nil && (c.Present == nil || c.Present.Get(i))
}

// Value returns row i as a Value (Null when absent). It is the slow, general
// path; evaluation loops should switch on Type instead.
func (c *Column) Value(i int) Value {
	if !c.Has(i) {
		return Value{}
	}
	switch c.Type {
	case TypeString:
		return Str(c.Strs[i])
	case TypeDict:
		return Str(c.Dict[c.Codes[i]])
	case TypeInt:
		return Int(c.Ints[i])
	case TypeFloat:
		return Float(c.Floats[i])
	case TypeMixed:
		return c.Values[i]
	}
	return Value{}
}

// Bitmap is a row-presence bitmap, bit i for row i.
type Bitmap []uint64

// NewBitmap returns a cleared bitmap for n rows.
func NewBitmap(n int) Bitmap { return make(Bitmap, (n+63)/64) }

func (b Bitmap) Get(i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b Bitmap) Set(i int)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b Bitmap) Clear(i int)    { b[i>>6] &^= 1 << (uint(i) & 63) }
