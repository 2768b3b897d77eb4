// Package report holds the results of a scan in the layerscan/v1 shape and
// writes them out, the last step of fetch → walk → detect → history →
// report. Write renders a Report in each of Formats: table (people, with
// colour and terminal width, TableOptions), json (the contract in
// docs/json-schema.md), sarif (SARIF 2.1.0 for code scanning), csv,
// markdown (pull-request comments), template (a Go text/template) and
// html (one self-contained page). WriteOutputs writes several formats to
// files and standard output in one run. The same package renders the
// history document (History, layerscan history) and file listings
// (WriteListing, layerscan ls).
//
// Secrets in a Report are already redacted unless the scan was asked to
// show them; writers never see more than the Report holds. Every string
// an image supplied goes through one sanitiser (Image.MapStrings with
// sanitize.Text, or sanitize.JSON for the JSON encodings) before a writer
// prints it. Commands such as the evidence a finding carries are rendered
// by the writers from structured fields (Image.Evidence), never stored.
//
// One severity vocabulary serves every writer and gate: detect.Severities
// and detect.SeverityRank.
package report
