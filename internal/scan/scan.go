package scan

import (
	"context"
	"math"
)

// Source is a set of log events that can be scanned by column.
type Source interface {
	// Scan calls fn for every block that may hold events of req.Groups with
	// req.Start <= @timestamp < req.End. It runs up to req.Workers calls of fn
	// at once, each with a distinct worker index in [0, Workers), so callers
	// can keep per-worker state without locks. Blocks come in no particular
	// order. A Block and its columns are valid only until fn returns: the
	// source may reuse their memory.
	//
	// The source may skip a block only when no row in it can satisfy all of
	// req.Hints; it is never required to filter rows, and blocks may hold
	// rows outside the time range or failing the hints (the engine
	// re-checks). If fn returns an error, or ctx is done, Scan stops and
	// returns that error.
	Scan(ctx context.Context, req *Request, fn func(worker int, b *Block) error) error

	// Fields lists the fields present in events of the groups and time
	// range, with how many events carry each (field discovery).
	Fields(ctx context.Context, account string, groups []string, start, end int64) ([]FieldInfo, error)
}

// Request describes one scan.
type Request struct {
	Account string   // owner of the groups; backends without accounts ignore it
	Groups  []string // log group names; each must exist (else the backend errors)
	Start   int64    // inclusive, epoch ms; use MinTime for unbounded
	End     int64    // exclusive, epoch ms; use MaxTime for unbounded

	// Columns names the fields wanted, system fields included. AllColumns
	// asks for every field present in each block (queries that display
	// whole records); the backend then adds all discovered fields and the
	// system fields to each block.
	Columns    []string
	AllColumns bool

	// Hints are predicates the backend may use to skip blocks (time, min/max,
	// bloom filters, dictionaries). They are ANDed.
	Hints []Hint

	// Workers bounds parallel calls of fn; 0 means 1.
	Workers int

	// Lazy lists columns of Columns that the engine may read for only some
	// rows of a block (those left after its filters, or entering a top-k),
	// so decoding them for every row is waste (@message, @ptr, output-only
	// fields). A backend may leave these out of Block.Columns and decode
	// them on demand through Block.Load; a backend that ignores Lazy simply
	// returns them with the other columns.
	Lazy []string

	// Descending asks for blocks newest first: in descending order of
	// MaxTime, as far as parallel workers allow. A top-k on @timestamp
	// descending (the default order of queries) then holds its final rows
	// after the first blocks and only filters the rest. Sources may ignore
	// it: results are the same, only slower.
	Descending bool

	// Skipped, when set, is told the records and bytes (message bytes plus
	// 26 per record, as bytesScanned counts them) of blocks in the time
	// range that the hints let the source leave unread: CloudWatch's
	// estimatedRecordsSkipped and estimatedBytesSkipped. Sources that skip
	// nothing, or cannot say, never call it. It may be called more than
	// once, before fn sees any block.
	Skipped func(records, bytes int64)

	// Filtered, when set, is told the records and bytes of rows the source
	// read and then dropped because they certainly fail a hint (a source
	// may filter rows, see Block): they were scanned, so they belong in
	// recordsScanned and bytesScanned, but fn never sees them. Rows of a
	// block that straddles the time range are counted by the in-range
	// share of its time span (an estimate, like bytesScanned's share). It
	// is called from the workers, concurrently.
	Filtered func(records, bytes int64)
}

// Unbounded time-range ends.
const (
	MinTime int64 = math.MinInt64
	MaxTime int64 = math.MaxInt64
)

// HintOp is a kind of block-skipping predicate.
type HintOp uint8

const (
	// HintEq: the field equals Str (compared as a string) or, when IsNum,
	// the number Num, with Insights coercion (a string column value that
	// parses as the number matches too).
	HintEq HintOp = iota + 1
	// HintIn: the field equals one of Set (strings; numbers in canonical
	// form).
	HintIn
	// HintContains: the field's string form contains Str (case-sensitive).
	HintContains
	// HintPresent: the field is present.
	HintPresent
	// HintRange: the field is a number in [Lo, Hi] (either end may be ±Inf).
	HintRange
)

// Hint is one block-skipping predicate on a field.
type Hint struct {
	Op     HintOp
	Field  string
	Str    string
	Num    float64
	IsNum  bool
	Set    []string
	Lo, Hi float64
}

// FieldInfo describes one discovered field.
type FieldInfo struct {
	Name  string
	Type  Type  // the field's type; TypeMixed when records disagree
	Count int64 // events that carry the field
}
