// Package detect finds secrets in bytes: gitleaks v8, used as a library
// with its default rules, behind a small API that the walker's workers share.
//
// One Detector is built per run and shared by every worker: gitleaks'
// Detector is safe for concurrent Detect calls as long as its settings are
// not changed while scanning (checked in its source; see LIBRARY-NOTES).
// Findings hold the plaintext secret; callers redact it (Redact) before
// anything leaves the process, and store only Fingerprint.
package detect
