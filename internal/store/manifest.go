package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// The manifest is the store's catalog: groups, streams, segment list and
// counters. It is rewritten whole (temp file, fsync, rename, fsync dir) on
// every change, which is rare compared with appends. See doc/manifest.md.

const (
	manifestName    = "MANIFEST"
	manifestMagic   = "MTMANIF\x00"
	manifestVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type manifestFile struct {
	NextGroup  uint32          `json:"nextGroup"`
	NextStream uint32          `json:"nextStream"`
	NextSeg    uint64          `json:"nextSegment"`
	NextSeq    uint64          `json:"nextSeq"`
	WALFloor   uint64          `json:"walFloor"`
	Groups     []manifestGroup `json:"groups"`
}

type manifestGroup struct {
	ID        uint32            `json:"id"`
	Account   string            `json:"account"`
	Name      string            `json:"name"`
	Created   int64             `json:"created"`
	Retention int               `json:"retentionDays,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
	Streams   []stream          `json:"streams"`
	Deleted   []uint32          `json:"deletedStreams,omitempty"`
	Segments  []segMeta         `json:"segments"`
}

// segMeta is what the manifest records about a segment file.
type segMeta struct {
	ID      uint64   `json:"id"`
	Window  int64    `json:"day"` // UTC day number (epoch ms / 86400000)
	Rows    int64    `json:"rows"`
	MsgSize int64    `json:"messageBytes"`
	Bytes   int64    `json:"bytes"`
	MinTime int64    `json:"minTime"`
	MaxTime int64    `json:"maxTime"`
	Streams []uint32 `json:"streams"`
}

func segFileName(id uint64) string { return fmt.Sprintf("%016x.seg", id) }

func (s *Store) segPath(id uint64) string { return filepath.Join(s.dir, "seg", segFileName(id)) }

// writeManifest persists the current catalog.
func (s *Store) writeManifest() error {
	s.manifestMu.Lock()
	defer s.manifestMu.Unlock()
	s.mu.Lock()
	m := manifestFile{NextGroup: s.nextGroup, NextStream: s.nextStrm, NextSeg: s.nextSeg, NextSeq: s.nextSeq, WALFloor: s.walFloor}
	for _, g := range s.groupByID {
		mg := manifestGroup{ID: g.ID, Account: g.Account, Name: g.Name, Created: g.Created, Retention: g.Retention, Tags: g.Tags}
		for _, st := range g.Streams {
			mg.Streams = append(mg.Streams, *st)
		}
		sort.Slice(mg.Streams, func(i, j int) bool { return mg.Streams[i].ID < mg.Streams[j].ID })
		for id := range g.Deleted {
			mg.Deleted = append(mg.Deleted, id)
		}
		sort.Slice(mg.Deleted, func(i, j int) bool { return mg.Deleted[i] < mg.Deleted[j] })
		for _, seg := range g.Segments {
			mg.Segments = append(mg.Segments, seg.meta)
		}
		m.Groups = append(m.Groups, mg)
	}
	sort.Slice(m.Groups, func(i, j int) bool { return m.Groups[i].ID < m.Groups[j].ID })
	body, err := json.Marshal(&m)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("store: encode manifest: %w", err)
	}
	buf := make([]byte, 0, len(body)+20)
	buf = append(buf, manifestMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, manifestVersion)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(body)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(body, castagnoli))
	buf = append(buf, body...)
	return writeFileAtomic(filepath.Join(s.dir, manifestName), buf)
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("store: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("store: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync directory %s: %w", dir, err)
	}
	return nil
}

// parseManifest decodes a manifest file image; path is for error messages.
func parseManifest(path string, b []byte) (*manifestFile, error) {
	if len(b) < 20 || string(b[:8]) != manifestMagic {
		return nil, fmt.Errorf("store: %s: not a manifest (bad magic number)", path)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != manifestVersion {
		return nil, fmt.Errorf("store: %s: unsupported manifest version %d (this build reads %d)", path, v, manifestVersion)
	}
	n := binary.LittleEndian.Uint32(b[12:])
	if uint64(n) != uint64(len(b)-20) {
		return nil, fmt.Errorf("store: %s: manifest body is %d bytes, header says %d", path, len(b)-20, n)
	}
	body := b[20:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return nil, fmt.Errorf("store: %s: manifest checksum mismatch", path)
	}
	var m manifestFile
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return &m, nil
}

func (s *Store) loadManifest() error {
	path := filepath.Join(s.dir, manifestName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s.writeManifest()
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	m, err := parseManifest(path, b)
	if err != nil {
		return err
	}
	s.nextGroup, s.nextStrm, s.nextSeg, s.nextSeq, s.walFloor = m.NextGroup, m.NextStream, m.NextSeg, m.NextSeq, m.WALFloor
	for _, mg := range m.Groups {
		g := &group{ID: mg.ID, Account: mg.Account, Name: mg.Name, Created: mg.Created, Retention: mg.Retention,
			Tags: mg.Tags, Streams: map[string]*stream{}, byID: map[uint32]*stream{}, Deleted: map[uint32]bool{}}
		if g.Tags == nil {
			g.Tags = map[string]string{}
		}
		for i := range mg.Streams {
			st := mg.Streams[i]
			g.Streams[st.Name] = &st
			g.byID[st.ID] = &st
		}
		for _, id := range mg.Deleted {
			g.Deleted[id] = true
		}
		for _, meta := range mg.Segments {
			seg, err := openSegment(s.segPath(meta.ID), meta)
			if err != nil {
				return err
			}
			g.Segments = append(g.Segments, seg)
		}
		s.groups[groupKey(g.Account, g.Name)] = g
		s.groupByID[g.ID] = g
	}
	return nil
}

// removeOrphans deletes segment files the manifest does not list: leftovers
// of a flush or merge that crashed before its manifest write.
func (s *Store) removeOrphans() {
	live := map[string]bool{}
	for _, g := range s.groupByID {
		for _, seg := range g.Segments {
			live[segFileName(seg.meta.ID)] = true
		}
	}
	ents, _ := os.ReadDir(filepath.Join(s.dir, "seg"))
	for _, e := range ents {
		if !live[e.Name()] {
			p := filepath.Join(s.dir, "seg", e.Name())
			s.log.Info("store: removing orphan segment file", "file", p)
			os.Remove(p)
		}
	}
}

func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: %s is in use by another process: %w", dir, err)
	}
	return f, nil
}

// walFiles lists WAL file numbers in ascending order.
func (s *Store) walFiles() ([]uint64, error) {
	ents, err := os.ReadDir(filepath.Join(s.dir, "wal"))
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".wal")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (s *Store) walPath(n uint64) string {
	return filepath.Join(s.dir, "wal", fmt.Sprintf("%016x.wal", n))
}
