// Package query implements the CloudWatch Logs Insights query language
// (queryLanguage CWLI): a hand-written lexer and recursive-descent parser
// with positioned errors, a planner, and an executor that evaluates the
// pipeline on the column blocks of a scan.Source.
//
// # API
//
//	q, err := query.Parse(text)            // err is *ParseError{Line, Col, StartOffset, EndOffset, Msg}
//	res, err := query.Run(ctx, src, q, query.Options{Groups: ..., Start: ..., End: ...})
//	res.Rows                               // [][]Field{Name, Value}; missing fields omitted, @ptr last
//	res.Stats                              // RecordsMatched, RecordsScanned, BytesScanned
//	q.Source                               // groups / prefixes / START / END of a leading SOURCE command
//
// StartQuery's startTime and endTime are inclusive epoch seconds; a server
// passes Options{Start: startTime*1000, End: endTime*1000 + 1000} (End is
// exclusive) and StartQuery's limit as Options.Limit. A query whose SOURCE
// command names prefixes or classes needs the server to expand them into
// Options.Groups.
//
// While it runs, a query reports Options.Progress(Stats) every 64 blocks
// and, when Options.Partial is set, the rows a client would see if it
// stopped now, at most every Options.PartialEvery (200 ms): what
// GetQueryResults returns with status Running.
//
// # Execution
//
// The planner binds every field name to a slot and splits the pipeline in
// three. The leading per-record commands (filter, fields, display, parse,
// unnest) run in the scan workers on column blocks: filters are split at
// top-level "and" and the conjuncts run cheapest first (presence, integer
// comparisons, other one-field tests, like/regex, then the rest), each
// decoding its lazy columns only for the rows still selected; a conjunct
// that reads one source field is evaluated once
// per dictionary entry of a dictionary-coded column, with typed loops on
// integer columns, and only per row otherwise. Then comes the pivot: stats
// aggregate into per-worker hash tables (keyed on dictionary codes or on
// the bin() bucket when possible) that are merged at the end. A string
// column is mapped once per block to local codes through a small hash
// table (maphash, exact string comparison), so grouping on it and
// count_distinct of it look up the worker's global tables once per
// distinct value of the block, reusing that hash, not once per row;
// count_distinct keeps per-group sets of interned ids and is exact
// (partial results merge the workers' sets by 64-bit hash instead, where
// a collision would undercount by one). When every aggregate is a
// count_distinct of a string field grouped by one string field, a block's
// (key, value) pairs are deduplicated in a block-local table, mapped to
// the worker's ids, and buffered; the buffer goes into the groups' sets in
// batches ordered by group, so each set is touched once per batch (the
// block dedupe is a counting sort by key code with per-value stamps; an
// address column whose source gives scan.Column.DictIPv4 is interned by
// number, not by text). A sort keeps
// per-worker top-k heaps when a limit (or the default 10,000 rows) follows;
// for @timestamp descending (the default order) the source is asked for
// blocks newest first and the workers share the k newest matched
// timestamps, so older rows and blocks are only counted (topk.go), also
// with partial results on. Kept rows are copied out of the block (from one
// slab per block while the heap fills); a single integer key is compared
// directly and the workers' rows are merged by a radix sort on it (else a
// comparison sort), in cmpKeys order with @ptr and then the worker order
// breaking ties; the remaining commands run on the merged rows. Only the columns the query
// reads are requested, leading equality/substring/presence/range filters
// are passed to the source as scan.Hints so it can skip blocks, and the time
// range prunes blocks before any row is read. Rows and groups held by a
// query are charged against Options.MemoryLimit; passing it stops the query
// with ErrMemoryLimit. Cancellation is through the context: Run returns
// its error (context.Canceled for StopQuery or Ctrl-C) within cancelEvery
// rows of expression work per worker, inside a block as well as between
// blocks, and before the workers' states are merged.
//
// # Semantics
//
// As specified in A.2/A.7 of the Insights spec: JSON booleans are the
// numbers 1 and 0; comparisons are numeric when both sides are numbers or
// one is a number and the other a string that reads as one, otherwise
// byte-wise on the rendered strings; like "x" is a case-sensitive substring
// test; regexes (RE2) are unanchored; comparisons with a missing field are
// false; every result value is a string; @timestamp renders as
// YYYY-MM-DD HH:MM:SS.mmm UTC; non-stats queries are ordered @timestamp desc
// unless sorted, and results are capped at 10,000 rows (Options.Limit).
//
// Choices where the spec is inferred (each one is covered by testdata):
//
//   - `!=`, `not in`, `not like` are false when the field is missing; `not
//     (x = "a")` is true for it (the negation of a false comparison).
//   - filter keeps a record when its expression is true or a non-zero
//     number (so `filter isempty(x)` works); strings and null are false.
//   - Arithmetic on a non-number, and division or modulo by zero, is null.
//     Integer arithmetic stays integral except for `/` and `^`.
//   - A bare `true`/`false` is a field name (absent), so `= false` matches
//     nothing; compare booleans with 1/0.
//   - A filter that follows stats but reads none of the stats outputs is
//     applied to the records before the stats (the AWS WorkMail blog's
//     `stats count(*) as c by event.recipient | filter event.eventName =
//     "MAILBOX_EMAIL_DELIVERED"` then counts per recipient).
//   - Without sort, stats rows are ordered newest bucket first when the
//     first group key is bin(), otherwise by the group keys ascending.
//     Groups whose key is missing are kept, with the key left out of the row.
//   - sort: default direction desc; missing values last either way;
//     numbers before strings; ties are broken by @ptr so results are
//     deterministic. A limit without sort keeps the newest records.
//   - Several fields commands accumulate their columns; the last display
//     wins; after stats only its outputs (group keys first) exist.
//     Unaliased expressions are named by their source text.
//   - parse "glob": the text before the first * is searched anywhere, each
//   - is lazy up to the next constant, a final * takes the rest. parse
//     without a field reads @message. When the pattern does not match, the
//     names are null and the record is kept.
//   - min/max compare numerically when every value is a number or a string
//     that reads as one, otherwise as strings; pct is nearest-rank; stddev
//     is the sample deviation (0 for one value); count_distinct is exact.
//   - concat treats missing arguments as ""; other functions return null
//     for missing input; isIpv4InSubnet does not accept IPv4-mapped IPv6.
//   - Time periods: ms s m h d w align to the Unix epoch; mo q y to UTC
//     calendar months, quarters and years.
//   - A bare URL after a comparison (`referrer= http://host/`, an AWS
//     sample) is read as a string literal.
//   - filterIndex is filter; unmask (function and command) is the identity
//     since nothing is masked. pattern, diff, anomaly, lookup, join,
//     addtotals and estimate are rejected by name.
//   - SOURCE "group" START=ms END=ms (the form AWS rewrites queries into)
//     is accepted, END inclusive; Options.Start/End override it.
//   - bytesScanned is the message bytes plus 26 per record of the blocks
//     read; recordsScanned counts records in the time range of the blocks
//     read, including rows the source dropped inside them through hints
//     (scan.Request.Filtered). Blocks a source skips whole from their
//     metadata are not counted; they are estimatedRecordsSkipped and
//     estimatedBytesSkipped (scan.Request.Skipped), so scanned + skipped
//     is every record of the time range.
package query
