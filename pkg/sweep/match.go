package sweep

import (
	"path"
	"strings"
)

// Patterns are include and exclude globs ("team-a/*", "!team-a/tmp-*"):
// a name is selected when it matches an include (or there are none) and
// no exclude. Globs are path.Match patterns; a pattern list may also be
// given comma-separated.
type Patterns struct {
	include, exclude []string
}

// NewPatterns splits globs (each possibly a comma-separated list) into
// includes and "!"-prefixed excludes, checking their syntax.
func NewPatterns(globs []string) (Patterns, error) {
	var p Patterns
	for _, g := range globs {
		for _, one := range strings.Split(g, ",") {
			one = strings.TrimSpace(one)
			if one == "" {
				continue
			}
			neg := strings.HasPrefix(one, "!")
			one = strings.TrimPrefix(one, "!")
			if _, err := path.Match(one, ""); err != nil {
				return p, err
			}
			if neg {
				p.exclude = append(p.exclude, one)
			} else {
				p.include = append(p.include, one)
			}
		}
	}
	return p, nil
}

// Match tells whether name is selected.
func (p Patterns) Match(name string) bool {
	for _, g := range p.exclude {
		if ok, _ := path.Match(g, name); ok {
			return false
		}
	}
	if len(p.include) == 0 {
		return true
	}
	for _, g := range p.include {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}
