package access

import (
	"github.com/mailtrail/mailtrail/internal/org"
)

// APIRule is AccessControlRule as ListAccessControlRules returns it: the
// API's member names, timestamps as epoch seconds, empty lists omitted.
type APIRule struct {
	Name                    string
	Effect                  Effect
	Description             string
	IpRanges                []string  `json:",omitempty"`
	NotIpRanges             []string  `json:",omitempty"`
	Actions                 []Action  `json:",omitempty"`
	NotActions              []Action  `json:",omitempty"`
	UserIds                 []string  `json:",omitempty"`
	NotUserIds              []string  `json:",omitempty"`
	DateCreated             org.Epoch `json:",omitzero"`
	DateModified            org.Epoch `json:",omitzero"`
	ImpersonationRoleIds    []string  `json:",omitempty"`
	NotImpersonationRoleIds []string  `json:",omitempty"`
}

// API returns the rule in ListAccessControlRules' shape.
func (r Rule) API() APIRule {
	r = r.clone()
	return APIRule{
		Name: r.Name, Effect: r.Effect, Description: r.Description,
		IpRanges: r.IpRanges, NotIpRanges: r.NotIpRanges,
		Actions: r.Actions, NotActions: r.NotActions,
		UserIds: r.UserIds, NotUserIds: r.NotUserIds,
		DateCreated: org.Epoch(r.DateCreated), DateModified: org.Epoch(r.DateModified),
		ImpersonationRoleIds: r.ImpersonationRoleIds, NotImpersonationRoleIds: r.NotImpersonationRoleIds,
	}
}

// EffectOutput is GetAccessControlEffect's response.
type EffectOutput struct {
	Effect       Effect
	MatchedRules []string
}

// API returns the decision as GetAccessControlEffect's response;
// MatchedRules is [] rather than absent when nothing matched.
func (d Decision) API() EffectOutput {
	m := d.MatchedRules
	if m == nil {
		m = []string{}
	}
	return EffectOutput{Effect: d.Effect, MatchedRules: m}
}
