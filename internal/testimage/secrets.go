package testimage

// Fake secrets used by the fixtures. Each one is detected by the named
// gitleaks v8 default rule (TestSecretsDetectedByGitleaks checks this). They
// are random-looking values made for this project, not documentation
// examples (gitleaks allowlists those, e.g. AKIAIOSFODNN7EXAMPLE), and not
// real credentials.
const (
	SecretAWS    = "AKIAZ7QH3LMNX4TR2KWP"
	SecretGitHub = "ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV"
	SecretGitLab = "glpat-Xq8Jk2mVxP3nR7tLw9Zc"
	SecretStripe = "sk_live_51Hq8Jk2mVxP3nR7tLw9ZcY4bHf6sDg1aEo5uIyT0QeWq"
	SecretSlack  = "xoxb-2745193051-4819275630194-Xq8Jk2mVxP3nR7tLw9ZcY4bH"
	SecretNPM    = "npm_Xq8Jk2mVxP3nR7tLw9ZcY4bHf6sDg1aEo5uI"
)

// gitleaks v8 rule IDs of the secrets above.
const (
	RuleAWS    = "aws-access-token"
	RuleGitHub = "github-pat"
	RuleGitLab = "gitlab-pat"
	RuleStripe = "stripe-access-token"
	RuleSlack  = "slack-bot-token"
	RuleNPM    = "npm-access-token"
)

// fakeSecret is one secret as it is written into fixture files.
type fakeSecret struct {
	Env    string // variable name on the secret's line
	Value  string
	RuleID string
}

var (
	secAWS    = fakeSecret{"AWS_ACCESS_KEY_ID", SecretAWS, RuleAWS}
	secGitHub = fakeSecret{"GITHUB_TOKEN", SecretGitHub, RuleGitHub}
	secGitLab = fakeSecret{"GITLAB_TOKEN", SecretGitLab, RuleGitLab}
	secStripe = fakeSecret{"STRIPE_SECRET_KEY", SecretStripe, RuleStripe}
	secSlack  = fakeSecret{"SLACK_BOT_TOKEN", SecretSlack, RuleSlack}
	secNPM    = fakeSecret{"NPM_TOKEN", SecretNPM, RuleNPM}
)

// secretLine is the line number (1-based) of the secret in a file made by
// envFile.
const secretLine = 2

// envFile is the body of a fixture file holding s: a comment line, then
// "NAME=value" on line secretLine.
func envFile(s fakeSecret) string {
	return "# fake credential for layerscan tests\n" + s.Env + "=" + s.Value + "\n"
}
