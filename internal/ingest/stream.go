package ingest

import (
	"path"
	"strings"

	"github.com/mailtrail/mailtrail/internal/ingest/cloudtrail"
	"github.com/mailtrail/mailtrail/internal/ingest/cwexport"
	"github.com/mailtrail/mailtrail/internal/ingest/workmail"
)

// StdinStream is the log stream of standard input when none is named.
const StdinStream = "ingest"

// DefaultStream picks the log stream for a file when none is named, so
// that re-ingesting the same files lands in the same streams:
//   - "-" (standard input): StdinStream;
//   - a CloudTrail log file (<acct>_CloudTrail_<region>_<time>_<id>.json.gz):
//     <acct>_CloudTrail_<region>, the stream CloudTrail's own CloudWatch
//     Logs delivery uses;
//   - a WorkMail vended-log file under AWSLogs/<acct>/<logType>/...: the
//     log type, since the records do not say which audit log they are;
//   - a CloudWatch Logs export object (<task>/<stream>/000000.gz): the
//     stream it was exported from;
//   - anything else: the file's base name without .gz, .json, .jsonl,
//     .ndjson, .log or .txt.
//
// Characters a stream name may not hold (':' and '*') become '_'.
func DefaultStream(name string) string {
	if name == "-" {
		return StdinStream
	}
	slash := strings.ReplaceAll(name, `\`, "/")
	if s, ok := cloudtrail.StreamFromKey(slash); ok {
		return s
	}
	if s, ok := workmail.LogTypeFromKey(slash); ok {
		return s
	}
	if s, ok := cwexport.StreamFromKey(slash); ok {
		return sanitizeStream(s)
	}
	base := path.Base(slash)
	for {
		ext := path.Ext(base)
		switch strings.ToLower(ext) {
		case ".gz", ".json", ".jsonl", ".ndjson", ".log", ".txt":
			base = strings.TrimSuffix(base, ext)
			continue
		}
		break
	}
	if base == "" || base == "." || base == "/" {
		return StdinStream
	}
	return sanitizeStream(base)
}

func sanitizeStream(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ':' || r == '*' {
			return '_'
		}
		return r
	}, s)
	if len(s) > 512 {
		s = s[:512]
	}
	return strings.ToValidUTF8(s, "_")
}
