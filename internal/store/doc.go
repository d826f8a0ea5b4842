// Package store is mailtrail's embedded log store: CloudWatch-Logs-shaped
// accounts, log groups, log streams and events, kept durable in a
// write-ahead log and compacted into immutable, compressed, columnar segment
// files that the query engine scans through scan.Source.
//
// # Write path
//
// Append validates a batch, encodes it as one WAL frame (CRC-32C
// checksummed, optionally S2-compressed) outside any lock, then, under the
// store mutex,
// stamps sequence numbers, queues the frame for the WAL writer and inserts
// the events into the active memtable. A single writer goroutine writes all
// queued frames and fsyncs once per round, so concurrent Append callers share
// one fsync (group commit). Append returns only after the fsync covering its
// frame succeeded.
//
// When the memtable is large or old the writer swaps it, in the same critical
// section in which it takes the queued frames, and starts a new WAL file. So
// a WAL file holds exactly the events of the memtables before the swap, and
// once those are in segments (and the manifest says so) the file is deleted.
// Up to Options.MaxFrozen frozen memtables are encoded at the same time by
// one shared, bounded pool of block builders, and installed in the order
// they were frozen, because installing one retires its WAL file.
//
// AppendDeferred is the bulk-load variant: no WAL frame is written, the
// events go into the active memtable, and the caller's done callback runs
// once the memtable holding them is in fsynced segments listed in a durable
// manifest (Sync forces that). Nothing is acknowledged before it is durable,
// so a crash can only lose events nobody was told were stored.
//
// # Segments
//
// The flusher sorts each frozen memtable by log group and UTC day, then by
// time, and writes one segment per (group, day): blocks of up to
// Options.BlockRows events (default 131,072; big blocks amortise the
// dictionaries) whose JSON messages are flattened with
// scan.Flattener into typed columns (dictionary, UUID, string, int, float,
// mixed), each column chunk zstd-compressed and checksummed. A message is not
// stored a second time when it can be rebuilt byte for byte from its columns
// and a per-block "shape" (the bytes between its leaves); that is checked at
// ingest, and messages that cannot be rebuilt are stored whole. The file
// formats are specified in internal/store/doc/.
//
// # Lifecycle
//
// A background goroutine merges small segments of the same (group, day),
// rewrites segments that hold rows of deleted streams, and drops segments
// that have passed their group's retention. Segment files are reference
// counted so scans keep reading files that a merge has replaced.
//
// # Reading
//
// Store implements scan.Source. Scan prunes segments and blocks by time
// range and by the pushed-down hints (numeric min/max, small dictionaries,
// Bloom filters over string values), then drops the rows of a block that
// certainly fail a hint (cheap dictionary and numeric hints first; later
// hint columns are decoded only at the rows still kept), decodes only the
// requested columns, and produces the system fields on request. Integer
// and dictionary hint columns are filtered while their chunk is read: the
// hint is judged once per dictionary value (or eight one-byte integers at
// a time), and only the passing rows' values are kept, so a selective
// filter over millions of rows builds no per-row array of the column.
// Dictionary-encoded columns reach the engine as scan.TypeDict.
//
// Columns the engine names in scan.Request.Lazy (@message, @ptr,
// output-only fields) are left out of the block and decoded by Block.Load
// for just the rows the engine asks for: rebuilding @message needs the
// columns its shapes print, so doing it for the few rows a query returns
// rather than for every row is what keeps such queries cheap. Over a subset
// of rows, dictionary columns read each row's code by rank and build only
// the dictionary values in use.
//
// Blocks go to the workers newest first when the request asks
// (scan.Request.Descending, for top-k on @timestamp). @timestamp is decoded
// only when a hint, the engine or a time range that cuts the block needs
// it, and per-row arrays come from a per-worker arena reused block to
// block, as the scan contract allows. Blocks ruled out from metadata are
// reported through Request.Skipped, rows dropped by hints inside blocks
// read through Request.Filtered, so the engine's statistics stay whole.
//
// Unflushed events are read through columnar images of the memtable built
// on demand.
//
// # Ingest throughput
//
// Append returns after an fsync, so a single caller spends part of its time
// waiting for the disk. Callers that care about throughput should append
// from two or more goroutines: group commit makes concurrent callers share
// fsyncs, and flushing runs on the other cores meanwhile. Bulk loaders that
// can wait for acknowledgement (mailtrail ingest) should use AppendDeferred:
// it skips writing every event twice (WAL, then segment) and the frame
// encoding, which roughly halves the bytes written.
package store
