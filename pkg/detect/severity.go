package detect

import "strings"

// Severities are the severity levels, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// SeverityRank orders severities for gating and sorting: critical 4,
// high 3, medium 2, low 1, info 0. An empty or unknown severity ranks as
// high, so a finding whose severity was lost is never silently let
// through a gate; use ValidSeverity to check user input. A finding passes
// a threshold t when SeverityRank(f) >= SeverityRank(t).
func SeverityRank(s string) int {
	if r := rank(s); r >= 0 {
		return r
	}
	return 3
}

// ValidSeverity reports whether s names one of Severities (any case).
func ValidSeverity(s string) bool { return rank(s) >= 0 }

func rank(s string) int {
	switch strings.ToLower(s) {
	case "critical":
		return 4
	case "high":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	case "info":
		return 0
	}
	return -1
}

// severityOf is a rule's severity: the value set for layerscan's rules; a
// "severity:LEVEL" tag on a rule from --config; otherwise gitleaks' rules
// find live credentials (high), except the generic ones that guess from
// context (medium).
func (d *Detector) severityOf(rule string, tags []string) string {
	for _, t := range tags {
		if s, ok := strings.CutPrefix(t, "severity:"); ok && ValidSeverity(s) {
			return strings.ToLower(s)
		}
	}
	if s, ok := d.severity[rule]; ok {
		return s
	}
	if strings.HasPrefix(rule, "generic-") {
		return "medium"
	}
	return "high"
}
