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

// Fake key material made for these samples (not real keys).
const (
	fakeRSAKey    = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq7Zt3kQ9fakeLayerscanTestKeyMaterialOnlyXk2Pq8Rw1s\nZ7d0Vt4m9Hs2Lq6Nw3Bx8Ty5Cf1Gk7Jp0Dr4Ev9Wu2Ia6Ob3Mc8Qh5Sn1Zl7Ye0\n-----END RSA PRIVATE KEY-----\n"
	fakeEncRSAKey = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F6A1B2C4D5E6F708192A3B4C5D6E7F8\n\nq7Zt3kQ9fakeLayerscanTestKeyMaterialOnlyXk2Pq8Rw1sZ7d0Vt4m9Hs2Lq6Nw3\n-----END RSA PRIVATE KEY-----\n"
	fakePKCS8Enc  = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQIfakeLayerscanTestOnly7Zt3kQ9Xk2Pq8Rw1s\n-----END ENCRYPTED PRIVATE KEY-----\n"
	// base64 of "openssh-key-v1\0" + cipher "none" + kdf "none" + filler.
	fakeOpenSSH    = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAKWZha2UtbGF5ZXJzY2FuLXRlc3QtcHVibGljLWtleS1tYXRlcmlhbC14\n-----END OPENSSH PRIVATE KEY-----\n"
	fakeOpenSSHEnc = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAFmZha2UtbGF5ZXJzY2FuLXNhbHQteHgAAAABAAAAKWZha2UtbGF5ZXJzY2FuLXRlc3QtcHVibGljLWtleS1tYXRlcmlhbC14\n-----END OPENSSH PRIVATE KEY-----\n"
)

func privateKey() ruleDef {
	return ruleDef{
		rule:     config.Rule{RuleID: "private-key"},
		severity: "high",
		tps: []sample{
			{path: "/root/.ssh/id_rsa", text: fakeRSAKey},
			{path: "/app/key.pem", text: fakeEncRSAKey},
			{path: "/app/key.p8", text: fakePKCS8Enc},
			{path: "/root/.ssh/id_ed25519", text: fakeOpenSSH},
		},
		fps: []sample{
			{path: "/app/README", text: "Put your key between -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY----- markers.\n"},
			{path: "/etc/ssl/certs/ca.pem", text: "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTES\n-----END CERTIFICATE-----\n"},
		},
	}
}

func pkcs12File() ruleDef {
	return ruleDef{
		rule:     config.Rule{RuleID: "pkcs12-file"},
		severity: "medium",
		tps:      []sample{{path: "/root/certs/client.p12"}, {path: "/opt/app/server.PFX"}},
		fps:      []sample{{path: "/root/certs/client.pem"}, {path: "/opt/app/p12.txt"}},
	}
}

func curlAuthUser() ruleDef {
	return ruleDef{
		rule:     config.Rule{RuleID: "curl-auth-user"},
		severity: "high",
		tps:      []sample{{text: `/bin/sh -c curl -fsSL -u deploy:Qx7tR2vLm9Wz https://repo.example.net/pkg.tgz | tar xz`, secret: "deploy:Qx7tR2vLm9Wz"}},
		fps:      []sample{{text: `/bin/sh -c curl -fsSL -u "$REPO_USER:$REPO_PASS" https://repo.example.net/pkg.tgz`}},
	}
}

func dockerConfigAuth() ruleDef {
	r := newRule("docker-config-auth",
		"Registry credentials stored by docker/podman login: base64(user:password) in the auths of a Docker config.json or containers auth.json.",
		`"auth"\s*:\s*"([A-Za-z0-9+/]{6,}={0,2})"`, `"auth"`)
	r = withPath(r, `(?i)(?:^|/)(?:\.docker/config\.json|containers/auth\.json|\.dockercfg)$`)
	return ruleDef{
		rule: r, severity: "high",
		tps: []sample{{
			path:   "/root/.docker/config.json",
			text:   "{\n\t\"auths\": {\n\t\t\"registry.example.net\": {\n\t\t\t\"auth\": \"YnVpbGRlcjpUN3BYcTJMbTlWdzRSeDg=\"\n\t\t}\n\t}\n}\n",
			secret: "T7pXq2Lm9Vw4Rx8",
		}},
		fps: []sample{
			// Credentials kept by a helper: no auth value.
			{path: "/root/.docker/config.json", text: `{"auths": {"registry.example.net": {}}, "credsStore": "pass"}`},
			// Same text outside a docker config.
			{path: "/app/data.json", text: `{"auth": "YnVpbGRlcjpUN3BYcTJMbTlWdzRSeDg="}`},
		},
	}
}

func npmrcAuth() ruleDef {
	r := newRule("npmrc-auth",
		"npm registry credentials in an .npmrc: _authToken, _auth (base64 user:password) or _password.",
		`(?i)(?:^|[\s;'"])(?:\S*:)?(?:_authToken|_auth|_password)[ \t]*=[ \t]*["']?([A-Za-z0-9+/=._~-]{8,})["']?(?:[ \t]*$|[\s;'"])`,
		"_authtoken", "_auth", "_password")
	return ruleDef{
		rule: r, severity: "high", yields: true,
		tps: []sample{
			{path: "/root/.npmrc", text: "registry=https://npm.example.net/\n//npm.example.net/:_authToken=7f3c9a1e-52bd-4c8e-9f06-b2d4e8a17c35\n", secret: "7f3c9a1e-52bd-4c8e-9f06-b2d4e8a17c35"},
			{path: "/home/app/.npmrc", text: "_auth=YnVpbGRlcjpUN3BYcTJMbTlWdzRSeDg=\n", secret: "YnVpbGRlcjpUN3BYcTJMbTlWdzRSeDg="},
		},
		fps: []sample{{path: "/root/.npmrc", text: "//npm.example.net/:_authToken=${NPM_TOKEN}\n"}},
	}
}

func pypircPassword() ruleDef {
	r := withPath(newRule("pypirc-password",
		"A password in a .pypirc (PyPI upload credentials).",
		`(?im)^[ \t]*password[ \t]*[:=][ \t]*(\S{4,})[ \t]*$`, "password"),
		`(?:^|/)\.pypirc$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
		tps: []sample{{path: "/root/.pypirc", text: "[distutils]\nindex-servers = internal\n\n[internal]\nrepository = https://pypi.example.net/\nusername = uploader\npassword = Vb6nQ2xT9kLp\n", secret: "Vb6nQ2xT9kLp"}},
		fps: []sample{
			{path: "/root/.pypirc", text: "[internal]\nusername = __token__\n"},
			{path: "/app/settings.ini", text: "password = Vb6nQ2xT9kLp\n"},
		},
	}
}

func netrcPassword() ruleDef {
	r := withPath(newRule("netrc-password",
		"A password in a .netrc (credentials curl, git, ftp and pip use automatically).",
		`(?i)(?:^|\s)password[ \t]+(\S{3,})`, "password"),
		`(?:^|/)[._]netrc$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
		tps: []sample{{path: "/root/.netrc", text: "machine git.example.net login ci password Hn4Rw8Zq2Lx6\n", secret: "Hn4Rw8Zq2Lx6"}},
		fps: []sample{
			{path: "/root/.netrc", text: "machine git.example.net login ci\n"},
			{path: "/usr/share/misc/notes.txt", text: "machine git.example.net login ci password Hn4Rw8Zq2Lx6\n"},
		},
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
		tps: []sample{{path: "/root/.git-credentials", text: "https://ci-bot:Zk29Lq7Xv4Np8Rt3@git.example.net\n", secret: "Zk29Lq7Xv4Np8Rt3"}},
		fps: []sample{{path: "/root/.git-credentials", text: "https://git.example.net\n"}},
	}
}

func gitConfigCredentials() ruleDef {
	r := withPath(newRule("git-config-credentials",
		"A git remote URL with an embedded credential in a repository's .git/config.",
		`(?im)^[ \t]*(?:url|pushurl)[ \t]*=[ \t]*[a-z][a-z0-9+.-]*://[^\s:@/]+:([^\s:@/]{3,})@`, "url"),
		`(?:^|/)\.git/config$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
		tps: []sample{{path: "/src/app/.git/config", text: "[remote \"origin\"]\n\turl = https://ci-bot:Zk29Lq7Xv4Np8Rt3@git.example.net/team/app.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n", secret: "Zk29Lq7Xv4Np8Rt3"}},
		fps: []sample{{path: "/src/app/.git/config", text: "[remote \"origin\"]\n\turl = https://git.example.net/team/app.git\n\turl = git@git.example.net:team/app.git\n"}},
	}
}

func urlCredentials() ruleDef {
	r := newRule("url-credentials",
		"A URL with an embedded password (scheme://user:password@host), e.g. typed into a RUN line, a script or a config file.",
		urlCredentialsPattern, "://")
	r.Entropy = 2.0
	return ruleDef{
		rule: r, severity: "high", yields: true,
		tps: []sample{
			{text: `/bin/sh -c git clone https://ci-bot:Zk29Lq7Xv4Np8Rt3@git.example.net/team/app.git /src`, secret: "Zk29Lq7Xv4Np8Rt3"},
			{path: "/app/config.yml", text: "database_url: postgres://app:W3qN8xLk5Vz2@db.internal:5432/app\n", secret: "W3qN8xLk5Vz2"},
		},
		fps: []sample{
			{text: `/bin/sh -c git clone https://${GIT_USER}:${GIT_TOKEN}@git.example.net/team/app.git`},
			{path: "/app/config.yml", text: "url: postgres://user:password@localhost/db\nssh: ssh://git@host:22/x\nplain: https://example.net:8443/path\n"},
		},
	}
}

func dockerLoginPassword() ruleDef {
	r := newRule("docker-login-password",
		"A registry password given on a docker/podman/buildah/skopeo/helm login command line (-p/--password), kept in history and shell histories.",
		`\b(?:docker|podman|buildah|skopeo|nerdctl|oras|helm)\b[^\n;|&]{0,40}?\blogin\b[^\n;|&]*?[ \t](?:-p|--password)(?:=|[ \t]+)(?:"([^"\s$\x60]{4,})"|'([^'\s]{4,})'|([^\s"'$\x60;|&]{4,}))`,
		"login")
	return ruleDef{
		rule: r, severity: "high", yields: true,
		tps: []sample{
			{text: `/bin/sh -c docker login -u ci -p Rq8Lm3Xv7Tn2 registry.example.net && docker push app`, secret: "Rq8Lm3Xv7Tn2"},
			{path: "/root/.bash_history", text: "ls\npodman login --username ci --password='Rq8Lm3Xv7Tn2' registry.example.net\n", secret: "Rq8Lm3Xv7Tn2"},
		},
		fps: []sample{
			{text: `/bin/sh -c echo "$PW" | docker login -u ci --password-stdin registry.example.net`},
			{text: `/bin/sh -c docker login -u ci -p "$(sed -n 's/x/y/p' /app/secrets.json)" ghcr.io`},
			{text: `/bin/sh -c docker login -u ci -p $REGISTRY_PASSWORD registry.example.net`},
		},
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
		tps: []sample{
			{path: "/root/.aws/credentials", text: "[default]\naws_access_key_id = AKIAZ7QH3LMNX4TR2KWP\naws_secret_access_key = q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru\n", secret: "q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru"},
			{text: `/bin/sh -c #(nop) ENV AWS_SECRET_ACCESS_KEY=q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru`, secret: "q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru"},
		},
		fps: []sample{{path: "/root/.aws/credentials", text: "[default]\naws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n"}},
	}
}

func kubeconfigClientKey() ruleDef {
	r := newRule("kubeconfig-client-key",
		"A client private key embedded in a kubeconfig (client-key-data: base64 PEM).",
		`client-key-data:[ \t]*["']?([A-Za-z0-9+/]{64,}={0,2})`, "client-key-data")
	return ruleDef{
		rule: r, severity: "high",
		tps: []sample{{path: "/root/.kube/config", text: "users:\n- name: admin\n  user:\n    client-certificate-data: LS0tLS1CRUdJTi\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpmYWtlTGF5ZXJzY2FuVGVzdEtleU1hdGVyaWFsT25seVhrMlBxOFJ3MXM=\n", secret: "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpmYWtlTGF5ZXJzY2FuVGVzdEtleU1hdGVyaWFsT25seVhrMlBxOFJ3MXM="}},
		fps: []sample{{path: "/root/.kube/config", text: "users:\n- name: admin\n  user:\n    client-key: /etc/kubernetes/pki/admin.key\n"}},
	}
}

func kubeconfigToken() ruleDef {
	r := withPath(newRule("kubeconfig-token",
		"A bearer token (token, id-token, refresh-token) in a kubeconfig.",
		`(?m)^[ \t]*(?:token|id-token|refresh-token):[ \t]*["']?([A-Za-z0-9._~+/=-]{16,})["']?[ \t]*$`, "token"),
		`(?i)(?:^|/)(?:\.kube/config|[^/]*kubeconfig[^/]*|etc/kubernetes/[^/]+\.conf|etc/rancher/k3s/k3s\.yaml)$`)
	return ruleDef{
		rule: r, severity: "high", yields: true,
		tps: []sample{{path: "/root/.kube/config", text: "users:\n- name: ci\n  user:\n    token: eyJhbGciOiJSUzI1NiJ9.Zm9vYmFyTGF5ZXJzY2Fu.c2lnbmF0dXJlRmFrZQ\n", secret: "eyJhbGciOiJSUzI1NiJ9.Zm9vYmFyTGF5ZXJzY2Fu.c2lnbmF0dXJlRmFrZQ"}},
		fps: []sample{
			{path: "/root/.kube/config", text: "users:\n- name: ci\n  user:\n    exec:\n      command: aws\n"},
			{path: "/app/values.yaml", text: "token: eyJhbGciOiJSUzI1NiJ9.Zm9vYmFyTGF5ZXJzY2Fu.c2lnbmF0dXJlRmFrZQ\n"},
		},
	}
}

func gcpServiceAccountKey() ruleDef {
	r := newRule("gcp-service-account-key",
		"The private key of a Google Cloud service-account key file (JSON with \"type\": \"service_account\").",
		`"private_key"[ \t]*:[ \t]*"(-----BEGIN[A-Z ]{0,20}PRIVATE KEY-----[^"]{40,}?-----END[A-Z ]{0,20}PRIVATE KEY-----(?:\\n)?)"`,
		`"private_key"`)
	key := `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASfakeLayerscanTestKeyMaterialOnly7Zt3kQ9Xk2Pq8Rw1s\n-----END PRIVATE KEY-----\n`
	return ruleDef{
		rule: r, severity: "high",
		tps: []sample{{path: "/app/sa.json", text: "{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-project\",\n  \"private_key_id\": \"3c1f0e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e\",\n  \"private_key\": \"" + key + "\",\n  \"client_email\": \"ci@demo-project.iam.gserviceaccount.com\"\n}\n", secret: key}},
		fps: []sample{{path: "/app/other.json", text: "{\n  \"type\": \"something_else\",\n  \"private_key\": \"" + key + "\"\n}\n"}},
	}
}

func gcpADCRefreshToken() ruleDef {
	r := newRule("gcp-adc-refresh-token",
		"A Google OAuth refresh token in application-default credentials (JSON with \"type\": \"authorized_user\", written by gcloud auth application-default login).",
		`"refresh_token"[ \t]*:[ \t]*"([^"\s]{20,})"`, `"refresh_token"`)
	return ruleDef{
		rule: r, severity: "high",
		tps: []sample{{path: "/root/.config/gcloud/application_default_credentials.json", text: "{\n  \"client_id\": \"123456789-fake.apps.googleusercontent.com\",\n  \"client_secret\": \"d-Fake7Lm2Qx9Rt4\",\n  \"refresh_token\": \"1//0fakeLayerscanRefreshTokenQx7tR2vLm9Wz4Np8\",\n  \"type\": \"authorized_user\"\n}\n", secret: "1//0fakeLayerscanRefreshTokenQx7tR2vLm9Wz4Np8"}},
		fps: []sample{{path: "/app/oauth.json", text: "{\"refresh_token\": \"1//0fakeLayerscanRefreshTokenQx7tR2vLm9Wz4Np8\", \"type\": \"cache\"}\n"}},
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
		tps: []sample{{path: "/app/.env", text: "DB_HOST=db\nDB_PASSWORD=Lk8vQ2mX7rTz\n", secret: "Lk8vQ2mX7rTz"}},
		fps: []sample{
			{path: "/app/.env", text: "DB_HOST=db\nDB_PASSWORD=\nAPI_TOKEN=${API_TOKEN}\n"},
			{path: "/app/settings.txt", text: "DB_PASSWORD=Lk8vQ2mX7rTz\n"},
		},
	}
}

func shellHistory() ruleDef {
	r := withPath(newRule("shell-history",
		"A shell or REPL history file: commands typed at build or debug time (logins, exported tokens); its content is scanned by every rule too.",
		""), `(?:^|/)\.(?:bash|ash|sh|zsh|python|mysql|psql|node_repl|sqlite)_history$`)
	return ruleDef{
		rule: r, severity: "low",
		tps: []sample{{path: "/root/.bash_history"}, {path: "/home/app/.psql_history"}, {path: "/root/.ash_history"}},
		fps: []sample{{path: "/usr/share/doc/bash/history.txt"}, {path: "/root/.bashrc"}},
	}
}

func keystoreFile() ruleDef {
	r := withPath(newRule("keystore-file",
		"A Java or Bouncy Castle key store (.jks, .keystore, .bks), which commonly holds private keys.",
		""), `(?i)(?:^|/)[^/]+\.(?:jks|keystore|bks)$`)
	return ruleDef{
		rule: r, severity: "medium",
		tps: []sample{{path: "/opt/app/conf/server.jks"}, {path: "/root/release.keystore"}},
		fps: []sample{{path: "/opt/app/conf/server.jks.md"}, {path: "/etc/ssl/certs/java/cacerts"}},
	}
}

func terraformState() ruleDef {
	r := withPath(newRule("terraform-state",
		"A Terraform state file: it stores every resource attribute in plaintext, database passwords and generated keys included; its content is scanned by every rule too.",
		""), `(?i)(?:^|/)[^/]*\.tfstate(?:\.backup)?$`)
	return ruleDef{
		rule: r, severity: "medium",
		tps: []sample{{path: "/infra/terraform.tfstate"}, {path: "/infra/terraform.tfstate.backup"}},
		fps: []sample{{path: "/infra/main.tf"}, {path: "/infra/tfstate.md"}},
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
		tps: []sample{
			{path: "/app/settings.py", text: "SECRET_KEY = 'r9X!v2Lq#7mTz4Wk8Np3'\n", secret: "r9X!v2Lq#7mTz4Wk8Np3"},
			{path: "/app/config.yaml", text: "db:\n  password: \"Tq7v#X2m\"\n", secret: "Tq7v#X2m"},
		},
		fps: []sample{
			{path: "/app/settings.py", text: "SECRET_KEY = os.environ['SECRET_KEY']\npassword = get_password()\n"},
			{path: "/app/config.yaml", text: "password: changeme\ntoken: aaaaaaaabbbbbbbb\napi_key: some_config_value\n"},
		},
	}
}
