package verify

import "strings"

// Vendor endpoints: where a SaaS kind's credentials are sent unless
// Options.Endpoints names another base URL for that kind.
var defaultEndpoints = map[string]string{
	KindGitHub:   "https://api.github.com",
	KindGitLab:   "https://gitlab.com",
	KindSlack:    "https://slack.com",
	KindStripe:   "https://api.stripe.com",
	KindSendGrid: "https://api.sendgrid.com",
	KindAWS:      "https://sts.amazonaws.com",
	KindNPM:      "https://registry.npmjs.org/",
}

// awsDefaultHost is the host of AWS STS's global endpoint.
const awsDefaultHost = "sts.amazonaws.com:443"

// ruleKinds maps gitleaks (and layerscan) rule ids of SaaS tokens to the
// kind that verifies them.
var ruleKinds = map[string]string{
	"github-pat":                   KindGitHub,
	"github-fine-grained-pat":      KindGitHub,
	"github-oauth":                 KindGitHub,
	"github-app-token":             KindGitHub,
	"gitlab-pat":                   KindGitLab,
	"gitlab-pat-routable":          KindGitLab,
	"slack-bot-token":              KindSlack,
	"slack-user-token":             KindSlack,
	"slack-app-token":              KindSlack,
	"slack-legacy-token":           KindSlack,
	"slack-legacy-bot-token":       KindSlack,
	"slack-legacy-workspace-token": KindSlack,
	"stripe-access-token":          KindStripe,
	"sendgrid-api-token":           KindSendGrid,
	"npm-access-token":             KindNPM,
	"aws-access-token":             KindAWS,
}

// FromRule turns a SaaS token found by a detector rule (gitleaks rule ids:
// github-pat, github-fine-grained-pat, github-oauth, github-app-token,
// gitlab-pat, slack-*-token, stripe-access-token, sendgrid-api-token,
// npm-access-token, aws-access-token) into a Credential for the vendor's
// endpoint. ok is false for other rules: their secrets need the context
// FromFile and FromText read (a host, a user).
//
// aws-access-token matches the access key id, not the secret: the
// Credential has KeyID set and no Secret, and Verify answers unknown for
// it; a key id and its secret are paired by FromFile/FromText.
func FromRule(rule, secret string) (Credential, bool) {
	kind, ok := ruleKinds[rule]
	if !ok && strings.HasPrefix(rule, "slack-") && strings.HasSuffix(rule, "-token") {
		kind, ok = KindSlack, true
	}
	secret = strings.TrimSpace(secret)
	if !ok || secret == "" || len(secret) > maxSecret {
		return Credential{}, false
	}
	c := Credential{Kind: kind, Secret: secret}
	if kind == KindAWS {
		c = Credential{Kind: kind, KeyID: secret}
	}
	if ep, ok := defaultEndpoints[kind]; ok {
		c.Host = strings.TrimPrefix(strings.TrimSuffix(ep, "/"), "https://") + ":443"
	}
	return c, true
}
