package org

import (
	"strconv"
	"strings"
)

// Domain is one entry of CreateOrganization's Domains.
type Domain struct {
	DomainName   string
	HostedZoneID string
}

// CreateOrganizationInput is CreateOrganization's request (minus
// OrganizationId, which the call assigns) plus the caller's region.
type CreateOrganizationInput struct {
	Region                 string // caller's region, for the ARN; required
	Alias                  string
	DirectoryID            string
	ClientToken            string
	Domains                []Domain
	KmsKeyArn              string
	EnableInteroperability bool
}

func (in *CreateOrganizationInput) validate() error {
	if in.Region == "" {
		return Errorf(CodeInvalidParameter, "region is required to build the organization ARN")
	}
	if err := checkAlias(in.Alias); err != nil {
		return err
	}
	if in.DirectoryID != "" {
		if err := checkPattern(in.DirectoryID, "directoryId", reDirectoryID, "^d-[0-9a-f]{10}$"); err != nil {
			return err
		}
		return Errorf(CodeDirectoryUnavailable, "Directory %s is unavailable: mailtrail has no AWS Directory Service; omit DirectoryId to use a WorkMail directory", in.DirectoryID)
	}
	if in.EnableInteroperability {
		return Errorf(CodeInvalidParameter, "EnableInteroperability requires an AD Connector directory, which mailtrail does not support")
	}
	if in.ClientToken != "" {
		if err := checkLen(in.ClientToken, "clientToken", 1, 128); err != nil {
			return err
		}
		if err := checkPattern(in.ClientToken, "clientToken", reClientToken, `[\x21-\x7e]+`); err != nil {
			return err
		}
	}
	if len(in.Domains) > maxDomains {
		return Validation(len(in.Domains), "domains", "Member must have length less than or equal to 5")
	}
	seen := map[string]bool{}
	for i, dm := range in.Domains {
		member := "domains." + strconv.Itoa(i+1) + ".member.domainName"
		if err := checkDomainName(dm.DomainName, member); err != nil {
			return err
		}
		if seen[strings.ToLower(dm.DomainName)] {
			return Errorf(CodeInvalidParameter, "Domain %s is listed twice", dm.DomainName)
		}
		seen[strings.ToLower(dm.DomainName)] = true
		if dm.HostedZoneID != "" {
			hz := "domains." + strconv.Itoa(i+1) + ".member.hostedZoneId"
			if err := checkLen(dm.HostedZoneID, hz, 1, 32); err != nil {
				return err
			}
			if err := checkPattern(dm.HostedZoneID, hz, reHostedZoneID, `[^/\\]*`); err != nil {
				return err
			}
		}
	}
	if in.KmsKeyArn != "" {
		if err := checkLen(in.KmsKeyArn, "kmsKeyArn", 20, 2048); err != nil {
			return err
		}
		if err := checkPattern(in.KmsKeyArn, "kmsKeyArn", reKmsKeyArn, "arn:aws:kms:[a-z0-9-]*:[a-z0-9-]+:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}"); err != nil {
			return err
		}
	}
	return nil
}

// CreateOrganization creates an organization and returns it. A repeated call
// with the same ClientToken and alias returns the organization the first
// call created (the API's idempotency); the same token with another alias is
// an InvalidParameterException.
func (d *Directory) CreateOrganization(account string, in CreateOrganizationInput) (Organization, error) {
	if err := in.validate(); err != nil {
		return Organization{}, err
	}
	var out Organization
	err := d.withWrite(account, func(a *accountState) (func(), error) {
		if in.ClientToken != "" {
			for _, o := range a.Orgs {
				if o.Org.ClientToken != in.ClientToken {
					continue
				}
				if !strings.EqualFold(o.Org.Alias, in.Alias) {
					return nil, Errorf(CodeInvalidParameter, "ClientToken %s was already used to create organization %s with another alias", in.ClientToken, o.Org.ID)
				}
				out = o.Org.clone()
				return nil, errIdempotent
			}
		}
		for _, o := range a.Orgs {
			if strings.EqualFold(o.Org.Alias, in.Alias) {
				return nil, Errorf(CodeNameAvailability, "Alias %s is already used by organization %s", in.Alias, o.Org.ID)
			}
			for _, dm := range in.Domains {
				for _, od := range o.Org.Domains {
					if strings.EqualFold(od, dm.DomainName) {
						return nil, Errorf(CodeNameAvailability, "Mail domain %s is already used by organization %s", dm.DomainName, o.Org.ID)
					}
				}
			}
		}
		now := d.now().UTC()
		id := "m-" + randomHex(16)
		for a.byID[id] != nil { // 128 random bits; the loop is for form's sake
			id = "m-" + randomHex(16)
		}
		a.NextOrgSeq++
		o := Organization{
			ID:            id,
			Alias:         in.Alias,
			ARN:           "arn:aws:workmail:" + in.Region + ":" + account + ":organization/" + id,
			Account:       account,
			Region:        in.Region,
			State:         StateActive,
			DirectoryID:   "d-" + randomHex(5),
			DirectoryType: DirectoryTypeWorkMail,
			KmsKeyArn:     in.KmsKeyArn,
			CreatedAt:     now,
			ClientToken:   in.ClientToken,
			Seq:           a.NextOrgSeq,
		}
		for _, dm := range in.Domains {
			o.Domains = append(o.Domains, strings.ToLower(dm.DomainName))
		}
		if len(o.Domains) > 0 {
			o.DefaultMailDomain = o.Domains[0]
		} else {
			o.DefaultMailDomain = strings.ToLower(in.Alias) + ".awsapps.com"
		}
		st := &orgState{Org: o}
		st.index()
		a.Orgs = append(a.Orgs, st)
		a.byID[id] = st
		out = o.clone()
		return func() {
			a.Orgs = a.Orgs[:len(a.Orgs)-1]
			delete(a.byID, id)
			a.NextOrgSeq--
		}, nil
	})
	if err == errIdempotent {
		return out, nil
	}
	if err != nil {
		return Organization{}, err
	}
	return out, nil
}

// errIdempotent short-circuits withWrite without saving when a ClientToken
// replay found the organization already created.
var errIdempotent = &Error{Code: "idempotent-replay"}

// Organization returns one organization (DescribeOrganization).
func (d *Directory) Organization(account, orgID string) (Organization, error) {
	var out Organization
	err := d.withRead(account, func(a *accountState) error {
		o, err := a.org(orgID)
		if err != nil {
			return err
		}
		out = o.Org.clone()
		return nil
	})
	return out, err
}

// OrganizationByAlias finds an organization by alias (case-insensitive).
func (d *Directory) OrganizationByAlias(account, alias string) (Organization, error) {
	var out Organization
	err := d.withRead(account, func(a *accountState) error {
		for _, o := range a.Orgs {
			if strings.EqualFold(o.Org.Alias, alias) {
				out = o.Org.clone()
				return nil
			}
		}
		return Errorf(CodeOrganizationNotFound, "No organization with alias %s", alias)
	})
	return out, err
}

// OrganizationByDomain finds the organization that owns a mail domain
// (case-insensitive), including the <alias>.awsapps.com default domain.
func (d *Directory) OrganizationByDomain(account, domain string) (Organization, error) {
	var out Organization
	err := d.withRead(account, func(a *accountState) error {
		for _, o := range a.Orgs {
			if strings.EqualFold(o.Org.DefaultMailDomain, domain) {
				out = o.Org.clone()
				return nil
			}
			for _, dm := range o.Org.Domains {
				if strings.EqualFold(dm, domain) {
					out = o.Org.clone()
					return nil
				}
			}
		}
		return Errorf(CodeOrganizationNotFound, "No organization owns mail domain %s", domain)
	})
	return out, err
}

// ListOrganizations returns one page of the account's organizations in
// creation order. maxResults 0 means the default page size (100); the
// returned token is "" on the last page.
func (d *Directory) ListOrganizations(account string, maxResults int, nextToken string) ([]Organization, string, error) {
	n, err := checkMaxResults(maxResults)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken('o', nextToken)
	if err != nil {
		return nil, "", err
	}
	var out []Organization
	var next string
	err = d.withRead(account, func(a *accountState) error {
		for _, o := range a.Orgs {
			if o.Org.Seq <= after {
				continue
			}
			if len(out) == n {
				next = encodeToken('o', out[len(out)-1].Seq)
				break
			}
			out = append(out, o.Org.clone())
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
