package workmail_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/api/workmail"
	"github.com/mailtrail/mailtrail/internal/org"
)

// Serving the API over a directory and a rule store, then calling it the
// way an SDK does: POST, X-Amz-Target, a JSON body.
func ExampleNewHandler() {
	data, _ := os.MkdirTemp("", "workmail-example")
	defer os.RemoveAll(data)
	dir, _ := org.Open(filepath.Join(data, "org"), org.Options{})
	rules, _ := access.Open(filepath.Join(data, "access"), dir, access.Options{})
	h, err := workmail.NewHandler(workmail.Config{Dir: dir, Rules: rules, Region: "us-east-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	call := func(op, body string) map[string]any {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", workmail.TargetPrefix+op)
		req.Header.Set("Content-Type", workmail.ContentType)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		return out
	}
	orgID := call("CreateOrganization", `{"Alias":"example"}`)["OrganizationId"].(string)
	userID := call("CreateUser", `{"OrganizationId":"`+orgID+`","Name":"bob","DisplayName":"Bob"}`)["UserId"].(string)
	call("PutAccessControlRule", `{"OrganizationId":"`+orgID+`","Name":"deny-imap","Effect":"DENY","Description":"no IMAP",
		"IpRanges":["0.0.0.0/0"],"Actions":["IMAP"],"UserIds":["`+userID+`"]}`)
	effect := call("GetAccessControlEffect", `{"OrganizationId":"`+orgID+`","IpAddress":"192.0.2.1","Action":"IMAP","UserId":"`+userID+`"}`)
	fmt.Println(effect["Effect"], effect["MatchedRules"])
	fmt.Println(call("DescribeOrganization", `{"OrganizationId":"m-00000000000000000000000000000000"}`)["__type"])
	// Output:
	// DENY [deny-imap]
	// OrganizationNotFoundException
}
