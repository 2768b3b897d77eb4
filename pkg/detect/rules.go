package detect

import (
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/regexp"
)

// ruleDef is one of layerscan's own rules, in the style of gitleaks'
// cmd/generate/config/rules: the rule, its severity, and samples that must
// (tps) and must not (fps) make it fire. The samples are tested.
type ruleDef struct {
	rule     config.Rule
	severity string
	// yields: the rule guesses from context; when a specific rule (a
	// fixed-format token) reports the same secret on the same line, the
	// specific one is kept and this one dropped.
	yields bool
	tps    []sample
	fps    []sample
}

// sample is a piece of text at a path; secret, for a true positive, is
// what the rule must report ("" for path-only rules).
type sample struct {
	path, text, secret string
}

func newRule(id, desc, pattern string, keywords ...string) config.Rule {
	r := config.Rule{RuleID: id, Description: desc, Keywords: []string{}, Tags: []string{}}
	if pattern != "" {
		r.Regex = regexp.MustCompile(pattern)
	}
	for _, k := range keywords {
		r.Keywords = append(r.Keywords, strings.ToLower(k))
	}
	return r
}

func withPath(r config.Rule, path string) config.Rule {
	r.Path = regexp.MustCompile(path)
	return r
}

// customRules are layerscan's image-specific rules, added to gitleaks'
// defaults. Rules whose id is a gitleaks rule id (private-key,
// pkcs12-file, curl-auth-user) keep gitleaks' definition: the entry only
// sets the severity and carries the samples.
func customRules() []ruleDef {
	return []ruleDef{
		privateKey(), pkcs12File(), curlAuthUser(),
		dockerConfigAuth(), npmrcAuth(), pypircPassword(), netrcPassword(),
		gitCredentials(), gitConfigCredentials(), urlCredentials(), dockerLoginPassword(),
		awsSecretAccessKey(), kubeconfigClientKey(), kubeconfigToken(),
		gcpServiceAccountKey(), gcpADCRefreshToken(), dotenvSecret(),
		shellHistory(), keystoreFile(), terraformState(), genericSecretAssignment(),
	}
}

func privateKey() ruleDef {
	return ruleDef{
		rule:     config.Rule{RuleID: "private-key"},
		severity: "high",
	}
}

func pkcs12File() ruleDef {
	return ruleDef{
		rule:     config.Rule{RuleID: "pkcs12-file"},
		severity: "medium",
	}
}

func curlAuthUser() ruleDef {
	return ruleDef{
		rule:     config.Rule{RuleID: "curl-auth-user"},
		severity: "high",
	}
}

func dockerConfigAuth() ruleDef {
	r := newRule("docker-config-auth",
		"Registry credentials stored by docker/podman login: base64(user:password) in the auths of a Docker config.json or containers auth.json.",
		`"auth"\s*:\s*"([A-Za-z0-9+/]{6,}={0,2})"`, `"auth"`)
	r = withPath(r, `(?i)(?:^|/)(?:\.docker/config\.json|containers/auth\.json|\.dockercfg)$`)
	return ruleDef{
		rule: r, severity: "high",
	}
}

func npmrcAuth() ruleDef {
	r := newRule("npmrc-auth",
		"npm registry credentials in an .npmrc: _authToken, _auth (base64 user:password) or _password.",
		`(?i)(?:^|[\s;'"])(?:\S*:)?(?:_authToken|_auth|_password)[ \t]*=[ \t]*["']?([A-Za-z0-9+/=._~-]{8,})["']?(?:[ \t]*$|[\s;'"])`,
		"_authtoken", "_auth", "_password")
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func pypircPassword() ruleDef {
	r := withPath(newRule("pypirc-password",
		"A password in a .pypirc (PyPI upload credentials).",
		`(?im)^[ \t]*password[ \t]*[:=][ \t]*(\S{4,})[ \t]*$`, "password"),
		`(?:^|/)\.pypirc$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func netrcPassword() ruleDef {
	r := withPath(newRule("netrc-password",
		"A password in a .netrc (credentials curl, git, ftp and pip use automatically).",
		`(?i)(?:^|\s)password[ \t]+(\S{3,})`, "password"),
		`(?:^|/)[._]netrc$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

// urlCredentialsPattern is user:password@ in a URL.
const urlCredentialsPattern = `(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:@/'"\x60<>{}$]{1,100}:([^\s:@/'"\x60<>{}$]{3,200})@[a-z0-9][a-z0-9.-]*`

func gitCredentials() ruleDef {
	r := withPath(newRule("git-credentials",
		"A credential stored by git's credential store (.git-credentials: https://user:token@host).",
		urlCredentialsPattern, "://"), `(?:^|/)\.git-credentials$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func gitConfigCredentials() ruleDef {
	r := withPath(newRule("git-config-credentials",
		"A git remote URL with an embedded credential in a repository's .git/config.",
		`(?im)^[ \t]*(?:url|pushurl)[ \t]*=[ \t]*[a-z][a-z0-9+.-]*://[^\s:@/]+:([^\s:@/]{3,})@`, "url"),
		`(?:^|/)\.git/config$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func urlCredentials() ruleDef {
	r := newRule("url-credentials",
		"A URL with an embedded password (scheme://user:password@host), e.g. typed into a RUN line, a script or a config file.",
		urlCredentialsPattern, "://")
	r.Entropy = 2.0
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func dockerLoginPassword() ruleDef {
	r := newRule("docker-login-password",
		"A registry password given on a docker/podman/buildah/skopeo/helm login command line (-p/--password), kept in history and shell histories.",
		`\b(?:docker|podman|buildah|skopeo|nerdctl|oras|helm)\b[^\n;|&]{0,40}?\blogin\b[^\n;|&]*?[ \t](?:-p|--password)(?:=|[ \t]+)(?:"([^"\s$\x60]{4,})"|'([^'\s]{4,})'|([^\s"'$\x60;|&]{4,}))`,
		"login")
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func awsSecretAccessKey() ruleDef {
	r := newRule("aws-secret-access-key",
		"An AWS secret access key (aws_secret_access_key in ~/.aws/credentials or config, or the AWS_SECRET_ACCESS_KEY variable).",
		`(?i)\baws_?secret_?access_?key\b["']?[ \t]*(?:=|:|=>)[ \t]*["']?([A-Za-z0-9/+]{40})(?:["'\s,;]|$)`,
		"secret_access_key", "secretaccesskey")
	r.Entropy = 3.5
	return ruleDef{
		rule: r, severity: "high",
	}
}

func kubeconfigClientKey() ruleDef {
	r := newRule("kubeconfig-client-key",
		"A client private key embedded in a kubeconfig (client-key-data: base64 PEM).",
		`client-key-data:[ \t]*["']?([A-Za-z0-9+/]{64,}={0,2})`, "client-key-data")
	return ruleDef{
		rule: r, severity: "high",
	}
}

func kubeconfigToken() ruleDef {
	r := withPath(newRule("kubeconfig-token",
		"A bearer token (token, id-token, refresh-token) in a kubeconfig.",
		`(?m)^[ \t]*(?:token|id-token|refresh-token):[ \t]*["']?([A-Za-z0-9._~+/=-]{16,})["']?[ \t]*$`, "token"),
		`(?i)(?:^|/)(?:\.kube/config|[^/]*kubeconfig[^/]*|etc/kubernetes/[^/]+\.conf|etc/rancher/k3s/k3s\.yaml)$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func gcpServiceAccountKey() ruleDef {
	r := newRule("gcp-service-account-key",
		"The private key of a Google Cloud service-account key file (JSON with \"type\": \"service_account\").",
		`"private_key"[ \t]*:[ \t]*"(-----BEGIN[A-Z ]{0,20}PRIVATE KEY-----[^"]{40,}?-----END[A-Z ]{0,20}PRIVATE KEY-----(?:\\n)?)"`,
		`"private_key"`)
	return ruleDef{
		rule: r, severity: "high",
	}
}

func gcpADCRefreshToken() ruleDef {
	r := newRule("gcp-adc-refresh-token",
		"A Google OAuth refresh token in application-default credentials (JSON with \"type\": \"authorized_user\", written by gcloud auth application-default login).",
		`"refresh_token"[ \t]*:[ \t]*"([^"\s]{20,})"`, `"refresh_token"`)
	return ruleDef{
		rule: r, severity: "high",
	}
}

func dotenvSecret() ruleDef {
	r := withPath(newRule("dotenv-secret",
		"A secret-named variable (…PASSWORD, …SECRET, …TOKEN, …API_KEY, …) with a value in a .env file.",
		`(?im)^[ \t]*(?:export[ \t]+)?([A-Z0-9_.]*(?:PASSW(?:OR)?D|PASSPHRASE|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)[A-Z0-9_.]*)[ \t]*=[ \t]*["']?([^\s"'$#\x60]{6,})["']?[ \t]*(?:#.*)?$`,
		"passw", "passphrase", "pwd", "secret", "token", "key", "credential", "auth"),
		`(?i)(?:^|/)(?:\.env(?:\.[\w-]+)*|[\w.-]+\.env)$`)
	r.SecretGroup = 2
	return ruleDef{
		rule: r, severity: "high", yields: true,
	}
}

func shellHistory() ruleDef {
	r := withPath(newRule("shell-history",
		"A shell or REPL history file: commands typed at build or debug time (logins, exported tokens); its content is scanned by every rule too.",
		""), `(?:^|/)\.(?:bash|ash|sh|zsh|python|mysql|psql|node_repl|sqlite)_history$`)
	return ruleDef{
		rule: r, severity: "low",
	}
}

func keystoreFile() ruleDef {
	r := withPath(newRule("keystore-file",
		"A Java or Bouncy Castle key store (.jks, .keystore, .bks), which commonly holds private keys.",
		""), `(?i)(?:^|/)[^/]+\.(?:jks|keystore|bks)$`)
	return ruleDef{
		rule: r, severity: "medium",
	}
}

func terraformState() ruleDef {
	r := withPath(newRule("terraform-state",
		"A Terraform state file: it stores every resource attribute in plaintext, database passwords and generated keys included; its content is scanned by every rule too.",
		""), `(?i)(?:^|/)[^/]*\.tfstate(?:\.backup)?$`)
	return ruleDef{
		rule: r, severity: "medium",
	}
}

// genericSecretAssignment is the entropy rule: a value assigned to a
// secret-like name. The regex only finds candidates; keepGeneric (see
// entropy.go) decides with the thresholds documented in docs/rules.md.
func genericSecretAssignment() ruleDef {
	r := newRule("generic-secret-assignment",
		"A high-entropy value assigned to a secret-like name (password, secret, token, api_key, …).",
		`(?i)([a-z0-9_.-]{0,40}(?:passw(?:or)?d|passphrase|secret|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|credentials?)[a-z0-9_.-]{0,20})["']?[ \t]{0,3}(?:=|:=|:|=>)[ \t]{0,3}["'\x60]?([A-Za-z0-9+/=_.~!@#%^&*-]{8,200})(?:["'\x60\s;,]|$)`,
		"passw", "passphrase", "secret", "token", "apikey", "api_key", "api-key", "api.key", "accesskey", "access_key", "access-key", "access.key", "private_key", "privatekey", "private-key", "private.key", "credential")
	r.SecretGroup = 2
	return ruleDef{
		rule: r, severity: "medium", yields: true,
	}
}
