package detect

import "strings"

// Severities are the severity levels, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "info"}

// SeverityRank orders severities for gating: critical 4, high 3, medium 2,
// low 1, info 0; -1 for an unknown name. A finding passes a threshold t
// when SeverityRank(f) >= SeverityRank(t).
func SeverityRank(s string) int {
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
		if s, ok := strings.CutPrefix(t, "severity:"); ok && SeverityRank(s) >= 0 {
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
