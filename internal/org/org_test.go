package org

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const acct = "111122223333"

var t0 = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

func openTest(t *testing.T) (*Directory, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := Open(dir, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return d, dir
}

func mustOrg(t *testing.T, d *Directory, alias string, domains ...string) Organization {
	t.Helper()
	in := CreateOrganizationInput{Region: "us-east-1", Alias: alias}
	for _, dm := range domains {
		in.Domains = append(in.Domains, Domain{DomainName: dm})
	}
	o, err := d.CreateOrganization(acct, in)
	if err != nil {
		t.Fatalf("CreateOrganization(%s): %v", alias, err)
	}
	return o
}

func mustUser(t *testing.T, d *Directory, orgID, name string) User {
	t.Helper()
	u, err := d.CreateUser(acct, orgID, CreateUserInput{Name: name, DisplayName: strings.ToUpper(name)})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if Code(err) != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func TestCreateOrganizationValidation(t *testing.T) {
	long := strings.Repeat("a", 63)
	tests := []struct {
		name string
		in   CreateOrganizationInput
		code string
	}{
		{"ok", CreateOrganizationInput{Alias: "acme"}, ""},
		{"ok hyphen", CreateOrganizationInput{Alias: "acme-corp-2"}, ""},
		{"ok 62 chars", CreateOrganizationInput{Alias: long[:62]}, ""},
		{"empty alias", CreateOrganizationInput{Alias: ""}, CodeInvalidParameter},
		{"alias too long", CreateOrganizationInput{Alias: long}, CodeInvalidParameter},
		{"alias d- prefix", CreateOrganizationInput{Alias: "d-acme"}, CodeInvalidParameter},
		{"alias D- prefix", CreateOrganizationInput{Alias: "D-acme"}, CodeInvalidParameter},
		{"alias leading hyphen", CreateOrganizationInput{Alias: "-acme"}, CodeInvalidParameter},
		{"alias trailing hyphen", CreateOrganizationInput{Alias: "acme-"}, CodeInvalidParameter},
		{"alias double hyphen", CreateOrganizationInput{Alias: "ac--me"}, CodeInvalidParameter},
		{"alias underscore", CreateOrganizationInput{Alias: "ac_me"}, CodeInvalidParameter},
		{"directory id", CreateOrganizationInput{Alias: "acme", DirectoryID: "d-0123456789"}, CodeDirectoryUnavailable},
		{"bad directory id", CreateOrganizationInput{Alias: "acme", DirectoryID: "d-xyz"}, CodeInvalidParameter},
		{"interop", CreateOrganizationInput{Alias: "acme", EnableInteroperability: true}, CodeInvalidParameter},
		{"bad client token", CreateOrganizationInput{Alias: "acme", ClientToken: "has space"}, CodeInvalidParameter},
		{"6 domains", CreateOrganizationInput{Alias: "acme", Domains: []Domain{{"a.test", ""}, {"b.test", ""}, {"c.test", ""}, {"d.test", ""}, {"e.test", ""}, {"f.test", ""}}}, CodeInvalidParameter},
		{"short domain", CreateOrganizationInput{Alias: "acme", Domains: []Domain{{"ab", ""}}}, CodeInvalidParameter},
		{"bad domain", CreateOrganizationInput{Alias: "acme", Domains: []Domain{{"exa_mple.test", ""}}}, CodeInvalidParameter},
		{"dup domain", CreateOrganizationInput{Alias: "acme", Domains: []Domain{{"a.test", ""}, {"A.test", ""}}}, CodeInvalidParameter},
		{"bad hosted zone", CreateOrganizationInput{Alias: "acme", Domains: []Domain{{"a.test", "Z/1"}}}, CodeInvalidParameter},
		{"kms ok", CreateOrganizationInput{Alias: "acme", KmsKeyArn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd"}, ""},
		{"kms bad", CreateOrganizationInput{Alias: "acme", KmsKeyArn: "arn:aws:s3:::bucket-name-long-enough"}, CodeInvalidParameter},
		{"no region", CreateOrganizationInput{Alias: "acme"}, CodeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := openTest(t)
			if tt.name != "no region" {
				tt.in.Region = "eu-west-1"
			}
			o, err := d.CreateOrganization(acct, tt.in)
			wantCode(t, err, tt.code)
			if err == nil {
				if !ValidOrganizationID(o.ID) {
					t.Errorf("id %q is not m-<32 hex>", o.ID)
				}
				if want := "arn:aws:workmail:eu-west-1:" + acct + ":organization/" + o.ID; o.ARN != want {
					t.Errorf("ARN = %s, want %s", o.ARN, want)
				}
				if o.State != StateActive || o.DirectoryType != DirectoryTypeWorkMail || len(o.DirectoryID) != 12 {
					t.Errorf("unexpected org %+v", o)
				}
			}
		})
	}
}

func TestOrganizationUniquenessAndDefaults(t *testing.T) {
	d, _ := openTest(t)
	a := mustOrg(t, d, "Acme", "Example.TEST", "second.test")
	if a.DefaultMailDomain != "example.test" {
		t.Errorf("default domain = %q, want first domain lower-cased", a.DefaultMailDomain)
	}
	b := mustOrg(t, d, "beta")
	if b.DefaultMailDomain != "beta.awsapps.com" {
		t.Errorf("default domain = %q, want beta.awsapps.com", b.DefaultMailDomain)
	}
	_, err := d.CreateOrganization(acct, CreateOrganizationInput{Region: "us-east-1", Alias: "ACME"})
	wantCode(t, err, CodeNameAvailability)
	_, err = d.CreateOrganization(acct, CreateOrganizationInput{Region: "us-east-1", Alias: "gamma", Domains: []Domain{{DomainName: "second.test"}}})
	wantCode(t, err, CodeNameAvailability)
	// Another account may reuse the alias: accounts are isolated.
	if _, err := d.CreateOrganization("444455556666", CreateOrganizationInput{Region: "us-east-1", Alias: "acme"}); err != nil {
		t.Fatalf("other account: %v", err)
	}
	if _, err := d.Organization("444455556666", a.ID); !errors.Is(err, ErrOrganizationNotFound) {
		t.Errorf("cross-account Organization err = %v, want OrganizationNotFound", err)
	}
	got, err := d.OrganizationByDomain(acct, "SECOND.test")
	if err != nil || got.ID != a.ID {
		t.Errorf("OrganizationByDomain = %v, %v", got.ID, err)
	}
	got, err = d.OrganizationByDomain(acct, "beta.awsapps.com")
	if err != nil || got.ID != b.ID {
		t.Errorf("OrganizationByDomain(default) = %v, %v", got.ID, err)
	}
	got, err = d.OrganizationByAlias(acct, "acme")
	if err != nil || got.ID != a.ID {
		t.Errorf("OrganizationByAlias = %v, %v", got.ID, err)
	}
}

func TestClientTokenIdempotency(t *testing.T) {
	d, _ := openTest(t)
	in := CreateOrganizationInput{Region: "us-east-1", Alias: "acme", ClientToken: "tok-1"}
	a, err := d.CreateOrganization(acct, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.CreateOrganization(acct, in)
	if err != nil || b.ID != a.ID {
		t.Fatalf("replay = %s, %v; want %s", b.ID, err, a.ID)
	}
	in.Alias = "other"
	_, err = d.CreateOrganization(acct, in)
	wantCode(t, err, CodeInvalidParameter)
	orgs, _, _ := d.ListOrganizations(acct, 0, "")
	if len(orgs) != 1 {
		t.Errorf("%d organizations after replay, want 1", len(orgs))
	}
}

func TestDescribeOrganizationErrors(t *testing.T) {
	d, _ := openTest(t)
	_, err := d.Organization(acct, "m-00000000000000000000000000000000")
	wantCode(t, err, CodeOrganizationNotFound)
	_, err = d.Organization(acct, "m-XYZ")
	wantCode(t, err, CodeInvalidParameter)
	_, err = d.Organization("../etc", "m-00000000000000000000000000000000")
	wantCode(t, err, CodeInvalidParameter)
}

func TestListOrganizationsPagination(t *testing.T) {
	d, _ := openTest(t)
	var ids []string
	for i := range 7 {
		ids = append(ids, mustOrg(t, d, fmt.Sprintf("org%d", i)).ID)
	}
	var got []string
	tok := ""
	pages := 0
	for {
		page, next, err := d.ListOrganizations(acct, 3, tok)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page {
			got = append(got, o.ID)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("pages=%d got %v want %v", pages, got, ids)
	}
	for _, tc := range []struct {
		max  int
		tok  string
		code string
	}{
		{101, "", CodeInvalidParameter},
		{-1, "", CodeInvalidParameter},
		{0, "garbage!", CodeInvalidParameter},
		{0, encodeToken('u', 1), CodeInvalidParameter},
		{100, "", ""},
	} {
		_, _, err := d.ListOrganizations(acct, tc.max, tc.tok)
		wantCode(t, err, tc.code)
	}
}

func TestCreateUser(t *testing.T) {
	d, _ := openTest(t)
	o := mustOrg(t, d, "acme", "example.test")
	other := mustOrg(t, d, "other", "other.test")
	tests := []struct {
		name      string
		org       string
		in        CreateUserInput
		code      string
		wantEmail string
	}{
		{"plain name", o.ID, CreateUserInput{Name: "alice", DisplayName: "Alice"}, "", "alice@example.test"},
		{"address name", o.ID, CreateUserInput{Name: "Bob@Example.test", DisplayName: "Bob"}, "", "bob@example.test"},
		{"dotted", o.ID, CreateUserInput{Name: "carol.smith", DisplayName: "C", Password: "s3cret pass"}, "", "carol.smith@example.test"},
		{"remote user", o.ID, CreateUserInput{Name: "dave", DisplayName: "D", Role: RoleRemoteUser}, "", "dave@example.test"},
		{"dup name", o.ID, CreateUserInput{Name: "ALICE", DisplayName: "A"}, CodeNameAvailability, ""},
		{"email taken", o.ID, CreateUserInput{Name: "alice@example.test", DisplayName: "A"}, CodeNameAvailability, ""},
		{"email taken across orgs", other.ID, CreateUserInput{Name: "alice@example.test", DisplayName: "A"}, CodeNameAvailability, ""},
		{"same name other org", other.ID, CreateUserInput{Name: "alice", DisplayName: "A"}, "", "alice@other.test"},
		{"empty name", o.ID, CreateUserInput{DisplayName: "x"}, CodeInvalidParameter, ""},
		{"name too long", o.ID, CreateUserInput{Name: strings.Repeat("n", 65), DisplayName: "x"}, CodeInvalidParameter, ""},
		{"name bad char", o.ID, CreateUserInput{Name: "al ice", DisplayName: "x"}, CodeInvalidParameter, ""},
		{"display too long", o.ID, CreateUserInput{Name: "erin", DisplayName: strings.Repeat("d", 257)}, CodeInvalidParameter, ""},
		{"system role", o.ID, CreateUserInput{Name: "frank", DisplayName: "x", Role: RoleSystemUser}, CodeInvalidParameter, ""},
		{"resource role", o.ID, CreateUserInput{Name: "frank", DisplayName: "x", Role: RoleResource}, CodeInvalidParameter, ""},
		{"unknown role", o.ID, CreateUserInput{Name: "frank", DisplayName: "x", Role: "ADMIN"}, CodeInvalidParameter, ""},
		{"password control char", o.ID, CreateUserInput{Name: "frank", DisplayName: "x", Password: "a\x01b"}, CodeInvalidParameter, ""},
		{"password too long", o.ID, CreateUserInput{Name: "frank", DisplayName: "x", Password: strings.Repeat("p", 257)}, CodeInvalidParameter, ""},
		{"unknown org", "m-00000000000000000000000000000000", CreateUserInput{Name: "frank", DisplayName: "x"}, CodeOrganizationNotFound, ""},
		{"malformed org", "acme", CreateUserInput{Name: "frank", DisplayName: "x"}, CodeInvalidParameter, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := d.CreateUser(acct, tt.org, tt.in)
			wantCode(t, err, tt.code)
			if err != nil {
				return
			}
			if u.Email != tt.wantEmail {
				t.Errorf("email = %q, want %q", u.Email, tt.wantEmail)
			}
			if len(u.ID) != 36 || strings.Count(u.ID, "-") != 4 {
				t.Errorf("id %q is not a GUID", u.ID)
			}
			if u.State != EntityEnabled || !u.Enabled() || !u.EnabledDate.Equal(t0) || !u.CreatedAt.Equal(t0) {
				t.Errorf("user not enabled at creation: %+v", u)
			}
			if tt.in.Password != "" && strings.Contains(fmt.Sprintf("%+v", u), tt.in.Password) {
				t.Errorf("password leaked into user record")
			}
		})
	}
}

func TestUserLookups(t *testing.T) {
	d, _ := openTest(t)
	o := mustOrg(t, d, "acme", "example.test")
	o2 := mustOrg(t, d, "beta", "beta.test")
	alice := mustUser(t, d, o.ID, "alice")
	bob2 := mustUser(t, d, o2.ID, "bob")
	mustUser(t, d, o.ID, "bob")
	tests := []struct {
		name string
		call func() (User, error)
		want string
		code string
	}{
		{"by id", func() (User, error) { return d.User(acct, o.ID, alice.ID) }, alice.ID, ""},
		{"by id wrong org", func() (User, error) { return d.User(acct, o2.ID, alice.ID) }, "", CodeEntityNotFound},
		{"by name", func() (User, error) { return d.UserByName(acct, o.ID, "ALICE") }, alice.ID, ""},
		{"by email", func() (User, error) { return d.UserByEmail(acct, o.ID, "Alice@Example.Test") }, alice.ID, ""},
		{"by email missing", func() (User, error) { return d.UserByEmail(acct, o.ID, "ghost@example.test") }, "", CodeEntityNotFound},
		{"describe by id", func() (User, error) { return d.DescribeUser(acct, o.ID, alice.ID) }, alice.ID, ""},
		{"describe by email", func() (User, error) { return d.DescribeUser(acct, o.ID, "alice@example.test") }, alice.ID, ""},
		{"describe by name", func() (User, error) { return d.DescribeUser(acct, o.ID, "alice") }, alice.ID, ""},
		{"describe bad ident", func() (User, error) { return d.DescribeUser(acct, o.ID, "a b") }, "", CodeInvalidParameter},
		{"describe unknown org", func() (User, error) { return d.DescribeUser(acct, "m-11111111111111111111111111111111", "alice") }, "", CodeOrganizationNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.call()
			wantCode(t, err, tt.code)
			if err == nil && u.ID != tt.want {
				t.Errorf("got user %s, want %s", u.ID, tt.want)
			}
		})
	}
	// FindLogin: email is unambiguous across orgs; a bare name only when unique.
	fo, fu, err := d.FindLogin(acct, "BOB@beta.test")
	if err != nil || fo.ID != o2.ID || fu.ID != bob2.ID {
		t.Errorf("FindLogin(bob@beta.test) = %s %s %v", fo.ID, fu.ID, err)
	}
	_, fu, err = d.FindLogin(acct, "alice")
	if err != nil || fu.ID != alice.ID {
		t.Errorf("FindLogin(alice) = %s %v", fu.ID, err)
	}
	_, _, err = d.FindLogin(acct, "bob")
	wantCode(t, err, CodeEntityNotFound)
	_, _, err = d.FindLogin(acct, "ghost@example.test")
	wantCode(t, err, CodeEntityNotFound)
}

func TestListUsers(t *testing.T) {
	d, _ := openTest(t)
	o := mustOrg(t, d, "acme", "example.test")
	var all []string
	for _, n := range []string{"alice", "albert", "bob", "carol", "alfred"} {
		all = append(all, mustUser(t, d, o.ID, n).Name)
	}
	if _, err := d.DeregisterUser(acct, o.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	names := func(us []User) string {
		var s []string
		for _, u := range us {
			s = append(s, u.Name)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name    string
		filters UserFilters
		want    string
		code    string
	}{
		{"all", UserFilters{}, strings.Join(all, ","), ""},
		{"name prefix", UserFilters{UsernamePrefix: "AL"}, "alice,albert,alfred", ""},
		{"display prefix", UserFilters{DisplayNamePrefix: "car"}, "carol", ""},
		{"email prefix", UserFilters{PrimaryEmailPrefix: "bob@"}, "bob", ""},
		{"state disabled", UserFilters{State: EntityDisabled}, "bob", ""},
		{"state enabled", UserFilters{State: EntityEnabled}, "alice,albert,carol,alfred", ""},
		{"two filters", UserFilters{UsernamePrefix: "a", State: EntityEnabled}, "", CodeInvalidParameter},
		{"bad state", UserFilters{State: "ACTIVE"}, "", CodeInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []User
			tok := ""
			for {
				page, next, err := d.ListUsers(acct, o.ID, tt.filters, 2, tok)
				wantCode(t, err, tt.code)
				if err != nil {
					return
				}
				if len(page) > 2 {
					t.Fatalf("page of %d > MaxResults 2", len(page))
				}
				got = append(got, page...)
				if next == "" {
					break
				}
				tok = next
			}
			if names(got) != tt.want {
				t.Errorf("got %s, want %s", names(got), tt.want)
			}
		})
	}
	_, _, err := d.ListUsers(acct, o.ID, UserFilters{}, 0, encodeToken('o', 1))
	wantCode(t, err, CodeInvalidParameter)
}

func TestRegisterDeregister(t *testing.T) {
	d, _ := openTest(t)
	o := mustOrg(t, d, "acme", "example.test")
	u := mustUser(t, d, o.ID, "alice")
	mustUser(t, d, o.ID, "bob")
	_, err := d.RegisterUser(acct, o.ID, u.ID, "alice2@example.test")
	wantCode(t, err, CodeEntityState) // already enabled
	got, err := d.DeregisterUser(acct, o.ID, u.ID)
	if err != nil || got.State != EntityDisabled || got.DisabledDate.IsZero() {
		t.Fatalf("Deregister = %+v, %v", got, err)
	}
	_, err = d.DeregisterUser(acct, o.ID, u.ID)
	wantCode(t, err, CodeEntityState)
	_, err = d.RegisterUser(acct, o.ID, u.ID, "bob@example.test")
	wantCode(t, err, CodeEmailAddressInUse)
	got, err = d.RegisterUser(acct, o.ID, "alice", "Alice.New@example.test")
	if err != nil || got.Email != "alice.new@example.test" || got.State != EntityEnabled {
		t.Fatalf("Register = %+v, %v", got, err)
	}
	if _, err := d.UserByEmail(acct, o.ID, "alice.new@example.test"); err != nil {
		t.Errorf("new email not indexed: %v", err)
	}
	if _, err := d.UserByEmail(acct, o.ID, "alice@example.test"); err == nil {
		t.Errorf("old email still indexed")
	}
	_, err = d.RegisterUser(acct, o.ID, "ghost", "ghost@example.test")
	wantCode(t, err, CodeEntityNotFound)
}

func TestPersistenceRoundTrip(t *testing.T) {
	d, dir := openTest(t)
	o := mustOrg(t, d, "acme", "example.test")
	u := mustUser(t, d, o.ID, "alice")
	mustUser(t, d, o.ID, "bob")
	d.DeregisterUser(acct, o.ID, "bob")
	d2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o2, err := d2.Organization(acct, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o2.ARN != o.ARN || o2.Alias != o.Alias || !o2.CreatedAt.Equal(o.CreatedAt) || o2.DefaultMailDomain != o.DefaultMailDomain {
		t.Errorf("org after reopen = %+v, want %+v", o2, o)
	}
	u2, err := d2.UserByEmail(acct, o.ID, "alice@example.test")
	if err != nil || u2.ID != u.ID || !u2.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("user after reopen = %+v, %v", u2, err)
	}
	b, _ := d2.UserByName(acct, o.ID, "bob")
	if b.State != EntityDisabled {
		t.Errorf("bob state after reopen = %s", b.State)
	}
	// Sequence numbers survive: a new user sorts after the old ones.
	c := mustUser(t, d2, o.ID, "carol")
	users, _, _ := d2.ListUsers(acct, o.ID, UserFilters{}, 0, "")
	if users[len(users)-1].ID != c.ID {
		t.Errorf("new user not last after reopen")
	}
	accts, err := d2.Accounts()
	if err != nil || len(accts) != 1 || accts[0] != acct {
		t.Errorf("Accounts = %v, %v", accts, err)
	}
	// No temp files left behind.
	ents, _ := os.ReadDir(filepath.Join(dir, acct))
	if len(ents) != 1 || ents[0].Name() != "directory.json" {
		t.Errorf("account dir holds %v, want only directory.json", ents)
	}
}

func TestCorruptFile(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"syntax", `{"version":1,"organizations":[`, "byte offset"},
		{"version", `{"version":9,"organizations":[]}`, "version 9"},
		{"unknown field", `{"version":1,"organizations":[],"extra":1}`, "unknown field"},
		{"bad id", `{"version":1,"organizations":[{"organization":{"id":"x"}}]}`, "organizations[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, acct), 0o755)
			os.WriteFile(filepath.Join(dir, acct, "directory.json"), []byte(tc.content), 0o600)
			d, _ := Open(dir, Options{})
			_, _, err := d.ListOrganizations(acct, 0, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) || Code(err) != "" {
				t.Errorf("err = %v, want internal error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestSaveFailureRollsBack(t *testing.T) {
	d, dir := openTest(t)
	o := mustOrg(t, d, "acme", "example.test")
	// Put a non-empty directory where directory.json goes: the rename of the
	// next save fails even for root.
	p := filepath.Join(dir, acct, "directory.json")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(p, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(acct, o.ID, CreateUserInput{Name: "alice", DisplayName: "A"}); err == nil || Code(err) != "" {
		t.Fatalf("CreateUser on read-only dir = %v, want internal error", err)
	}
	if _, err := d.UserByName(acct, o.ID, "alice"); !errors.Is(err, ErrEntityNotFound) {
		t.Errorf("failed create left the user in memory: %v", err)
	}
}

func TestConcurrentCreates(t *testing.T) {
	d, dir := openTest(t)
	o := mustOrg(t, d, "acme", "example.test")
	var wg sync.WaitGroup
	const n = 40
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.CreateUser(acct, o.ID, CreateUserInput{Name: fmt.Sprintf("u%02d", i), DisplayName: "x"})
			errs <- err
			d.ListUsers(acct, o.ID, UserFilters{}, 0, "")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	d2, _ := Open(dir, Options{})
	users, _, err := d2.ListUsers(acct, o.ID, UserFilters{}, 100, "")
	if err != nil || len(users) != n {
		t.Errorf("after reopen %d users, %v; want %d", len(users), err, n)
	}
}

func FuzzDecodeAccount(f *testing.F) {
	f.Add([]byte(`{"version":1,"next_org_seq":1,"organizations":[{"organization":{"id":"m-0123456789abcdef0123456789abcdef","alias":"a","seq":1},"users":[{"id":"u","name":"n","seq":1}]}]}`))
	f.Add([]byte(`{"version":1,"organizations":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a accountState
		if err := decodeAccount(data, &a); err != nil {
			return
		}
		a.index() // must not panic on anything the decoder accepted
	})
}
