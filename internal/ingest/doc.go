// Package ingest reads log files into the store: newline-delimited JSON,
// gzip'd or not (recognised by its magic bytes, never by name), CloudWatch
// Logs export files, CloudWatch Logs subscription payloads as Firehose
// writes them to S3, CloudTrail log and digest files, and WorkMail audit
// files as vended-log delivery writes them to S3. JSON pretty-printed or
// written back to back without newlines is read too.
//
// Reading and storing overlap: one goroutine reads (and gunzips) each
// input a block ahead, one fills large chunks, splits them into lines and
// validates each (the jsonscan single pass: no decode, no per-line
// allocation), and two more append the finished batches to a Sink, so one
// batch is encoded while another waits for its fsync. Events alias the
// chunk they were read into; a chunk goes back to the reader's pool only
// after the Sink has returned, which is why the Sink must copy what it
// keeps (the store does).
//
// A bad record never stops a run and is never dropped silently: it is
// counted and reported with its file and line. The event time is
// event_timestamp (epoch ms, a number or numeric string), else CloudTrail's
// eventTime (RFC 3339), else the value at Options.TimeField (ms or RFC
// 3339), else the time the record was read. CloudWatch Logs export lines
// and subscription log events carry their event's own timestamp, which is
// used as is (and a subscription event goes to its own log stream unless
// one is named).
package ingest
