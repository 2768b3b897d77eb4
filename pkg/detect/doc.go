// Package detect finds secrets in bytes: gitleaks v8, used as a library
// with its default rules, behind a small API that the walker's workers share.
//
// One Detector is built per run and shared by every worker: gitleaks'
// Detector is safe for concurrent Detect calls as long as its settings are
// not changed while scanning (checked in its source; see LIBRARY-NOTES).
// Findings hold the plaintext secret; callers redact it (Redact) before
// anything leaves the process, and store only Fingerprint.
//
// The findings are gitleaks' own, but the work is not gitleaks' way of
// running every rule with a keyword hit over the whole text (fast.go,
// docs/benchmarks.md): keywords.go finds every rule keyword in one pass;
// hitfilter.go drops the hits where a rule's regex cannot match; each rule
// then runs through its own gitleaks detector only over the lines around
// its hits; decode.go replays gitleaks' decoder in Go so that decoding
// passes are checked before they are run. Tests compare the findings with
// plain gitleaks Detect (Options.NoWindows) on texts and whole images.
package detect
