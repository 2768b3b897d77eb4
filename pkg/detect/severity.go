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

// Specificity ranks how precisely a rule names what a secret is, to pick
// one kind for a secret several rules found (the secrets view): 2 for a
// rule that knows the issuer from the secret itself (github-pat,
// aws-access-token, private-key, …), 1 for one that knows it from where
// the secret is written (a docker config's auth, a URL's password, a
// .netrc entry), 0 for the loose rules that guess from a name or an
// assignment (generic-api-key, dotenv-secret, …).
func Specificity(rule string) int {
	switch {
	case strings.HasPrefix(rule, "generic-"), rule == "dotenv-secret", rule == "shell-history":
		return 0
	case contextRules[rule]:
		return 1
	}
	return 2
}

// contextRules are layerscan's rules that find a credential by the file or
// command it is written in, not by its own shape.
var contextRules = map[string]bool{
	"docker-config-auth": true, "npmrc-auth": true, "pypirc-password": true, "netrc-password": true,
	"git-credentials": true, "git-config-credentials": true, "url-credentials": true,
	"docker-login-password": true, "kubeconfig-token": true, "terraform-state": true,
}
