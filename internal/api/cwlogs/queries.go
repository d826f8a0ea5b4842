package cwlogs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/query"
	"github.com/mailtrail/mailtrail/internal/scan"
)

const (
	queryTimeout   = 60 * time.Minute
	queryRetention = 7 * 24 * time.Hour
	maxKeptQueries = 1000 // finished queries remembered per account
)

// resultField is one cell of a result row, {"field":...,"value":...} on
// the wire.
type resultField = query.Field

type queryStats struct {
	RecordsMatched   float64 `json:"recordsMatched"`
	RecordsScanned   float64 `json:"recordsScanned"`
	BytesScanned     float64 `json:"bytesScanned"`
	LogGroupsScanned float64 `json:"logGroupsScanned"`

	EstimatedRecordsSkipped float64 `json:"estimatedRecordsSkipped"`
	EstimatedBytesSkipped   float64 `json:"estimatedBytesSkipped"`
}

type runningQuery struct {
	id, account, text, rewritten string
	groups                       []string
	created                      time.Time
	cancel                       context.CancelFunc

	// done is closed once status leaves Running, so that GetQueryResults
	// can answer the moment a query ends.
	done chan struct{}

	mu       sync.Mutex
	status   string     // Scheduled, Running, Complete, Failed, Cancelled, Timeout
	results  *resultSet // immutable once set: answers are written outside mu
	stats    queryStats
	duration time.Duration
	err      string
	// stopped is set by a successful StopQuery, under mu: the query then
	// ends Cancelled even if its last rows were done before the engine
	// saw the cancellation, so that a stop answered with success is never
	// followed by Complete.
	stopped bool
}

// testHookQueryRan, when set by a test, is called between the engine's
// return and the query's final status.
var testHookQueryRan func()

type queryManager struct {
	s  *Server
	mu sync.Mutex
	qs map[string]*runningQuery
	wg sync.WaitGroup
}

func newQueryManager(s *Server) *queryManager {
	return &queryManager{s: s, qs: map[string]*runningQuery{}}
}

func (m *queryManager) stopAll() {
	m.mu.Lock()
	for _, q := range m.qs {
		q.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

func isRunning(status string) bool { return status == "Scheduled" || status == "Running" }

// admit registers q unless the account already runs its maximum, and drops
// remembered queries past their retention.
func (m *queryManager) admit(q *runningQuery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	running := 0
	var finished []*runningQuery
	for id, o := range m.qs {
		o.mu.Lock()
		st := o.status
		o.mu.Unlock()
		if m.s.Now().Sub(o.created) > queryRetention && !isRunning(st) {
			delete(m.qs, id)
			continue
		}
		if o.account != q.account {
			continue
		}
		if isRunning(st) {
			running++
		} else {
			finished = append(finished, o)
		}
	}
	if running >= m.s.MaxConcurrentQueries {
		return apiErr(400, "LimitExceededException", "Account has reached the maximum number of concurrent queries (%d).", m.s.MaxConcurrentQueries)
	}
	if len(finished) >= maxKeptQueries {
		sort.Slice(finished, func(i, j int) bool { return finished[i].created.Before(finished[j].created) })
		for _, o := range finished[:len(finished)-maxKeptQueries+1] {
			delete(m.qs, o.id)
		}
	}
	m.qs[q.id] = q
	return nil
}

func (m *queryManager) get(account, id string) *runningQuery {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.qs[id]
	if q == nil || q.account != account {
		return nil
	}
	return q
}

type startQueryIn struct {
	QueryLanguage       string   `json:"queryLanguage"`
	LogGroupName        string   `json:"logGroupName"`
	LogGroupNames       []string `json:"logGroupNames"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	QueryString         *string  `json:"queryString"`
	Limit               *int     `json:"limit"`
}

type startQueryOut struct {
	QueryID string `json:"queryId"`
}

func (s *Server) startQuery(ctx context.Context, id Identity, in *startQueryIn) (any, error) {
	if in.QueryLanguage != "" && in.QueryLanguage != "CWLI" {
		return nil, invalidParam("Query language %s is not supported; use CWLI.", in.QueryLanguage)
	}
	if in.QueryString == nil {
		return nil, invalidParam("1 validation error detected: Value null at 'queryString' failed to satisfy constraint: Member must not be null")
	}
	if len(*in.QueryString) > 10000 {
		return nil, validation("...", "queryString", "Member must have length less than or equal to 10000")
	}
	if in.StartTime == nil {
		return nil, invalidParam("1 validation error detected: Value null at 'startTime' failed to satisfy constraint: Member must not be null")
	}
	if in.EndTime == nil {
		return nil, invalidParam("1 validation error detected: Value null at 'endTime' failed to satisfy constraint: Member must not be null")
	}
	if err := checkTimes(in.StartTime, "startTime", in.EndTime, "endTime"); err != nil {
		return nil, err
	}
	if *in.EndTime < *in.StartTime {
		return nil, invalidParam("End time should not be before the start time")
	}
	limit := 10000
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100000 {
			return nil, validation(*in.Limit, "limit", "Member must have value between 1 and 100000")
		}
		limit = *in.Limit
	}
	q, err := query.Parse(*in.QueryString)
	if err != nil {
		return nil, malformed(err)
	}
	groups, err := s.queryGroups(id, in, q)
	if err != nil {
		return nil, err
	}
	// StartQuery times are epoch seconds, both ends inclusive. Seconds
	// past what milliseconds can hold are the end of time, not an overflow.
	const maxSeconds = scan.MaxTime/1000 - 1
	start, end := min(*in.StartTime, maxSeconds)*1000, min(*in.EndTime, maxSeconds)*1000+999
	if src := q.Source; src != nil {
		if src.HasStart {
			start = src.Start
		}
		if src.HasEnd {
			end = src.End
		}
	}
	rq := &runningQuery{
		id: awsjson.NewRequestID(), account: id.Account, text: *in.QueryString, groups: groups,
		created: s.Now(), status: "Scheduled", done: make(chan struct{}),
	}
	rq.rewritten = rewriteQuery(groups, start, end, *in.QueryString)
	qctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	rq.cancel = cancel
	if err := s.queries.admit(rq); err != nil {
		cancel()
		return nil, err
	}
	opts := query.Options{
		Account:     id.Account,
		Groups:      groups,
		Start:       start,
		End:         end + 1, // Options.End is exclusive
		Limit:       limit,
		Workers:     2,
		MemoryLimit: s.QueryMemoryLimit,
		Progress: func(st query.Stats) {
			rq.mu.Lock()
			rq.stats = toStats(st, len(groups))
			rq.mu.Unlock()
		},
		// Clients poll about once a second; rendering partial rows more
		// often than that made short queries up to 65% slower.
		PartialEvery: time.Second,
		// While Running, GetQueryResults shows the rows the query would
		// return if it stopped now, as AWS does.
		Partial: func(rows [][]query.Field, st query.Stats) {
			rs := newResultSet(rows)
			rq.mu.Lock()
			if isRunning(rq.status) {
				rq.results = rs
				rq.stats = toStats(st, len(groups))
			}
			rq.mu.Unlock()
		},
	}
	s.queries.wg.Add(1)
	go func() {
		defer s.queries.wg.Done()
		defer cancel()
		// Closed after rq.mu is released (defers run last in, first out).
		defer close(rq.done)
		rq.mu.Lock()
		rq.status = "Running"
		rq.mu.Unlock()
		began := time.Now()
		res, err := query.Run(qctx, s.Store, q, opts)
		if testHookQueryRan != nil {
			testHookQueryRan()
		}
		var rs *resultSet
		if err == nil {
			rs = newResultSet(res.Rows)
		}
		rq.mu.Lock()
		defer rq.mu.Unlock()
		rq.duration = time.Since(began)
		switch {
		case rq.stopped:
			rq.status = "Cancelled"
			if err == nil { // it ended anyway: keep what it found
				rq.results = rs
				rq.stats = toStats(res.Stats, len(groups))
			}
		case err == nil:
			rq.status = "Complete"
			rq.results = rs
			rq.stats = toStats(res.Stats, len(groups))
		case errors.Is(qctx.Err(), context.DeadlineExceeded):
			rq.status = "Timeout"
		case errors.Is(err, context.Canceled) || qctx.Err() != nil:
			rq.status = "Cancelled"
		default:
			rq.status = "Failed"
			rq.err = err.Error()
			s.log.Info("query failed", "queryId", rq.id, "err", err)
		}
	}()
	return startQueryOut{QueryID: rq.id}, nil
}

// malformed turns a parse error into MalformedQueryException with the
// queryCompileError member AWS models.
func malformed(err error) error {
	var pe *query.ParseError
	ae := &APIError{Status: 400, Code: "MalformedQueryException", Message: err.Error()}
	if errors.As(err, &pe) {
		ae.Extra = map[string]any{"queryCompileError": map[string]any{
			"location": map[string]any{"startCharOffset": pe.StartOffset, "endCharOffset": pe.EndOffset},
			"message":  pe.Error(),
		}}
	}
	return ae
}

func (s *Server) queryGroups(id Identity, in *startQueryIn, q *query.Query) ([]string, error) {
	given := 0
	var names []string
	if in.LogGroupName != "" {
		given++
		names = []string{in.LogGroupName}
	}
	if err := checkNameList(in.LogGroupNames, "logGroupNames", checkGroupName, `[\.\-_/#A-Za-z0-9]+`); err != nil {
		return nil, err
	}
	if len(in.LogGroupNames) > 0 {
		given++
		names = in.LogGroupNames
	}
	if len(in.LogGroupIdentifiers) > 0 {
		given++
		for _, ident := range in.LogGroupIdentifiers {
			if strings.HasSuffix(ident, "*") {
				return nil, invalidParam("logGroupIdentifiers must not end with '*': %s", ident)
			}
			n, err := groupFromIdentifier(id, ident)
			if err != nil {
				return nil, err
			}
			names = append(names, n)
		}
	}
	if given > 1 {
		return nil, invalidParam("Specify exactly one of logGroupName, logGroupNames and logGroupIdentifiers.")
	}
	if given == 0 {
		if q.Source == nil {
			return nil, invalidParam("Log group names or identifiers must be specified, or the query must start with SOURCE.")
		}
		var err error
		if names, err = s.sourceGroups(id, q.Source); err != nil {
			return nil, err
		}
	}
	if len(names) > 50 {
		return nil, validation("[...]", "logGroupNames", "Member must have length less than or equal to 50")
	}
	for _, n := range names {
		if !s.groupExists(id.Account, n) {
			return nil, notFound("Log group '%s' does not exist for account ID '%s' (Service: AWSLogs; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: %s; Proxy: null)", n, id.Account, awsjson.NewRequestID())
		}
	}
	return names, nil
}

// sourceGroups resolves a SOURCE command's groups: explicit names, or all
// groups of the account matching its prefixes.
func (s *Server) sourceGroups(id Identity, src *query.SourceSpec) ([]string, error) {
	if len(src.Groups) > 0 {
		return src.Groups, nil
	}
	all, err := s.Store.DescribeLogGroups(id.Account, "")
	if err != nil {
		return nil, storeErr(err, "log group")
	}
	var names []string
	for _, g := range all {
		ok := len(src.NamePrefixes) == 0
		for _, p := range src.NamePrefixes {
			ok = ok || strings.HasPrefix(g.Name, p)
		}
		if ok {
			names = append(names, g.Name)
		}
	}
	if len(names) == 0 {
		return nil, notFound("SOURCE matched no log group for account ID '%s'", id.Account)
	}
	return names, nil
}

// rewriteQuery gives the SOURCE form AWS shows in DescribeQueries.
func rewriteQuery(groups []string, start, end int64, text string) string {
	var b strings.Builder
	b.WriteString("SOURCE ")
	for i, g := range groups {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", g)
	}
	fmt.Fprintf(&b, " START=%d END=%d | %s", start, end, text)
	return b.String()
}

func toStats(st query.Stats, groups int) queryStats {
	return queryStats{
		RecordsMatched:   st.RecordsMatched,
		RecordsScanned:   st.RecordsScanned,
		BytesScanned:     st.BytesScanned,
		LogGroupsScanned: float64(groups),

		EstimatedRecordsSkipped: st.EstimatedRecordsSkipped,
		EstimatedBytesSkipped:   st.EstimatedBytesSkipped,
	}
}

type getQueryResultsIn struct {
	QueryID   string `json:"queryId"`
	NextToken string `json:"nextToken"`
	MaxItems  *int   `json:"maxItems"`
}

// getQueryResultsOut is GetQueryResults' answer, the shape
// appendQueryResults writes without reflection.
type getQueryResultsOut struct {
	QueryLanguage string          `json:"queryLanguage"`
	Results       [][]resultField `json:"results"`
	Statistics    queryStats      `json:"statistics"`
	Status        string          `json:"status"`
	NextToken     string          `json:"nextToken,omitempty"`
	EncryptionKey string          `json:"encryptionKey,omitempty"`
}

func (s *Server) getQueryResults(ctx context.Context, id Identity, in *getQueryResultsIn) (any, error) {
	if in.QueryID == "" {
		return nil, notNull("queryId")
	}
	q := s.queries.get(id.Account, in.QueryID)
	if q == nil {
		return nil, notFound("Query does not exist.")
	}
	max, off := -1, 0
	if in.MaxItems != nil || in.NextToken != "" {
		max = 10000
		if in.MaxItems != nil {
			if *in.MaxItems < 0 || *in.MaxItems > 10000 {
				return nil, validation(*in.MaxItems, "maxItems", "Member must have value between 0 and 10000")
			}
			// 0 is allowed by the model, but a page of 0 rows with a
			// token to the same place would loop a client forever: it
			// gets the default page size instead.
			if *in.MaxItems > 0 {
				max = *in.MaxItems
			}
		}
		if in.NextToken != "" {
			var err error
			if off, err = decodeOffsetToken(in.NextToken); err != nil {
				return nil, err
			}
		}
	}
	s.awaitQuery(ctx, q)
	// A result set is never modified once published, so the answer is
	// written outside q.mu: the query's own progress callbacks take that
	// lock.
	q.mu.Lock()
	rs, stats, status := q.results, q.stats, q.status
	q.mu.Unlock()
	n := rs.len()
	from, to, next := 0, n, ""
	if max >= 0 {
		from = min(off, n)
		to = min(from+max, n)
		if to < n && !isRunning(status) {
			next = encodeOffsetToken(to)
		}
	}
	return queryResultsParts("CWLI", rs, from, to, stats, status, next, ""), nil
}

// awaitQuery waits, up to ResultsWait, for a Scheduled or Running query to
// end, so that a client polling GetQueryResults learns of the end at once
// instead of at its next poll, and a client polling in a tight loop does
// not take the CPU from the query it waits for. AWS answers
// GetQueryResults in tens to hundreds of milliseconds, so clients already
// expect an answer to take that long.
func (s *Server) awaitQuery(ctx context.Context, q *runningQuery) {
	if s.ResultsWait <= 0 {
		return
	}
	t := time.NewTimer(s.ResultsWait)
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// appendJSON appends o as GetQueryResults writes it (tests compare it
// with encoding/json).
func (o *getQueryResultsOut) appendJSON(b []byte) []byte {
	rs := newResultSet(o.Results)
	return appendQueryResults(b, o.QueryLanguage, rs, 0, rs.len(), o.Statistics, o.Status, o.NextToken, o.EncryptionKey)
}

type queryIDIn struct {
	QueryID string `json:"queryId"`
}

func (s *Server) stopQuery(ctx context.Context, id Identity, in *queryIDIn) (any, error) {
	if in.QueryID == "" {
		return nil, notNull("queryId")
	}
	q := s.queries.get(id.Account, in.QueryID)
	if q == nil {
		return nil, notFound("Query does not exist.")
	}
	q.mu.Lock()
	st := q.status
	if isRunning(st) {
		q.stopped = true
	}
	q.mu.Unlock()
	if !isRunning(st) {
		return nil, invalidParam("Query is not running. Its status is %s.", st)
	}
	q.cancel()
	return successOut{Success: true}, nil
}

type describeQueriesIn struct {
	LogGroupName  string `json:"logGroupName"`
	Status        string `json:"status"`
	MaxResults    *int   `json:"maxResults"`
	NextToken     string `json:"nextToken"`
	QueryLanguage string `json:"queryLanguage"`
}

type queryInfo struct {
	QueryLanguage string  `json:"queryLanguage"`
	QueryID       string  `json:"queryId"`
	QueryString   string  `json:"queryString"`
	Status        string  `json:"status"`
	CreateTime    int64   `json:"createTime"`
	LogGroupName  string  `json:"logGroupName,omitempty"`
	QueryDuration int64   `json:"queryDuration,omitempty"`
	BytesScanned  float64 `json:"bytesScanned"`
}

type describeQueriesOut struct {
	Queries   []queryInfo `json:"queries"`
	NextToken string      `json:"nextToken,omitempty"`
}

func (s *Server) describeQueries(ctx context.Context, id Identity, in *describeQueriesIn) (any, error) {
	switch in.Status {
	case "", "Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout", "Unknown":
	default:
		return nil, validation(in.Status, "status", "Member must satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]")
	}
	limit := 1000
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 1000 {
			return nil, validation(*in.MaxResults, "maxResults", "Member must have value between 1 and 1000")
		}
		limit = *in.MaxResults
	}
	// The token is the last query of the previous page, not an offset:
	// queries are listed newest first, so every query started between two
	// pages shifted an offset and the next page repeated earlier ones.
	var after *queryInfo
	if in.NextToken != "" {
		raw, err := decodeToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		ct, qid, ok := strings.Cut(raw, "/")
		n, perr := strconv.ParseInt(ct, 10, 64)
		if !ok || perr != nil || qid == "" {
			return nil, invalidParam("The specified nextToken is invalid.")
		}
		after = &queryInfo{CreateTime: n, QueryID: qid}
	}
	s.queries.mu.Lock()
	var all []queryInfo
	for _, q := range s.queries.qs {
		if q.account != id.Account {
			continue
		}
		if in.LogGroupName != "" && !contains(q.groups, in.LogGroupName) {
			continue
		}
		q.mu.Lock()
		qi := queryInfo{QueryLanguage: "CWLI", QueryID: q.id, QueryString: q.rewritten, Status: q.status,
			CreateTime: q.created.UnixMilli(), QueryDuration: q.duration.Milliseconds(), BytesScanned: q.stats.BytesScanned}
		q.mu.Unlock()
		if len(q.groups) > 0 {
			qi.LogGroupName = q.groups[0]
		}
		if in.Status != "" && qi.Status != in.Status {
			continue
		}
		all = append(all, qi)
	}
	s.queries.mu.Unlock()
	before := func(a, b *queryInfo) bool { // a listed before b
		if a.CreateTime != b.CreateTime {
			return a.CreateTime > b.CreateTime
		}
		return a.QueryID < b.QueryID
	}
	sort.Slice(all, func(i, j int) bool { return before(&all[i], &all[j]) })
	if after != nil {
		all = all[sort.Search(len(all), func(i int) bool { return before(after, &all[i]) }):]
	}
	out := describeQueriesOut{Queries: []queryInfo{}}
	if len(all) > 0 {
		end := min(limit, len(all))
		out.Queries = all[:end]
		if end < len(all) {
			last := all[end-1]
			out.NextToken = encodeToken(strconv.FormatInt(last.CreateTime, 10) + "/" + last.QueryID)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
