// Package cwexport reads the files a CloudWatch Logs export task
// (CreateExportTask, `aws logs create-export-task`) writes to S3: gzip'd
// text, one log event per line as "<ISO 8601 timestamp> <message>", under
// keys <prefix>/<task id>/<log stream>/000000.gz.
package cwexport

import (
	"bytes"
	"errors"
	"path"
	"strings"

	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

// ParseLine splits an export line into the event's timestamp (epoch ms)
// and its message. The message is whatever the log group held: usually a
// JSON record, but CloudWatch Logs accepts any text, so it is not checked
// here.
func ParseLine(line []byte) (ts int64, msg []byte, err error) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return 0, nil, errors.New("export line has no space after the timestamp")
	}
	ts, ok := jsonscan.ParseRFC3339(line[:sp])
	if !ok {
		return 0, nil, errors.New("export line does not start with an ISO 8601 timestamp")
	}
	msg = line[sp+1:]
	if len(msg) == 0 {
		return 0, nil, errors.New("export line has an empty message")
	}
	return ts, msg, nil
}

// LooksLike reports whether line has the export shape, for format
// detection: a timestamp like 2024-05-01T12:00:00.000Z and a space.
func LooksLike(line []byte) bool {
	_, _, err := ParseLine(line)
	return err == nil
}

// StreamFromKey returns the log stream an exported object came from: the
// export writes <prefix>/<task id>/<stream>/<NNNNNN>.gz, so the stream is
// the directory holding a file named by digits only.
func StreamFromKey(key string) (string, bool) {
	base := path.Base(key)
	base = strings.TrimSuffix(base, ".gz")
	if base == "" || strings.Trim(base, "0123456789") != "" {
		return "", false
	}
	dir := path.Base(path.Dir(key))
	if dir == "." || dir == "/" || dir == "" {
		return "", false
	}
	return dir, true
}
