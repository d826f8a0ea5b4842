// Package scan is the narrow contract between the query engine and the
// storage backends that feed it.
//
// A backend (the embedded store, an in-memory set of records, later an
// object-store archive or an external engine) implements Source. The query
// engine asks for the blocks of some log groups over a time range, naming
// only the columns it needs, and evaluates its pipeline on the column blocks
// it gets back. Neither side knows anything else about the other.
//
// Field naming follows CloudWatch Logs Insights automatic discovery: a JSON
// object message is flattened to its leaves, named by dotted paths, with
// array indexes as path segments (Flatten does exactly that, and every
// backend uses it so the names agree). JSON booleans become the numbers 1
// and 0; JSON null is an absent field.
//
// System fields are columns like any other and are produced by the backend
// on request: @timestamp and @ingestionTime (Int, epoch ms), @message
// (String, byte-for-byte as ingested), @logStream and @log (String; @log is
// "<account>:<group>"), @ptr (String, opaque, accepted by the backend's
// record lookup).
package scan
