package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for Options.
const (
	DefaultMaxSkew      = 15 * time.Minute
	DefaultMaxBodyBytes = 32 << 20
	// MaxPresignExpiry is AWS's upper bound for X-Amz-Expires (one week).
	MaxPresignExpiry = 7 * 24 * time.Hour
)

// UnsignedPayload is the X-Amz-Content-Sha256 value that leaves the body out
// of the signature.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// emptySHA256 is the payload hash of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Options configure a Verifier. The zero value serves "logs" with a 15-minute
// clock-skew window.
type Options struct {
	// Services are the signing names the server answers to (the service part
	// of the credential scope), e.g. "logs" and "workmail". Default: "logs".
	Services []string
	// MaxSkew is how far the signing time may be from the server clock, either
	// way. 0 means DefaultMaxSkew; negative disables the check (replaying
	// captured requests in tests).
	MaxSkew time.Duration
	// Now is the server clock; default time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds how much body Verify reads to hash it. 0 means
	// DefaultMaxBodyBytes; negative means no limit.
	MaxBodyBytes int64
	// SingleEncodePath signs the path encoded once, as S3 does. JSON services
	// (the default) sign it encoded twice.
	SingleEncodePath bool
	// RejectUnsignedPayload refuses X-Amz-Content-Sha256: UNSIGNED-PAYLOAD on
	// header-signed requests, so every accepted body is covered by the
	// signature.
	RejectUnsignedPayload bool
}

// Identity is who signed an accepted request.
type Identity struct {
	AccessKeyID string
	AccountID   string
	// Region and Service come from the credential scope; Region is what ARNs
	// built for this caller should name.
	Region  string
	Service string
	// SignedAt is the signing time (X-Amz-Date or Date).
	SignedAt time.Time
	// Presigned is true for query-string (presigned URL) authentication.
	Presigned bool
	// UnsignedPayload is true when the body was not covered by the signature.
	UnsignedPayload bool
}

// Verifier checks SigV4 signatures against a Credentials store. It is safe
// for concurrent use.
type Verifier struct {
	creds    *Credentials
	services []string
	skew     time.Duration
	now      func() time.Time
	maxBody  int64
	single   bool
	noUnsig  bool
	keys     keyCache
	bufs     sync.Pool
}

// NewVerifier returns a Verifier for creds.
func NewVerifier(creds *Credentials, opts Options) *Verifier {
	v := &Verifier{
		creds:    creds,
		services: append([]string(nil), opts.Services...),
		skew:     opts.MaxSkew,
		now:      opts.Now,
		maxBody:  opts.MaxBodyBytes,
		single:   opts.SingleEncodePath,
		noUnsig:  opts.RejectUnsignedPayload,
	}
	if len(v.services) == 0 {
		v.services = []string{"logs"}
	}
	if v.skew == 0 {
		v.skew = DefaultMaxSkew
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.maxBody == 0 {
		v.maxBody = DefaultMaxBodyBytes
	}
	v.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	return v
}

// Verify authenticates r. When the payload hash is needed it reads r.Body
// completely and replaces it with an in-memory reader holding the same bytes,
// so the handler can still read it. The error, if any, is an *Error.
func (v *Verifier) Verify(r *http.Request) (Identity, error) {
	id, err := v.verify(r, nil, false)
	if err != nil {
		return Identity{}, err
	}
	return id, nil
}

// VerifyBody is Verify for a caller that has already read the body; r.Body is
// not touched.
func (v *Verifier) VerifyBody(r *http.Request, body []byte) (Identity, error) {
	id, err := v.verify(r, body, true)
	if err != nil {
		return Identity{}, err
	}
	return id, nil
}

// verify returns *Error rather than error so callers never see a typed nil.
func (v *Verifier) verify(r *http.Request, body []byte, haveBody bool) (Identity, *Error) {
	rawQuery := requestRawQuery(r)
	var params []queryParam
	presigned := false
	if rawQuery != "" {
		params = parseQuery(rawQuery, true)
		for _, p := range params {
			if p.key == "X-Amz-Algorithm" || p.key == "X-Amz-Signature" || p.key == "X-Amz-Credential" {
				presigned = true
				break
			}
		}
	}
	authz, hasAuthz := r.Header["Authorization"]
	if hasAuthz && presigned {
		// S3's wording; JSON services do not document the case [inferred].
		return Identity{}, newError(CodeIncompleteSignature,
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	}
	st := state{v: v, r: r, body: body, haveBody: haveBody, rawQuery: rawQuery, params: params}
	switch {
	case presigned:
		return st.presigned()
	case hasAuthz && len(authz) > 0 && authz[0] != "":
		return st.header(authz[0])
	default:
		return Identity{}, errMissingToken()
	}
}

// state carries one verification.
type state struct {
	v        *Verifier
	r        *http.Request
	body     []byte
	haveBody bool
	bodyHash string
	rawQuery string
	params   []queryParam

	sc        scope
	signedAt  time.Time
	amzDate   string // the signing time exactly as sent in X-Amz-Date form
	signed    []string
	signature string
	secret    string
}

func (st *state) header(authz string) (Identity, *Error) {
	h := st.r.Header
	xDate := firstHeader(h, "X-Amz-Date")
	httpDate := firstHeader(h, "Date")
	a, err := parseAuthorization(authz, xDate == "" && httpDate == "")
	if err != nil {
		return Identity{}, err
	}
	if st.sc, err = parseCredential(a.Credential); err != nil {
		return Identity{}, err
	}
	if xDate != "" {
		t, perr := time.Parse(amzDateLayout, xDate)
		if perr != nil {
			return Identity{}, errBadDate(xDate)
		}
		st.signedAt, st.amzDate = t, xDate
	} else {
		t, perr := http.ParseTime(httpDate)
		if perr != nil {
			return Identity{}, errBadDate(httpDate) // [inferred] for the Date header
		}
		st.signedAt, st.amzDate = t.UTC(), amzDate(t)
	}
	if err := st.checkScope(); err != nil {
		return Identity{}, err
	}
	if err := st.checkSkew(); err != nil {
		return Identity{}, err
	}
	names, ok := splitSignedHeaders(a.SignedHeaders)
	if !ok {
		return Identity{}, newError(CodeIncompleteSignature, "SignedHeaders '%s' is not a ';'-separated list of header names.", a.SignedHeaders) // [inferred]
	}
	st.signed, st.signature = names, a.Signature
	if err := st.checkSignedHeaders(); err != nil {
		return Identity{}, err
	}
	if err := st.lookupKey(); err != nil {
		return Identity{}, err
	}

	claimed := firstHeader(h, "X-Amz-Content-Sha256")
	payload, unsigned, err := st.payloadHash(claimed)
	if err != nil {
		return Identity{}, err
	}
	if unsigned && st.v.noUnsig {
		return Identity{}, newError(CodeInvalidSignature, "This service requires a signed payload; X-Amz-Content-Sha256: UNSIGNED-PAYLOAD is not accepted.") // [inferred]
	}
	if err := st.compare([]string{payload}, false); err != nil {
		return Identity{}, err
	}
	return st.identity(false, unsigned), nil
}

func (st *state) presigned() (Identity, *Error) {
	get := func(k string) (string, bool) {
		for _, p := range st.params {
			if p.key == k {
				return p.value, true
			}
		}
		return "", false
	}
	var missing []string
	alg, okAlg := get("X-Amz-Algorithm")
	cred, okCred := get("X-Amz-Credential")
	sig, okSig := get("X-Amz-Signature")
	sh, okSH := get("X-Amz-SignedHeaders")
	date, okDate := get("X-Amz-Date")
	for _, m := range []struct {
		name string
		ok   bool
	}{{"X-Amz-Algorithm", okAlg}, {"X-Amz-Credential", okCred}, {"X-Amz-Signature", okSig}, {"X-Amz-SignedHeaders", okSH}, {"X-Amz-Date", okDate}} {
		if !m.ok {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return Identity{}, errQueryRequires(missing)
	}
	if alg != Algorithm {
		return Identity{}, newError(CodeIncompleteSignature, "X-Amz-Algorithm only supports \"%s\"", Algorithm) // S3's text [inferred]
	}
	var err *Error
	if st.sc, err = parseCredential(cred); err != nil {
		return Identity{}, err
	}
	t, perr := time.Parse(amzDateLayout, date)
	if perr != nil {
		return Identity{}, errBadDate(date)
	}
	st.signedAt, st.amzDate = t, date

	// X-Amz-Expires is optional for non-S3 services; without it the URL is
	// good for the clock-skew window, like a header-signed request.
	expires := st.v.skew
	if expires < 0 {
		expires = DefaultMaxSkew
	}
	if e, ok := get("X-Amz-Expires"); ok {
		n, perr := strconv.ParseInt(e, 10, 64)
		switch {
		case perr != nil:
			return Identity{}, newError(CodeIncompleteSignature, "X-Amz-Expires should be a number") // S3's texts [inferred]
		case n < 0:
			return Identity{}, newError(CodeIncompleteSignature, "X-Amz-Expires must be non-negative")
		case n > int64(MaxPresignExpiry/time.Second):
			return Identity{}, newError(CodeIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		expires = time.Duration(n) * time.Second
	}
	if err := st.checkScope(); err != nil {
		return Identity{}, err
	}
	now := st.v.now().UTC()
	if st.v.skew > 0 && st.signedAt.After(now.Add(st.v.skew)) {
		return Identity{}, errSkew(st.signedAt, now, st.v.skew)
	}
	if now.After(st.signedAt.Add(expires)) {
		return Identity{}, errPresignExpired(st.signedAt, now, expires)
	}
	names, ok := splitSignedHeaders(sh)
	if !ok {
		return Identity{}, newError(CodeIncompleteSignature, "X-Amz-SignedHeaders '%s' is not a ';'-separated list of header names.", sh) // [inferred]
	}
	st.signed, st.signature = names, sig
	if err := st.checkSignedHeaders(); err != nil {
		return Identity{}, err
	}
	if err := st.lookupKey(); err != nil {
		return Identity{}, err
	}

	// The payload hash of a presigned request is not sent unless the client
	// chose to: S3-style presigners sign UNSIGNED-PAYLOAD, others (botocore's
	// SigV4QueryAuth, the Go SDK when given a hash) sign the body's hash.
	claimed, _ := get("X-Amz-Content-Sha256")
	if claimed == "" {
		claimed = firstHeader(st.r.Header, "X-Amz-Content-Sha256")
	}
	if claimed != "" {
		payload, unsigned, err := st.payloadHash(claimed)
		if err != nil {
			return Identity{}, err
		}
		if err := st.compare([]string{payload}, true); err != nil {
			return Identity{}, err
		}
		return st.identity(true, unsigned), nil
	}
	if st.compare([]string{UnsignedPayload}, true) == nil {
		return st.identity(true, true), nil
	}
	payload, _, err := st.payloadHash("")
	if err != nil {
		return Identity{}, err
	}
	// The mismatch report names UNSIGNED-PAYLOAD, the usual presign choice.
	if err := st.compare([]string{UnsignedPayload, payload}, true); err != nil {
		return Identity{}, err
	}
	return st.identity(true, false), nil
}

func (st *state) identity(presigned, unsigned bool) Identity {
	cr, _ := st.v.creds.Lookup(st.sc.AccessKeyID)
	return Identity{
		AccessKeyID:     st.sc.AccessKeyID,
		AccountID:       cr.AccountID,
		Region:          st.sc.Region,
		Service:         st.sc.Service,
		SignedAt:        st.signedAt,
		Presigned:       presigned,
		UnsignedPayload: unsigned,
	}
}

// checkScope validates the credential scope against the signing date and the
// services this server answers for. Texts are AWS's.
func (st *state) checkScope() *Error {
	sc := st.sc
	if sc.Terminator != scopeTerminator {
		return newError(CodeInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", sc.Terminator)
	}
	if !validRegion(sc.Region) {
		return newError(CodeInvalidSignature, "Credential should be scoped to a valid region, not '%s'. ", sc.Region)
	}
	okService := false
	for _, s := range st.v.services {
		if sc.Service == s {
			okService = true
			break
		}
	}
	if !okService {
		return newError(CodeInvalidSignature, "Credential should be scoped to correct service: %s. ", quoteList(st.v.services))
	}
	if want := st.signedAt.Format("20060102"); sc.Date != want {
		return newError(CodeInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			sc.Date, want, st.amzDate)
	}
	return nil
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, " or ")
}

func (st *state) checkSkew() *Error {
	if st.v.skew < 0 {
		return nil
	}
	now := st.v.now().UTC()
	if d := st.signedAt.Sub(now); d > st.v.skew || d < -st.v.skew {
		return errSkew(st.signedAt, now, st.v.skew)
	}
	return nil
}

// checkSignedHeaders requires Host to be signed (otherwise a signature could
// be replayed against another endpoint) and every named header to exist.
func (st *state) checkSignedHeaders() *Error {
	hasHost := false
	for _, n := range st.signed {
		if n == "host" || n == ":authority" {
			hasHost = true
		}
	}
	if !hasHost {
		// AWS's text; the code it comes with is not recorded [inferred].
		return newError(CodeIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	for _, n := range st.signed {
		if _, ok := headerValues(st.r, n); !ok {
			return newError(CodeIncompleteSignature, "'%s' is named as a SignedHeader, but it does not exist in the HTTP request.", n)
		}
	}
	return nil
}

func (st *state) lookupKey() *Error {
	cr, ok := st.v.creds.Lookup(st.sc.AccessKeyID)
	if !ok {
		return errUnknownKey()
	}
	st.secret = cr.SecretAccessKey
	return nil
}

// payloadHash decides what stands for the body in the canonical request.
// A client-declared hash must match the body actually received, or a
// man-in-the-middle could swap the body under a valid signature.
func (st *state) payloadHash(claimed string) (hash string, unsigned bool, err *Error) {
	switch {
	case claimed == UnsignedPayload:
		return UnsignedPayload, true, nil
	case strings.HasPrefix(claimed, "STREAMING-"):
		// Chunked (aws-chunked) signing is S3-only [inferred text].
		return "", false, newError(CodeIncompleteSignature, "X-Amz-Content-Sha256 '%s' (chunked signing) is not supported by this service.", claimed)
	case claimed != "" && !isHex64(claimed):
		return "", false, newError(CodeIncompleteSignature, "X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 of the body, got '%s'.", claimed) // [inferred]
	}
	actual, err := st.hashBody()
	if err != nil {
		return "", false, err
	}
	if claimed != "" && !strings.EqualFold(claimed, actual) {
		// S3's text (code XAmzContentSHA256Mismatch there) [inferred for JSON services].
		return "", false, newError(CodeInvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	if claimed != "" {
		return claimed, false, nil // the client signed its own spelling
	}
	return actual, false, nil
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ishex(s[i]) {
			return false
		}
	}
	return true
}

// hashBody hashes the body, reading and restoring r.Body if the caller has
// not supplied it.
func (st *state) hashBody() (string, *Error) {
	if st.bodyHash != "" {
		return st.bodyHash, nil
	}
	if !st.haveBody {
		b, err := st.readBody()
		if err != nil {
			return "", err
		}
		st.body, st.haveBody = b, true
	}
	if len(st.body) == 0 {
		st.bodyHash = emptySHA256
	} else {
		sum := sha256.Sum256(st.body)
		st.bodyHash = hex.EncodeToString(sum[:])
	}
	return st.bodyHash, nil
}

func (st *state) readBody() ([]byte, *Error) {
	r := st.r
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	limit := st.v.maxBody
	var b []byte
	var rerr error
	if cl := r.ContentLength; cl >= 0 && (limit < 0 || cl <= limit) {
		// Known length (always the case behind net/http's server, which
		// enforces it): one exact allocation instead of a growing buffer.
		b = make([]byte, cl)
		var n int
		n, rerr = io.ReadFull(r.Body, b)
		b = b[:n]
	} else {
		var buf bytes.Buffer
		src := io.Reader(r.Body)
		if limit >= 0 {
			src = io.LimitReader(r.Body, limit+1)
		}
		_, rerr = buf.ReadFrom(src)
		b = buf.Bytes()
	}
	// Restore what was read even on failure, so the handler sees a consistent
	// (if truncated) body rather than a half-consumed stream.
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	if rerr != nil {
		return nil, newError(CodeIncompleteSignature, "could not read the request body to verify its signature: %v", rerr) // [inferred]
	}
	if limit >= 0 && int64(len(b)) > limit {
		return nil, newError(CodeRequestEntityTooLarge, "Request body is larger than %d bytes.", limit)
	}
	return b, nil
}

// compare computes the signature over every canonical-request variant a
// legitimate client may have produced and accepts the first that matches.
// The first variant is the one reported on failure. Variants beyond the
// first (path normalisation, '+' in the query, alternate payload hashes) are
// only tried after a mismatch, so the common case computes one HMAC.
func (st *state) compare(payloads []string, presigned bool) *Error {
	// AWS signers emit lower-case hex and AWS compares the text, so an
	// upper-cased signature is a mismatch even though it decodes the same.
	validSig := isLowerHex64(st.signature)
	want, _ := hex.DecodeString(st.signature)
	key := st.v.keys.get(st.secret, st.sc)

	sent := requestPath(st.r)
	paths := []bool{false}
	if normalizePath(sent) != sent {
		paths = append(paths, true)
	}
	plus := []bool{true}
	if strings.IndexByte(st.rawQuery, '+') >= 0 {
		plus = append(plus, false)
	}

	bp := st.v.bufs.Get().(*[]byte)
	defer st.v.bufs.Put(bp)
	var firstCanon []byte
	var firstSTS string
	for _, payload := range payloads {
		for _, norm := range paths {
			for _, ps := range plus {
				params := st.params
				if !ps {
					params = parseQuery(st.rawQuery, false)
				}
				canon := st.canonical((*bp)[:0], norm, params, presigned, payload)
				*bp = canon
				sts := stringToSign(st.amzDate, st.sc, canon)
				mac := hmac.New(sha256.New, key[:])
				mac.Write([]byte(sts))
				got := mac.Sum(nil)
				if validSig && subtle.ConstantTimeCompare(got, want) == 1 {
					return nil
				}
				if firstCanon == nil {
					firstCanon, firstSTS = append([]byte(nil), canon...), sts
				}
			}
		}
	}
	return errSignatureMismatch(string(firstCanon), firstSTS)
}

// canonical builds the canonical request into dst.
func (st *state) canonical(dst []byte, normalize bool, params []queryParam, presigned bool, payload string) []byte {
	dst = append(dst, st.r.Method...)
	dst = append(dst, '\n')
	dst = canonicalPath(dst, requestPath(st.r), st.v.single, normalize)
	dst = append(dst, '\n')
	dst = canonicalQuery(dst, params, presigned)
	dst = append(dst, '\n')
	for _, n := range st.signed {
		vals, _ := headerValues(st.r, n)
		dst = append(dst, n...)
		dst = append(dst, ':')
		for i, v := range vals {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendHeaderValue(dst, v)
		}
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	for i, n := range st.signed {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, n...)
	}
	dst = append(dst, '\n')
	dst = append(dst, payload...)
	return dst
}

func stringToSign(amzDate string, sc scope, canonical []byte) string {
	sum := sha256.Sum256(canonical)
	var b strings.Builder
	b.Grow(len(Algorithm) + len(amzDate) + 64 + 64 + 4)
	b.WriteString(Algorithm)
	b.WriteByte('\n')
	b.WriteString(amzDate)
	b.WriteByte('\n')
	b.WriteString(sc.String())
	b.WriteByte('\n')
	var h [64]byte
	hex.Encode(h[:], sum[:])
	b.Write(h[:])
	return b.String()
}

func errBadDate(got string) *Error {
	return newError(CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", got)
}

func firstHeader(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// keyCache memoises derived signing keys: deriving one costs four HMACs, and a
// key is valid for a whole UTC day per (secret, region, service).
type keyCache struct {
	mu sync.RWMutex
	m  map[string]cachedKey
}

type cachedKey struct {
	secret string
	key    [sha256.Size]byte
}

const keyCacheMax = 4096

func (c *keyCache) get(secret string, sc scope) [sha256.Size]byte {
	ck := sc.AccessKeyID + "/" + sc.String()
	c.mu.RLock()
	e, ok := c.m[ck]
	c.mu.RUnlock()
	// The secret is compared so that a credentials reload takes effect at once.
	if ok && e.secret == secret {
		return e.key
	}
	k := deriveKey(secret, sc)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= keyCacheMax {
		c.m = make(map[string]cachedKey)
	}
	c.m[ck] = cachedKey{secret: secret, key: k}
	c.mu.Unlock()
	return k
}

func deriveKey(secret string, sc scope) [sha256.Size]byte {
	k := hmacSHA256([]byte("AWS4"+secret), sc.Date)
	k = hmacSHA256(k, sc.Region)
	k = hmacSHA256(k, sc.Service)
	k = hmacSHA256(k, sc.Terminator)
	var out [sha256.Size]byte
	copy(out[:], k)
	return out
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// AsError extracts the *Error from an error returned by Verify.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id, for handlers downstream of the
// authentication step.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// IdentityFrom returns the Identity stored by WithIdentity.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}
