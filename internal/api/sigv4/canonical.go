package sigv4

import (
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
)

// requestPath returns the path exactly as the client sent it (still
// percent-encoded), because the signature covers the encoded form: "/a%2Fb"
// and "/a/b" are different canonical URIs.
func requestPath(r *http.Request) string {
	if ru := r.RequestURI; strings.HasPrefix(ru, "/") {
		if i := strings.IndexByte(ru, '?'); i >= 0 {
			ru = ru[:i]
		}
		return ru
	}
	if r.URL == nil {
		return "/"
	}
	if op := r.URL.Opaque; op != "" {
		// "//host/path" opaque form, as some clients build it.
		op, _, _ = strings.Cut(op, "?")
		op = strings.TrimPrefix(op, "//")
		if i := strings.IndexByte(op, '/'); i >= 0 {
			return op[i:]
		}
		return "/"
	}
	p := r.URL.EscapedPath()
	if p == "" {
		return "/"
	}
	return p
}

// requestRawQuery returns the query string as sent.
func requestRawQuery(r *http.Request) string {
	if ru := r.RequestURI; strings.HasPrefix(ru, "/") {
		_, q, _ := strings.Cut(ru, "?")
		return q
	}
	if r.URL == nil {
		return ""
	}
	return r.URL.RawQuery
}

// unreserved reports the RFC 3986 unreserved set SigV4 leaves unescaped.
func unreserved(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' ||
		b == '-' || b == '.' || b == '_' || b == '~'
}

const upperHex = "0123456789ABCDEF"

// appendEscape percent-encodes s the SigV4 way (uppercase hex, space as %20),
// leaving '/' alone when keepSlash.
func appendEscape(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if unreserved(b) || (keepSlash && b == '/') {
			dst = append(dst, b)
			continue
		}
		dst = append(dst, '%', upperHex[b>>4], upperHex[b&15])
	}
	return dst
}

// unescape decodes %XX sequences; with plusSpace, '+' becomes ' ' (form
// encoding). Malformed escapes are kept literally rather than rejected: the
// client signed whatever bytes it meant, and the signature check decides.
func unescape(s string, plusSpace bool) string {
	if strings.IndexByte(s, '%') < 0 && (!plusSpace || strings.IndexByte(s, '+') < 0) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && plusSpace:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func ishex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// canonicalPath builds the canonical URI from the path as sent.
//
// Every AWS service except S3 signs the already-encoded path encoded once
// more ("double encoding": botocore quotes urlsplit(url).path, the Go SDK
// escapes URL.EscapedPath()); S3 signs it encoded once. With normalize,
// "." and ".." segments and empty segments are removed first, as botocore
// does before signing (the Go SDK does not, hence the verifier tries both).
func canonicalPath(dst []byte, sent string, singleEncode, normalize bool) []byte {
	if sent == "" {
		sent = "/"
	}
	if normalize {
		sent = normalizePath(sent)
	}
	if singleEncode {
		return appendEscape(dst, unescape(sent, false), true)
	}
	return appendEscape(dst, sent, true)
}

// normalizePath removes dot segments and repeated slashes, keeping a leading
// and trailing slash (RFC 3986 5.2.4 plus AWS's collapse of "//").
func normalizePath(p string) string {
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	res := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		res += "/"
	}
	return res
}

type queryParam struct{ key, value string }

// parseQuery splits a raw query into decoded pairs, keeping repeats and
// empty values ("a&b=" gives a="" and b="").
func parseQuery(raw string, plusSpace bool) []queryParam {
	if raw == "" {
		return nil
	}
	var out []queryParam
	for seg := range strings.SplitSeq(raw, "&") {
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		out = append(out, queryParam{unescape(k, plusSpace), unescape(v, plusSpace)})
	}
	return out
}

// canonicalQuery encodes every pair strictly, sorts after encoding (the
// SigV4 rule: "a%2Fb" sorts before "a-b") and joins them. skipSignature drops
// X-Amz-Signature, which a presigned URL cannot sign over itself.
func canonicalQuery(dst []byte, params []queryParam, skipSignature bool) []byte {
	if len(params) == 0 {
		return dst
	}
	enc := make([]queryParam, 0, len(params))
	var buf []byte
	for _, p := range params {
		if skipSignature && p.key == "X-Amz-Signature" {
			continue
		}
		buf = appendEscape(buf[:0], p.key, false)
		k := string(buf)
		buf = appendEscape(buf[:0], p.value, false)
		enc = append(enc, queryParam{k, string(buf)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	for i, p := range enc {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.key...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst
}

// commonHeaderKeys maps the names SDKs sign to their canonical MIME form,
// sparing an allocation per signed header on the hot path.
var commonHeaderKeys = map[string]string{
	"content-type":          "Content-Type",
	"content-encoding":      "Content-Encoding",
	"content-md5":           "Content-Md5",
	"x-amz-date":            "X-Amz-Date",
	"x-amz-target":          "X-Amz-Target",
	"x-amz-content-sha256":  "X-Amz-Content-Sha256",
	"x-amz-security-token":  "X-Amz-Security-Token",
	"x-amz-user-agent":      "X-Amz-User-Agent",
	"x-amz-json-version":    "X-Amz-Json-Version",
	"amz-sdk-invocation-id": "Amz-Sdk-Invocation-Id",
	"amz-sdk-request":       "Amz-Sdk-Request",
	"accept":                "Accept",
	"accept-encoding":       "Accept-Encoding",
	"user-agent":            "User-Agent",
	"date":                  "Date",
}

// headerValues returns the values of a signed header as the client saw them.
// Go's server lifts some headers out of r.Header (Host into r.Host,
// Transfer-Encoding into r.TransferEncoding), so those are read back from
// where they went.
func headerValues(r *http.Request, lname string) ([]string, bool) {
	switch lname {
	case "host", ":authority":
		h := r.Host
		if h == "" && r.URL != nil {
			h = r.URL.Host
		}
		return []string{h}, h != ""
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}, true
		}
	case "content-length":
		if v, ok := r.Header["Content-Length"]; ok {
			return v, true
		}
		// A client-side request (tests, proxies) carries the length only in
		// the field.
		if r.ContentLength > 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}, true
		}
		return nil, false
	}
	key, known := commonHeaderKeys[lname]
	if !known {
		key = textproto.CanonicalMIMEHeaderKey(lname)
	}
	if v, ok := r.Header[key]; ok {
		return v, true
	}
	// Names Go could not canonicalise are stored as sent.
	for k, v := range r.Header {
		if strings.EqualFold(k, lname) {
			return v, true
		}
	}
	return nil, false
}

// appendHeaderValue writes one value trimmed of leading and trailing
// whitespace with inner runs of spaces collapsed to one, as the SigV4 spec
// and the Go SDK do.
func appendHeaderValue(dst []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}
