package cwlogs

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mailtrail/mailtrail/internal/store"
)

// Config configures a Server.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// Auth authenticates each request; nil serves every request as
	// DefaultAccount (the explicit --no-auth mode).
	Auth           Authenticator
	DefaultAccount string
	Region         string
	// MaxEventAge bounds how old a PutLogEvents event may be (AWS: 14 days);
	// 0 disables the check so archives can be backfilled.
	MaxEventAge time.Duration
	// MaxEventFuture bounds how far ahead an event may be (AWS: 2 hours).
	MaxEventFuture time.Duration
	// MaxConcurrentQueries per account (AWS: 100 today; 30 in older docs).
	MaxConcurrentQueries int
	// QueryMemoryLimit bounds one query's working memory in bytes.
	QueryMemoryLimit int64
	// ResultsWait is how long GetQueryResults on a Scheduled or Running
	// query waits for it to end before answering with its partial results;
	// 0 means DefaultResultsWait, negative answers at once.
	ResultsWait time.Duration
	// DataDir holds the server's own state (saved query definitions).
	DataDir string
	// Fallback serves requests whose X-Amz-Target is not a CloudWatch Logs
	// one (the WorkMail management API shares the port).
	Fallback http.Handler
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultResultsWait is Config.ResultsWait's default: short against a
// client's usual poll interval (a second), long enough that a client
// polling in a tight loop makes a few requests per query, not hundreds.
const DefaultResultsWait = 50 * time.Millisecond

// Server answers CloudWatch Logs API requests.
type Server struct {
	Config
	log *slog.Logger
	ops map[string]operation

	queries *queryManager
	defs    *definitions
	classes *groupClasses
	tail    *tailHub

	mu sync.Mutex
}

// New returns a server over cfg.Store.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DefaultAccount == "" {
		cfg.DefaultAccount = store.DefaultAccount
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxConcurrentQueries == 0 {
		cfg.MaxConcurrentQueries = 30
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ResultsWait == 0 {
		cfg.ResultsWait = DefaultResultsWait
	}
	s := &Server{Config: cfg, log: cfg.Logger}
	defs, err := openDefinitions(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.defs = defs
	if s.classes, err = openGroupClasses(cfg.DataDir); err != nil {
		return nil, err
	}
	s.queries = newQueryManager(s)
	s.tail = newTailHub()
	s.ops = map[string]operation{
		"CreateLogGroup":           handler(s.createLogGroup),
		"DeleteLogGroup":           handler(s.deleteLogGroup),
		"DescribeLogGroups":        handler(s.describeLogGroups),
		"CreateLogStream":          handler(s.createLogStream),
		"DeleteLogStream":          handler(s.deleteLogStream),
		"DescribeLogStreams":       handler(s.describeLogStreams),
		"PutRetentionPolicy":       handler(s.putRetentionPolicy),
		"DeleteRetentionPolicy":    handler(s.deleteRetentionPolicy),
		"TagResource":              handler(s.tagResource),
		"UntagResource":            handler(s.untagResource),
		"ListTagsForResource":      handler(s.listTagsForResource),
		"TagLogGroup":              handler(s.tagLogGroup),
		"UntagLogGroup":            handler(s.untagLogGroup),
		"ListTagsLogGroup":         handler(s.listTagsLogGroup),
		"PutLogEvents":             putHandler(s.putLogEvents),
		"GetLogEvents":             handler(s.getLogEvents),
		"FilterLogEvents":          handler(s.filterLogEvents),
		"GetLogRecord":             handler(s.getLogRecord),
		"GetLogGroupFields":        handler(s.getLogGroupFields),
		"StartQuery":               handler(s.startQuery),
		"GetQueryResults":          handler(s.getQueryResults),
		"StopQuery":                handler(s.stopQuery),
		"DescribeQueries":          handler(s.describeQueries),
		"PutQueryDefinition":       handler(s.putQueryDefinition),
		"DescribeQueryDefinitions": handler(s.describeQueryDefinitions),
		"DeleteQueryDefinition":    handler(s.deleteQueryDefinition),
		"StartLiveTail":            func(context.Context, Identity, []byte) (any, error) { return nil, nil }, // streamed; see ServeHTTP
	}
	return s, nil
}

// Close stops running queries and live-tail sessions.
func (s *Server) Close() {
	s.queries.stopAll()
	s.tail.closeAll()
}
