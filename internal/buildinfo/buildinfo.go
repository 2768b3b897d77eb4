// Package buildinfo says which layerscan this is: its version (set at link
// time, or the module version go install recorded) and the versions of
// the modules built into it.
package buildinfo

import "runtime/debug"

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
