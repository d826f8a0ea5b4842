package sigv4_test

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mailtrail/mailtrail/internal/api/sigv4"
)

// A JSON 1.1 endpoint authenticates every request before dispatching it and
// answers failures in AWS's error shape.
func ExampleVerifier() {
	// In the server this is os.Getenv and the --credentials file path.
	env := map[string]string{"MAILTRAIL_ACCESS_KEY_ID": "AKIAMAILTRAILDEMO", "MAILTRAIL_SECRET_ACCESS_KEY": "demo-secret"}
	creds, err := sigv4.LoadCredentials(func(k string) string { return env[k] }, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	v := sigv4.NewVerifier(creds, sigv4.Options{Services: []string{"logs", "workmail"}})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r) // r.Body is restored for the handler
		if e, ok := sigv4.AsError(err); ok {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
			return
		}
		r = r.WithContext(sigv4.WithIdentity(r.Context(), id))
		fmt.Fprintf(w, "hello account %s in %s", id.AccountID, id.Region)
	})
	_ = handler
	for _, c := range creds.All() {
		fmt.Println(c) // secrets are never printed
	}
	// Output: AKIAMAILTRAILDEMO (account 000000000000, from env)
}
