// Package cloudtrail reads the files CloudTrail delivers to S3: log files,
// one gzip'd JSON object {"Records":[...]} holding records in no particular
// order, and the hourly digest files of log file integrity validation
// (formats.md §4.4, §4.5).
//
// Log files are walked in place: each record is handed out as a slice of
// the file, validated and with its eventTime found, so a log file costs one
// pass. Digests are decoded fully (they are small) so that ingest can say
// what a digest covers; checking their signatures is the trail work's job.
package cloudtrail

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"

	"github.com/mailtrail/mailtrail/internal/event"
	"github.com/mailtrail/mailtrail/internal/ingest/jsonscan"
)

// Kind is what a JSON document turned out to be.
type Kind int

const (
	OtherKind   Kind = iota // neither of the below
	LogFileKind             // {"Records":[...]}
	DigestKind              // a digest file
)

// Classify looks at the top-level keys of the JSON object doc. A digest is
// recognised by the keys validate-logs requires of it.
func Classify(doc []byte) (Kind, error) {
	var records, digest int
	_, err := jsonscan.Members(doc, 0, func(key []byte, start int) (int, error) {
		switch string(key) {
		case "Records":
			if start < len(doc) && doc[start] == '[' {
				records++
			}
		case "digestStartTime", "digestEndTime", "digestS3Object", "logFiles", "digestPublicKeyFingerprint":
			digest++
		}
		return jsonscan.Skip(doc, start)
	})
	if err != nil {
		return OtherKind, err
	}
	switch {
	case records > 0:
		return LogFileKind, nil
	case digest >= 3:
		return DigestKind, nil
	}
	return OtherKind, nil
}

// RecordFunc receives one element of the Records array: its bytes, its
// offset in the file, and the fields the scanner captured. err is non-nil
// when the element is valid JSON but not an object; the walk goes on.
type RecordFunc func(rec []byte, offset int, f *jsonscan.Fields, err error)

// Records walks the Records array of a log file, calling fn for each
// element. It stops at the first syntax error, which it returns (a
// *jsonscan.SyntaxError with the byte offset in doc): JSON offers no way to
// find the next record after a broken one. Records before it have been
// handed to fn.
func Records(doc []byte, sc *jsonscan.Scanner, fn RecordFunc) error {
	var f jsonscan.Fields
	found := false
	_, err := jsonscan.Members(doc, 0, func(key []byte, start int) (int, error) {
		if string(key) != "Records" || start >= len(doc) || doc[start] != '[' || found {
			return jsonscan.Skip(doc, start)
		}
		found = true
		return jsonscan.Elements(doc, start, func(at int) (int, error) {
			e, err := sc.Value(doc, at, &f)
			if err != nil {
				return e, err
			}
			if doc[at] != '{' {
				fn(doc[at:e], at, &f, fmt.Errorf("Records element is not a JSON object"))
			} else {
				fn(doc[at:e], at, &f, nil)
			}
			return e, nil
		})
	})
	if err == nil && !found {
		return fmt.Errorf("no Records array")
	}
	return err
}

// ParseDigest decodes a digest file into the event package's digest type
// (the one schema of the format; §4.5).
func ParseDigest(doc []byte) (*event.CloudTrailDigest, error) {
	var d event.CloudTrailDigest
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("digest file: %w", err)
	}
	return &d, nil
}

// DigestSummary is the one-line description ingest prints for a digest.
func DigestSummary(d *event.CloudTrailDigest) string {
	kind := ""
	if d.PreviousDigestSignature == nil {
		kind = " (starting digest)"
	}
	files := fmt.Sprintf("%d log files", len(d.LogFiles))
	if len(d.LogFiles) == 1 {
		files = "1 log file"
	}
	return fmt.Sprintf("CloudTrail digest file for %s to %s%s, %s referenced, not stored; validation comes with the trail work",
		d.DigestStartTime, d.DigestEndTime, kind, files)
}

// logFileName matches the name CloudTrail gives a log file:
// <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz, and the
// CloudTrail-Insight variant.
var logFileName = regexp.MustCompile(`^(\d{12}_CloudTrail(?:-Insight)?_[a-z0-9-]+)_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json(?:\.gz)?$`)

// StreamFromKey returns the log stream the CloudTrail→CloudWatch Logs
// integration would use for a log file with this key or file name
// (<account>_CloudTrail_<region>), so that files ingested from S3 land
// where a trail's live delivery would have put them.
func StreamFromKey(key string) (string, bool) {
	m := logFileName.FindStringSubmatch(path.Base(key))
	if m == nil {
		return "", false
	}
	return m[1], true
}
