package cwlogs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/atomicfile"
)

// Saved query definitions, per account, persisted as one JSON file written
// atomically, so a crash never leaves half a file.

type queryParam struct {
	Name         string `json:"name"`
	DefaultValue string `json:"defaultValue,omitempty"`
	Description  string `json:"description,omitempty"`
}

type queryDefinition struct {
	QueryDefinitionID string       `json:"queryDefinitionId"`
	Name              string       `json:"name"`
	QueryString       string       `json:"queryString"`
	LastModified      int64        `json:"lastModified"`
	LogGroupNames     []string     `json:"logGroupNames,omitempty"`
	Parameters        []queryParam `json:"parameters,omitempty"`
	QueryLanguage     string       `json:"queryLanguage"`
	account           string
}

type definitions struct {
	path string
	mu   sync.Mutex
	defs map[string]map[string]*queryDefinition // account -> id -> def
	// tokens remembers PutQueryDefinition's clientToken -> id, so that an
	// SDK retrying a call (same token) gets the definition the first call
	// saved instead of a second copy. In memory: retries come within
	// seconds, not across restarts.
	tokens map[string]map[string]string // account -> clientToken -> id
}

func openDefinitions(dataDir string) (*definitions, error) {
	d := &definitions{defs: map[string]map[string]*queryDefinition{}, tokens: map[string]map[string]string{}}
	if dataDir == "" {
		return d, nil
	}
	d.path = filepath.Join(dataDir, "query-definitions.json")
	b, err := os.ReadFile(d.path)
	if os.IsNotExist(err) {
		return d, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading saved queries: %w", err)
	}
	if err := json.Unmarshal(b, &d.defs); err != nil {
		return nil, fmt.Errorf("%s: corrupt saved-queries file: %w", d.path, err)
	}
	return d, nil
}

func (d *definitions) saveLocked() error {
	if d.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(d.defs, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(d.path, b, 0o600)
}

var paramNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// maxClientTokens bounds the clientTokens remembered per account.
const maxClientTokens = 10000

// uuidRE matches the query definition ids this server hands out.
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

type putQueryDefinitionIn struct {
	Name              string       `json:"name"`
	QueryString       string       `json:"queryString"`
	QueryDefinitionID string       `json:"queryDefinitionId"`
	LogGroupNames     []string     `json:"logGroupNames"`
	ClientToken       string       `json:"clientToken"`
	QueryLanguage     string       `json:"queryLanguage"`
	Parameters        []queryParam `json:"parameters"`
}

type putQueryDefinitionOut struct {
	QueryDefinitionID string `json:"queryDefinitionId"`
}

func (s *Server) putQueryDefinition(ctx context.Context, id Identity, in *putQueryDefinitionIn) (any, error) {
	if len(in.Name) < 1 || len(in.Name) > 255 {
		return nil, validation(in.Name, "name", "Member must have length between 1 and 255")
	}
	if len(in.QueryString) < 1 || len(in.QueryString) > 10000 {
		return nil, validation("...", "queryString", "Member must have length between 1 and 10000")
	}
	if in.QueryLanguage == "" {
		in.QueryLanguage = "CWLI"
	}
	if in.QueryLanguage != "CWLI" {
		return nil, invalidParam("Only the CWLI query language is supported; got %s", in.QueryLanguage)
	}
	if len(in.Parameters) > 20 {
		return nil, validation("[...]", "parameters", "Member must have length less than or equal to 20")
	}
	for i, p := range in.Parameters {
		if !paramNameRE.MatchString(p.Name) {
			return nil, validation(p.Name, fmt.Sprintf("parameters.%d.member.name", i+1), "Member must satisfy regular expression pattern: ^[a-zA-Z_][a-zA-Z0-9_]*$")
		}
	}
	for _, g := range in.LogGroupNames {
		if err := checkGroupName(g, "logGroupNames"); err != nil {
			return nil, err
		}
	}
	if in.ClientToken != "" && (len(in.ClientToken) < 36 || len(in.ClientToken) > 128) {
		return nil, validation(in.ClientToken, "clientToken", "Member must have length between 36 and 128")
	}
	d := s.defs
	d.mu.Lock()
	defer d.mu.Unlock()
	m := d.defs[id.Account]
	if m == nil {
		m = map[string]*queryDefinition{}
		d.defs[id.Account] = m
	}
	if prev, ok := d.tokens[id.Account][in.ClientToken]; ok && in.ClientToken != "" && m[prev] != nil {
		return putQueryDefinitionOut{QueryDefinitionID: prev}, nil
	}
	defID := in.QueryDefinitionID
	if defID == "" {
		if len(m) >= 1000 {
			return nil, apiErr(400, "LimitExceededException", "You have reached the maximum number of saved queries (1000).")
		}
		defID = awsjson.NewRequestID()
	} else if m[defID] == nil {
		return nil, notFound("The specified query definition does not exist.")
	}
	m[defID] = &queryDefinition{
		QueryDefinitionID: defID, Name: in.Name, QueryString: in.QueryString,
		LastModified: s.Now().UnixMilli(), LogGroupNames: in.LogGroupNames,
		Parameters: in.Parameters, QueryLanguage: in.QueryLanguage,
	}
	if err := d.saveLocked(); err != nil {
		return nil, err
	}
	if in.ClientToken != "" {
		tm := d.tokens[id.Account]
		if tm == nil || len(tm) >= maxClientTokens {
			tm = map[string]string{} // forget old tokens rather than grow
			d.tokens[id.Account] = tm
		}
		tm[in.ClientToken] = defID
	}
	return putQueryDefinitionOut{QueryDefinitionID: defID}, nil
}

type describeQueryDefinitionsIn struct {
	QueryDefinitionNamePrefix string `json:"queryDefinitionNamePrefix"`
	MaxResults                *int   `json:"maxResults"`
	NextToken                 string `json:"nextToken"`
	QueryLanguage             string `json:"queryLanguage"`
}

type describeQueryDefinitionsOut struct {
	QueryDefinitions []*queryDefinition `json:"queryDefinitions"`
	NextToken        string             `json:"nextToken,omitempty"`
}

func (s *Server) describeQueryDefinitions(ctx context.Context, id Identity, in *describeQueryDefinitionsIn) (any, error) {
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, validation(*in.MaxResults, "maxResults", "Member must have value between 1 and 1000")
		}
		limit = *in.MaxResults
	}
	after := ""
	if in.NextToken != "" {
		var err error
		if after, err = decodeToken(in.NextToken); err != nil {
			return nil, err
		}
		// The token is "<name>\x00<id>" of the previous page's last
		// definition; anything else would page from a made-up place.
		if _, defID, ok := strings.Cut(after, "\x00"); !ok || !uuidRE.MatchString(defID) {
			return nil, invalidParam("The specified nextToken is invalid.")
		}
	}
	d := s.defs
	d.mu.Lock()
	var all []*queryDefinition
	for _, q := range d.defs[id.Account] {
		if strings.HasPrefix(q.Name, in.QueryDefinitionNamePrefix) {
			all = append(all, q)
		}
	}
	d.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if all[i].Name != all[j].Name {
			return all[i].Name < all[j].Name
		}
		return all[i].QueryDefinitionID < all[j].QueryDefinitionID
	})
	out := describeQueryDefinitionsOut{QueryDefinitions: []*queryDefinition{}}
	for _, q := range all {
		key := q.Name + "\x00" + q.QueryDefinitionID
		if after != "" && key <= after {
			continue
		}
		if len(out.QueryDefinitions) == limit {
			last := out.QueryDefinitions[limit-1]
			out.NextToken = encodeToken(last.Name + "\x00" + last.QueryDefinitionID)
			break
		}
		out.QueryDefinitions = append(out.QueryDefinitions, q)
	}
	return out, nil
}

type deleteQueryDefinitionIn struct {
	QueryDefinitionID string `json:"queryDefinitionId"`
}

type successOut struct {
	Success bool `json:"success"`
}

func (s *Server) deleteQueryDefinition(ctx context.Context, id Identity, in *deleteQueryDefinitionIn) (any, error) {
	d := s.defs
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.defs[id.Account][in.QueryDefinitionID] == nil {
		return nil, notFound("The specified query definition does not exist.")
	}
	delete(d.defs[id.Account], in.QueryDefinitionID)
	if err := d.saveLocked(); err != nil {
		return nil, err
	}
	return successOut{Success: true}, nil
}
