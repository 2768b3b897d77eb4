package detect

// Samples for layerscan's own rules: texts each rule must find (tps) and
// near misses it must not (fps). They live in a test file so that no fake
// secret is compiled into the layerscan binary (which scans itself clean).

// Fake key material made for these samples (not real keys).
const (
	fakeRSAKey    = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq7Zt3kQ9fakeLayerscanTestKeyMaterialOnlyXk2Pq8Rw1s\nZ7d0Vt4m9Hs2Lq6Nw3Bx8Ty5Cf1Gk7Jp0Dr4Ev9Wu2Ia6Ob3Mc8Qh5Sn1Zl7Ye0\n-----END RSA PRIVATE KEY-----\n"
	fakeEncRSAKey = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F6A1B2C4D5E6F708192A3B4C5D6E7F8\n\nq7Zt3kQ9fakeLayerscanTestKeyMaterialOnlyXk2Pq8Rw1sZ7d0Vt4m9Hs2Lq6Nw3\n-----END RSA PRIVATE KEY-----\n"
	fakePKCS8Enc  = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQIfakeLayerscanTestOnly7Zt3kQ9Xk2Pq8Rw1s\n-----END ENCRYPTED PRIVATE KEY-----\n"
	// base64 of "openssh-key-v1\0" + cipher "none" + kdf "none" + filler.
	fakeOpenSSH    = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAKWZha2UtbGF5ZXJzY2FuLXRlc3QtcHVibGljLWtleS1tYXRlcmlhbC14\n-----END OPENSSH PRIVATE KEY-----\n"
	fakeOpenSSHEnc = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAFmZha2UtbGF5ZXJzY2FuLXNhbHQteHgAAAABAAAAKWZha2UtbGF5ZXJzY2FuLXRlc3QtcHVibGljLWtleS1tYXRlcmlhbC14\n-----END OPENSSH PRIVATE KEY-----\n"
)

// fakeGCPKey is the private key of the service-account samples.
const fakeGCPKey = `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASfakeLayerscanTestKeyMaterialOnly7Zt3kQ9Xk2Pq8Rw1s\n-----END PRIVATE KEY-----\n`

// ruleSamples are in the order of customRules.
var ruleSamples = []struct{ tps, fps []sample }{
	// privateKey
	{
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
	},
	// pkcs12File
	{
		tps: []sample{{path: "/root/certs/client.p12"}, {path: "/opt/app/server.PFX"}},
		fps: []sample{{path: "/root/certs/client.pem"}, {path: "/opt/app/p12.txt"}},
	},
	// curlAuthUser
	{
		tps: []sample{{text: `/bin/sh -c curl -fsSL -u deploy:Qx7tR2vLm9Wz https://repo.example.net/pkg.tgz | tar xz`, secret: "deploy:Qx7tR2vLm9Wz"}},
		fps: []sample{{text: `/bin/sh -c curl -fsSL -u "$REPO_USER:$REPO_PASS" https://repo.example.net/pkg.tgz`}},
	},
	// dockerConfigAuth
	{
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
	},
	// npmrcAuth
	{
		tps: []sample{
			{path: "/root/.npmrc", text: "registry=https://npm.example.net/\n//npm.example.net/:_authToken=7f3c9a1e-52bd-4c8e-9f06-b2d4e8a17c35\n", secret: "7f3c9a1e-52bd-4c8e-9f06-b2d4e8a17c35"},
			{path: "/home/app/.npmrc", text: "_auth=YnVpbGRlcjpUN3BYcTJMbTlWdzRSeDg=\n", secret: "YnVpbGRlcjpUN3BYcTJMbTlWdzRSeDg="},
		},
		fps: []sample{{path: "/root/.npmrc", text: "//npm.example.net/:_authToken=${NPM_TOKEN}\n"}},
	},
	// pypircPassword
	{
		tps: []sample{{path: "/root/.pypirc", text: "[distutils]\nindex-servers = internal\n\n[internal]\nrepository = https://pypi.example.net/\nusername = uploader\npassword = Vb6nQ2xT9kLp\n", secret: "Vb6nQ2xT9kLp"}},
		fps: []sample{
			{path: "/root/.pypirc", text: "[internal]\nusername = __token__\n"},
			{path: "/app/settings.ini", text: "password = Vb6nQ2xT9kLp\n"},
		},
	},
	// netrcPassword
	{
		tps: []sample{{path: "/root/.netrc", text: "machine git.example.net login ci password Hn4Rw8Zq2Lx6\n", secret: "Hn4Rw8Zq2Lx6"}},
		fps: []sample{
			{path: "/root/.netrc", text: "machine git.example.net login ci\n"},
			{path: "/usr/share/misc/notes.txt", text: "machine git.example.net login ci password Hn4Rw8Zq2Lx6\n"},
		},
	},
	// gitCredentials
	{
		tps: []sample{{path: "/root/.git-credentials", text: "https://ci-bot:Zk29Lq7Xv4Np8Rt3@git.example.net\n", secret: "Zk29Lq7Xv4Np8Rt3"}},
		fps: []sample{{path: "/root/.git-credentials", text: "https://git.example.net\n"}},
	},
	// gitConfigCredentials
	{
		tps: []sample{{path: "/src/app/.git/config", text: "[remote \"origin\"]\n\turl = https://ci-bot:Zk29Lq7Xv4Np8Rt3@git.example.net/team/app.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n", secret: "Zk29Lq7Xv4Np8Rt3"}},
		fps: []sample{{path: "/src/app/.git/config", text: "[remote \"origin\"]\n\turl = https://git.example.net/team/app.git\n\turl = git@git.example.net:team/app.git\n"}},
	},
	// urlCredentials
	{
		tps: []sample{
			{text: `/bin/sh -c git clone https://ci-bot:Zk29Lq7Xv4Np8Rt3@git.example.net/team/app.git /src`, secret: "Zk29Lq7Xv4Np8Rt3"},
			{path: "/app/config.yml", text: "database_url: postgres://app:W3qN8xLk5Vz2@db.internal:5432/app\n", secret: "W3qN8xLk5Vz2"},
		},
		fps: []sample{
			{text: `/bin/sh -c git clone https://${GIT_USER}:${GIT_TOKEN}@git.example.net/team/app.git`},
			{path: "/app/config.yml", text: "url: postgres://user:password@localhost/db\nssh: ssh://git@host:22/x\nplain: https://example.net:8443/path\n"},
		},
	},
	// dockerLoginPassword
	{
		tps: []sample{
			{text: `/bin/sh -c docker login -u ci -p Rq8Lm3Xv7Tn2 registry.example.net && docker push app`, secret: "Rq8Lm3Xv7Tn2"},
			{path: "/root/.bash_history", text: "ls\npodman login --username ci --password='Rq8Lm3Xv7Tn2' registry.example.net\n", secret: "Rq8Lm3Xv7Tn2"},
		},
		fps: []sample{
			{text: `/bin/sh -c echo "$PW" | docker login -u ci --password-stdin registry.example.net`},
			{text: `/bin/sh -c docker login -u ci -p "$(sed -n 's/x/y/p' /app/secrets.json)" ghcr.io`},
			{text: `/bin/sh -c docker login -u ci -p $REGISTRY_PASSWORD registry.example.net`},
		},
	},
	// awsSecretAccessKey
	{
		tps: []sample{
			{path: "/root/.aws/credentials", text: "[default]\naws_access_key_id = AKIAZ7QH3LMNX4TR2KWP\naws_secret_access_key = q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru\n", secret: "q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru"},
			{text: `/bin/sh -c #(nop) ENV AWS_SECRET_ACCESS_KEY=q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru`, secret: "q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8Qe2Ta4Ru"},
		},
		fps: []sample{{path: "/root/.aws/credentials", text: "[default]\naws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n"}},
	},
	// kubeconfigClientKey
	{
		tps: []sample{{path: "/root/.kube/config", text: "users:\n- name: admin\n  user:\n    client-certificate-data: LS0tLS1CRUdJTi\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpmYWtlTGF5ZXJzY2FuVGVzdEtleU1hdGVyaWFsT25seVhrMlBxOFJ3MXM=\n", secret: "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpmYWtlTGF5ZXJzY2FuVGVzdEtleU1hdGVyaWFsT25seVhrMlBxOFJ3MXM="}},
		fps: []sample{{path: "/root/.kube/config", text: "users:\n- name: admin\n  user:\n    client-key: /etc/kubernetes/pki/admin.key\n"}},
	},
	// kubeconfigToken
	{
		tps: []sample{{path: "/root/.kube/config", text: "users:\n- name: ci\n  user:\n    token: eyJhbGciOiJSUzI1NiJ9.Zm9vYmFyTGF5ZXJzY2Fu.c2lnbmF0dXJlRmFrZQ\n", secret: "eyJhbGciOiJSUzI1NiJ9.Zm9vYmFyTGF5ZXJzY2Fu.c2lnbmF0dXJlRmFrZQ"}},
		fps: []sample{
			{path: "/root/.kube/config", text: "users:\n- name: ci\n  user:\n    exec:\n      command: aws\n"},
			{path: "/app/values.yaml", text: "token: eyJhbGciOiJSUzI1NiJ9.Zm9vYmFyTGF5ZXJzY2Fu.c2lnbmF0dXJlRmFrZQ\n"},
		},
	},
	// gcpServiceAccountKey
	{
		tps: []sample{{path: "/app/sa.json", text: "{\n  \"type\": \"service_account\",\n  \"project_id\": \"demo-project\",\n  \"private_key_id\": \"3c1f0e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e\",\n  \"private_key\": \"" + fakeGCPKey + "\",\n  \"client_email\": \"ci@demo-project.iam.gserviceaccount.com\"\n}\n", secret: fakeGCPKey}},
		fps: []sample{{path: "/app/other.json", text: "{\n  \"type\": \"something_else\",\n  \"private_key\": \"" + fakeGCPKey + "\"\n}\n"}},
	},
	// gcpADCRefreshToken
	{
		tps: []sample{{path: "/root/.config/gcloud/application_default_credentials.json", text: "{\n  \"client_id\": \"123456789-fake.apps.googleusercontent.com\",\n  \"client_secret\": \"d-Fake7Lm2Qx9Rt4\",\n  \"refresh_token\": \"1//0fakeLayerscanRefreshTokenQx7tR2vLm9Wz4Np8\",\n  \"type\": \"authorized_user\"\n}\n", secret: "1//0fakeLayerscanRefreshTokenQx7tR2vLm9Wz4Np8"}},
		fps: []sample{{path: "/app/oauth.json", text: "{\"refresh_token\": \"1//0fakeLayerscanRefreshTokenQx7tR2vLm9Wz4Np8\", \"type\": \"cache\"}\n"}},
	},
	// dotenvSecret
	{
		tps: []sample{{path: "/app/.env", text: "DB_HOST=db\nDB_PASSWORD=Lk8vQ2mX7rTz\n", secret: "Lk8vQ2mX7rTz"}},
		fps: []sample{
			{path: "/app/.env", text: "DB_HOST=db\nDB_PASSWORD=\nAPI_TOKEN=${API_TOKEN}\n"},
			{path: "/app/settings.txt", text: "DB_PASSWORD=Lk8vQ2mX7rTz\n"},
		},
	},
	// shellHistory
	{
		tps: []sample{{path: "/root/.bash_history"}, {path: "/home/app/.psql_history"}, {path: "/root/.ash_history"}},
		fps: []sample{{path: "/usr/share/doc/bash/history.txt"}, {path: "/root/.bashrc"}},
	},
	// keystoreFile
	{
		tps: []sample{{path: "/opt/app/conf/server.jks"}, {path: "/root/release.keystore"}},
		fps: []sample{{path: "/opt/app/conf/server.jks.md"}, {path: "/etc/ssl/certs/java/cacerts"}},
	},
	// terraformState
	{
		tps: []sample{{path: "/infra/terraform.tfstate"}, {path: "/infra/terraform.tfstate.backup"}},
		fps: []sample{{path: "/infra/main.tf"}, {path: "/infra/tfstate.md"}},
	},
	// genericSecretAssignment
	{
		tps: []sample{
			{path: "/app/settings.py", text: "SECRET_KEY = 'r9X!v2Lq#7mTz4Wk8Np3'\n", secret: "r9X!v2Lq#7mTz4Wk8Np3"},
			{path: "/app/config.yaml", text: "db:\n  password: \"Tq7v#X2m\"\n", secret: "Tq7v#X2m"},
		},
		fps: []sample{
			{path: "/app/settings.py", text: "SECRET_KEY = os.environ['SECRET_KEY']\npassword = get_password()\n"},
			{path: "/app/config.yaml", text: "password: changeme\ntoken: aaaaaaaabbbbbbbb\napi_key: some_config_value\n"},
		},
	},
}

// rulesWithSamples is customRules with each rule's samples.
func rulesWithSamples() []ruleDef {
	rules := customRules()
	for i := range rules {
		rules[i].tps, rules[i].fps = ruleSamples[i].tps, ruleSamples[i].fps
	}
	return rules
}
