package detect

import (
	"sort"
	"strings"
	"sync"
)

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

// severityOf is a rule's severity: a "severity:LEVEL" tag on the rule
// (from --config), else DefaultSeverity.
func (d *Detector) severityOf(rule string, tags []string) string {
	for _, t := range tags {
		if s, ok := strings.CutPrefix(t, "severity:"); ok && ValidSeverity(s) {
			return strings.ToLower(s)
		}
	}
	return DefaultSeverity(rule)
}

// DefaultSeverity is the severity a rule's findings have unless the rule
// refines it for one finding (an encrypted or host key is less severe
// than the private-key rule's default): the value set for layerscan's
// rules; otherwise gitleaks' rules find live credentials (high), except
// the generic ones that guess from context (medium). A --config rule's
// severity:LEVEL tag is not known here (see severityOf).
func DefaultSeverity(rule string) string {
	if s, ok := layerscanSeverities()[rule]; ok {
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

// layerscanSeverities are the severities of layerscan's rules by id.
var layerscanSeverities = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, d := range customRules() {
		m[d.rule.RuleID] = d.severity
	}
	return m
})

// Rule origins (RuleOrigin).
const (
	OriginLayerscan = "layerscan" // pkg/detect/rules.go, gitleaks' rules it refines included
	OriginGitleaks  = "gitleaks"  // gitleaks' default rules
	OriginConfig    = "config"    // neither: a rule of the user's --config
)

// RuleOrigin says where a rule id comes from: OriginLayerscan,
// OriginGitleaks or OriginConfig. docs/rules.md documents the first two.
func RuleOrigin(rule string) string {
	if _, ok := layerscanSeverities()[rule]; ok {
		return OriginLayerscan
	}
	configMu.Lock()
	base, err := gitleaksDefault()
	configMu.Unlock()
	if _, ok := base.Rules[rule]; ok && err == nil {
		return OriginGitleaks
	}
	return OriginConfig
}

// LayerscanRules are the ids of layerscan's rules, sorted.
func LayerscanRules() []string {
	ids := make([]string, 0, len(layerscanSeverities()))
	for id := range layerscanSeverities() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
