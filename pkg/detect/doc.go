// Package detect finds secrets in bytes: gitleaks v8, used as a library
// with its default rules, plus layerscan's rules for what images leak
// (rules.go), behind a small API that the walker's workers share.
//
// One Detector is built per run (New) and shared by every worker:
// gitleaks' Detector is safe for concurrent Detect calls as long as its
// settings are not changed while scanning (checked in its source; see
// LIBRARY-NOTES). A Hit holds the plaintext secret; callers redact it
// (Redact) before anything leaves the process, and store only a keyed
// fingerprint.
//
// New has one side effect on process state: it turns gitleaks'
// package-level logger off, since gitleaks' messages can carry an image's
// paths and secrets (Options.KeepGitleaksLog keeps it).
//
// The hits are gitleaks' own, but the work is not gitleaks' way of
// running every rule with a keyword hit over the whole text (fast.go,
// docs/benchmarks.md): keywords.go finds every rule keyword in one pass;
// hitfilter.go drops the hits where a rule's regex cannot match; each rule
// then runs through its own gitleaks detector only over the lines around
// its hits; decode.go replays gitleaks' decoder in Go so that decoding
// passes are checked before they are run. Tests compare the hits with
// plain gitleaks Detect (Options.NoWindows) on texts and whole images.
//
// After gitleaks, refine.go sets severities (severity.go) and precise.go
// drops the loose rules' matches that are not credentials: documentation
// and test paths, comments and placeholders, known published example keys
// (KnownExample). Severities holds the one severity vocabulary every
// report and gate uses.
package detect
