package postfix

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Request is one policy delegation request: the attribute=value lines
// Postfix sends, in order. Postfix repeats no name within a request; if a
// client does, Get returns the last value (what Postfix's own attribute
// reader keeps).
type Request struct {
	Attrs []Attr
	// Garbage counts lines without '=' that were skipped.
	Garbage int
	// FirstGarbage is the 1-based line number of the first skipped line.
	FirstGarbage int
}

// Attr is one name=value line.
type Attr struct{ Name, Value string }

// Get returns the value of name, "" when absent.
func (r *Request) Get(name string) string {
	for i := len(r.Attrs) - 1; i >= 0; i-- {
		if r.Attrs[i].Name == name {
			return r.Attrs[i].Value
		}
	}
	return ""
}

// Errors of ReadRequest. ErrTooLarge and ErrLineTooLong leave the
// connection in the middle of a request: the server closes it.
var (
	ErrTooLarge    = errors.New("policy request too large")
	ErrLineTooLong = errors.New("policy request line too long")
	ErrTruncated   = errors.New("policy request truncated (connection closed before the empty line)")
)

// ReadRequest reads one request: lines up to and including an empty line.
// A line may end in "\n" or "\r\n". io.EOF is returned only when the
// connection closed cleanly between requests. maxBytes bounds the whole
// request and maxLine one line (Postfix's own line_length_limit is 2048).
func ReadRequest(br *bufio.Reader, maxBytes, maxLine int) (Request, error) {
	var req Request
	total, lineNo := 0, 0
	for {
		line, err := readLine(br, maxLine)
		lineNo++
		if err != nil {
			if err == io.EOF {
				if lineNo == 1 && len(line) == 0 {
					return req, io.EOF
				}
				return req, fmt.Errorf("line %d: %w", lineNo, ErrTruncated)
			}
			return req, fmt.Errorf("line %d: %w", lineNo, err)
		}
		total += len(line) + 1
		if total > maxBytes {
			return req, fmt.Errorf("line %d, byte %d: %w (limit %d bytes)", lineNo, total, ErrTooLarge, maxBytes)
		}
		if len(line) == 0 {
			return req, nil
		}
		i := bytes.IndexByte(line, '=')
		if i <= 0 {
			req.Garbage++
			if req.FirstGarbage == 0 {
				req.FirstGarbage = lineNo
			}
			continue
		}
		req.Attrs = append(req.Attrs, Attr{Name: string(line[:i]), Value: string(line[i+1:])})
	}
}

// readLine returns one line without its terminator. A line longer than max
// is an error; the bytes read so far are discarded.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var long []byte
	for {
		frag, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(long)+len(frag) > max {
				return nil, ErrLineTooLong
			}
			long = append(long, frag...)
			continue
		}
		if long != nil {
			frag = append(long, frag...)
		}
		if err != nil {
			if err == io.EOF {
				return frag, io.EOF
			}
			return nil, err
		}
		frag = frag[:len(frag)-1]
		if n := len(frag); n > 0 && frag[n-1] == '\r' {
			frag = frag[:n-1]
		}
		if len(frag) > max {
			return nil, ErrLineTooLong
		}
		return frag, nil
	}
}
