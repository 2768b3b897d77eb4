// Package sweep scans a whole registry: it enumerates repositories and
// tags, resolves them to platform images, scans every unique layer once
// (reusing the results a store holds for the same layer digest and
// ruleset), and assembles one report entry per image.
package sweep
