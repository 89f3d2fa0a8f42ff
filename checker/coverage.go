package checker

// Coverage is what a contract reads online: the existing topics that its
// topics and topic_pattern match, and the partitions of those topics that
// this replica was assigned. The sidecar sets it from the consumer's
// metadata (SetCoverage); offline runs leave it unknown.
type Coverage struct {
	// Topics are the existing topics the contract matches, sorted.
	Topics []string
	// Partitions is how many partitions of Topics this replica reads.
	Partitions int
	// Missing are the contract's literal topics that do not exist.
	Missing []string
	// Pattern is the contract's topic_pattern ("" when it has none);
	// PatternMatches is how many existing topics it matches.
	Pattern        string
	PatternMatches int
}

// ReadsNothing reports whether the contract matches no existing topic.
func (c *Coverage) ReadsNothing() bool { return c != nil && len(c.Topics) == 0 }

// SetCoverage records the coverage of each contract, by contract name;
// Snapshot returns it. Contracts missing from the map have unknown
// coverage.
func (ch *Checker) SetCoverage(byContract map[string]Coverage) {
	cp := make(map[string]Coverage, len(byContract))
	for k, v := range byContract {
		cp[k] = v
	}
	ch.coverage.Store(&cp)
}

func (ch *Checker) coverageOf(name string) *Coverage {
	m := ch.coverage.Load()
	if m == nil {
		return nil
	}
	c, ok := (*m)[name]
	if !ok {
		return nil
	}
	return &c
}
