package app

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mailtrail/mailtrail/internal/api/cwlogs"
	"github.com/mailtrail/mailtrail/internal/api/sigv4"
)

// NewVerifier loads the credentials (environment key plus the file at path)
// and returns the SigV4 verifier for the services mailtrail serves, which
// each API adapts to its own error shape. It fails when no key is
// configured: running without authentication must be asked for explicitly
// (--no-auth).
func NewVerifier(getenv func(string) string, path string) (*sigv4.Verifier, *sigv4.Credentials, error) {
	creds, err := sigv4.LoadCredentials(getenv, path)
	if err != nil {
		return nil, nil, fmt.Errorf("loading credentials: %w", err)
	}
	if creds.Len() == 0 {
		return nil, nil, errors.New("no credentials configured: set MAILTRAIL_ACCESS_KEY_ID and MAILTRAIL_SECRET_ACCESS_KEY, pass --credentials FILE, or run with --no-auth for local play")
	}
	return sigv4.NewVerifier(creds, sigv4.Options{Services: []string{"logs", "workmail"}}), creds, nil
}

// logsAuthenticator adapts the verifier to the CloudWatch Logs API.
func logsAuthenticator(v *sigv4.Verifier) cwlogs.Authenticator {
	return func(r *http.Request) (cwlogs.Identity, *cwlogs.APIError) {
		id, err := v.Verify(r)
		if err != nil {
			// Both are awsjson.Error: the verifier's answer goes out as is.
			var se *sigv4.Error
			if errors.As(err, &se) {
				return cwlogs.Identity{}, se
			}
			return cwlogs.Identity{}, &cwlogs.APIError{Status: 400, Code: sigv4.CodeIncompleteSignature, Message: err.Error()}
		}
		return cwlogs.Identity{AccessKeyID: id.AccessKeyID, Account: id.AccountID, Region: id.Region}, nil
	}
}
