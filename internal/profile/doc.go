// Package profile writes a CPU profile of a whole run, and a heap profile
// of its peak, when asked (the LAYERSCAN_CPUPROFILE and
// LAYERSCAN_MEMPROFILE variables; docs/benchmarks.md).
package profile
