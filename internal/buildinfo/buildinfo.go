package buildinfo

import (
	"runtime"
	"runtime/debug"

	glregexp "github.com/zricethezav/gitleaks/v8/regexp"
)

// Version is linked when set, else the main module's version, else "dev".
func Version(linked string) string {
	if linked != "" {
		return linked
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// Module is the version of a module built into the binary ("" unknown).
func Module(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// Engine names the regular expression engine gitleaks' rules run on in
// this binary: RE2 (WebAssembly, pure Go) when built with -tags
// gore2regex, else Go's regexp, which costs 2-5x the CPU time per image
// (README, Install).
func Engine() string {
	if glregexp.Version == "stdlib" {
		return "Go regexp (built without -tags gore2regex: 2-5x slower; see the README's Install)"
	}
	return "RE2 (" + glregexp.Version + ", -tags gore2regex)"
}

// Lines are what layerscan version prints: the version, the rules (the
// gitleaks release whose default rules are built in and, when known, the
// ruleset fingerprint), the regexp engine, and the Go toolchain and
// platform.
func Lines(version, ruleset string) []string {
	rules := "gitleaks " + Module("github.com/zricethezav/gitleaks/v8") + " default rules"
	if ruleset != "" {
		rules += ", ruleset " + ruleset
	}
	return []string{"layerscan " + version, "rules: " + rules, "regexp engine: " + Engine(),
		"go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
}
