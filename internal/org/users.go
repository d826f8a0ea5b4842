package org

import (
	"strings"
)

// CreateUserInput is CreateUser's request minus OrganizationId.
type CreateUserInput struct {
	Name                        string
	DisplayName                 string
	Password                    string // validated, never stored
	Role                        string // "" means USER
	FirstName                   string
	LastName                    string
	HiddenFromGlobalAddressList bool
}

func (in *CreateUserInput) validate() error {
	if in.Name == "" {
		return Errorf(CodeInvalidParameter, "Name is required")
	}
	if err := checkUserName(in.Name); err != nil {
		return err
	}
	for _, f := range []struct{ v, member string }{
		{in.DisplayName, "displayName"}, {in.FirstName, "firstName"}, {in.LastName, "lastName"},
	} {
		if err := checkLen(f.v, f.member, 0, 256); err != nil {
			return err
		}
	}
	if in.Password != "" {
		if len(in.Password) > 256 {
			return Validation("***", "password", "Member must have length less than or equal to 256")
		}
		if err := checkLatin1(in.Password, "password", true); err != nil {
			return err
		}
	}
	switch in.Role {
	case "", RoleUser, RoleRemoteUser:
	case RoleSystemUser, RoleResource:
		return Errorf(CodeInvalidParameter, "Role %s cannot be passed to CreateUser", in.Role)
	default:
		return Validation(in.Role, "role", "Member must satisfy enum value set: [USER, RESOURCE, SYSTEM_USER, REMOTE_USER]")
	}
	return nil
}

// CreateUser creates a user in an organization and returns it. See the
// package documentation for why the user is ENABLED at once and how its
// email is chosen.
func (d *Directory) CreateUser(account, orgID string, in CreateUserInput) (User, error) {
	if err := in.validate(); err != nil {
		return User{}, err
	}
	var out User
	err := d.withWrite(account, func(a *accountState) (func(), error) {
		o, err := a.org(orgID)
		if err != nil {
			return nil, err
		}
		if o.Org.State != StateActive {
			return nil, Errorf(CodeOrganizationState, "Organization %s is %s", orgID, o.Org.State)
		}
		if u := o.byName[strings.ToLower(in.Name)]; u != nil {
			return nil, Errorf(CodeNameAvailability, "User name %s is already used by %s in organization %s", in.Name, u.ID, orgID)
		}
		email := in.Name
		if !strings.Contains(email, "@") {
			email = in.Name + "@" + o.Org.DefaultMailDomain
		}
		email = strings.ToLower(email)
		if err := checkEmail(email, "email"); err != nil {
			return nil, Errorf(CodeInvalidParameter, "User name %s does not make a valid email address %s in organization %s", in.Name, email, orgID)
		}
		if owner := a.emailOwner(email); owner != "" {
			return nil, Errorf(CodeNameAvailability, "Email address %s is already used by %s", email, owner)
		}
		now := d.now().UTC()
		role := in.Role
		if role == "" {
			role = RoleUser
		}
		id := NewGUID()
		for o.byID[id] != nil {
			id = NewGUID()
		}
		o.NextUserSeq++
		u := &User{
			ID:                          id,
			Name:                        in.Name,
			DisplayName:                 in.DisplayName,
			FirstName:                   in.FirstName,
			LastName:                    in.LastName,
			Email:                       email,
			State:                       EntityEnabled,
			Role:                        role,
			HiddenFromGlobalAddressList: in.HiddenFromGlobalAddressList,
			CreatedAt:                   now,
			EnabledDate:                 now,
			Seq:                         o.NextUserSeq,
		}
		o.Users = append(o.Users, u)
		o.add(u)
		out = *u
		return func() {
			o.Users = o.Users[:len(o.Users)-1]
			o.index()
			o.NextUserSeq--
		}, nil
	})
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// emailOwner returns the id of the user in any organization of the account
// that has email, or "".
func (a *accountState) emailOwner(email string) string {
	for _, o := range a.Orgs {
		if u := o.byEmail[strings.ToLower(email)]; u != nil {
			return u.ID
		}
	}
	return ""
}

// resolve finds a user by EntityIdentifier: user id, email or user name.
func (o *orgState) resolve(ident string) *User {
	if u := o.byID[ident]; u != nil {
		return u
	}
	l := strings.ToLower(ident)
	if strings.Contains(l, "@") {
		if u := o.byEmail[l]; u != nil {
			return u
		}
	}
	return o.byName[l]
}

// User returns a user by its WorkMail user id.
func (d *Directory) User(account, orgID, userID string) (User, error) {
	return d.lookup(account, orgID, userID, func(o *orgState) *User { return o.byID[userID] })
}

// UserByName returns a user by user name (case-insensitive).
func (d *Directory) UserByName(account, orgID, name string) (User, error) {
	return d.lookup(account, orgID, name, func(o *orgState) *User { return o.byName[strings.ToLower(name)] })
}

// UserByEmail returns a user by email address (case-insensitive).
func (d *Directory) UserByEmail(account, orgID, email string) (User, error) {
	return d.lookup(account, orgID, email, func(o *orgState) *User { return o.byEmail[strings.ToLower(email)] })
}

// DescribeUser resolves an EntityIdentifier the way the API does: a user id,
// an email address or a user name.
func (d *Directory) DescribeUser(account, orgID, ident string) (User, error) {
	if err := checkEntityIdentifier(ident, "userId"); err != nil {
		return User{}, err
	}
	return d.lookup(account, orgID, ident, func(o *orgState) *User { return o.resolve(ident) })
}

func (d *Directory) lookup(account, orgID, what string, find func(*orgState) *User) (User, error) {
	var out User
	err := d.withRead(account, func(a *accountState) error {
		o, err := a.org(orgID)
		if err != nil {
			return err
		}
		u := find(o)
		if u == nil {
			return Errorf(CodeEntityNotFound, "User %s does not exist in organization %s", what, orgID)
		}
		out = *u
		return nil
	})
	return out, err
}

// FindLogin maps a mail-server login (Dovecot's login, Postfix's
// sasl_username) to its organization and user within an account: first by
// email address across all organizations, then by user name when exactly one
// organization has a user of that name. It fails with EntityNotFoundException
// when nothing (or an ambiguous name) matches.
func (d *Directory) FindLogin(account, login string) (Organization, User, error) {
	var (
		org  Organization
		user User
	)
	err := d.withRead(account, func(a *accountState) error {
		l := strings.ToLower(login)
		if strings.Contains(l, "@") {
			for _, o := range a.Orgs {
				if u := o.byEmail[l]; u != nil {
					org, user = o.Org.clone(), *u
					return nil
				}
			}
		}
		var hit *orgState
		for _, o := range a.Orgs {
			if o.byName[l] != nil {
				if hit != nil {
					return Errorf(CodeEntityNotFound, "Login %s matches users in organizations %s and %s", login, hit.Org.ID, o.Org.ID)
				}
				hit = o
			}
		}
		if hit == nil {
			return Errorf(CodeEntityNotFound, "No user with login %s", login)
		}
		org, user = hit.Org.clone(), *hit.byName[l]
		return nil
	})
	return org, user, err
}

// UserFilters are ListUsers' Filters; at most one may be set.
type UserFilters struct {
	UsernamePrefix     string
	DisplayNamePrefix  string
	PrimaryEmailPrefix string
	State              EntityState
}

func (f UserFilters) count() int {
	n := 0
	for _, s := range []string{f.UsernamePrefix, f.DisplayNamePrefix, f.PrimaryEmailPrefix, string(f.State)} {
		if s != "" {
			n++
		}
	}
	return n
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (f UserFilters) match(u *User) bool {
	switch {
	case f.UsernamePrefix != "":
		return hasPrefixFold(u.Name, f.UsernamePrefix)
	case f.DisplayNamePrefix != "":
		return hasPrefixFold(u.DisplayName, f.DisplayNamePrefix)
	case f.PrimaryEmailPrefix != "":
		return hasPrefixFold(u.Email, f.PrimaryEmailPrefix)
	case f.State != "":
		return u.State == f.State
	}
	return true
}

// ListUsers returns one page of an organization's users in creation order.
// maxResults 0 means the default page size (100); the returned token is ""
// on the last page.
func (d *Directory) ListUsers(account, orgID string, filters UserFilters, maxResults int, nextToken string) ([]User, string, error) {
	if filters.count() > 1 {
		return nil, "", Errorf(CodeInvalidParameter, "Only one filter per request is supported")
	}
	switch filters.State {
	case "", EntityEnabled, EntityDisabled, EntityDeleted:
	default:
		return nil, "", Validation(filters.State, "filters.state", "Member must satisfy enum value set: [ENABLED, DISABLED, DELETED]")
	}
	n, err := checkMaxResults(maxResults)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken('u', nextToken)
	if err != nil {
		return nil, "", err
	}
	var out []User
	var next string
	err = d.withRead(account, func(a *accountState) error {
		o, err := a.org(orgID)
		if err != nil {
			return err
		}
		for _, u := range o.Users {
			if u.Seq <= after || !filters.match(u) {
				continue
			}
			if len(out) == n {
				next = encodeToken('u', out[len(out)-1].Seq)
				break
			}
			out = append(out, *u)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// RegisterUser enables a user with the given email (RegisterToWorkMail).
// ident is a user id, email or name.
func (d *Directory) RegisterUser(account, orgID, ident, email string) (User, error) {
	if err := checkEntityIdentifier(ident, "entityId"); err != nil {
		return User{}, err
	}
	if err := checkEmail(email, "email"); err != nil {
		return User{}, err
	}
	email = strings.ToLower(email)
	var out User
	err := d.withWrite(account, func(a *accountState) (func(), error) {
		o, err := a.org(orgID)
		if err != nil {
			return nil, err
		}
		u := o.resolve(ident)
		if u == nil {
			return nil, Errorf(CodeEntityNotFound, "User %s does not exist in organization %s", ident, orgID)
		}
		if u.State == EntityEnabled {
			return nil, Errorf(CodeEntityState, "User %s is already registered", u.ID)
		}
		if u.State == EntityDeleted {
			return nil, Errorf(CodeEntityState, "User %s is deleted", u.ID)
		}
		if owner := a.emailOwner(email); owner != "" && owner != u.ID {
			return nil, Errorf(CodeEmailAddressInUse, "Email address %s is already used by %s", email, owner)
		}
		old := *u
		u.Email, u.State, u.EnabledDate = email, EntityEnabled, d.now().UTC()
		o.index()
		out = *u
		return func() { *u = old; o.index() }, nil
	})
	return out, err
}

// DeregisterUser disables a user (DeregisterFromWorkMail). The user keeps
// its email, which stays reserved; lookups still find the user, and callers
// must check State (a disabled user has no mailbox to log in to).
func (d *Directory) DeregisterUser(account, orgID, ident string) (User, error) {
	if err := checkEntityIdentifier(ident, "entityId"); err != nil {
		return User{}, err
	}
	var out User
	err := d.withWrite(account, func(a *accountState) (func(), error) {
		o, err := a.org(orgID)
		if err != nil {
			return nil, err
		}
		u := o.resolve(ident)
		if u == nil {
			return nil, Errorf(CodeEntityNotFound, "User %s does not exist in organization %s", ident, orgID)
		}
		if u.State != EntityEnabled {
			return nil, Errorf(CodeEntityState, "User %s is not registered (state %s)", u.ID, u.State)
		}
		old := *u
		u.State, u.DisabledDate = EntityDisabled, d.now().UTC()
		out = *u
		return func() { *u = old }, nil
	})
	return out, err
}
