package detect

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestPreciseLooseRules: each exclusion of the loose rules (precise.go)
// drops a shape seen on real images, and a true positive of the same shape
// in a real config file is still reported.
func TestPreciseLooseRules(t *testing.T) {
	d := newDetector(t)
	loose, err := New(Options{NoPrecise: true})
	if err != nil {
		t.Fatal(err)
	}
	type sample struct {
		path, text string
	}
	for _, c := range []struct {
		name string
		why  string
		drop sample // must give no loose finding
		keep sample // must give a finding (same shape, in a config)
	}{
		{"documentation file", whyDocTest,
			sample{"/app/docs/setup.md", "Set `api_key = \"Hq7vX2mLp9Rt4Wz8\"` in config.yaml.\n"},
			sample{"/app/config.yaml", "api_key: \"Hq7vX2mLp9Rt4Wz8\"\n"}},
		{"test directory", whyDocTest,
			sample{"/srv/app/tests/test_client.py", "client = Client(api_key=\"Hq7vX2mLp9Rt4Wz8\")\n"},
			sample{"/srv/app/settings.py", "API_KEY = \"Hq7vX2mLp9Rt4Wz8\"\n"}},
		{"comment in source code", whyComment,
			sample{"/usr/lib/ruby/uri/generic.rb", "#   URI.parse('ftp://user:V8qTn2Lw5Xc@ftp.acme.invalid/')\n"},
			sample{"/etc/app/app.conf", "# upstream = ftp://user:V8qTn2Lw5Xc@ftp.acme.invalid/\n"}},
		{"expression in source code", whyCode,
			sample{"/srv/app/client.py", "secret_key = Qz8rWm2Tx5Lv7\n"},
			sample{"/srv/app/settings.py", "secret_key = \"Qz8rWm2Tx5Lv7\"\n"}},
		{"reference to code", whyNotSecret,
			sample{"/etc/app/app.ini", "api_key = _argon2.PASSWD_MAX\ntoken = @tokens.shift\n"},
			sample{"/etc/app/app.ini", "api_key = Mq4Zt8Xr2Lw6\n"}},
		{"template placeholder", whyPlaceholder,
			sample{"/etc/app/app.ini", "url = redis://[[username]:[password]]@localhost:6379/0\n"},
			sample{"/etc/app/app.ini", "url = redis://cache:Qz8rWm2Tx5Lv@localhost:6379/0\n"}},
		{"default credentials", whyPlaceholder,
			sample{"/etc/app/app.ini", "broker = amqp://guest:guest@localhost//\ndsn = postgresql://scott:tiger@localhost/test\n"},
			sample{"/etc/app/app.ini", "dsn = postgresql://scott:Tg8Lq2Zx7Vm@localhost/test\n"}},
		{"hand-typed sequence", whyPlaceholder,
			sample{"/etc/app/app.ini", "api_key = cks-1234567890abcdef0\nsecret = 1234abcd-12ab-34cd-56ef-1234567890ab\n"},
			sample{"/etc/app/app.ini", "secret = 8f3ac2d1-5b7e-4c9a-a2f6-3d8e1b0c7a94\n"}},
		{"example value", whyPlaceholder,
			sample{"/etc/app/app.ini", "secret_key = MyTestSecret-1a2b3c\naccess_key = AKIDPMS9RO4H3FEXAMPLE\n"},
			sample{"/etc/app/app.ini", "secret_key = Wn4Kc8Pz2Rb6Xq\n"}},
		{"version range", whyNotSecret,
			sample{"/app/node_modules/.package-lock.json", "\"@aws-sdk/token-providers\": \"^3.972.86\",\n"},
			sample{"/app/config.json", "\"api_token\": \"Rt3zXq7Lm2Vw9Kc5\",\n"}},
		{"file name", whyNotSecret,
			sample{"/var/log/bootstrap.log", "Retrieving libtasn1-6 token=4.13+dfsg1-1+deb12u2_amd64.deb\n"},
			sample{"/var/log/app.log", "token=4Qv8Zr2Wm6Xt9Lp3\n"}},
		{"algorithm name", whyNotSecret,
			sample{"/etc/postgresql/15/main/postgresql.conf", "password_encryption = scram-sha-256\n"},
			sample{"/etc/postgresql/15/main/conf.d/replica.conf", "primary_conninfo_password = Kp4Rm8Zq2Tx6\n"}},
		{"identifier made of words", whyNotSecret,
			sample{"/etc/app/schema.yaml", "secret_key: PrivateKeyAttributesV2\n"},
			sample{"/etc/app/app.yaml", "secret_key: Pq7Xm2Lr9Vz4Tk\n"}},
		{"HTTP header name", whyNotSecret,
			sample{"/etc/app/imds.ini", "api_key_header = x-aws-ec2-metadata-token\nsecret_header: X-Amz-S3session-Token\n"},
			sample{"/etc/app/imds.ini", "secret_header: Xz7Qm-2Lr9Vp4Tk\n"}},
		{"base64 of words", whyWords,
			sample{"/etc/app/app.ini", "api_key = " + base64.StdEncoding.EncodeToString([]byte("mysteriousPaginationToken")) + "\n"},
			sample{"/etc/app/app.ini", "api_key = " + base64.StdEncoding.EncodeToString([]byte("k7#Qz!2m@Xr9$Lp4")) + "\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Without the checks, the loose rules report the sample.
			n := 0
			for _, f := range loose.Scan(c.drop.path, []byte(c.drop.text), 1) {
				if looseRules[f.RuleID] {
					n++
				}
			}
			if n == 0 {
				t.Fatalf("no loose rule matches %q in %s even without the checks: the sample tests nothing", c.drop.text, c.drop.path)
			}
			for _, f := range d.Scan(c.drop.path, []byte(c.drop.text), 1) {
				if looseRules[f.RuleID] {
					t.Errorf("%s: reported %s %q in %s", c.why, f.RuleID, f.Secret, c.drop.path)
				}
			}
			var kept []string
			for _, f := range d.Scan(c.keep.path, []byte(c.keep.text), 1) {
				kept = append(kept, f.RuleID+" "+f.Secret)
			}
			if len(kept) == 0 {
				t.Errorf("true positive lost: %q in %s", c.keep.text, c.keep.path)
			}
		})
	}
}

// TestPreciseReasons pins each reason to its check.
func TestPreciseReasons(t *testing.T) {
	jwtio := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1234567890","name":"John Doe","iat":1516239022}`)) + ".c2lnbmF0dXJl"
	live := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"svc-billing","iss":"https://auth.acme.invalid","exp":1893456000}`)) + ".Zm9vYmFyc2ln"
	for _, c := range []struct {
		rule, path, line, secret, want string
	}{
		{"jwt", "/etc/app/token", "TOKEN=" + jwtio, jwtio, whyFakeJWT},
		{"jwt", "/etc/app/token", "TOKEN=" + live, live, ""},
		{"github-pat", "/app/docs/README.md", "ghp_x", "ghp_x", ""}, // not a loose rule
		{"url-credentials", "/etc/app.conf", "db = postgres://app:tiger@db/app", "tiger", whyPlaceholder},
		{"url-credentials", "/etc/app.conf", "db = postgres://app:Vq8Lz3Kt7Rm@db/app", "Vq8Lz3Kt7Rm", ""},
		{"generic-api-key", "/srv/a.js", `x = "+r.value+"`, "+r.value+", whyNotSecret},
		{"generic-api-key", "/etc/a.yml", "regex: AmazonLookoutMetrics-.+", "AmazonLookoutMetrics-.+", whyNotSecret},
	} {
		if got := precise(c.rule, c.path, c.line, c.secret); got != c.want {
			t.Errorf("precise(%s, %s, %q) = %q, want %q", c.rule, c.path, c.secret, got, c.want)
		}
	}
}

// TestKnownExamples: published example credentials are never findings,
// whatever rule matches them; a key one character away still is.
func TestKnownExamples(t *testing.T) {
	d := newDetector(t)
	// jwt.io's documented token, assembled so this file holds no literal.
	jwtio := strings.Join([]string{"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
		"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
		"SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"}, ".")
	if !KnownExample(jwtio) {
		t.Fatal("jwt.io's example token is not known")
	}
	if fs := d.Scan("/etc/app/auth.env", []byte("AUTH_TOKEN="+jwtio+"\n"), 1); len(fs) > 0 {
		t.Errorf("known example reported: %+v", fs)
	}
	if KnownExample(jwtio[:len(jwtio)-1] + "d") {
		t.Error("a changed token is taken for the example")
	}
}

// TestKeyBodyShape: PEM markers followed by other strings (class files,
// libraries) are not keys; DER and OpenSSH bodies are.
func TestKeyBodyShape(t *testing.T) {
	for block, want := range map[string]bool{
		"-----BEGIN PRIVATE KEY-----\nio/netty/util/CharsetUtil\nUS_ASCII\n-----END PRIVATE KEY-----":                false,
		"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----":                   true,
		"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oBpA\n-----END EC PRIVATE KEY-----": true,
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----":           true,
		"-----BEGIN OPENSSH PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END OPENSSH PRIVATE KEY-----":           false,
		"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nq7Zt3kQ9\n-----END RSA PRIVATE KEY-----":         true,
	} {
		if got := keyBodyShape(block); got != want {
			t.Errorf("keyBodyShape(%q) = %v, want %v", block, got, want)
		}
	}
}

func TestDocOrTestPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/app/README.md": true, "/usr/share/doc/x/copyright": true, "/app/node_modules/x/test/a.js": true,
		"/app/src/__tests__/a.js": true, "/app/x.spec.ts": true, "/srv/client_test.go": true,
		"/usr/share/man/man1/ls.1.gz": true, "/app/app.jar!/docs/a.properties": true,
		"/app/secrets.txt": false, "/app/config/settings.py": false, "/etc/app/app.conf": false,
		"/app/latest/token.json": false, "/app/contest.env": false,
	} {
		if got := DocOrTestPath(p); got != want {
			t.Errorf("DocOrTestPath(%s) = %v, want %v", p, got, want)
		}
	}
}
