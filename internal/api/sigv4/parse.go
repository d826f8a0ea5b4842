package sigv4

import (
	"strings"
)

// Algorithm is the only signing algorithm accepted. SigV4a
// (AWS4-ECDSA-P256-SHA256) is refused as unsupported.
const Algorithm = "AWS4-HMAC-SHA256"

const scopeTerminator = "aws4_request"

// authHeader is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." header.
type authHeader struct {
	Credential    string // raw "AKID/date/region/service/aws4_request"
	SignedHeaders string // raw "a;b;c"
	Signature     string
}

// parseAuthorization splits an Authorization header. dateMissing only shapes
// the error text, because AWS reports a missing date header in the same
// sentence list as missing components.
func parseAuthorization(h string, dateMissing bool) (authHeader, *Error) {
	var a authHeader
	alg, rest, _ := strings.Cut(strings.TrimLeft(h, " \t"), " ")
	if alg != Algorithm {
		if strings.HasPrefix(alg, "AWS4-") {
			// [inferred] AWS's text for SigV4a or an unknown AWS4 variant is not recorded.
			return a, newError(CodeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", alg)
		}
		// Anything else (a bearer token, SigV2 "AWS key:sig", garbage): AWS
		// answers with the list of everything it could not find.
		return a, errAuthRequires([]string{"Credential", "Signature", "SignedHeaders"}, dateMissing, h)
	}
	var haveCred, haveSH, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return a, newError(CodeIncompleteSignature, "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", part, h)
		}
		// First occurrence wins: a repeated component cannot override what an
		// intermediary may already have inspected.
		switch k {
		case "Credential":
			if !haveCred {
				a.Credential, haveCred = v, true
			}
		case "SignedHeaders":
			if !haveSH {
				a.SignedHeaders, haveSH = v, true
			}
		case "Signature":
			if !haveSig {
				a.Signature, haveSig = v, true
			}
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Credential")
	}
	if !haveSig {
		missing = append(missing, "Signature")
	}
	if !haveSH {
		missing = append(missing, "SignedHeaders")
	}
	if len(missing) > 0 || dateMissing {
		return a, errAuthRequires(missing, dateMissing, h)
	}
	return a, nil
}

// scope is a parsed credential "AKID/20261122/us-east-1/logs/aws4_request".
type scope struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
	Terminator  string
}

// String is the credential scope without the key id, as used in the
// string-to-sign.
func (s scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + s.Terminator
}

func parseCredential(c string) (scope, *Error) {
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return scope{}, newError(CodeIncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", c)
	}
	return scope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3], Terminator: parts[4]}, nil
}

// validRegion accepts any region-shaped name (lower-case letters, digits and
// '-'), since mailtrail serves every region; it only rejects names that could
// not be a region at all.
func validRegion(r string) bool {
	if r == "" || len(r) > 64 {
		return false
	}
	for i := 0; i < len(r); i++ {
		b := r[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// splitSignedHeaders lower-cases and splits "content-type;host;x-amz-date".
// AWS lower-cases names itself, so a client that sent "Host" still matches.
func splitSignedHeaders(s string) ([]string, bool) {
	if s == "" {
		return nil, false
	}
	names := strings.Split(strings.ToLower(s), ";")
	for _, n := range names {
		if n == "" {
			return nil, false
		}
	}
	return names, true
}
