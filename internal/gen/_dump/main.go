package main

import (
	"flag"
	"os"

	"github.com/mailtrail/mailtrail/internal/gen"
)

func main() {
	c := gen.DefaultConfig()
	flag.IntVar(&c.N, "n", c.N, "")
	flag.Uint64Var(&c.Seed, "seed", c.Seed, "")
	flag.IntVar(&c.Orgs, "orgs", c.Orgs, "")
	flag.Parse()
	g, err := gen.New(c)
	if err != nil {
		panic(err)
	}
	if _, err := g.WriteTo(os.Stdout); err != nil {
		panic(err)
	}
}
