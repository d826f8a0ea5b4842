package org

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Patterns and limits from the WorkMail API model. Go's regexp has no
// look-ahead, so the alias rule "must not start with d-" is checked apart.
var (
	reAlias        = regexp.MustCompile(`^[0-9a-zA-Z]+(-[0-9a-zA-Z]+)*$`)
	reDomainName   = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)
	reKmsKeyArn    = regexp.MustCompile(`^arn:aws:kms:[a-z0-9-]*:[a-z0-9-]+:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]*$`) // Go caps repeats at 1000; overall length is checked apart
	reDirectoryID  = regexp.MustCompile(`^d-[0-9a-f]{10}$`)
	reClientToken  = regexp.MustCompile(`^[\x21-\x7e]+$`)
	reHostedZoneID = regexp.MustCompile(`^[^/\\]*$`)
	reUserName     = regexp.MustCompile(`^[\w\-.]+(@[a-zA-Z0-9.\-]+\.[a-zA-Z0-9-]{2,})?$`)
	reEntityID     = regexp.MustCompile(`^[a-zA-Z0-9._%+@-]+$`)
	reEmail        = regexp.MustCompile(`^[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9.-]+\.[a-zA-Z-]{2,}$`)
)

const (
	maxDomains    = 5
	maxResultsCap = 100
	// defaultMaxResults applies when MaxResults is omitted; the API does not
	// document its default, so the largest page is used.
	defaultMaxResults = 100
)

// ValidOrganizationID reports whether id has the WorkMail organization id
// shape (m- and 32 lower-case hex digits). Hand-written rather than a
// regexp: it runs on every access decision.
func ValidOrganizationID(id string) bool {
	if len(id) != 34 || id[0] != 'm' || id[1] != '-' {
		return false
	}
	for i := 2; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ValidName reports whether s is 1 to max bytes of [A-Za-z0-9_-], the
// pattern the WorkMail API gives rule names and impersonation role ids, and
// mailtrail's account ids (which become a path element of the data dir).
// Hand-written rather than a regexp: it runs on every access decision.
func ValidName(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validAccount reports whether s can be an account id.
func validAccount(s string) bool { return ValidName(s, 64) }

func checkOrganizationID(id string) error {
	if id == "" {
		return Errorf(CodeInvalidParameter, "OrganizationId is required")
	}
	if !ValidOrganizationID(id) {
		return Validation(id, "organizationId", "Member must satisfy regular expression pattern: ^m-[0-9a-f]{32}$")
	}
	return nil
}

// checkAccount guards the data dir: the account id becomes a path element.
func checkAccount(account string) error {
	if !validAccount(account) {
		return Errorf(CodeInvalidParameter, "account id %q is not 1-64 characters of [A-Za-z0-9_-]", account)
	}
	return nil
}

func checkLen(value, member string, min, max int) error {
	n := utf8.RuneCountInString(value)
	if n < min {
		return Validation(value, member, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if n > max {
		return Validation(value, member, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	return nil
}

func checkPattern(value, member string, re *regexp.Regexp, pattern string) error {
	if !re.MatchString(value) {
		return Validation(value, member, "Member must satisfy regular expression pattern: "+pattern)
	}
	return nil
}

// checkLatin1 enforces the model's [\u0020-\u00FF]+ character class (used by
// passwords and by access-rule descriptions).
func checkLatin1(value, member string, sensitive bool) error {
	shown := any(value)
	if sensitive {
		shown = "***"
	}
	if !utf8.ValidString(value) {
		return Validation(shown, member, "Member must be valid UTF-8")
	}
	for _, r := range value {
		if r < 0x20 || r > 0xFF {
			return Validation(shown, member, `Member must satisfy regular expression pattern: [\u0020-\u00FF]+`)
		}
	}
	return nil
}

// CheckLatin1 is checkLatin1 for sibling packages.
func CheckLatin1(value, member string) error { return checkLatin1(value, member, false) }

func checkAlias(alias string) error {
	if err := checkLen(alias, "alias", 1, 62); err != nil {
		return err
	}
	const pat = `^(?!d-)([\da-zA-Z]+)([-][\da-zA-Z]+)*`
	if strings.HasPrefix(strings.ToLower(alias), "d-") || !reAlias.MatchString(alias) {
		return Validation(alias, "alias", "Member must satisfy regular expression pattern: "+pat)
	}
	return nil
}

func checkDomainName(name, member string) error {
	if err := checkLen(name, member, 3, 255); err != nil {
		return err
	}
	return checkPattern(name, member, reDomainName, "[a-zA-Z0-9.-]+")
}

func checkUserName(name string) error {
	if err := checkLen(name, "name", 1, 64); err != nil {
		return err
	}
	return checkPattern(name, "name", reUserName, `[\w\-.]+(@[a-zA-Z0-9.\-]+\.[a-zA-Z0-9-]{2,})?`)
}

func checkEntityIdentifier(id, member string) error {
	if err := checkLen(id, member, 1, 256); err != nil {
		return err
	}
	return checkPattern(id, member, reEntityID, "[a-zA-Z0-9._%+@-]+")
}

func checkEmail(email, member string) error {
	if err := checkLen(email, member, 1, 254); err != nil {
		return err
	}
	return checkPattern(email, member, reEmail, `[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9.-]+\.[a-zA-Z-]{2,}`)
}

func checkMaxResults(n int) (int, error) {
	if n == 0 {
		return defaultMaxResults, nil
	}
	if n < 1 || n > maxResultsCap {
		return 0, Validation(n, "maxResults", fmt.Sprintf("Member must have value between 1 and %d", maxResultsCap))
	}
	return n, nil
}
