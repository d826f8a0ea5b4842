package cwlogs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mailtrail/mailtrail/internal/filterpattern"
	"github.com/mailtrail/mailtrail/internal/scan"
	"github.com/mailtrail/mailtrail/internal/store"
)

const (
	maxBatchBytes   = 1048576
	eventOverhead   = 26
	maxEventMessage = maxBatchBytes - eventOverhead
	maxBatchSpan    = 24 * time.Hour
)

type inputEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsIn struct {
	LogGroupName  string       `json:"logGroupName"`
	LogStreamName string       `json:"logStreamName"`
	LogEvents     []inputEvent `json:"logEvents"`
	SequenceToken string       `json:"sequenceToken"`
}

type rejectedInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

type putLogEventsOut struct {
	NextSequenceToken     string        `json:"nextSequenceToken"`
	RejectedLogEventsInfo *rejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

// PutLogEvents follows AWS's rules: the whole call fails for a malformed,
// oversized, unordered or over-24h batch; events too old, too new or past
// the group's retention are rejected individually (reported by index) and
// the rest are stored.
func (s *Server) putLogEvents(ctx context.Context, id Identity, in *putLogEventsIn) (any, error) {
	if err := checkGroupName(in.LogGroupName, "logGroupName"); err != nil {
		return nil, err
	}
	if err := checkStreamName(in.LogStreamName, "logStreamName"); err != nil {
		return nil, err
	}
	n := len(in.LogEvents)
	if in.LogEvents == nil { // absent or null, where [] is too short
		return nil, notNull("logEvents")
	}
	if n == 0 {
		return nil, validation("[]", "logEvents", "Member must have length greater than or equal to 1")
	}
	if n > 10000 {
		return nil, validation("[...]", "logEvents", "Member must have length less than or equal to 10000")
	}
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil {
			return nil, invalidParam("1 validation error detected: Value null at 'logEvents.%d.member.timestamp' failed to satisfy constraint: Member must not be null", i+1)
		}
		if *e.Timestamp < 0 {
			return nil, validation(*e.Timestamp, fmt.Sprintf("logEvents.%d.member.timestamp", i+1), "Member must have value greater than or equal to 0")
		}
		if e.Message == nil {
			return nil, invalidParam("1 validation error detected: Value null at 'logEvents.%d.member.message' failed to satisfy constraint: Member must not be null", i+1)
		}
		if len(*e.Message) == 0 {
			return nil, validation("", fmt.Sprintf("logEvents.%d.member.message", i+1), "Member must have length greater than or equal to 1")
		}
		if len(*e.Message) > maxEventMessage {
			return nil, invalidParam("Log event too large: %d bytes exceeds limit of %d", len(*e.Message), maxEventMessage)
		}
		if !utf8.ValidString(*e.Message) {
			return nil, invalidParam("Log event %d: message is not valid UTF-8", i)
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalidParam("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(*e.Message) + eventOverhead
	}
	if size > maxBatchBytes {
		return nil, invalidParam("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}

	now := s.Now().UnixMilli()
	first, last := 0, n // valid events are in.LogEvents[first:last]
	var rej rejectedInfo
	if s.MaxEventFuture > 0 {
		limit := now + s.MaxEventFuture.Milliseconds()
		for last > 0 && *in.LogEvents[last-1].Timestamp > limit {
			last--
		}
		if last < n {
			v := last
			rej.TooNewLogEventStartIndex = &v
		}
	}
	if s.MaxEventAge > 0 {
		limit := now - s.MaxEventAge.Milliseconds()
		for first < last && *in.LogEvents[first].Timestamp < limit {
			first++
		}
		if first > 0 {
			v := first - 1
			rej.TooOldLogEventEndIndex = &v
		}
	}
	if days := s.retentionOf(id.Account, in.LogGroupName); days > 0 {
		limit := now - int64(days)*86400000
		exp := first
		for exp < last && *in.LogEvents[exp].Timestamp < limit {
			exp++
		}
		if exp > first {
			v := exp - 1
			rej.ExpiredLogEventEndIndex = &v
			first = exp
		}
	}
	if first < last && *in.LogEvents[last-1].Timestamp-*in.LogEvents[first].Timestamp > maxBatchSpan.Milliseconds() {
		return nil, invalidParam("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	if first < last {
		events := make([]store.Event, 0, last-first)
		for _, e := range in.LogEvents[first:last] {
			events = append(events, store.Event{Timestamp: *e.Timestamp, Message: []byte(*e.Message)})
		}
		if err := s.Store.Append(id.Account, in.LogGroupName, in.LogStreamName, events); err != nil {
			return nil, storeErr(err, whichMissing(err))
		}
		s.tail.publish(id.Account, in.LogGroupName, in.LogStreamName, events, now)
	} else if err := s.checkStreamExists(id.Account, in.LogGroupName, in.LogStreamName); err != nil {
		return nil, err
	}
	out := putLogEventsOut{NextSequenceToken: sequenceToken(now)}
	if rej != (rejectedInfo{}) {
		out.RejectedLogEventsInfo = &rej
	}
	return out, nil
}

func (s *Server) checkStreamExists(account, group, stream string) error {
	streams, err := s.Store.DescribeLogStreams(account, group, stream)
	if err != nil {
		return storeErr(err, "log group")
	}
	for _, st := range streams {
		if st.Name == stream {
			return nil
		}
	}
	return notFound("The specified log stream does not exist.")
}

// retentionOf is the group's retention in days, 0 when unset or when the
// group is missing (Append then reports the missing group).
func (s *Server) retentionOf(account, group string) int {
	days, _ := s.Store.GroupRetention(account, group)
	return days
}

// sequenceToken mimics AWS's deprecated 56-digit token; clients ignore it.
func sequenceToken(now int64) string {
	return fmt.Sprintf("%056d", now)
}

// A stream position: the events before it are those with an earlier
// timestamp, plus the first skip events that share its timestamp.
type position struct {
	ts   int64
	skip int64
}

// Tokens look like AWS's: "f/" or "b/" and 56 digits.
func (p position) token(dir byte) string {
	return fmt.Sprintf("%c/%020d%020d%016d", dir, uint64(p.ts)^(1<<63), p.skip, 0)
}

func parseToken(tok string) (dir byte, p position, err error) {
	if len(tok) != 58 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' {
		return 0, p, invalidParam("The specified nextToken is invalid.")
	}
	u, err1 := strconv.ParseUint(tok[2:22], 10, 64)
	skip, err2 := strconv.ParseInt(tok[22:42], 10, 64)
	if err1 != nil || err2 != nil || skip < 0 {
		return 0, p, invalidParam("The specified nextToken is invalid.")
	}
	return tok[0], position{ts: int64(u ^ (1 << 63)), skip: skip}, nil
}

type getLogEventsIn struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	LogStreamName      string `json:"logStreamName"`
	StartTime          *int64 `json:"startTime"`
	EndTime            *int64 `json:"endTime"`
	NextToken          string `json:"nextToken"`
	Limit              *int   `json:"limit"`
	StartFromHead      *bool  `json:"startFromHead"`
	Unmask             bool   `json:"unmask"`
}

type outputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

type getLogEventsOut struct {
	Events            []outputEvent `json:"events"`
	NextForwardToken  string        `json:"nextForwardToken"`
	NextBackwardToken string        `json:"nextBackwardToken"`
}

type posEvent struct {
	outputEvent
	pos position // position of this event (events before it)
}

func (s *Server) getLogEvents(ctx context.Context, id Identity, in *getLogEventsIn) (any, error) {
	group, err := groupParam(id, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := checkStreamName(in.LogStreamName, "logStreamName"); err != nil {
		return nil, err
	}
	limit, err := checkLimit(in.Limit, 10000, 10000)
	if err != nil {
		return nil, err
	}
	if err := checkTimes(in.StartTime, "startTime", in.EndTime, "endTime"); err != nil {
		return nil, err
	}
	start, end := scan.MinTime, scan.MaxTime
	if in.StartTime != nil {
		start = *in.StartTime
	}
	if in.EndTime != nil {
		end = *in.EndTime
	}
	forward := in.StartFromHead != nil && *in.StartFromHead
	var from *position
	if in.NextToken != "" {
		dir, p, err := parseToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		forward = dir == 'f'
		from = &p
	}

	// Walk the stream in time order, tracking each event's position, and
	// keep the page: the first `limit` after the position going forward,
	// or the last `limit` before it going backward.
	var page []posEvent
	bytes := 0
	var cur position
	var lastTS int64 = scan.MinTime
	err = s.Store.GetLogEvents(id.Account, group, in.LogStreamName, start, end, func(ts, ingest int64, msg []byte) bool {
		if ts == lastTS {
			cur.skip++
		} else {
			cur = position{ts: ts}
			lastTS = ts
		}
		ev := posEvent{outputEvent{ts, string(msg), ingest}, cur}
		if forward {
			if from != nil && before(cur, *from) {
				return true
			}
			page = append(page, ev)
			bytes += len(msg) + eventOverhead
			return len(page) < limit && bytes < maxBatchBytes
		}
		if from != nil && !before(cur, *from) {
			return false
		}
		page = append(page, ev)
		bytes += len(msg) + eventOverhead
		for len(page) > limit || (bytes > maxBatchBytes && len(page) > 1) {
			bytes -= len(page[0].Message) + eventOverhead
			page = page[1:]
		}
		return true
	})
	if err != nil {
		return nil, storeErr(err, whichMissing(err))
	}
	out := getLogEventsOut{Events: make([]outputEvent, 0, len(page))}
	for _, e := range page {
		out.Events = append(out.Events, e.outputEvent)
	}
	switch {
	case len(page) > 0:
		first, last := page[0].pos, page[len(page)-1].pos
		last.skip++
		out.NextBackwardToken = first.token('b')
		out.NextForwardToken = last.token('f')
	case from != nil:
		// At the end: hand back the caller's token, as AWS does.
		out.NextForwardToken = from.token('f')
		out.NextBackwardToken = from.token('b')
	default:
		p := position{ts: start}
		if !forward && end != scan.MaxTime {
			p = position{ts: end}
		}
		out.NextForwardToken = p.token('f')
		out.NextBackwardToken = p.token('b')
	}
	return out, nil
}

func before(a, b position) bool {
	return a.ts < b.ts || (a.ts == b.ts && a.skip < b.skip)
}

type filterLogEventsIn struct {
	LogGroupName        string   `json:"logGroupName"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       *string  `json:"filterPattern"`
	NextToken           string   `json:"nextToken"`
	Limit               *int     `json:"limit"`
	Interleaved         *bool    `json:"interleaved"`
	Unmask              bool     `json:"unmask"`
}

type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type filterLogEventsOut struct {
	Events             []filteredEvent `json:"events"`
	SearchedLogStreams []any           `json:"searchedLogStreams"`
	NextToken          string          `json:"nextToken,omitempty"`
}

// filterKey orders FilterLogEvents results as AWS does: timestamp,
// ingestion time, then request order, which is the store's sequence number
// inside the @ptr (its text does not sort by it: the number is a varint in
// base64). The pointer, unique, breaks any remaining tie and makes the page
// token.
type filterKey struct {
	TS  int64  `json:"t"`
	In  int64  `json:"i"`
	Ptr string `json:"p"`
	seq uint64 // from Ptr
}

func newFilterKey(ts, ingest int64, ptr string) filterKey {
	return filterKey{TS: ts, In: ingest, Ptr: ptr, seq: ptrSeq(ptr)}
}

func (a filterKey) less(b filterKey) bool {
	if a.TS != b.TS {
		return a.TS < b.TS
	}
	if a.In != b.In {
		return a.In < b.In
	}
	if a.seq != b.seq {
		return a.seq < b.seq
	}
	return a.Ptr < b.Ptr
}

// ptrSeq reads the sequence number from a store @ptr: unpadded base64url of
// uvarint group id, varint timestamp, uvarint sequence (see
// internal/store's formatPtr). A pointer it cannot read sorts first among
// its ties, by its text, as before.
func ptrSeq(ptr string) uint64 {
	var buf [32]byte
	if base64.RawURLEncoding.DecodedLen(len(ptr)) > len(buf) {
		return 0
	}
	n, err := base64.RawURLEncoding.Decode(buf[:], []byte(ptr))
	if err != nil {
		return 0
	}
	b := buf[:n]
	if _, k := binary.Uvarint(b); k > 0 {
		b = b[k:]
	} else {
		return 0
	}
	if _, k := binary.Varint(b); k > 0 {
		b = b[k:]
	} else {
		return 0
	}
	seq, k := binary.Uvarint(b)
	if k <= 0 || k != len(b) {
		return 0
	}
	return seq
}

func (s *Server) filterLogEvents(ctx context.Context, id Identity, in *filterLogEventsIn) (any, error) {
	group, err := groupParam(id, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := checkNameList(in.LogStreamNames, "logStreamNames", checkStreamName, "[^:*]*"); err != nil {
		return nil, err
	}
	if in.LogStreamNamePrefix != "" {
		if err := checkStreamName(in.LogStreamNamePrefix, "logStreamNamePrefix"); err != nil {
			return nil, err
		}
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, invalidParam("You cannot specify both LogStreamNames and LogStreamNamePrefix.")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, validation("[...]", "logStreamNames", "Member must have length less than or equal to 100")
	}
	limit, err := checkLimit(in.Limit, 10000, 10000)
	if err != nil {
		return nil, err
	}
	if err := checkTimes(in.StartTime, "startTime", in.EndTime, "endTime"); err != nil {
		return nil, err
	}
	var pat *filterpattern.Pattern
	if in.FilterPattern != nil {
		if len(*in.FilterPattern) > 1024 {
			return nil, validation(*in.FilterPattern, "filterPattern", "Member must have length less than or equal to 1024")
		}
		if pat, err = filterpattern.Compile(*in.FilterPattern); err != nil {
			return nil, badPattern(err)
		}
	}
	var after *filterKey
	if in.NextToken != "" {
		raw, err := decodeToken(in.NextToken)
		if err != nil {
			return nil, err
		}
		after = new(filterKey)
		if json.Unmarshal([]byte(raw), after) != nil || after.Ptr == "" {
			return nil, invalidParam("The specified nextToken is invalid.")
		}
		after.seq = ptrSeq(after.Ptr)
	}
	req := &scan.Request{
		Account: id.Account,
		Groups:  []string{group},
		Start:   scan.MinTime,
		End:     scan.MaxTime,
		Columns: []string{"@timestamp", "@ingestionTime", "@message", "@logStream", "@ptr"},
		Workers: 2,
	}
	if in.StartTime != nil {
		req.Start = *in.StartTime
	}
	if in.EndTime != nil {
		if *in.EndTime < scan.MaxTime {
			req.End = *in.EndTime + 1 // FilterLogEvents' end is inclusive
		}
	}
	if after != nil && after.TS > req.Start {
		req.Start = after.TS
	}
	streamOK := func(string) bool { return true }
	if len(in.LogStreamNames) > 0 {
		set := map[string]bool{}
		for _, n := range in.LogStreamNames {
			set[n] = true
		}
		streamOK = func(n string) bool { return set[n] }
	} else if in.LogStreamNamePrefix != "" {
		streamOK = func(n string) bool { return strings.HasPrefix(n, in.LogStreamNamePrefix) }
	}

	// Keep the `limit` smallest keys past the token in a bounded buffer per
	// worker, then merge. One more than limit tells whether a next page exists.
	// A page also holds no more than 1 MiB of messages, as AWS's does
	// ("as many log events as can fit in 1 MB, up to 10,000"): without that
	// bound ten thousand large events made a gigabyte answer, held in memory.
	keep := limit + 1
	type hit struct {
		key    filterKey
		stream string
		msg    string
	}
	var mu sync.Mutex
	var hits []hit
	hitBytes := 0
	trim := func() {
		sort.Slice(hits, func(i, j int) bool { return hits[i].key.less(hits[j].key) })
		n := pageFit(len(hits), keep, func(i int) int { return len(hits[i].msg) })
		if n < len(hits) {
			n++ // one past the page says that there is a next page
		}
		clear(hits[n:])
		hits = hits[:n]
		hitBytes = 0
		for _, h := range hits {
			hitBytes += len(h.msg) + eventOverhead
		}
	}
	flushHits := func(local []hit) {
		mu.Lock()
		hits = append(hits, local...)
		for _, h := range local {
			hitBytes += len(h.msg) + eventOverhead
		}
		if len(hits) > 4*keep || hitBytes > 4*maxBatchBytes {
			trim()
		}
		mu.Unlock()
	}
	err = s.Store.Scan(ctx, req, func(worker int, b *scan.Block) error {
		ts, ing, msg, st, ptr := b.Col("@timestamp"), b.Col("@ingestionTime"), b.Col("@message"), b.Col("@logStream"), b.Col("@ptr")
		if ts == nil || msg == nil {
			return nil
		}
		var local []hit
		for i := 0; i < b.Rows; i++ {
			t := ts.Value(i).I
			if t < req.Start || t >= req.End {
				continue
			}
			stream := st.Value(i).String()
			if !streamOK(stream) {
				continue
			}
			k := newFilterKey(t, ing.Value(i).I, ptr.Value(i).String())
			if after != nil && !after.less(k) {
				continue
			}
			m := msg.Value(i).String()
			if pat != nil && !pat.Match([]byte(m)) {
				continue
			}
			// The store hands out a block's messages as slices of one
			// buffer; a kept hit that aliased it would keep the whole
			// block (tens of MB) alive for one match until the page is
			// answered.
			k.Ptr = strings.Clone(k.Ptr) // the same for the block's pointers
			local = append(local, hit{k, stream, strings.Clone(m)})
		}
		if len(local) > 0 {
			flushHits(local)
		}
		return nil
	})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, storeErr(err, "log group")
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].key.less(hits[j].key) })
	page := pageFit(len(hits), limit, func(i int) int { return len(hits[i].msg) })
	out := filterLogEventsOut{Events: make([]filteredEvent, 0, page), SearchedLogStreams: []any{}}
	for _, h := range hits[:page] {
		out.Events = append(out.Events, filteredEvent{
			LogStreamName: h.stream, Timestamp: h.key.TS, Message: h.msg,
			IngestionTime: h.key.In, EventID: h.key.Ptr,
		})
	}
	if page < len(hits) {
		tok, _ := json.Marshal(hits[page-1].key)
		out.NextToken = encodeToken(string(tok))
	}
	return out, nil
}

// pageFit is how many of n events, in order, make one page: at most limit,
// and no more than maxBatchBytes of messages (counted as PutLogEvents
// counts them), but always one so that paging moves on.
func pageFit(n, limit int, size func(i int) int) int {
	bytes := 0
	for i := 0; i < n && i < limit; i++ {
		bytes += size(i) + eventOverhead
		if bytes > maxBatchBytes && i > 0 {
			return i
		}
	}
	return min(n, limit)
}

type getLogRecordIn struct {
	LogRecordPointer string `json:"logRecordPointer"`
	Unmask           bool   `json:"unmask"`
}

type getLogRecordOut struct {
	LogRecord map[string]string `json:"logRecord"`
}

func (s *Server) getLogRecord(ctx context.Context, id Identity, in *getLogRecordIn) (any, error) {
	if in.LogRecordPointer == "" {
		return nil, invalidParam("1 validation error detected: Value null at 'logRecordPointer' failed to satisfy constraint: Member must not be null")
	}
	rec, err := s.Store.GetLogRecord(id.Account, in.LogRecordPointer)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
			return nil, invalidParam("The specified logRecordPointer is invalid or has expired.")
		}
		return nil, err
	}
	return getLogRecordOut{LogRecord: rec}, nil
}

type getLogGroupFieldsIn struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	Time               *int64 `json:"time"`
}

type fieldOut struct {
	Name    string `json:"name"`
	Percent int    `json:"percent"`
}

type getLogGroupFieldsOut struct {
	LogGroupFields []fieldOut `json:"logGroupFields"`
}

// GetLogGroupFields reports fields over the 15 minutes before `time` (epoch
// seconds) as AWS does, or over all data when time is absent.
func (s *Server) getLogGroupFields(ctx context.Context, id Identity, in *getLogGroupFieldsIn) (any, error) {
	group, err := groupParam(id, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := checkTimes(in.Time, "time", nil, ""); err != nil {
		return nil, err
	}
	start, end := scan.MinTime, scan.MaxTime
	if in.Time != nil {
		end = (*in.Time + 1) * 1000
		start = end - 15*60*1000
	}
	fields, err := s.Store.Fields(ctx, id.Account, []string{group}, start, end)
	if err != nil {
		return nil, storeErr(err, "log group")
	}
	var total int64
	for _, f := range fields {
		if f.Name == "@timestamp" || f.Count > total {
			total = max(total, f.Count)
		}
	}
	out := getLogGroupFieldsOut{LogGroupFields: []fieldOut{}}
	for _, f := range fields {
		p := 0
		if total > 0 {
			p = int(f.Count * 100 / total)
		}
		out.LogGroupFields = append(out.LogGroupFields, fieldOut{Name: f.Name, Percent: p})
	}
	sort.Slice(out.LogGroupFields, func(i, j int) bool {
		a, b := out.LogGroupFields[i], out.LogGroupFields[j]
		if a.Percent != b.Percent {
			return a.Percent > b.Percent
		}
		return a.Name < b.Name
	})
	return out, nil
}
