// Package sarifcheck checks SARIF documents in tests: against the official
// SARIF 2.1.0 JSON schema (pkg/report/testdata/sarif-schema-2.1.0.json)
// with a JSON-schema library, and with Microsoft's SARIF Multitool, a real
// SARIF consumer, when it is installed.
package sarifcheck
