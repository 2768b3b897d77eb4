// Package profile writes a CPU profile of a whole run when asked (the
// LAYERSCAN_CPUPROFILE variable; docs/benchmarks.md).
package profile
