package postfix

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// FuzzReadRequest feeds arbitrary bytes to the request reader: it must not
// panic, must make progress, and every attribute it returns must have a
// non-empty name without '=' or line breaks.
func FuzzReadRequest(f *testing.F) {
	if data, err := os.ReadFile("testdata/postfix-policy-requests.txt"); err == nil {
		for _, part := range strings.Split(string(data), ">>> reply:\n") {
			f.Add([]byte(part))
		}
	}
	f.Add([]byte("request=smtpd_access_policy\r\nsasl_username=a\r\n\r\n"))
	f.Add([]byte("=\n==\nx\n\n"))
	f.Add([]byte("a=b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		for i := 0; i <= len(data); i++ {
			req, err := ReadRequest(br, 512, 64)
			for _, a := range req.Attrs {
				if a.Name == "" || strings.ContainsAny(a.Name, "=\n") || strings.ContainsAny(a.Value, "\n") {
					t.Fatalf("bad attribute %q=%q", a.Name, a.Value)
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				return
			}
		}
		t.Fatal("reader made no progress")
	})
}
