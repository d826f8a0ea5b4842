package workmail

import (
	"fmt"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/org"
)

// The request shapes below carry the model's member names (and omitempty so
// call reporting shows only what was sent). Members that are required but
// may be empty strings are pointers, to tell absent from "".

// CreateOrganizationInput is CreateOrganization's request.
type CreateOrganizationInput struct {
	DirectoryId            string        `json:",omitempty"`
	Alias                  string        `json:",omitempty"`
	ClientToken            string        `json:",omitempty"`
	Domains                []DomainInput `json:",omitempty"`
	KmsKeyArn              string        `json:",omitempty"`
	EnableInteroperability bool          `json:",omitempty"`
}

// DomainInput is one member of CreateOrganization's Domains.
type DomainInput struct {
	DomainName   string `json:",omitempty"`
	HostedZoneId string `json:",omitempty"`
}

// OrganizationInput is the request of the operations that take only an
// organization: DescribeOrganization and ListAccessControlRules.
type OrganizationInput struct {
	OrganizationId string `json:",omitempty"`
}

// ListOrganizationsInput is ListOrganizations' request.
type ListOrganizationsInput struct {
	NextToken  string `json:",omitempty"`
	MaxResults *int   `json:",omitempty"`
}

// CreateUserInput is CreateUser's request.
type CreateUserInput struct {
	OrganizationId              string  `json:",omitempty"`
	Name                        string  `json:",omitempty"`
	DisplayName                 *string `json:",omitempty"`
	Password                    string  `json:",omitempty"`
	Role                        string  `json:",omitempty"`
	FirstName                   string  `json:",omitempty"`
	LastName                    string  `json:",omitempty"`
	HiddenFromGlobalAddressList bool    `json:",omitempty"`
	IdentityProviderUserId      string  `json:",omitempty"`
}

// redacted drops the password from call reports, as CloudTrail does.
func (in *CreateUserInput) redacted() any {
	c := *in
	c.Password = ""
	return &c
}

// ListUsersInput is ListUsers' request.
type ListUsersInput struct {
	OrganizationId string            `json:",omitempty"`
	NextToken      string            `json:",omitempty"`
	MaxResults     *int              `json:",omitempty"`
	Filters        *ListUsersFilters `json:",omitempty"`
}

// ListUsersFilters is ListUsers' Filters member.
type ListUsersFilters struct {
	UsernamePrefix               string `json:",omitempty"`
	DisplayNamePrefix            string `json:",omitempty"`
	PrimaryEmailPrefix           string `json:",omitempty"`
	State                        string `json:",omitempty"`
	IdentityProviderUserIdPrefix string `json:",omitempty"`
}

// DescribeUserInput is DescribeUser's request.
type DescribeUserInput struct {
	OrganizationId string `json:",omitempty"`
	UserId         string `json:",omitempty"`
}

// PutAccessControlRuleInput is PutAccessControlRule's request.
type PutAccessControlRuleInput struct {
	OrganizationId          string   `json:",omitempty"`
	Name                    string   `json:",omitempty"`
	Effect                  string   `json:",omitempty"`
	Description             *string  `json:",omitempty"`
	IpRanges                []string `json:",omitempty"`
	NotIpRanges             []string `json:",omitempty"`
	Actions                 []string `json:",omitempty"`
	NotActions              []string `json:",omitempty"`
	UserIds                 []string `json:",omitempty"`
	NotUserIds              []string `json:",omitempty"`
	ImpersonationRoleIds    []string `json:",omitempty"`
	NotImpersonationRoleIds []string `json:",omitempty"`
}

// DeleteAccessControlRuleInput is DeleteAccessControlRule's request.
type DeleteAccessControlRuleInput struct {
	OrganizationId string `json:",omitempty"`
	Name           string `json:",omitempty"`
}

// GetAccessControlEffectInput is GetAccessControlEffect's request.
type GetAccessControlEffectInput struct {
	OrganizationId      string `json:",omitempty"`
	IpAddress           string `json:",omitempty"`
	Action              string `json:",omitempty"`
	UserId              string `json:",omitempty"`
	ImpersonationRoleId string `json:",omitempty"`
}

// Answers that internal/org and internal/access do not already shape.
type (
	createOrganizationOutput struct{ OrganizationId string }
	listOrganizationsOutput  struct {
		OrganizationSummaries []org.OrganizationSummary
		NextToken             string `json:",omitempty"`
	}
	createUserOutput struct{ UserId string }
	listUsersOutput  struct {
		Users     []org.UserSummary
		NextToken string `json:",omitempty"`
	}
	listRulesOutput struct{ Rules []access.APIRule }
	emptyOutput     struct{}
)

func operations() map[string]operation {
	return map[string]operation{
		"CreateOrganization":      op(true, createOrganization),
		"DescribeOrganization":    op(false, describeOrganization),
		"ListOrganizations":       op(false, listOrganizations),
		"CreateUser":              op(true, createUser),
		"ListUsers":               op(false, listUsers),
		"DescribeUser":            op(false, describeUser),
		"PutAccessControlRule":    op(true, putAccessControlRule),
		"ListAccessControlRules":  op(false, listAccessControlRules),
		"DeleteAccessControlRule": op(true, deleteAccessControlRule),
		"GetAccessControlEffect":  op(false, getAccessControlEffect),
	}
}

// op adapts a typed operation: decode the body into a fresh In, run f.
func op[In any](mutating bool, f func(h *Handler, c *callContext, in *In) (any, error)) operation {
	return operation{mutating: mutating, run: func(h *Handler, c *callContext, body []byte) (any, any, error) {
		in := new(In)
		if err := DecodeRequest(body, in); err != nil {
			return nil, nil, err
		}
		out, err := f(h, c, in)
		return out, in, err
	}}
}

// maxResults checks an optional MaxResults (1-100) and returns it, 0 when
// absent (the directory's default page).
func maxResults(p *int) (int, error) {
	if p == nil {
		return 0, nil
	}
	if *p < 1 || *p > 100 {
		return 0, org.Validation(*p, "maxResults", "Member must have value between 1 and 100")
	}
	return *p, nil
}

// nextToken checks the model's NextToken length (1-1024): an empty string
// sent explicitly is as good as absent here, since the directory treats it
// as the first page.
func nextToken(s string) error {
	if len(s) > 1024 {
		return org.Validation(s[:32]+"...", "nextToken", "Member must have length less than or equal to 1024")
	}
	return nil
}

func createOrganization(h *Handler, c *callContext, in *CreateOrganizationInput) (any, error) {
	if in.Alias == "" {
		return nil, missing("alias")
	}
	domains := make([]org.Domain, len(in.Domains))
	for i, d := range in.Domains {
		if d.DomainName == "" {
			return nil, missing(fmt.Sprintf("domains.%d.member.domainName", i+1))
		}
		domains[i] = org.Domain{DomainName: d.DomainName, HostedZoneID: d.HostedZoneId}
	}
	o, err := h.cfg.Dir.CreateOrganization(c.account, org.CreateOrganizationInput{
		Region: c.region, Alias: in.Alias, DirectoryID: in.DirectoryId, ClientToken: in.ClientToken,
		Domains: domains, KmsKeyArn: in.KmsKeyArn, EnableInteroperability: in.EnableInteroperability,
	})
	if err != nil {
		return nil, err
	}
	return createOrganizationOutput{OrganizationId: o.ID}, nil
}

func describeOrganization(h *Handler, c *callContext, in *OrganizationInput) (any, error) {
	if in.OrganizationId == "" {
		return nil, missing("organizationId")
	}
	o, err := h.cfg.Dir.Organization(c.account, in.OrganizationId)
	if err != nil {
		return nil, err
	}
	return o.Describe(), nil
}

func listOrganizations(h *Handler, c *callContext, in *ListOrganizationsInput) (any, error) {
	n, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	if err := nextToken(in.NextToken); err != nil {
		return nil, err
	}
	orgs, next, err := h.cfg.Dir.ListOrganizations(c.account, n, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listOrganizationsOutput{OrganizationSummaries: make([]org.OrganizationSummary, len(orgs)), NextToken: next}
	for i, o := range orgs {
		out.OrganizationSummaries[i] = o.Summary()
	}
	return out, nil
}

func createUser(h *Handler, c *callContext, in *CreateUserInput) (any, error) {
	switch {
	case in.OrganizationId == "":
		return nil, missing("organizationId")
	case in.Name == "":
		return nil, missing("name")
	case in.DisplayName == nil:
		return nil, missing("displayName")
	case in.IdentityProviderUserId != "":
		return nil, org.Errorf(org.CodeInvalidParameter,
			"IdentityProviderUserId %s cannot be used: mailtrail has no IAM Identity Center integration", in.IdentityProviderUserId)
	}
	u, err := h.cfg.Dir.CreateUser(c.account, in.OrganizationId, org.CreateUserInput{
		Name: in.Name, DisplayName: *in.DisplayName, Password: in.Password, Role: in.Role,
		FirstName: in.FirstName, LastName: in.LastName, HiddenFromGlobalAddressList: in.HiddenFromGlobalAddressList,
	})
	if err != nil {
		return nil, err
	}
	return createUserOutput{UserId: u.ID}, nil
}

func listUsers(h *Handler, c *callContext, in *ListUsersInput) (any, error) {
	if in.OrganizationId == "" {
		return nil, missing("organizationId")
	}
	n, err := maxResults(in.MaxResults)
	if err != nil {
		return nil, err
	}
	if err := nextToken(in.NextToken); err != nil {
		return nil, err
	}
	var f org.UserFilters
	noneMatch := false
	if in.Filters != nil {
		f = org.UserFilters{UsernamePrefix: in.Filters.UsernamePrefix, DisplayNamePrefix: in.Filters.DisplayNamePrefix,
			PrimaryEmailPrefix: in.Filters.PrimaryEmailPrefix, State: org.EntityState(in.Filters.State)}
		switch f.State {
		case "", org.EntityEnabled, org.EntityDisabled, org.EntityDeleted:
		default:
			return nil, org.Validation(f.State, "filters.state", "Member must satisfy enum value set: [ENABLED, DISABLED, DELETED]")
		}
		if p := in.Filters.IdentityProviderUserIdPrefix; p != "" {
			if f != (org.UserFilters{}) {
				return nil, org.Errorf(org.CodeInvalidParameter, "Only one filter can be set in ListUsers.Filters")
			}
			noneMatch = true // see the package doc: no user has an identity provider id
		}
	}
	users, next, err := h.cfg.Dir.ListUsers(c.account, in.OrganizationId, f, n, in.NextToken)
	if err != nil {
		return nil, err
	}
	if noneMatch {
		users, next = nil, ""
	}
	out := listUsersOutput{Users: make([]org.UserSummary, len(users)), NextToken: next}
	for i, u := range users {
		out.Users[i] = u.Summary()
	}
	return out, nil
}

func describeUser(h *Handler, c *callContext, in *DescribeUserInput) (any, error) {
	switch {
	case in.OrganizationId == "":
		return nil, missing("organizationId")
	case in.UserId == "":
		return nil, missing("userId")
	}
	u, err := h.cfg.Dir.DescribeUser(c.account, in.OrganizationId, in.UserId)
	if err != nil {
		return nil, err
	}
	return u.Describe(), nil
}

func putAccessControlRule(h *Handler, c *callContext, in *PutAccessControlRuleInput) (any, error) {
	switch {
	case in.OrganizationId == "":
		return nil, missing("organizationId")
	case in.Name == "":
		return nil, missing("name")
	case in.Effect == "":
		return nil, missing("effect")
	case in.Description == nil:
		return nil, missing("description")
	}
	r := access.Rule{
		Name: in.Name, Effect: access.Effect(in.Effect), Description: *in.Description,
		IpRanges: in.IpRanges, NotIpRanges: in.NotIpRanges,
		Actions: actions(in.Actions), NotActions: actions(in.NotActions),
		UserIds: in.UserIds, NotUserIds: in.NotUserIds,
		ImpersonationRoleIds: in.ImpersonationRoleIds, NotImpersonationRoleIds: in.NotImpersonationRoleIds,
	}
	if _, err := h.cfg.Rules.PutRule(c.account, in.OrganizationId, r); err != nil {
		return nil, err
	}
	return emptyOutput{}, nil
}

func actions(s []string) []access.Action {
	if s == nil {
		return nil
	}
	out := make([]access.Action, len(s))
	for i, a := range s {
		out[i] = access.Action(a)
	}
	return out
}

func listAccessControlRules(h *Handler, c *callContext, in *OrganizationInput) (any, error) {
	if in.OrganizationId == "" {
		return nil, missing("organizationId")
	}
	rules, err := h.cfg.Rules.ListRules(c.account, in.OrganizationId)
	if err != nil {
		return nil, err
	}
	out := listRulesOutput{Rules: make([]access.APIRule, len(rules))}
	for i, r := range rules {
		out.Rules[i] = r.API()
	}
	return out, nil
}

func deleteAccessControlRule(h *Handler, c *callContext, in *DeleteAccessControlRuleInput) (any, error) {
	switch {
	case in.OrganizationId == "":
		return nil, missing("organizationId")
	case in.Name == "":
		return nil, missing("name")
	}
	if err := h.cfg.Rules.DeleteRule(c.account, in.OrganizationId, in.Name); err != nil {
		return nil, err
	}
	return emptyOutput{}, nil
}

func getAccessControlEffect(h *Handler, c *callContext, in *GetAccessControlEffectInput) (any, error) {
	switch {
	case in.OrganizationId == "":
		return nil, missing("organizationId")
	case in.IpAddress == "":
		return nil, missing("ipAddress")
	case in.Action == "":
		return nil, missing("action")
	}
	d, err := h.cfg.Rules.GetAccessControlEffect(c.account, in.OrganizationId, access.EffectQuery{
		IPAddress: in.IpAddress, Action: in.Action, UserID: in.UserId, ImpersonationRoleID: in.ImpersonationRoleId,
	})
	if err != nil {
		return nil, err
	}
	return d.API(), nil
}
