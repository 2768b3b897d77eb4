package buildinfo

import (
	"runtime"
	"runtime/debug"
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

// Lines are what layerscan version prints: the version, the rules (the
// gitleaks release whose default rules are built in and, when known, the
// ruleset fingerprint) and the Go toolchain and platform.
func Lines(version, ruleset string) []string {
	rules := "gitleaks " + Module("github.com/zricethezav/gitleaks/v8") + " default rules"
	if ruleset != "" {
		rules += ", ruleset " + ruleset
	}
	return []string{"layerscan " + version, "rules: " + rules,
		"go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
}
