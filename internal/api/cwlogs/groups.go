package cwlogs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/store"
)

var (
	groupNameRE  = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	identifierRE = regexp.MustCompile(`^[\w#+=/:,.@-]*$`)
	tagKeyRE     = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
	tagValueRE   = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
)

var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// storeErr maps a store error to AWS's error for the resource kind.
func storeErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return notFound("The specified %s does not exist.", what)
	case errors.Is(err, store.ErrAlreadyExists):
		return apiErr(400, "ResourceAlreadyExistsException", "The specified %s already exists", what)
	case errors.Is(err, store.ErrInvalid):
		// The store's text after its "invalid parameter: " prefix, which
		// the exception's name already says.
		return invalidParam("%s", strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
	}
	return err
}

func checkGroupName(name, member string) error {
	if name == "" {
		return validation(name, member, "Member must have length greater than or equal to 1")
	}
	if len(name) > 512 {
		return invalidParam("Invalid LogGroup or LogStream, both must have length less than or equal to 512.")
	}
	if !groupNameRE.MatchString(name) {
		return validation(name, member, `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
	}
	return nil
}

func checkStreamName(name, member string) error {
	if name == "" {
		return validation(name, member, "Member must have length greater than or equal to 1")
	}
	if len(name) > 512 {
		return invalidParam("Invalid LogGroup or LogStream, both must have length less than or equal to 512.")
	}
	if strings.ContainsAny(name, ":*") {
		return validation(name, member, `Member must satisfy regular expression pattern: [^:*]*`)
	}
	return nil
}

// checkNameList checks each name of a list member as check does, worded
// as AWS words a list member's constraint ("Member must satisfy constraint:
// [...]" on the whole list).
func checkNameList(names []string, member string, check func(name, member string) error, pattern string) error {
	for _, n := range names {
		if err := check(n, member); err != nil {
			return validation("["+strings.Join(names, ", ")+"]", member, "Member must satisfy constraint: [Member must satisfy regular expression pattern: "+pattern+"]")
		}
	}
	return nil
}

// groupFromIdentifier accepts a log group name or ARN (with or without the
// trailing ":*") as logGroupIdentifier does.
func groupFromIdentifier(id Identity, ident string) (string, error) {
	if len(ident) > 2048 || !identifierRE.MatchString(ident) {
		return "", validation(ident, "logGroupIdentifier", `Member must satisfy regular expression pattern: [\w#+=/:,.@-]*`)
	}
	if !strings.HasPrefix(ident, "arn:") {
		return ident, nil
	}
	// arn:aws:logs:<region>:<account>:log-group:<name>[:*]
	parts := strings.SplitN(ident, ":", 7)
	if len(parts) < 7 || parts[2] != "logs" || !strings.HasPrefix(parts[5], "log-group") {
		return "", invalidParam("%s is not a log group ARN", ident)
	}
	if parts[4] != id.Account {
		return "", notFound("The specified log group does not exist.")
	}
	name := strings.TrimSuffix(parts[6], ":*")
	return name, nil
}

// groupParam resolves the logGroupName / logGroupIdentifier pair, exactly
// one of which must be given.
func groupParam(id Identity, name, ident string) (string, error) {
	switch {
	case name != "" && ident != "":
		return "", invalidParam("LogGroup name and LogGroup identifier are mutually exclusive parameters.")
	case ident != "":
		return groupFromIdentifier(id, ident)
	case name == "":
		return "", invalidParam("Should provide either name or identifier.")
	}
	return name, checkGroupName(name, "logGroupName")
}

func checkLimit(limit *int, def, max int) (int, error) {
	if limit == nil {
		return def, nil
	}
	if *limit < 1 {
		return 0, validation(*limit, "limit", "Member must have value greater than or equal to 1")
	}
	if *limit > max {
		return 0, validation(*limit, "limit", fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
	return *limit, nil
}

// Page tokens are opaque to clients: the base64 of the last key returned.
func encodeToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 {
		return "", invalidParam("The specified nextToken is invalid.")
	}
	return string(b), nil
}

// Offset tokens page through a list the server rebuilds on every call.
func encodeOffsetToken(n int) string { return encodeToken(strconv.Itoa(n)) }

func decodeOffsetToken(tok string) (int, error) {
	raw, err := decodeToken(tok)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, invalidParam("The specified nextToken is invalid.")
	}
	return n, nil
}

func checkGroupClass(class string) error {
	switch class {
	case "", "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
		return nil
	}
	return validation(class, "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]")
}

// checkTags applies the model's tag constraints, naming the one broken
// (lengths count characters, as the model's do), and AWS's reserved aws:
// prefix. Keys are checked in order so the same input gets the same error.
func checkTags(tags map[string]string, member string) error {
	if len(tags) > 50 {
		return validation("{...}", member, "Member must have length less than or equal to 50")
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := tags[k]
		switch n := utf8.RuneCountInString(k); {
		case n < 1:
			return validation(k, member+".key", "Member must have length greater than or equal to 1")
		case n > 128:
			return validation(k, member+".key", "Member must have length less than or equal to 128")
		case !tagKeyRE.MatchString(k):
			return validation(k, member+".key", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return invalidParam("Tag key %q: keys beginning with aws: are reserved for AWS use.", k)
		}
		if utf8.RuneCountInString(v) > 256 {
			return validation(v, member+".value", "Member must have length less than or equal to 256")
		}
		if !tagValueRE.MatchString(v) {
			return validation(v, member+".value", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
		}
	}
	return nil
}

type createLogGroupIn struct {
	LogGroupName              string            `json:"logGroupName"`
	KmsKeyID                  string            `json:"kmsKeyId"`
	Tags                      map[string]string `json:"tags"`
	LogGroupClass             string            `json:"logGroupClass"`
	DeletionProtectionEnabled *bool             `json:"deletionProtectionEnabled"`
}

func (s *Server) createLogGroup(ctx context.Context, id Identity, in *createLogGroupIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	if err := checkGroupClass(in.LogGroupClass); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	opts := store.GroupOptions{Tags: in.Tags}
	if err := s.Store.CreateLogGroup(id.Account, in.LogGroupName, opts); err != nil {
		return nil, storeErr(err, "log group")
	}
	if in.LogGroupClass != "" && in.LogGroupClass != standardClass {
		g, err := s.groupInfo(id.Account, in.LogGroupName)
		if err != nil {
			return nil, err
		}
		if err := s.classes.set(id.Account, in.LogGroupName, g.CreationTime, in.LogGroupClass); err != nil {
			return nil, fmt.Errorf("log group %s created, but its class %s was not saved: %w", in.LogGroupName, in.LogGroupClass, err)
		}
	}
	return nil, nil
}

// groupInfo describes one log group of the account.
func (s *Server) groupInfo(account, name string) (store.GroupInfo, error) {
	groups, err := s.Store.DescribeLogGroups(account, name)
	if err != nil {
		return store.GroupInfo{}, storeErr(err, "log group")
	}
	for _, g := range groups {
		if g.Name == name {
			return g, nil
		}
	}
	return store.GroupInfo{}, notFound("The specified log group does not exist.")
}

type groupNameIn struct {
	LogGroupName string `json:"logGroupName"`
}

func (s *Server) deleteLogGroup(ctx context.Context, id Identity, in *groupNameIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteLogGroup(id.Account, in.LogGroupName); err != nil {
		return nil, storeErr(err, "log group")
	}
	if err := s.classes.set(id.Account, in.LogGroupName, 0, ""); err != nil {
		// The group is gone; a class left behind never applies to a later
		// group of the name (creation times differ).
		s.log.Warn("forgetting a deleted group's class", "group", in.LogGroupName, "err", err)
	}
	return nil, nil
}

type describeLogGroupsIn struct {
	LogGroupNamePrefix  string   `json:"logGroupNamePrefix"`
	LogGroupNamePattern string   `json:"logGroupNamePattern"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	LogGroupClass       string   `json:"logGroupClass"`
	Limit               *int     `json:"limit"`
	NextToken           string   `json:"nextToken"`
}

type logGroupOut struct {
	LogGroupName              string `json:"logGroupName"`
	CreationTime              int64  `json:"creationTime"`
	RetentionInDays           *int   `json:"retentionInDays,omitempty"`
	MetricFilterCount         *int   `json:"metricFilterCount,omitempty"`
	Arn                       string `json:"arn"`
	StoredBytes               *int64 `json:"storedBytes,omitempty"`
	LogGroupClass             string `json:"logGroupClass,omitempty"`
	LogGroupArn               string `json:"logGroupArn"`
	DeletionProtectionEnabled *bool  `json:"deletionProtectionEnabled,omitempty"`
}

type describeLogGroupsOut struct {
	LogGroups []logGroupOut `json:"logGroups"`
	NextToken string        `json:"nextToken,omitempty"`
}

func (s *Server) describeLogGroups(ctx context.Context, id Identity, in *describeLogGroupsIn) (any, error) {
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, invalidParam("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if len(in.LogGroupIdentifiers) > 50 {
		return nil, validation("[...]", "logGroupIdentifiers", "Member must have length less than or equal to 50")
	}
	if in.LogGroupNamePrefix != "" {
		if err := checkGroupName(in.LogGroupNamePrefix, "logGroupNamePrefix"); err != nil {
			return nil, err
		}
	}
	if in.LogGroupNamePattern != "" && (len(in.LogGroupNamePattern) > 512 || !groupNameRE.MatchString(in.LogGroupNamePattern)) {
		return nil, validation(in.LogGroupNamePattern, "logGroupNamePattern", `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]*`)
	}
	if err := checkGroupClass(in.LogGroupClass); err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, 50, 50)
	if err != nil {
		return nil, err
	}
	after := ""
	if in.NextToken != "" {
		if after, err = decodeToken(in.NextToken); err != nil {
			return nil, err
		}
		// The token is the last name of the previous page: anything else
		// (a token of another operation, a typo) would page silently from
		// a made-up place.
		if checkGroupName(after, "nextToken") != nil {
			return nil, invalidParam("The specified nextToken is invalid.")
		}
	}
	groups, err := s.Store.DescribeLogGroups(id.Account, in.LogGroupNamePrefix)
	if err != nil {
		return nil, storeErr(err, "log group")
	}
	var want map[string]bool
	if len(in.LogGroupIdentifiers) > 0 {
		want = map[string]bool{}
		for _, ident := range in.LogGroupIdentifiers {
			name, err := groupFromIdentifier(id, ident)
			var ae *APIError
			if errors.As(err, &ae) && ae.Code == "ResourceNotFoundException" {
				continue // another account's group: not found, like a missing name
			}
			if err != nil {
				return nil, err
			}
			want[name] = true
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	out := describeLogGroupsOut{LogGroups: []logGroupOut{}}
	for _, g := range groups {
		if g.Name <= after && after != "" {
			continue
		}
		if in.LogGroupNamePattern != "" && !strings.Contains(g.Name, in.LogGroupNamePattern) {
			continue
		}
		if want != nil && !want[g.Name] {
			continue
		}
		class := s.classes.get(id.Account, g.Name, g.CreationTime)
		if in.LogGroupClass != "" && in.LogGroupClass != class {
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = encodeToken(out.LogGroups[len(out.LogGroups)-1].LogGroupName)
			break
		}
		o := logGroupOut{
			LogGroupName:  g.Name,
			CreationTime:  g.CreationTime,
			Arn:           g.ARN + ":*",
			LogGroupArn:   g.ARN,
			LogGroupClass: class,
		}
		zero := 0
		o.MetricFilterCount = &zero
		if g.RetentionDays > 0 {
			d := g.RetentionDays
			o.RetentionInDays = &d
		}
		if in.LogGroupNamePattern == "" {
			b := g.StoredBytes
			o.StoredBytes = &b
			f := false
			o.DeletionProtectionEnabled = &f
		}
		out.LogGroups = append(out.LogGroups, o)
	}
	return out, nil
}

type retentionIn struct {
	LogGroupName    string `json:"logGroupName"`
	RetentionInDays *int   `json:"retentionInDays"`
}

func (s *Server) putRetentionPolicy(ctx context.Context, id Identity, in *retentionIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	if in.RetentionInDays == nil {
		return nil, invalidParam("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
	}
	ok := false
	for _, d := range retentionDays {
		ok = ok || d == *in.RetentionInDays
	}
	if !ok {
		return nil, validation(*in.RetentionInDays, "retentionInDays", "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]")
	}
	return nil, storeErr(s.Store.PutRetentionPolicy(id.Account, in.LogGroupName, *in.RetentionInDays), "log group")
}

func (s *Server) deleteRetentionPolicy(ctx context.Context, id Identity, in *groupNameIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	return nil, storeErr(s.Store.DeleteRetentionPolicy(id.Account, in.LogGroupName), "log group")
}

// groupFromResourceARN extracts the log group of a TagResource ARN (log
// group ARNs without the trailing ":*").
func groupFromResourceARN(id Identity, arn string) (string, error) {
	if arn == "" {
		return "", validation(arn, "resourceArn", "Member must have length greater than or equal to 1")
	}
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" || strings.HasSuffix(arn, ":*") {
		return "", invalidParam("Invalid resource ARN: %s", arn)
	}
	if parts[4] != id.Account {
		return "", notFound("The specified resource does not exist.")
	}
	return parts[6], nil
}

type tagResourceIn struct {
	ResourceArn string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
}

func (s *Server) tagResource(ctx context.Context, id Identity, in *tagResourceIn) (any, error) {
	group, err := groupFromResourceARN(id, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return nil, s.tag(id, group, in.Tags, in.ResourceArn)
}

func (s *Server) tag(id Identity, group string, tags map[string]string, resource string) error {
	if len(tags) == 0 {
		return validation("{}", "tags", "Member must have length greater than or equal to 1")
	}
	if err := checkTags(tags, "tags"); err != nil {
		return err
	}
	cur, err := s.Store.ListTags(id.Account, group)
	if err != nil {
		return storeErr(err, "log group")
	}
	n := len(cur)
	for k := range tags {
		if _, ok := cur[k]; !ok {
			n++
		}
	}
	if n > 50 {
		return &APIError{Status: 400, Code: "TooManyTagsException", Message: "A resource can have no more than 50 tags.", Extra: map[string]any{"resourceName": resource}}
	}
	return storeErr(s.Store.TagLogGroup(id.Account, group, tags), "log group")
}

type untagResourceIn struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

func (s *Server) untagResource(ctx context.Context, id Identity, in *untagResourceIn) (any, error) {
	group, err := groupFromResourceARN(id, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, validation("[]", "tagKeys", "Member must have length greater than or equal to 1")
	}
	return nil, storeErr(s.Store.UntagLogGroup(id.Account, group, in.TagKeys), "log group")
}

type resourceArnIn struct {
	ResourceArn string `json:"resourceArn"`
}

type tagsOut struct {
	Tags map[string]string `json:"tags"`
}

func (s *Server) listTagsForResource(ctx context.Context, id Identity, in *resourceArnIn) (any, error) {
	group, err := groupFromResourceARN(id, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := s.Store.ListTags(id.Account, group)
	if err != nil {
		return nil, storeErr(err, "log group")
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tagsOut{Tags: tags}, nil
}

type tagLogGroupIn struct {
	LogGroupName string            `json:"logGroupName"`
	Tags         map[string]string `json:"tags"`
}

func (s *Server) tagLogGroup(ctx context.Context, id Identity, in *tagLogGroupIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	return nil, s.tag(id, in.LogGroupName, in.Tags, in.LogGroupName)
}

type untagLogGroupIn struct {
	LogGroupName string   `json:"logGroupName"`
	Tags         []string `json:"tags"`
}

func (s *Server) untagLogGroup(ctx context.Context, id Identity, in *untagLogGroupIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	return nil, storeErr(s.Store.UntagLogGroup(id.Account, in.LogGroupName, in.Tags), "log group")
}

func (s *Server) listTagsLogGroup(ctx context.Context, id Identity, in *groupNameIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	tags, err := s.Store.ListTags(id.Account, in.LogGroupName)
	if err != nil {
		return nil, storeErr(err, "log group")
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return tagsOut{Tags: tags}, nil
}
