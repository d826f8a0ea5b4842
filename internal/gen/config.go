package gen

import (
	"fmt"
	"time"
)

// Config fixes everything the output depends on. Two generators built
// from equal Configs write identical bytes.
type Config struct {
	// N is the number of records to write.
	N int
	// Seed selects the world (names, ids, devices, rules) and the stream.
	Seed uint64
	// Start is the beginning of the time span; Days its length.
	Start time.Time
	Days  int
	// Users is the number of mailbox users, spread over Orgs organizations
	// (the first organization is the largest).
	Users int
	Orgs  int
	// IPs is the size of the legitimate client address pool; attacker
	// addresses are drawn outside it.
	IPs int
}

// DefaultConfig returns the configuration of the benchmark dataset
// (spec performance.md §2) with N records.
func DefaultConfig() Config {
	return Config{
		N:     1_000_000,
		Seed:  1,
		Start: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC),
		Days:  30,
		Users: 5000,
		Orgs:  3,
		IPs:   20000,
	}
}

// maxOrgs bounds Orgs by the distinct domains and accounts we can name.
const maxOrgs = 64

func (c Config) validate() error {
	switch {
	case c.N < 0:
		return fmt.Errorf("gen: N = %d: must not be negative", c.N)
	case c.Days < 1 || c.Days > 3660:
		return fmt.Errorf("gen: Days = %d: must be between 1 and 3660", c.Days)
	case c.Orgs < 1 || c.Orgs > maxOrgs:
		return fmt.Errorf("gen: Orgs = %d: must be between 1 and %d", c.Orgs, maxOrgs)
	case c.Users < c.Orgs:
		return fmt.Errorf("gen: Users = %d: need at least one user per organization (Orgs = %d)", c.Users, c.Orgs)
	case c.Users > 10_000_000:
		return fmt.Errorf("gen: Users = %d: at most 10000000", c.Users)
	case c.IPs < 16 || c.IPs > 1<<24:
		return fmt.Errorf("gen: IPs = %d: must be between 16 and %d", c.IPs, 1<<24)
	case c.Start.IsZero():
		return fmt.Errorf("gen: Start is not set")
	case c.Start.Year() < 1970 || c.Start.Year() > 9000:
		return fmt.Errorf("gen: Start = %s: must be between 1970 and 9000", c.Start.Format(time.RFC3339))
	}
	return nil
}
