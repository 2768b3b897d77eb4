// Package buildinfo says which layerscan this is: its version (set at link
// time, or the module version go install recorded) and the versions of
// the modules built into it.
package buildinfo
