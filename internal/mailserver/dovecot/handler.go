package dovecot

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/event"
	ingest "github.com/mailtrail/mailtrail/internal/ingest/dovecot"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/org"
)

// Routes of the handler returned by NewHandler.
const (
	PolicyPath = "/dovecot/policy" // auth_policy_server_url
	EventsPath = "/dovecot/events" // event_exporter transport_args
)

// Config wires a Handler to mailtrail's directory, rules and store.
type Config struct {
	Account string           // AWS account whose organizations Dovecot serves
	Dir     *org.Directory   // maps logins to organizations and users
	Rules   *access.Store    // access control rules evaluated on `allow`
	Sink    *mailserver.Sink // where every record goes
	Logger  *slog.Logger     // nil: slog.Default()
	// APIKey, when set, is required on every request: as the password of
	// HTTP Basic auth (any user name), as "Authorization: Bearer KEY" or as
	// "X-API-Key: KEY". ConfigSnippet prints the Dovecot settings that send
	// it.
	APIKey string
	// Now is the clock of policy records; nil means time.Now.
	Now func() time.Time
	// MaxSessions bounds per-session state (default 65536); RecentIDs the
	// de-duplication window (default 131072 ids and keys).
	MaxSessions int
	RecentIDs   int
	// MaxBodyBytes caps a request body (default 64 KiB; Dovecot's are
	// well under 2 KiB).
	MaxBodyBytes int64
}

// Stats count what the handler did, for logs and metrics.
type Stats struct {
	PolicyAllow, PolicyDeny, PolicyReport int64 // policy requests answered
	Events, EventsIgnored                 int64 // exported events received / with nothing to record
	Records                               int64 // records written
	Duplicates                            int64 // activities dropped as already recorded
	Unrouted                              int64 // activities or requests of logins in no organization
	BadRequests, Unauthorized             int64
	WriteErrors                           int64
}

// Handler serves Dovecot's auth policy requests and exported events and
// writes the records they produce. Create it with NewHandler; it is safe
// for concurrent use.
type Handler struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	tr     *ingest.Translator
	mu     sync.Mutex
	policy map[string]*policySession // by PolicyRequest.PseudoSession
	order  []string                  // FIFO of policy keys, for the bound
	recent *recentSet
	st     struct {
		policyAllow, policyDeny, policyReport, events, eventsIgnored,
		records, duplicates, unrouted, badRequests, unauthorized, writeErrors atomic.Int64
	}
}

// policySession is what the policy endpoint remembers of one login
// session: with auth_policy_check_before_auth and _after_auth a successful
// attempt is allow, allow, report and a failed one allow, report.
type policySession struct {
	reports int    // attempts reported (numbers AuthID)
	written string // decision recorded for the current attempt ("" none)
}

// NewHandler returns the handler serving PolicyPath and EventsPath.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Account == "" || cfg.Dir == nil || cfg.Rules == nil || cfg.Sink == nil {
		return nil, errors.New("dovecot: Config needs Account, Dir, Rules and Sink")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 65536
	}
	if cfg.RecentIDs <= 0 {
		cfg.RecentIDs = 131072
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	h := &Handler{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "dovecot"),
		tr:     ingest.NewTranslator(cfg.MaxSessions),
		policy: map[string]*policySession{},
		recent: newRecentSet(cfg.RecentIDs),
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc(PolicyPath, h.servePolicy)
	h.mux.HandleFunc(EventsPath, h.serveEvents)
	return h, nil
}

// ServeHTTP routes PolicyPath and EventsPath; anything else is 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Stats returns the counters so far.
func (h *Handler) Stats() Stats {
	return Stats{
		PolicyAllow: h.st.policyAllow.Load(), PolicyDeny: h.st.policyDeny.Load(),
		PolicyReport: h.st.policyReport.Load(), Events: h.st.events.Load(),
		EventsIgnored: h.st.eventsIgnored.Load(), Records: h.st.records.Load(),
		Duplicates: h.st.duplicates.Load(), Unrouted: h.st.unrouted.Load(),
		BadRequests: h.st.badRequests.Load(), Unauthorized: h.st.unauthorized.Load(),
		WriteErrors: h.st.writeErrors.Load(),
	}
}

// policyResponse is the auth policy answer: status < 0 rejects (msg is
// shown to the client), 0 allows, > 0 delays by that many seconds.
type policyResponse struct {
	Status int    `json:"status"`
	Msg    string `json:"msg"`
}

var (
	okResponse       = []byte(`{"status":0,"msg":""}`)
	disabledResponse = []byte(`{"status":-1,"msg":"account disabled"}`)
)

func (h *Handler) servePolicy(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readRequest(w, r)
	if !ok {
		return
	}
	cmd := r.URL.Query().Get("command")
	if cmd != "allow" && cmd != "report" {
		h.fail(w, http.StatusBadRequest, fmt.Sprintf("policy: command %q: want allow or report", cmd))
		return
	}
	req, err := ingest.ParsePolicyRequest(body)
	if err != nil {
		h.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	if cmd == "report" {
		h.report(w, &req)
		return
	}
	h.allow(w, &req)
}

// allow evaluates the organization's rules for the login's user, client
// address and protocol, records the decision and answers it.
func (h *Handler) allow(w http.ResponseWriter, req *ingest.PolicyRequest) {
	now := h.cfg.Now()
	svc, err := access.DovecotService(req.Protocol)
	if err != nil {
		// A service the table does not know (managesieve, doveadm...):
		// rules without an action condition still apply to it.
		svc = access.Service{Protocol: strings.ToUpper(req.Protocol), Evaluated: true}
	}
	if !svc.Evaluated {
		h.st.policyAllow.Add(1)
		writeJSON(w, okResponse)
		return
	}
	o, user, found := h.resolve(req.Login)
	if !found {
		// Not a login of any organization here: mailtrail has no rules for
		// it and the passdb decides. Recorded nowhere (no organization).
		h.st.unrouted.Add(1)
		h.st.policyAllow.Add(1)
		writeJSON(w, okResponse)
		return
	}
	if user.ID != "" && !user.Enabled() {
		// A deregistered WorkMail user has no mailbox to log in to: refused
		// before any rule (no rule was evaluated, so no access control
		// record; the report records the failed login as UserDisabled).
		h.st.policyDeny.Add(1)
		writeJSON(w, disabledResponse)
		return
	}
	d, err := h.cfg.Rules.Evaluate(h.cfg.Account, o.ID, access.Request{
		IP: access.ParseSourceIP(req.Remote), Action: svc.Action, UserID: user.ID,
	})
	if err != nil {
		h.st.writeErrors.Add(1)
		h.log.Error("evaluating access control rules", "org", o.ID, "login", req.Login, "err", err)
		h.fail(w, http.StatusInternalServerError, "policy: evaluating access control rules failed")
		return
	}

	// One record per attempt: the after-auth allow repeats the before-auth
	// one, and is recorded again only if the decision changed in between.
	key := req.PseudoSession()
	decision := fmt.Sprintf("%t\x00%s", d.Granted, d.RuleID)
	h.mu.Lock()
	ps := h.policySession(key)
	dup := ps.written == decision
	prev := ps.written
	attempt := ps.reports
	if !dup {
		ps.written = decision
	}
	h.mu.Unlock()

	if dup {
		h.st.duplicates.Add(1)
	} else {
		id := ingest.RequestID("dovecot-acl", req.SessionID, strconv.Itoa(attempt), decision)
		if req.SessionID == "" {
			id = ingest.RequestID("dovecot-acl", key, strconv.FormatInt(now.UnixNano(), 10), decision)
		}
		rec := d.Record(access.RecordContext{
			Time: now, RequestID: id, OrganizationARN: o.ARN, UserID: user.ID,
			Protocol: svc.Protocol, SourceIP: req.Remote,
		})
		js, err := event.Append(nil, &rec)
		if err == nil {
			err = h.cfg.Sink.Write(mailserver.Org{Account: h.cfg.Account, ID: o.ID, Alias: o.Alias},
				mailserver.Record{Type: event.LogTypeAccessControl, Timestamp: rec.EventTimestamp, JSON: js})
		}
		if err != nil {
			h.mu.Lock()
			ps.written = prev
			h.mu.Unlock()
			h.st.writeErrors.Add(1)
			h.log.Error("storing access control record", "org", o.ID, "login", req.Login, "err", err)
			// Unrecorded access is not granted: Dovecot applies
			// auth_policy_reject_on_fail to this error.
			h.fail(w, http.StatusServiceUnavailable, "policy: storing the access control record failed")
			return
		}
		h.st.records.Add(1)
	}

	if d.Granted {
		h.st.policyAllow.Add(1)
		writeJSON(w, okResponse)
		return
	}
	h.st.policyDeny.Add(1)
	// The msg reaches the client (IMAP "NO [ALERT] ...", SMTP 535): the
	// rule name and nothing else.
	msg := "denied by access control rules"
	if d.RuleID != "" {
		msg = "denied by access control rule " + d.RuleID
	}
	b, _ := json.Marshal(policyResponse{Status: -1, Msg: msg})
	writeJSON(w, b)
}

// report records the attempt's authentication outcome.
func (h *Handler) report(w http.ResponseWriter, req *ingest.PolicyRequest) {
	now := h.cfg.Now()
	key := req.PseudoSession()
	h.mu.Lock()
	ps := h.policySession(key)
	n := ps.reports
	ps.reports++
	ps.written = ""
	if req.SessionID == "" {
		// Sessionless logins (Postfix SASL) share a key per user, address
		// and password; one attempt ends here.
		h.dropPolicySession(key)
	}
	h.mu.Unlock()
	h.st.policyReport.Add(1)
	act := req.ReportActivity(n, now, h.tr.PassdbResult(req.SessionID))
	if !act.Success && req.PolicyReject {
		if _, u, ok := h.resolve(req.Login); ok && u.ID != "" && !u.Enabled() {
			act.FailReason = ingest.ReasonUserDisabled
		}
	}
	if _, err := h.store([]ingest.Activity{act}, true); err != nil {
		h.log.Error("storing authentication record", "login", req.Login, "err", err)
		h.fail(w, http.StatusServiceUnavailable, "policy: storing the authentication record failed")
		return
	}
	writeJSON(w, okResponse)
}

func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readRequest(w, r)
	if !ok {
		return
	}
	ev, err := ingest.ParseEvent(body)
	if err != nil {
		h.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	h.st.events.Add(1)
	acts, used := h.tr.Translate(nil, ev)
	if !used {
		h.st.eventsIgnored.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if _, err := h.store(acts, true); err != nil {
		h.log.Error("storing records of an exported event", "event", ev.Name, "err", err)
		h.fail(w, http.StatusServiceUnavailable, "events: storing records failed")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// store resolves, de-duplicates, builds and writes activities and returns
// how many records it wrote. live marks
// the exporter and policy paths, whose OpKeys and SummaryKeys suppress the
// log path's per-message copies of the same operations. It returns after
// Sink.Write, so an acknowledged request is on disk.
func (h *Handler) store(acts []ingest.Activity, live bool) (int, error) {
	type batch struct {
		org  mailserver.Org
		recs []mailserver.Record
	}
	var batches []batch
	var claimed []string
	for i := range acts {
		a := &acts[i]
		o, user, found := h.resolve(a.Login)
		if !found || (a.Kind == ingest.KindMailbox && user.ID == "") {
			h.st.unrouted.Add(1)
			continue
		}
		if !h.claim(a, live) {
			h.st.duplicates.Add(1)
			continue
		}
		claimed = append(claimed, a.ID)
		rec, err := a.Record(ingest.Identity{OrganizationARN: o.ARN, UserID: user.ID})
		if err != nil {
			h.unclaim(claimed)
			return 0, err
		}
		mo := mailserver.Org{Account: h.cfg.Account, ID: o.ID, Alias: o.Alias}
		if n := len(batches); n > 0 && batches[n-1].org == mo {
			batches[n-1].recs = append(batches[n-1].recs, rec)
		} else {
			batches = append(batches, batch{mo, []mailserver.Record{rec}})
		}
	}
	written := 0
	for i, b := range batches {
		if err := h.cfg.Sink.Write(b.org, b.recs...); err != nil {
			h.st.writeErrors.Add(1)
			// Earlier batches, and the records of this one that its
			// other log groups took, are stored and stay claimed.
			var undo []string
			for j, r := range b.recs {
				if mailserver.Stored(err, len(b.recs), j) {
					written++
					h.st.records.Add(1)
				} else {
					undo = append(undo, requestIDOf(r))
				}
			}
			for _, later := range batches[i+1:] {
				for _, r := range later.recs {
					undo = append(undo, requestIDOf(r))
				}
			}
			h.unclaim(undo)
			return written, err
		}
		written += len(b.recs)
		h.st.records.Add(int64(len(b.recs)))
	}
	return written, nil
}

// claim marks a's id (and, from a live path, its keys) as recorded; it
// returns false when a is a duplicate.
func (h *Handler) claim(a *ingest.Activity, live bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !live && ((a.OpKey != "" && h.recent.has("op\x00"+a.OpKey)) || (a.SummaryKey != "" && h.recent.has("sum\x00"+a.SummaryKey))) {
		return false
	}
	if !h.recent.add(a.ID) {
		return false
	}
	if live {
		if a.OpKey != "" {
			h.recent.add("op\x00" + a.OpKey)
		}
		if a.SummaryKey != "" {
			h.recent.add("sum\x00" + a.SummaryKey)
		}
	}
	return true
}

func (h *Handler) unclaim(ids []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range ids {
		h.recent.remove(id)
	}
}

// requestIDOf reads request_id back from a built record (only on the
// write-error path).
func requestIDOf(r mailserver.Record) string {
	var v struct {
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal(r.JSON, &v)
	return v.RequestID
}

// resolve maps a login to its organization and user: by email or user
// name (org.Directory.FindLogin), else the organization of its mail domain
// with no user (a failed login of an unknown name is still that
// organization's business). found is false when no organization claims it.
func (h *Handler) resolve(login string) (org.Organization, org.User, bool) {
	if login == "" {
		return org.Organization{}, org.User{}, false
	}
	o, u, err := h.cfg.Dir.FindLogin(h.cfg.Account, login)
	if err == nil {
		return o, u, true
	}
	if at := strings.LastIndexByte(login, '@'); at >= 0 && at < len(login)-1 {
		if o, err := h.cfg.Dir.OrganizationByDomain(h.cfg.Account, login[at+1:]); err == nil {
			return o, org.User{}, true
		}
	}
	return org.Organization{}, org.User{}, false
}

func (h *Handler) policySession(key string) *policySession {
	if ps, ok := h.policy[key]; ok {
		return ps
	}
	for len(h.policy) >= h.cfg.MaxSessions && len(h.order) > 0 {
		delete(h.policy, h.order[0])
		h.order = h.order[1:]
	}
	if len(h.order) > 2*h.cfg.MaxSessions {
		// Dropped sessionless keys linger in order: compact it so it
		// stays proportional to the map.
		kept := make([]string, 0, len(h.policy)+1)
		for _, k := range h.order {
			if _, ok := h.policy[k]; ok {
				kept = append(kept, k)
			}
		}
		h.order = kept
	}
	ps := &policySession{}
	h.policy[key] = ps
	h.order = append(h.order, key)
	return ps
}

func (h *Handler) dropPolicySession(key string) {
	delete(h.policy, key)
	// The key stays in order until it reaches the front or order is
	// compacted; deleting a missing key there is harmless.
}

// readRequest checks method and credentials and reads the body.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, http.StatusMethodNotAllowed, "use POST")
		return nil, false
	}
	if !h.authorized(r) {
		h.st.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="mailtrail"`)
		http.Error(w, "missing or wrong API key", http.StatusUnauthorized)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		h.fail(w, http.StatusBadRequest, fmt.Sprintf("reading body: %v", err))
		return nil, false
	}
	return body, true
}

func (h *Handler) authorized(r *http.Request) bool {
	key := h.cfg.APIKey
	if key == "" {
		return true
	}
	eq := func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(key)) == 1 }
	if k := r.Header.Get("X-API-Key"); k != "" {
		return eq(k)
	}
	if _, p, ok := r.BasicAuth(); ok {
		return eq(p)
	}
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return eq(b)
	}
	return false
}

func (h *Handler) fail(w http.ResponseWriter, code int, msg string) {
	if code == http.StatusBadRequest {
		h.st.badRequests.Add(1)
		h.log.Warn("bad request from Dovecot", "reason", msg)
	}
	http.Error(w, msg, code)
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// recentSet is a bounded set of recently recorded ids and keys, evicted
// oldest first. The map holds each key's slot in the ring: a key removed
// (unclaim) and added again lives in a newer slot, and the eviction of its
// stale older slot must not drop it.
type recentSet struct {
	max  int
	m    map[string]int
	ring []string
	next int
}

func newRecentSet(max int) *recentSet {
	return &recentSet{max: max, m: make(map[string]int, max), ring: make([]string, 0, max)}
}

func (s *recentSet) has(k string) bool { _, ok := s.m[k]; return ok }

// slotOf is k's live slot, -1 when k is not in the set.
func (s *recentSet) slotOf(k string) int {
	if i, ok := s.m[k]; ok {
		return i
	}
	return -1
}

// add inserts k; false if it was there.
func (s *recentSet) add(k string) bool {
	if _, ok := s.m[k]; ok {
		return false
	}
	slot := len(s.ring)
	if slot < s.max {
		s.ring = append(s.ring, k)
	} else {
		slot = s.next
		if old := s.ring[slot]; s.slotOf(old) == slot {
			delete(s.m, old)
		}
		s.ring[slot] = k
		s.next = (s.next + 1) % s.max
	}
	s.m[k] = slot
	return true
}

func (s *recentSet) remove(k string) { delete(s.m, k) }
