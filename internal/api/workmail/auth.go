package workmail

import (
	"errors"
	"net/http"

	"github.com/mailtrail/mailtrail/internal/api/sigv4"
)

// SigV4Authenticator adapts a SigV4 verifier to an Authenticator: the
// signing key's account is the caller's account, the credential scope's
// region its region. The verifier must accept the signing name "workmail".
// Verification failures keep the verifier's AWS code, status and message.
func SigV4Authenticator(v *sigv4.Verifier) Authenticator {
	return func(r *http.Request) (Caller, error) {
		id, err := v.Verify(r)
		if err != nil {
			var se *sigv4.Error // the same type as AuthError
			if errors.As(err, &se) {
				return Caller{}, se
			}
			return Caller{}, err
		}
		return Caller{Account: id.AccountID, AccessKeyID: id.AccessKeyID, Region: id.Region}, nil
	}
}
