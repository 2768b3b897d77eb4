// Package report holds the results of a scan in the layerscan/v1 shape and
// writes them out: JSON for tools (the contract documented in
// docs/json-schema.md) and a table for people.
//
// Secrets in a Report are already redacted unless the scan was asked to
// show them; writers never see more than the Report holds.
package report
