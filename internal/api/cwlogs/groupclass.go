package cwlogs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/mailtrail/mailtrail/internal/atomicfile"
)

// Log group classes (CreateLogGroup's logGroupClass) are the server's own
// state, like saved queries: the store keeps groups and their data, not
// what AWS calls them. Only classes other than STANDARD are kept, each with
// its group's creation time, so that a class never passes to a later group
// of the same name (a group deleted while the server was down, or created
// by ingest).

const standardClass = "STANDARD"

type classEntry struct {
	Class   string `json:"class"`
	Created int64  `json:"creationTime"` // the group's, epoch ms
}

type groupClasses struct {
	path string
	mu   sync.Mutex
	m    map[string]map[string]classEntry // account -> group -> class
}

func openGroupClasses(dataDir string) (*groupClasses, error) {
	c := &groupClasses{m: map[string]map[string]classEntry{}}
	if dataDir == "" {
		return c, nil
	}
	c.path = filepath.Join(dataDir, "log-group-classes.json")
	b, err := os.ReadFile(c.path)
	if os.IsNotExist(err) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading log group classes: %w", err)
	}
	if err := json.Unmarshal(b, &c.m); err != nil {
		return nil, fmt.Errorf("%s: corrupt log group classes file: %w", c.path, err)
	}
	return c, nil
}

// get returns the class of the group created at created.
func (c *groupClasses) get(account, group string, created int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[account][group]; ok && e.Created == created {
		return e.Class
	}
	return standardClass
}

// set records class for the group created at created (STANDARD forgets it).
func (c *groupClasses) set(account, group string, created int64, class string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if class == "" || class == standardClass {
		if _, ok := c.m[account][group]; !ok {
			return nil
		}
		delete(c.m[account], group)
	} else {
		if c.m[account] == nil {
			c.m[account] = map[string]classEntry{}
		}
		c.m[account][group] = classEntry{Class: class, Created: created}
	}
	return c.saveLocked()
}

func (c *groupClasses) saveLocked() error {
	if c.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(c.m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(c.path, b, 0o600)
}
