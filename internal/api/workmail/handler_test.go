package workmail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mailtrail/mailtrail/internal/access"
)

func TestRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	orgID := e.createOrg("acme")

	d := e.ok("DescribeOrganization", M{"OrganizationId": orgID}).Body
	wantOrg := M{"OrganizationId": orgID, "Alias": "acme", "State": "Active",
		"DefaultMailDomain": "acme.awsapps.com", "DirectoryType": "WorkMailDirectory"}
	for k, want := range wantOrg {
		if d[k] != want {
			t.Errorf("DescribeOrganization %s = %v, want %v", k, d[k], want)
		}
	}
	if arn, _ := d["ARN"].(string); !strings.HasPrefix(arn, "arn:aws:workmail:eu-west-1:000000000000:organization/"+orgID) {
		t.Errorf("ARN %q: want the configured region and the default account", arn)
	}
	if _, ok := d["CompletedDate"].(float64); !ok {
		t.Errorf("CompletedDate %v (%T): want epoch seconds as a JSON number", d["CompletedDate"], d["CompletedDate"])
	}

	orgs := e.ok("ListOrganizations", M{}).Body["OrganizationSummaries"].([]any)
	if len(orgs) != 1 || orgs[0].(M)["OrganizationId"] != orgID || orgs[0].(M)["Alias"] != "acme" {
		t.Errorf("ListOrganizations = %v", orgs)
	}

	bob := e.createUser(orgID, "bob")
	alice := e.createUser(orgID, "alice")
	users := e.ok("ListUsers", M{"OrganizationId": orgID}).Body["Users"].([]any)
	var names []string
	for _, u := range users {
		names = append(names, u.(M)["Name"].(string))
		if u.(M)["State"] != "ENABLED" || u.(M)["UserRole"] != "USER" {
			t.Errorf("ListUsers user %v: want ENABLED USER", u)
		}
	}
	if !slices.Equal(names, []string{"bob", "alice"}) {
		t.Errorf("ListUsers names %v, want creation order [bob alice]", names)
	}
	for _, ident := range []string{bob, "bob", "bob@acme.awsapps.com"} {
		u := e.ok("DescribeUser", M{"OrganizationId": orgID, "UserId": ident}).Body
		if u["UserId"] != bob || u["Email"] != "bob@acme.awsapps.com" || u["DisplayName"] != "bob" {
			t.Errorf("DescribeUser(%s) = %v", ident, u)
		}
		if _, ok := u["EnabledDate"].(float64); !ok {
			t.Errorf("DescribeUser EnabledDate %v: want epoch seconds", u["EnabledDate"])
		}
	}

	rules := e.ok("ListAccessControlRules", M{"OrganizationId": orgID}).Body["Rules"].([]any)
	if len(rules) != 1 || rules[0].(M)["Name"] != access.DefaultRuleName || rules[0].(M)["Effect"] != "ALLOW" {
		t.Fatalf("a new organization's rules = %v, want the default allow-all rule", rules)
	}

	put := e.ok("PutAccessControlRule", M{"OrganizationId": orgID, "Name": "deny-imap", "Effect": "DENY",
		"Description": "no IMAP for bob", "IpRanges": L{"0.0.0.0/0"}, "Actions": L{"IMAP"}, "UserIds": L{bob}})
	if len(put.Body) != 0 {
		t.Errorf("PutAccessControlRule answered %s, want {}", put.Raw)
	}
	rules = e.ok("ListAccessControlRules", M{"OrganizationId": orgID}).Body["Rules"].([]any)
	if len(rules) != 2 {
		t.Fatalf("rules after put: %v", rules)
	}
	r := rules[1].(M)
	if diff := jsonDiff(M{"Name": "deny-imap", "Effect": "DENY", "Description": "no IMAP for bob",
		"IpRanges": L{"0.0.0.0/0"}, "Actions": L{"IMAP"}, "UserIds": L{bob},
		"DateCreated": r["DateCreated"], "DateModified": r["DateModified"]}, r); diff != "" {
		t.Errorf("listed rule \n%s", diff)
	}
	if _, ok := r["DateCreated"].(float64); !ok {
		t.Errorf("DateCreated %v: want epoch seconds", r["DateCreated"])
	}

	effect := func(user, action string) (string, []any) {
		t.Helper()
		b := e.ok("GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "198.51.100.7", "Action": action, "UserId": user}).Body
		return b["Effect"].(string), b["MatchedRules"].([]any)
	}
	if eff, m := effect(bob, "IMAP"); eff != "DENY" || !slices.Equal(m, []any{"deny-imap"}) {
		t.Errorf("bob IMAP: %s %v, want DENY [deny-imap]", eff, m)
	}
	if eff, m := effect(alice, "IMAP"); eff != "ALLOW" || !slices.Equal(m, []any{access.DefaultRuleName}) {
		t.Errorf("alice IMAP: %s %v, want ALLOW [default]", eff, m)
	}
	if eff, _ := effect(bob, "SMTP"); eff != "ALLOW" {
		t.Errorf("bob SMTP: %s, want ALLOW", eff)
	}

	e.ok("DeleteAccessControlRule", M{"OrganizationId": orgID, "Name": "deny-imap"})
	e.ok("DeleteAccessControlRule", M{"OrganizationId": orgID, "Name": "deny-imap"}) // absent: still fine, as in AWS
	if eff, _ := effect(bob, "IMAP"); eff != "ALLOW" {
		t.Errorf("bob IMAP after delete: %s, want ALLOW", eff)
	}
	e.ok("DeleteAccessControlRule", M{"OrganizationId": orgID, "Name": access.DefaultRuleName})
	if eff, m := effect(bob, "IMAP"); eff != "DENY" || len(m) != 0 {
		t.Errorf("no rules left: %s %v, want DENY []", eff, m)
	}
}

// TestErrors checks every operation's refusals: the exception name, the
// HTTP status and a part of the message that says what is wrong.
func TestErrors(t *testing.T) {
	e := newEnv(t, nil)
	orgID := e.createOrg("acme")
	bob := e.createUser(orgID, "bob")
	other := e.createOrg("other")
	carol := e.createUser(other, "carol")
	const ghost = "m-00000000000000000000000000000000"

	type tc struct {
		name, op string
		body     any // M, or string for a raw body
		code     string
		msg      string
	}
	cases := []tc{
		{"describe unknown org", "DescribeOrganization", M{"OrganizationId": ghost}, "OrganizationNotFoundException", ghost},
		{"describe bad org id", "DescribeOrganization", M{"OrganizationId": "m-XYZ"}, "InvalidParameterException", "organizationId"},
		{"describe no org id", "DescribeOrganization", M{}, "InvalidParameterException", "Value null at 'organizationId'"},
		{"duplicate alias", "CreateOrganization", M{"Alias": "acme"}, "NameAvailabilityException", "acme"},
		{"duplicate alias other case", "CreateOrganization", M{"Alias": "ACME"}, "NameAvailabilityException", ""},
		{"alias missing", "CreateOrganization", M{}, "InvalidParameterException", "Value null at 'alias'"},
		{"alias bad pattern", "CreateOrganization", M{"Alias": "d-nope"}, "InvalidParameterException", "alias"},
		{"directory id", "CreateOrganization", M{"Alias": "dir", "DirectoryId": "d-0123456789"}, "DirectoryUnavailableException", ""},
		{"domain without name", "CreateOrganization", M{"Alias": "dom", "Domains": L{M{"HostedZoneId": "Z1"}}}, "InvalidParameterException", "domains.1.member.domainName"},
		{"list orgs max 0", "ListOrganizations", M{"MaxResults": 0}, "InvalidParameterException", "between 1 and 100"},
		{"list orgs max 101", "ListOrganizations", M{"MaxResults": 101}, "InvalidParameterException", "between 1 and 100"},
		{"list orgs bad token", "ListOrganizations", M{"NextToken": "garbage!"}, "InvalidParameterException", "NextToken"},
		{"list orgs huge token", "ListOrganizations", M{"NextToken": strings.Repeat("a", 1025)}, "InvalidParameterException", "1024"},
		{"create user unknown org", "CreateUser", M{"OrganizationId": ghost, "Name": "x", "DisplayName": "x", "Password": "Secret-Pass1"}, "OrganizationNotFoundException", ""},
		{"create user duplicate", "CreateUser", M{"OrganizationId": orgID, "Name": "BOB", "DisplayName": "x"}, "NameAvailabilityException", ""},
		{"create user no display name", "CreateUser", M{"OrganizationId": orgID, "Name": "x"}, "InvalidParameterException", "Value null at 'displayName'"},
		{"create user no name", "CreateUser", M{"OrganizationId": orgID, "DisplayName": "x"}, "InvalidParameterException", "Value null at 'name'"},
		{"create user bad name", "CreateUser", M{"OrganizationId": orgID, "Name": "a b", "DisplayName": "x"}, "InvalidParameterException", "name"},
		{"create user bad role", "CreateUser", M{"OrganizationId": orgID, "Name": "y", "DisplayName": "y", "Role": "ROOT"}, "InvalidParameterException", "role"},
		{"create user idp id", "CreateUser", M{"OrganizationId": orgID, "Name": "z", "DisplayName": "z", "IdentityProviderUserId": "12345678-1234-1234-1234-123456789012"}, "InvalidParameterException", "Identity Center"},
		{"password not latin1", "CreateUser", M{"OrganizationId": orgID, "Name": "p", "DisplayName": "p", "Password": "pässwörd\u20ac"}, "InvalidParameterException", "password"},
		{"list users unknown org", "ListUsers", M{"OrganizationId": ghost}, "OrganizationNotFoundException", ""},
		{"list users bad state", "ListUsers", M{"OrganizationId": orgID, "Filters": M{"State": "ASLEEP"}}, "InvalidParameterException", "filters.state"},
		{"list users two filters", "ListUsers", M{"OrganizationId": orgID, "Filters": M{"UsernamePrefix": "b", "State": "ENABLED"}}, "InvalidParameterException", ""},
		{"list users max 1000", "ListUsers", M{"OrganizationId": orgID, "MaxResults": 1000}, "InvalidParameterException", "maxResults"},
		{"describe unknown user", "DescribeUser", M{"OrganizationId": orgID, "UserId": "nobody"}, "EntityNotFoundException", ""},
		{"describe user of other org", "DescribeUser", M{"OrganizationId": orgID, "UserId": carol}, "EntityNotFoundException", ""},
		{"describe user no id", "DescribeUser", M{"OrganizationId": orgID}, "InvalidParameterException", "Value null at 'userId'"},
		{"describe user unknown org", "DescribeUser", M{"OrganizationId": ghost, "UserId": bob}, "OrganizationNotFoundException", ""},
		{"put bad cidr", "PutAccessControlRule", rule(orgID, "IpRanges", L{"10.0.0.0/33"}), "InvalidParameterException", "10.0.0.0/33"},
		{"put ipv6 cidr", "PutAccessControlRule", rule(orgID, "IpRanges", L{"2001:db8::/32"}), "InvalidParameterException", "ipRanges"},
		{"put bad not-cidr", "PutAccessControlRule", rule(orgID, "NotIpRanges", L{"1.2.3.4"}), "InvalidParameterException", "notIpRanges"},
		{"put unknown action", "PutAccessControlRule", rule(orgID, "Actions", L{"POP3"}), "InvalidParameterException", "POP3"},
		{"put bad effect", "PutAccessControlRule", rule(orgID, "Effect", "MAYBE"), "InvalidParameterException", "effect"},
		{"put no effect", "PutAccessControlRule", M{"OrganizationId": orgID, "Name": "r", "Description": "d"}, "InvalidParameterException", "Value null at 'effect'"},
		{"put no description", "PutAccessControlRule", M{"OrganizationId": orgID, "Name": "r", "Effect": "DENY"}, "InvalidParameterException", "Value null at 'description'"},
		{"put bad name", "PutAccessControlRule", rule(orgID, "Name", "has space"), "InvalidParameterException", "name"},
		{"put unknown user", "PutAccessControlRule", rule(orgID, "UserIds", L{"12345678-1234-1234-1234-123456789012"}), "EntityNotFoundException", ""},
		{"put user of other org", "PutAccessControlRule", rule(orgID, "NotUserIds", L{carol}), "EntityNotFoundException", ""},
		{"put 11 actions", "PutAccessControlRule", rule(orgID, "Actions", L{"IMAP", "IMAP", "IMAP", "IMAP", "IMAP", "IMAP", "IMAP", "IMAP", "IMAP", "IMAP", "IMAP"}), "InvalidParameterException", "actions"},
		{"put unknown org", "PutAccessControlRule", rule(ghost), "OrganizationNotFoundException", ""},
		{"list rules unknown org", "ListAccessControlRules", M{"OrganizationId": ghost}, "OrganizationNotFoundException", ""},
		{"delete rule unknown org", "DeleteAccessControlRule", M{"OrganizationId": ghost, "Name": "x"}, "OrganizationNotFoundException", ""},
		{"delete rule no name", "DeleteAccessControlRule", M{"OrganizationId": orgID}, "InvalidParameterException", "Value null at 'name'"},
		{"delete rule bad name", "DeleteAccessControlRule", M{"OrganizationId": orgID, "Name": "a/b"}, "InvalidParameterException", ""},
		{"effect bad ip", "GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "1.2.3", "Action": "IMAP", "UserId": bob}, "InvalidParameterException", "ipAddress"},
		{"effect leading zero ip", "GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "01.2.3.4", "Action": "IMAP", "UserId": bob}, "InvalidParameterException", ""},
		{"effect no ip", "GetAccessControlEffect", M{"OrganizationId": orgID, "Action": "IMAP", "UserId": bob}, "InvalidParameterException", "Value null at 'ipAddress'"},
		{"effect no action", "GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "1.2.3.4", "UserId": bob}, "InvalidParameterException", "Value null at 'action'"},
		{"effect bad action", "GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "1.2.3.4", "Action": "Telnet", "UserId": bob}, "InvalidParameterException", ""},
		{"effect no user no role", "GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "1.2.3.4", "Action": "IMAP"}, "InvalidParameterException", ""},
		{"effect role without EWS", "GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "1.2.3.4", "Action": "IMAP", "ImpersonationRoleId": "role1"}, "InvalidParameterException", ""},
		{"effect unknown user", "GetAccessControlEffect", M{"OrganizationId": orgID, "IpAddress": "1.2.3.4", "Action": "IMAP", "UserId": "12345678-1234-1234-1234-123456789012"}, "EntityNotFoundException", ""},
		{"effect unknown org", "GetAccessControlEffect", M{"OrganizationId": ghost, "IpAddress": "1.2.3.4", "Action": "IMAP", "UserId": bob}, "OrganizationNotFoundException", ""},
		{"malformed json", "ListOrganizations", `{"MaxResults": `, "SerializationException", "byte offset"},
		{"not an object", "ListOrganizations", `[1,2]`, "SerializationException", "must be a JSON object"},
		{"null body", "ListOrganizations", ` null`, "SerializationException", "must be a JSON object"},
		{"wrong member type", "DescribeOrganization", `{"OrganizationId": 7}`, "SerializationException", "OrganizationId"},
		{"fractional max results", "ListOrganizations", `{"MaxResults": 2.5}`, "SerializationException", "MaxResults"},
		{"list where string wanted", "PutAccessControlRule", `{"OrganizationId":"` + orgID + `","Name":"r","Effect":"DENY","Description":"d","IpRanges":"0.0.0.0/0"}`, "SerializationException", "IpRanges"},
		{"trailing data", "ListOrganizations", `{} {}`, "SerializationException", "after the request object"},
		{"unknown operation", "DeleteOrganization", M{}, "UnknownOperationException", "WorkMailService.DeleteOrganization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r response
			if s, ok := c.body.(string); ok {
				r = e.post(TargetPrefix+c.op, []byte(s))
			} else {
				r = e.call(c.op, c.body)
			}
			if r.Status != http.StatusBadRequest || r.code() != c.code {
				t.Fatalf("HTTP %d %s, want 400 %s", r.Status, r.Raw, c.code)
			}
			if !strings.Contains(r.str("message"), c.msg) {
				t.Errorf("message %q does not mention %q", r.str("message"), c.msg)
			}
		})
	}
	// None of the refused puts changed the rule set.
	rules := e.ok("ListAccessControlRules", M{"OrganizationId": orgID}).Body["Rules"].([]any)
	if len(rules) != 1 {
		t.Errorf("refused puts left rules behind: %v", rules)
	}
}

// rule is a valid PutAccessControlRule body with one member overridden.
func rule(orgID string, kv ...any) M {
	m := M{"OrganizationId": orgID, "Name": "r1", "Effect": "DENY", "Description": "test rule"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestRuleLimitAndUpsert(t *testing.T) {
	e := newEnv(t, nil)
	orgID := e.createOrg("acme")
	// The default rule plus 9 more make 10, the limit.
	for i := 1; i <= 9; i++ {
		e.ok("PutAccessControlRule", rule(orgID, "Name", fmt.Sprintf("rule-%d", i)))
	}
	r := e.call("PutAccessControlRule", rule(orgID, "Name", "rule-10"))
	if r.Status != 400 || r.code() != "LimitExceededException" {
		t.Fatalf("11th rule: HTTP %d %s, want LimitExceededException", r.Status, r.Raw)
	}
	// Replacing an existing name is not a new rule.
	e.ok("PutAccessControlRule", rule(orgID, "Name", "rule-5", "Effect", "ALLOW", "Description", "now allow"))
	rules := e.ok("ListAccessControlRules", M{"OrganizationId": orgID}).Body["Rules"].([]any)
	if len(rules) != 10 {
		t.Fatalf("%d rules, want 10", len(rules))
	}
	r5 := rules[5].(M)
	if r5["Name"] != "rule-5" || r5["Effect"] != "ALLOW" || r5["Description"] != "now allow" {
		t.Errorf("replaced rule = %v: want it in place with the new effect", r5)
	}
	if r5["DateModified"].(float64) <= r5["DateCreated"].(float64) {
		t.Errorf("replaced rule: DateModified %v not after DateCreated %v", r5["DateModified"], r5["DateCreated"])
	}
	// After a delete there is room again.
	e.ok("DeleteAccessControlRule", M{"OrganizationId": orgID, "Name": "rule-1"})
	e.ok("PutAccessControlRule", rule(orgID, "Name", "rule-10"))
}

func TestPagination(t *testing.T) {
	e := newEnv(t, nil)
	var want []string
	for i := range 5 {
		want = append(want, e.createOrg(fmt.Sprintf("org%d", i)))
	}
	var got []string
	tok := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("ListOrganizations does not stop paging")
		}
		req := M{"MaxResults": 2}
		if tok != "" {
			req["NextToken"] = tok
		}
		b := e.ok("ListOrganizations", req).Body
		for _, o := range b["OrganizationSummaries"].([]any) {
			got = append(got, o.(M)["OrganizationId"].(string))
		}
		tok, _ = b["NextToken"].(string)
		if tok == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged organizations %v, want %v", got, want)
	}

	orgID := want[0]
	var users []string
	for i := range 3 {
		users = append(users, e.createUser(orgID, fmt.Sprintf("u%d", i)))
	}
	b := e.ok("ListUsers", M{"OrganizationId": orgID, "MaxResults": 2}).Body
	if n := len(b["Users"].([]any)); n != 2 || b["NextToken"] == nil {
		t.Fatalf("first users page: %d users, token %v", n, b["NextToken"])
	}
	b = e.ok("ListUsers", M{"OrganizationId": orgID, "MaxResults": 2, "NextToken": b["NextToken"]}).Body
	if u := b["Users"].([]any); len(u) != 1 || u[0].(M)["Id"] != users[2] || b["NextToken"] != nil {
		t.Errorf("second users page: %v, token %v", u, b["NextToken"])
	}
	// Filters.
	b = e.ok("ListUsers", M{"OrganizationId": orgID, "Filters": M{"UsernamePrefix": "U1"}}).Body
	if u := b["Users"].([]any); len(u) != 1 || u[0].(M)["Id"] != users[1] {
		t.Errorf("UsernamePrefix filter: %v", u)
	}
	b = e.ok("ListUsers", M{"OrganizationId": orgID, "Filters": M{"IdentityProviderUserIdPrefix": "ab"}}).Body
	if u := b["Users"].([]any); len(u) != 0 {
		t.Errorf("IdentityProviderUserIdPrefix filter: %v, want no user", u)
	}
	// An empty organization lists [] rather than null.
	empty := e.createOrg("empty")
	if r := e.ok("ListUsers", M{"OrganizationId": empty}); !strings.Contains(string(r.Raw), `"Users":[]`) {
		t.Errorf("empty organization: %s, want Users []", r.Raw)
	}
}

func TestProtocolErrors(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		name, target, method string
		want                 int
		code                 string
	}{
		{"no target", "", "POST", 400, "UnknownOperationException"},
		{"other service", "Logs_20140328.DescribeLogGroups", "POST", 400, "UnknownOperationException"},
		{"prefix only", "WorkMailService.", "POST", 400, "UnknownOperationException"},
		{"case matters", "workmailservice.ListOrganizations", "POST", 400, "UnknownOperationException"},
		{"GET", "WorkMailService.ListOrganizations", "GET", 400, "UnknownOperationException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, e.srv.URL+"/", strings.NewReader("{}"))
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
			}
			r := e.do(req)
			if r.Status != c.want || r.code() != c.code {
				t.Errorf("HTTP %d %s, want %d %s", r.Status, r.Raw, c.want, c.code)
			}
		})
	}
	t.Run("body too large", func(t *testing.T) {
		big := `{"Alias":"x","Pad":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
		r := e.post(TargetPrefix+"CreateOrganization", []byte(big))
		if r.Status != http.StatusRequestEntityTooLarge || r.code() != "InvalidParameterException" {
			t.Errorf("HTTP %d %s", r.Status, r.Raw)
		}
	})
	t.Run("empty body is {}", func(t *testing.T) {
		r := e.post(TargetPrefix+"ListOrganizations", nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), `"OrganizationSummaries":[]`) {
			t.Errorf("HTTP %d %s", r.Status, r.Raw)
		}
	})
	t.Run("unknown members ignored", func(t *testing.T) {
		r := e.post(TargetPrefix+"ListOrganizations", []byte(`{"Bogus": {"a": [1]}}`))
		if r.Status != 200 {
			t.Errorf("HTTP %d %s", r.Status, r.Raw)
		}
	})
}

func TestAuthentication(t *testing.T) {
	// The authenticator maps an X-Test-Account header to an account, which is
	// enough to show accounts are isolated and refusals are relayed.
	auth := func(r *http.Request) (Caller, error) {
		switch a := r.Header.Get("X-Test-Account"); a {
		case "":
			return Caller{}, &AuthError{Status: 400, Code: "MissingAuthenticationTokenException", Message: "Missing Authentication Token"}
		case "broken":
			return Caller{}, errors.New("verifier exploded")
		case "nobody":
			return Caller{AccessKeyID: "AKNOBODY"}, nil
		default:
			return Caller{Account: a, AccessKeyID: "AK" + a, Region: "ap-south-1"}, nil
		}
	}
	e := newEnv(t, func(c *Config) { c.Auth = auth })
	as := func(account, op string, body string) response {
		return e.post(TargetPrefix+op, []byte(body), "X-Test-Account", account)
	}

	r := e.post(TargetPrefix+"ListOrganizations", []byte(`{}`))
	if r.Status != 400 || r.code() != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: HTTP %d %s", r.Status, r.Raw)
	}
	r = e.post(TargetPrefix+"NoSuchOp", []byte(`{}`))
	if r.code() != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned unknown op: %s, want the authentication error first", r.Raw)
	}
	r = as("broken", "ListOrganizations", `{}`)
	if r.Status != 403 || r.code() != "AccessDeniedException" {
		t.Errorf("failing authenticator: HTTP %d %s", r.Status, r.Raw)
	}

	r = as("nobody", "ListOrganizations", `{}`)
	if r.Status != 403 || r.code() != "AccessDeniedException" {
		t.Errorf("caller without an account: HTTP %d %s", r.Status, r.Raw)
	}

	r = as("111111111111", "CreateOrganization", `{"Alias":"shared"}`)
	id := r.str("OrganizationId")
	if r.Status != 200 {
		t.Fatalf("create: %s", r.Raw)
	}
	d := as("111111111111", "DescribeOrganization", `{"OrganizationId":"`+id+`"}`)
	if arn := d.str("ARN"); !strings.HasPrefix(arn, "arn:aws:workmail:ap-south-1:111111111111:") {
		t.Errorf("ARN %q: want the caller's region and account", arn)
	}
	// Another account neither sees the organization nor collides on alias.
	if r := as("222222222222", "DescribeOrganization", `{"OrganizationId":"`+id+`"}`); r.code() != "OrganizationNotFoundException" {
		t.Errorf("other account describe: %s", r.Raw)
	}
	if r := as("222222222222", "CreateOrganization", `{"Alias":"shared"}`); r.Status != 200 {
		t.Errorf("same alias in another account: %s", r.Raw)
	}
	calls := e.reported()
	if len(calls) != 2 || calls[0].Account != "111111111111" || calls[0].Call.AccessKeyID != "AK111111111111" || calls[0].Call.Region != "ap-south-1" {
		t.Errorf("reported calls %+v: want the two authenticated creates with their callers", calls)
	}
}

func TestOnCall(t *testing.T) {
	e := newEnv(t, nil)
	orgID := e.createOrg("acme")
	bob := e.createUser(orgID, "bob")
	e.ok("DescribeOrganization", M{"OrganizationId": orgID}) // read-only: not reported
	e.call("CreateUser", M{"OrganizationId": orgID, "Name": "bob", "DisplayName": "Bob again", "Password": "Hunter2-secret"})
	e.ok("PutAccessControlRule", rule(orgID, "Name", "deny-imap", "Actions", L{"IMAP"}, "IpRanges", L{"0.0.0.0/0"}, "UserIds", L{bob}))
	e.ok("DeleteAccessControlRule", M{"OrganizationId": orgID, "Name": "deny-imap"})
	e.post(TargetPrefix+"CreateUser", []byte(`{"OrganizationId": 1}`))

	calls := e.reported()
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.Call.Operation)
		if c.Account != DefaultAccount || c.Call.ReadOnly || c.Call.RequestID == "" || c.Call.SourceIP != "127.0.0.1" ||
			c.Call.UserAgent == "" || c.Call.Region != "eu-west-1" || c.Call.Time.IsZero() {
			t.Errorf("%s: incomplete report %+v", c.Call.Operation, c)
		}
	}
	if !slices.Equal(ops, []string{"CreateOrganization", "CreateUser", "CreateUser", "PutAccessControlRule", "DeleteAccessControlRule", "CreateUser"}) {
		t.Fatalf("reported operations %v", ops)
	}
	if diff := jsonDiff(map[string]any{"organizationId": orgID}, calls[0].Call.ResponseElements); diff != "" {
		t.Errorf("CreateOrganization responseElements \n%s", diff)
	}
	if diff := jsonDiff(map[string]any{"organizationId": orgID, "name": "bob", "displayName": "bob"}, calls[1].Call.RequestParameters); diff != "" {
		t.Errorf("CreateUser requestParameters \n%s", diff)
	}
	if diff := jsonDiff(map[string]any{"userId": bob}, calls[1].Call.ResponseElements); diff != "" {
		t.Errorf("CreateUser responseElements \n%s", diff)
	}
	failed := calls[2].Call
	if failed.ErrorCode != "NameAvailabilityException" || failed.ErrorMessage == "" || failed.ResponseElements != nil {
		t.Errorf("failed CreateUser report: %+v", failed)
	}
	for _, c := range calls {
		if strings.Contains(fmt.Sprint(c.Call.RequestParameters), "Hunter2") {
			t.Errorf("%s report leaks the password: %v", c.Call.Operation, c.Call.RequestParameters)
		}
	}
	if diff := jsonDiff(map[string]any{"organizationId": orgID, "name": "deny-imap", "effect": "DENY", "description": "test rule",
		"actions": []any{"IMAP"}, "ipRanges": []any{"0.0.0.0/0"}, "userIds": []any{bob}}, calls[3].Call.RequestParameters); diff != "" {
		t.Errorf("PutAccessControlRule requestParameters \n%s", diff)
	}
	if calls[3].Call.ResponseElements != nil {
		t.Errorf("PutAccessControlRule responseElements %v, want nil (empty answer)", calls[3].Call.ResponseElements)
	}
	undecodable := calls[5].Call
	if undecodable.ErrorCode != "SerializationException" || undecodable.RequestParameters != nil {
		t.Errorf("undecodable CreateUser report: %+v", undecodable)
	}

	// ReportReadOnly adds the reads, flagged.
	e2 := newEnv(t, func(c *Config) { c.ReportReadOnly = true })
	e2.ok("ListOrganizations", M{"MaxResults": 5})
	if c := e2.reported(); len(c) != 1 || !c[0].Call.ReadOnly || c[0].Call.ResponseElements != nil ||
		jsonDiff(map[string]any{"maxResults": 5}, c[0].Call.RequestParameters) != "" {
		t.Errorf("read-only report: %+v", c)
	}
}

func TestLowerFirst(t *testing.T) {
	cases := map[string]string{
		"OrganizationId": "organizationId", "ARN": "arn", "IpRanges": "ipRanges", "KMSKeyArn": "kmsKeyArn",
		"UserIds": "userIds", "already": "already", "": "", "X": "x",
	}
	for in, want := range cases {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewHandlerNeedsStores(t *testing.T) {
	if _, err := NewHandler(Config{}); err == nil {
		t.Error("NewHandler without a directory and a rule store succeeded")
	}
}

// TestInternalFailure makes the rule store unable to save (its account
// directory is a file) and checks the answer is a 500 InternalFailure that
// does not leak the server's paths, and that the report carries the code.
func TestInternalFailure(t *testing.T) {
	var logs strings.Builder
	e := newEnv(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	orgID := e.createOrg("acme")
	if err := os.WriteFile(filepath.Join(e.data, "access", DefaultAccount), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.call("PutAccessControlRule", rule(orgID))
	if r.Status != http.StatusInternalServerError || r.code() != CodeInternalFailure {
		t.Fatalf("HTTP %d %s, want 500 InternalFailure", r.Status, r.Raw)
	}
	if strings.Contains(string(r.Raw), e.data) {
		t.Errorf("answer leaks a server path: %s", r.Raw)
	}
	if !strings.Contains(logs.String(), "workmail operation failed") || !strings.Contains(logs.String(), "request_id=") {
		t.Errorf("internal failure not logged with its request id:\n%s", logs.String())
	}
	calls := e.reported()
	if last := calls[len(calls)-1].Call; last.Operation != "PutAccessControlRule" || last.ErrorCode != CodeInternalFailure {
		t.Errorf("report of the failed call: %+v", last)
	}
}

// TestConcurrentPuts races more rule creations than the limit allows: the
// organization ends with exactly 10 rules and every other put is refused
// with LimitExceededException, never an internal error.
func TestConcurrentPuts(t *testing.T) {
	e := newEnv(t, nil)
	orgID := e.createOrg("acme")
	const n = 20
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b, _ := json.Marshal(rule(orgID, "Name", fmt.Sprintf("r%d", i)))
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(b))
			req.Header.Set("X-Amz-Target", TargetPrefix+"PutAccessControlRule")
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			codes[i] = res.Header.Get("X-Amzn-ErrorType")
		})
	}
	wg.Wait()
	ok, limited := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			ok++
		case "LimitExceededException":
			limited++
		default:
			t.Errorf("concurrent put answered %s", c)
		}
	}
	if ok != access.MaxRules-1 || limited != n-ok {
		t.Errorf("%d puts succeeded and %d hit the limit, want %d and %d", ok, limited, access.MaxRules-1, n-access.MaxRules+1)
	}
	if rules := e.ok("ListAccessControlRules", M{"OrganizationId": orgID}).Body["Rules"].([]any); len(rules) != access.MaxRules {
		t.Errorf("%d rules, want %d", len(rules), access.MaxRules)
	}
}
