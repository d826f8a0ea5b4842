package cwlogs

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/api/awsjson"
	"github.com/mailtrail/mailtrail/internal/filterpattern"
	"github.com/mailtrail/mailtrail/internal/store"
)

// Live tail limits, from the CloudWatch Logs model documentation.
const (
	tailMaxPerUpdate = 500
	tailMaxBuffered  = 5000
	tailSessionLimit = 3 * time.Hour
	tailInterval     = time.Second
)

type tailResult struct {
	LogStreamName      string `json:"logStreamName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	Message            string `json:"message"`
	Timestamp          int64  `json:"timestamp"`
	IngestionTime      int64  `json:"ingestionTime"`
}

type tailSession struct {
	account  string
	groups   map[string]string // group name -> identifier as the client gave it
	streams  map[string]bool
	prefixes []string
	pattern  *filterpattern.Pattern

	mu      sync.Mutex
	buf     []tailResult
	dropped bool
}

type tailHub struct {
	mu       sync.Mutex
	sessions map[*tailSession]struct{}
	closed   chan struct{}
}

func newTailHub() *tailHub {
	return &tailHub{sessions: map[*tailSession]struct{}{}, closed: make(chan struct{})}
}

func (h *tailHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closed:
	default:
		close(h.closed)
	}
}

// publish offers newly stored events to the live-tail sessions watching
// their group. It never blocks the writer: a slow session loses its oldest
// events and reports its updates as sampled.
func (h *tailHub) publish(account, group, stream string, events []store.Event, ingest int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.sessions {
		ident, ok := s.groups[group]
		if !ok || s.account != account || !s.wantsStream(stream) {
			continue
		}
		s.mu.Lock()
		for _, e := range events {
			if s.pattern != nil && !s.pattern.Match(e.Message) {
				continue
			}
			s.buf = append(s.buf, tailResult{stream, ident, string(e.Message), e.Timestamp, ingest})
		}
		if over := len(s.buf) - tailMaxBuffered; over > 0 {
			s.buf = append(s.buf[:0], s.buf[over:]...)
			s.dropped = true
		}
		s.mu.Unlock()
	}
}

func (s *tailSession) wantsStream(stream string) bool {
	if len(s.streams) > 0 {
		return s.streams[stream]
	}
	if len(s.prefixes) > 0 {
		for _, p := range s.prefixes {
			if strings.HasPrefix(stream, p) {
				return true
			}
		}
		return false
	}
	return true
}

// take returns up to tailMaxPerUpdate buffered events, sampling uniformly
// when more arrived.
func (s *tailSession) take() ([]tailResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out, sampled := s.buf, s.dropped
	s.buf, s.dropped = nil, false
	if len(out) > tailMaxPerUpdate {
		sampled = true
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:tailMaxPerUpdate]
	}
	return out, sampled
}

type startLiveTailIn struct {
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	LogStreamNames        []string `json:"logStreamNames"`
	LogStreamNamePrefixes []string `json:"logStreamNamePrefixes"`
	LogEventFilterPattern *string  `json:"logEventFilterPattern"`
}

func (s *Server) startLiveTail(w http.ResponseWriter, r *http.Request, id Identity, body []byte) {
	var in startLiveTailIn
	if err := decode(body, &in); err != nil {
		writeError(w, err.(*APIError))
		return
	}
	sess, aerr := s.newTailSession(id, &in)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	fl, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	send := func(msg []byte) bool {
		if _, err := w.Write(msg); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	start := map[string]any{
		"requestId":             w.Header().Get("x-amzn-RequestId"),
		"sessionId":             awsjson.NewRequestID(),
		"logGroupIdentifiers":   in.LogGroupIdentifiers,
		"logStreamNames":        in.LogStreamNames,
		"logStreamNamePrefixes": in.LogStreamNamePrefixes,
	}
	if in.LogEventFilterPattern != nil {
		start["logEventFilterPattern"] = *in.LogEventFilterPattern
	}
	if !send(eventMessage("initial-response", map[string]any{})) || !send(eventMessage("sessionStart", start)) {
		return
	}
	s.tail.mu.Lock()
	s.tail.sessions[sess] = struct{}{}
	s.tail.mu.Unlock()
	defer func() {
		s.tail.mu.Lock()
		delete(s.tail.sessions, sess)
		s.tail.mu.Unlock()
	}()
	s.log.Info("live tail started", "account", id.Account, "groups", in.LogGroupIdentifiers)
	tick := time.NewTicker(tailInterval)
	defer tick.Stop()
	deadline := time.NewTimer(tailSessionLimit)
	defer deadline.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.tail.closed:
			send(exceptionMessage("SessionStreamingException", "The server is shutting down."))
			return
		case <-deadline.C:
			send(exceptionMessage("SessionTimeoutException", "Session timed out"))
			return
		case <-tick.C:
			results, sampled := sess.take()
			if results == nil {
				results = []tailResult{}
			}
			upd := map[string]any{
				"sessionMetadata": map[string]any{"sampled": sampled},
				"sessionResults":  results,
			}
			if !send(eventMessage("sessionUpdate", upd)) {
				return
			}
		}
	}
}

func (s *Server) newTailSession(id Identity, in *startLiveTailIn) (*tailSession, *APIError) {
	n := len(in.LogGroupIdentifiers)
	if n < 1 || n > 10 {
		return nil, validation("[...]", "logGroupIdentifiers", "Member must have length between 1 and 10")
	}
	if len(in.LogStreamNames) > 0 && len(in.LogStreamNamePrefixes) > 0 {
		return nil, invalidParam("You can specify either logStreamNames or logStreamNamePrefixes, not both.")
	}
	if (len(in.LogStreamNames) > 0 || len(in.LogStreamNamePrefixes) > 0) && n != 1 {
		return nil, invalidParam("logStreamNames and logStreamNamePrefixes are only allowed with exactly one log group.")
	}
	if len(in.LogStreamNames) > 100 || len(in.LogStreamNamePrefixes) > 100 {
		return nil, validation("[...]", "logStreamNames", "Member must have length less than or equal to 100")
	}
	sess := &tailSession{account: id.Account, groups: map[string]string{}}
	for _, ident := range in.LogGroupIdentifiers {
		if strings.HasSuffix(ident, ":*") {
			return nil, invalidParam("logGroupIdentifiers must not end with ':*': %s", ident)
		}
		name, err := groupFromIdentifier(id, ident)
		if err != nil {
			return nil, err.(*APIError)
		}
		if !s.groupExists(id.Account, name) {
			return nil, notFound("The specified log group does not exist.")
		}
		sess.groups[name] = ident
	}
	if len(in.LogStreamNames) > 0 {
		sess.streams = map[string]bool{}
		for _, n := range in.LogStreamNames {
			sess.streams[n] = true
		}
	}
	sess.prefixes = in.LogStreamNamePrefixes
	if in.LogEventFilterPattern != nil && *in.LogEventFilterPattern != "" {
		p, err := filterpattern.Compile(*in.LogEventFilterPattern)
		if err != nil {
			return nil, badPattern(err)
		}
		sess.pattern = p
	}
	return sess, nil
}

func (s *Server) groupExists(account, group string) bool {
	_, err := s.Store.GroupRetention(account, group)
	return err == nil
}

// Event-stream framing (application/vnd.amazon.eventstream): prelude of
// total and header lengths with its CRC32, string headers, payload, and a
// CRC32 of everything before it; all big-endian.
func eventMessage(eventType string, payload any) []byte {
	p, _ := json.Marshal(payload)
	return encodeMessage([][2]string{{":message-type", "event"}, {":event-type", eventType}, {":content-type", "application/json"}}, p)
}

func exceptionMessage(excType, msg string) []byte {
	p, _ := json.Marshal(map[string]string{"message": msg})
	return encodeMessage([][2]string{{":message-type", "exception"}, {":exception-type", excType}, {":content-type", "application/json"}}, p)
}

func encodeMessage(headers [][2]string, payload []byte) []byte {
	var hdr bytes.Buffer
	for _, h := range headers {
		hdr.WriteByte(byte(len(h[0])))
		hdr.WriteString(h[0])
		hdr.WriteByte(7) // string
		binary.Write(&hdr, binary.BigEndian, uint16(len(h[1])))
		hdr.WriteString(h[1])
	}
	total := 12 + hdr.Len() + len(payload) + 4
	msg := make([]byte, 0, total)
	msg = binary.BigEndian.AppendUint32(msg, uint32(total))
	msg = binary.BigEndian.AppendUint32(msg, uint32(hdr.Len()))
	msg = binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg))
	msg = append(msg, hdr.Bytes()...)
	msg = append(msg, payload...)
	return binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg))
}
