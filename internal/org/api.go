package org

import (
	"math"
	"strconv"
	"time"
)

// The types below are the WorkMail API's response shapes (JSON 1.1 member
// names), so the API layer can encode directory objects without restating
// the model.

// Epoch is a timestamp in the AWS JSON protocol form: seconds since the Unix
// epoch as a number with millisecond fraction. The zero time is omitted by
// `omitzero`.
type Epoch time.Time

// MarshalJSON writes seconds with up to three decimals.
func (e Epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads seconds (integer or fractional).
func (e *Epoch) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return Errorf(CodeInvalidParameter, "timestamp %s is not epoch seconds", b)
	}
	*e = Epoch(time.UnixMilli(int64(math.Round(f * 1000))).UTC())
	return nil
}

// IsZero lets `omitzero` drop unset timestamps.
func (e Epoch) IsZero() bool { return time.Time(e).IsZero() }

// OrganizationSummary is ListOrganizations' OrganizationSummaries member.
type OrganizationSummary struct {
	OrganizationId    string
	Alias             string
	DefaultMailDomain string `json:",omitempty"`
	State             string
}

// Summary returns the organization as ListOrganizations shows it.
func (o Organization) Summary() OrganizationSummary {
	return OrganizationSummary{OrganizationId: o.ID, Alias: o.Alias, DefaultMailDomain: o.DefaultMailDomain, State: o.State}
}

// DescribeOrganizationOutput is DescribeOrganization's response.
type DescribeOrganizationOutput struct {
	OrganizationId          string
	Alias                   string
	State                   string
	DirectoryId             string `json:",omitempty"`
	DirectoryType           string `json:",omitempty"`
	DefaultMailDomain       string `json:",omitempty"`
	CompletedDate           Epoch  `json:",omitzero"`
	ARN                     string
	InteroperabilityEnabled bool
}

// Describe returns the organization as DescribeOrganization shows it.
func (o Organization) Describe() DescribeOrganizationOutput {
	return DescribeOrganizationOutput{
		OrganizationId:    o.ID,
		Alias:             o.Alias,
		State:             o.State,
		DirectoryId:       o.DirectoryID,
		DirectoryType:     o.DirectoryType,
		DefaultMailDomain: o.DefaultMailDomain,
		CompletedDate:     Epoch(o.CreatedAt),
		ARN:               o.ARN,
	}
}

// UserSummary is ListUsers' Users member.
type UserSummary struct {
	Id           string
	Email        string `json:",omitempty"`
	Name         string
	DisplayName  string `json:",omitempty"`
	State        EntityState
	UserRole     string
	EnabledDate  Epoch `json:",omitzero"`
	DisabledDate Epoch `json:",omitzero"`
}

// Summary returns the user as ListUsers shows it.
func (u User) Summary() UserSummary {
	return UserSummary{Id: u.ID, Email: u.Email, Name: u.Name, DisplayName: u.DisplayName, State: u.State,
		UserRole: u.Role, EnabledDate: Epoch(u.EnabledDate), DisabledDate: Epoch(u.DisabledDate)}
}

// DescribeUserOutput is DescribeUser's response (the members mailtrail
// keeps; address-book attributes are not stored).
type DescribeUserOutput struct {
	UserId                      string
	Name                        string
	Email                       string `json:",omitempty"`
	DisplayName                 string `json:",omitempty"`
	State                       EntityState
	UserRole                    string
	EnabledDate                 Epoch  `json:",omitzero"`
	DisabledDate                Epoch  `json:",omitzero"`
	MailboxProvisionedDate      Epoch  `json:",omitzero"`
	FirstName                   string `json:",omitempty"`
	LastName                    string `json:",omitempty"`
	HiddenFromGlobalAddressList bool
}

// Describe returns the user as DescribeUser shows it. The mailbox counts as
// provisioned when the user was first enabled.
func (u User) Describe() DescribeUserOutput {
	out := DescribeUserOutput{
		UserId: u.ID, Name: u.Name, Email: u.Email, DisplayName: u.DisplayName, State: u.State, UserRole: u.Role,
		EnabledDate: Epoch(u.EnabledDate), DisabledDate: Epoch(u.DisabledDate),
		FirstName: u.FirstName, LastName: u.LastName, HiddenFromGlobalAddressList: u.HiddenFromGlobalAddressList,
	}
	if !u.EnabledDate.IsZero() {
		out.MailboxProvisionedDate = Epoch(u.CreatedAt)
	}
	return out
}
