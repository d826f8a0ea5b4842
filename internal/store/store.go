package store

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultAccount is the account used when a caller names none.
const DefaultAccount = "000000000000"

// DefaultRegion is the region written into ARNs unless Options.Region is set.
const DefaultRegion = "us-east-1"

// Errors returned by the store, always wrapped with context; test with
// errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrInvalid       = errors.New("invalid parameter")
	ErrClosed        = errors.New("store is closed")
)

// RetentionDays is the set of retention periods CloudWatch Logs accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Options tunes a Store. The zero value gives sane defaults.
type Options struct {
	Logger *slog.Logger
	Region string // for ARNs; DefaultRegion when empty

	// MemtableBytes is the raw message volume buffered in memory before it is
	// flushed into segments (default 80 MiB). A memtable is also frozen when
	// one group holds 7/8 of BlockRows rows, which for audit records
	// (~550 bytes) comes first: about 60 MiB, one full block per (group,
	// day). While MaxFrozen frozen memtables are being flushed the
	// active one keeps filling; once it is full too, Append blocks.
	// Default 2: the frozen ones are encoded at the same time, so on two
	// cores flushing keeps both busy while appends go on, and memory stays
	// bounded by about three memtables.
	MemtableBytes int
	MaxFrozen     int
	FlushInterval time.Duration // flush a non-empty memtable this old (default 30s)
	BlockRows     int           // events per block (default 131072; big blocks amortise dictionaries)

	// MergeMinSegments small segments of one (group, day) trigger a merge
	// (default 4). A segment is small when its messages total less than
	// MergeSmallBytes (default 16 MiB); one merge reads at most 4× that, which
	// bounds its memory.
	MergeMinSegments int
	MergeSmallBytes  int64
	// MaintenanceInterval is how often retention and merges are checked
	// besides after each flush (default 1 minute).
	MaintenanceInterval time.Duration

	// CompressWAL compresses WAL frames with S2: about a third of the WAL
	// bytes for ~10% more ingest CPU. Off by default: the disk has bandwidth
	// to spare, the CPU does not.
	CompressWAL bool

	// Workers is how many goroutines encode blocks during flushes and
	// merges (default GOMAXPROCS).
	Workers int

	// Now overrides the clock (ingestion times, creation times, retention);
	// tests only.
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.MemtableBytes <= 0 {
		o.MemtableBytes = 80 << 20
	}
	if o.MaxFrozen <= 0 {
		o.MaxFrozen = 2
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 30 * time.Second
	}
	if o.BlockRows <= 0 {
		o.BlockRows = 131072
	}
	o.BlockRows = min(o.BlockRows, maxBlockRows)
	if o.MergeMinSegments <= 1 {
		o.MergeMinSegments = 4
	}
	if o.MergeSmallBytes <= 0 {
		o.MergeSmallBytes = 16 << 20
	}
	if o.MaintenanceInterval <= 0 {
		o.MaintenanceInterval = time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// GroupOptions are the settable properties of a new log group.
type GroupOptions struct {
	RetentionDays int // 0: never expire
	Tags          map[string]string
}

// GroupInfo describes a log group.
type GroupInfo struct {
	Name          string
	ARN           string // without the legacy ":*" suffix
	CreationTime  int64  // epoch ms
	RetentionDays int    // 0 when unset
	StoredBytes   int64
	Tags          map[string]string
}

// StreamInfo describes a log stream. The event times are 0 until the stream
// has events.
type StreamInfo struct {
	Name              string
	ARN               string
	CreationTime      int64
	FirstEventTime    int64
	LastEventTime     int64
	LastIngestionTime int64
	StoredBytes       int64
}

// Event is one log event handed to Append. The store copies what it keeps.
type Event struct {
	Timestamp int64 // epoch ms
	Message   []byte
}

// group is a log group in memory; guarded by Store.mu.
type group struct {
	ID        uint32
	Account   string
	Name      string
	Created   int64
	Retention int
	Tags      map[string]string
	Streams   map[string]*stream
	byID      map[uint32]*stream
	Deleted   map[uint32]bool // stream ids whose rows may still be in segments
	Segments  []*segment      // sorted by (Window, ID)
}

type stream struct {
	ID         uint32 `json:"id"`
	Name       string `json:"name"`
	Created    int64  `json:"created"`
	First      int64  `json:"firstEvent,omitempty"`
	Last       int64  `json:"lastEvent,omitempty"`
	LastIngest int64  `json:"lastIngestion,omitempty"`
}

// Store is an open log store. Its methods are safe for concurrent use.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger

	manifestMu sync.Mutex // serialises manifest writes

	mu        sync.Mutex
	cond      *sync.Cond // signalled when a frozen memtable is installed
	closed    bool
	groups    map[string]*group // key: account + "\x00" + name
	groupByID map[uint32]*group
	nextGroup uint32
	nextStrm  uint32
	nextSeg   uint64
	nextSeq   uint64
	walFloor  uint64 // WAL files below this number are fully in segments
	mem       *memtable
	frozen    []*memtable // oldest first; still visible to readers
	// lastFrozen is the newest memtable handed to the flusher, kept after
	// it left frozen until its waiters are answered (Sync waits on it).
	lastFrozen *memtable

	wal      *walWriter
	flushCh  chan *memtable
	maintCh  chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup
	bgErr    error // first background failure; reported by Close
	builders builderPool
	lock     *os.File
}

func groupKey(account, name string) string { return account + "\x00" + name }

func (s *Store) now() int64 { return s.opts.Now().UnixMilli() }

// Open opens the store in dir, creating it when missing, and replays the
// write-ahead log.
func Open(dir string, opts Options) (*Store, error) {
	opts.setDefaults()
	if err := os.MkdirAll(filepath.Join(dir, "wal"), 0o755); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "seg"), 0o755); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir: dir, opts: opts, log: opts.Logger,
		groups: map[string]*group{}, groupByID: map[uint32]*group{},
		nextGroup: 1, nextStrm: 1, nextSeg: 1, nextSeq: 1,
		flushCh:  make(chan *memtable, 64),
		maintCh:  make(chan struct{}, 1),
		stop:     make(chan struct{}),
		lock:     lock,
		builders: newBuilderPool(opts.Workers),
	}
	s.cond = sync.NewCond(&s.mu)
	ok := false
	defer func() {
		if !ok {
			s.closeSegments()
			lock.Close()
		}
	}()
	if err := s.loadManifest(); err != nil {
		return nil, err
	}
	s.mem = newMemtable()
	lastGen, err := s.replayWAL()
	if err != nil {
		return nil, err
	}
	s.removeOrphans()
	s.wal, err = openWALWriter(s, lastGen+1)
	if err != nil {
		return nil, err
	}
	s.wg.Add(3)
	go s.wal.run()
	go s.flushLoop()
	go s.maintLoop()
	ok = true
	return s, nil
}

// Close flushes buffered events into segments and shuts the store down.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	// Freeze the last memtable; the WAL writer hands it to the flusher and
	// then exits, which closes flushCh so the flusher drains and exits.
	s.wal.shutdown()
	close(s.stop)
	s.wg.Wait()
	err := s.bgErr
	if e := s.writeManifest(); e != nil && err == nil {
		err = e
	}
	s.closeSegments()
	s.lock.Close()
	return err
}

func (s *Store) closeSegments() {
	for _, g := range s.groupByID {
		for _, seg := range g.Segments {
			seg.release()
		}
		g.Segments = nil
	}
}

func (s *Store) setBgErr(err error) {
	s.mu.Lock()
	if s.bgErr == nil {
		s.bgErr = err
	}
	s.mu.Unlock()
	s.log.Error("store background task failed", "err", err)
}

// ---------------------------------------------------------------- validation

func validateGroupName(name string) error {
	if len(name) < 1 || len(name) > 512 {
		return fmt.Errorf("%w: log group name %q: length must be 1 to 512", ErrInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/' || c == '#') {
			return fmt.Errorf("%w: log group name %q: character %q at byte %d is not allowed (allowed: letters, digits, . - _ / #)", ErrInvalid, name, c, i)
		}
	}
	if strings.HasPrefix(name, "aws/") {
		return fmt.Errorf("%w: log group name %q: names starting with aws/ are reserved", ErrInvalid, name)
	}
	return nil
}

func validateStreamName(name string) error {
	if len(name) < 1 || len(name) > 512 {
		return fmt.Errorf("%w: log stream name %q: length must be 1 to 512", ErrInvalid, name)
	}
	if i := strings.IndexAny(name, ":*"); i >= 0 {
		return fmt.Errorf("%w: log stream name %q: character %q at byte %d is not allowed", ErrInvalid, name, name[i], i)
	}
	return nil
}

func validateAccount(account string) error {
	if account == "" || len(account) > 64 || strings.ContainsAny(account, "\x00:") {
		return fmt.Errorf("%w: account %q", ErrInvalid, account)
	}
	return nil
}

func validRetention(days int) bool {
	for _, d := range RetentionDays {
		if d == days {
			return true
		}
	}
	return false
}

// validateTags applies AWS's tag limits, which count characters (Unicode
// code points), not bytes: a value of 200 "é" is 400 bytes and allowed.
func validateTags(tags map[string]string) error {
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 {
			return fmt.Errorf("%w: tag key %q: length must be 1 to 128 characters", ErrInvalid, k)
		}
		if utf8.RuneCountInString(v) > 256 {
			return fmt.Errorf("%w: tag %q: value longer than 256 characters", ErrInvalid, k)
		}
	}
	return nil
}

// ---------------------------------------------------------------- catalog

func (s *Store) groupLocked(account, name string) (*group, error) {
	if s.closed {
		return nil, ErrClosed
	}
	g := s.groups[groupKey(account, name)]
	if g == nil {
		return nil, fmt.Errorf("log group %q in account %s: %w", name, account, ErrNotFound)
	}
	return g, nil
}

// CreateLogGroup creates a log group; ErrAlreadyExists if it exists.
func (s *Store) CreateLogGroup(account, name string, opts GroupOptions) error {
	if err := validateAccount(account); err != nil {
		return err
	}
	if err := validateGroupName(name); err != nil {
		return err
	}
	if opts.RetentionDays != 0 && !validRetention(opts.RetentionDays) {
		return fmt.Errorf("%w: retentionInDays %d is not one of %v", ErrInvalid, opts.RetentionDays, RetentionDays)
	}
	if len(opts.Tags) > 50 {
		return fmt.Errorf("%w: %d tags, at most 50 allowed", ErrInvalid, len(opts.Tags))
	}
	if err := validateTags(opts.Tags); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if s.groups[groupKey(account, name)] != nil {
		s.mu.Unlock()
		return fmt.Errorf("log group %q in account %s: %w", name, account, ErrAlreadyExists)
	}
	g := &group{ID: s.nextGroup, Account: account, Name: name, Created: s.now(), Retention: opts.RetentionDays,
		Tags: map[string]string{}, Streams: map[string]*stream{}, byID: map[uint32]*stream{}, Deleted: map[uint32]bool{}}
	for k, v := range opts.Tags {
		g.Tags[k] = v
	}
	s.nextGroup++
	s.groups[groupKey(account, name)] = g
	s.groupByID[g.ID] = g
	s.mu.Unlock()
	return s.writeManifest()
}

// EnsureLogGroup creates the log group unless it exists.
func (s *Store) EnsureLogGroup(account, name string) error {
	s.mu.Lock()
	exists := s.groups[groupKey(account, name)] != nil
	s.mu.Unlock()
	if exists {
		return nil
	}
	if err := s.CreateLogGroup(account, name, GroupOptions{}); err != nil && !errors.Is(err, ErrAlreadyExists) {
		return err
	}
	return nil
}

// CreateLogStream creates a stream in an existing group.
func (s *Store) CreateLogStream(account, groupName, name string) error {
	if err := validateStreamName(name); err != nil {
		return err
	}
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if g.Streams[name] != nil {
		s.mu.Unlock()
		return fmt.Errorf("log stream %q in log group %q: %w", name, groupName, ErrAlreadyExists)
	}
	st := &stream{ID: s.nextStrm, Name: name, Created: s.now()}
	s.nextStrm++
	g.Streams[name] = st
	g.byID[st.ID] = st
	s.mu.Unlock()
	return s.writeManifest()
}

// EnsureLogStream creates the stream unless it exists; the group must exist.
func (s *Store) EnsureLogStream(account, groupName, name string) error {
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	exists := err == nil && g.Streams[name] != nil
	s.mu.Unlock()
	if err != nil || exists {
		return err
	}
	if err := s.CreateLogStream(account, groupName, name); err != nil && !errors.Is(err, ErrAlreadyExists) {
		return err
	}
	return nil
}

// DeleteLogGroup deletes a group with all its streams and events and removes
// its segment files.
func (s *Store) DeleteLogGroup(account, name string) error {
	s.mu.Lock()
	g, err := s.groupLocked(account, name)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	delete(s.groups, groupKey(account, name))
	delete(s.groupByID, g.ID)
	segs := g.Segments
	g.Segments = nil
	s.mu.Unlock()
	if err := s.writeManifest(); err != nil {
		return err
	}
	for _, seg := range segs {
		seg.obsolete()
	}
	return nil
}

// DeleteLogStream deletes a stream. Its events disappear from reads at once;
// their disk space is freed by the next maintenance pass, which rewrites the
// segments that hold them.
func (s *Store) DeleteLogStream(account, groupName, name string) error {
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	st := g.Streams[name]
	if st == nil {
		s.mu.Unlock()
		return fmt.Errorf("log stream %q in log group %q: %w", name, groupName, ErrNotFound)
	}
	delete(g.Streams, name)
	delete(g.byID, st.ID)
	g.Deleted[st.ID] = true
	s.mu.Unlock()
	if err := s.writeManifest(); err != nil {
		return err
	}
	s.kickMaint()
	return nil
}

// PutRetentionPolicy sets the group's retention; days must be in RetentionDays.
func (s *Store) PutRetentionPolicy(account, groupName string, days int) error {
	if !validRetention(days) {
		return fmt.Errorf("%w: retentionInDays %d is not one of %v", ErrInvalid, days, RetentionDays)
	}
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	if err == nil {
		g.Retention = days
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.writeManifest(); err != nil {
		return err
	}
	s.kickMaint()
	return nil
}

// DeleteRetentionPolicy makes the group's events never expire.
func (s *Store) DeleteRetentionPolicy(account, groupName string) error {
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	if err == nil {
		g.Retention = 0
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.writeManifest()
}

// TagLogGroup adds or replaces tags; a group holds at most 50.
func (s *Store) TagLogGroup(account, groupName string, tags map[string]string) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	if err == nil {
		n := len(g.Tags)
		for k := range tags {
			if _, ok := g.Tags[k]; !ok {
				n++
			}
		}
		if n > 50 {
			err = fmt.Errorf("%w: log group %q would have %d tags, at most 50 allowed", ErrInvalid, groupName, n)
		} else {
			for k, v := range tags {
				g.Tags[k] = v
			}
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.writeManifest()
}

// UntagLogGroup removes tags by key; unknown keys are ignored.
func (s *Store) UntagLogGroup(account, groupName string, keys []string) error {
	s.mu.Lock()
	g, err := s.groupLocked(account, groupName)
	if err == nil {
		for _, k := range keys {
			delete(g.Tags, k)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.writeManifest()
}

// ListTags returns a copy of the group's tags.
func (s *Store) ListTags(account, groupName string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(account, groupName)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(g.Tags))
	for k, v := range g.Tags {
		out[k] = v
	}
	return out, nil
}

// GroupARN is the log group's ARN without the legacy ":*" suffix.
func (s *Store) GroupARN(account, name string) string {
	return "arn:aws:logs:" + s.opts.Region + ":" + account + ":log-group:" + name
}

// GroupRetention returns one group's retention in days (0: never expires),
// or ErrNotFound. Unlike DescribeLogGroups it touches only that group, so
// callers on a hot path (every PutLogEvents) can ask cheaply.
func (s *Store) GroupRetention(account, name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(account, name)
	if err != nil {
		return 0, err
	}
	return g.Retention, nil
}

// DescribeLogGroups lists the account's groups whose name starts with
// prefix, sorted by name.
func (s *Store) DescribeLogGroups(account, prefix string) ([]GroupInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out []GroupInfo
	for _, g := range s.groupByID {
		if g.Account != account || !strings.HasPrefix(g.Name, prefix) {
			continue
		}
		gi := GroupInfo{Name: g.Name, ARN: s.GroupARN(account, g.Name), CreationTime: g.Created,
			RetentionDays: g.Retention, Tags: map[string]string{}}
		for _, seg := range g.Segments {
			gi.StoredBytes += seg.meta.Bytes
		}
		for k, v := range g.Tags {
			gi.Tags[k] = v
		}
		out = append(out, gi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DescribeLogStreams lists a group's streams whose name starts with prefix,
// sorted by name.
func (s *Store) DescribeLogStreams(account, groupName, prefix string) ([]StreamInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(account, groupName)
	if err != nil {
		return nil, err
	}
	arn := s.GroupARN(account, groupName)
	var out []StreamInfo
	for _, st := range g.Streams {
		if !strings.HasPrefix(st.Name, prefix) {
			continue
		}
		out = append(out, StreamInfo{Name: st.Name, ARN: arn + ":log-stream:" + st.Name, CreationTime: st.Created,
			FirstEventTime: st.First, LastEventTime: st.Last, LastIngestionTime: st.LastIngest})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
