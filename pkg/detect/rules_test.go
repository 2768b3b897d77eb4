package detect

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func scanSample(d *Detector, s sample) []Hit {
	if s.text == "" {
		return d.ScanPath(s.path)
	}
	return d.Scan(s.path, []byte(s.text), 1)
}

// Every rule family: its true positives fire with the right secret, its
// near misses do not.
func TestRuleSamples(t *testing.T) {
	d := newDetector(t)
	for _, rd := range rulesWithSamples() {
		id := rd.rule.RuleID
		t.Run(id, func(t *testing.T) {
			if len(rd.tps) == 0 || len(rd.fps) == 0 {
				t.Fatalf("rule %s needs true-positive and near-miss samples", id)
			}
			if !ValidSeverity(rd.severity) {
				t.Fatalf("rule %s: bad severity %q", id, rd.severity)
			}
			if rd.rule.Regex != nil || rd.rule.Path != nil {
				r := rd.rule
				if err := r.Validate(); err != nil {
					t.Fatalf("rule %s invalid: %v", id, err)
				}
			}
			for i, s := range rd.tps {
				var got []string
				found := false
				for _, f := range scanSample(d, s) {
					got = append(got, f.RuleID+"="+f.Secret)
					if f.RuleID == id && (s.secret == "" || f.Secret == s.secret) {
						found = true
						if f.Severity == "" || f.Description == "" {
							t.Errorf("tp %d: finding without severity or description: %+v", i, f)
						}
					}
				}
				if !found {
					t.Errorf("tp %d (%s): %s did not fire with %q; got %v", i, s.path, id, s.secret, got)
				}
			}
			for i, s := range rd.fps {
				for _, f := range scanSample(d, s) {
					if f.RuleID == id {
						t.Errorf("near miss %d (%s) fired: %+v", i, s.path, f)
					}
				}
			}
		})
	}
}

func findRule(fs []Hit, id string) *Hit {
	for i := range fs {
		if fs[i].RuleID == id {
			return &fs[i]
		}
	}
	return nil
}

func TestDockerConfigAuthDecoded(t *testing.T) {
	d := newDetector(t)
	text := "{\n\t\"auths\": {\n\t\t\"registry.example.net\": {\n\t\t\t\"auth\": \"YnVpbGRlcjpUN3BYcTJMbTlWdzRSeDg=\"\n\t\t}\n\t}\n}\n"
	f := findRule(d.Scan("/root/.docker/config.json", []byte(text), 1), "docker-config-auth")
	if f == nil {
		t.Fatal("no docker-config-auth finding")
	}
	if f.Secret != "T7pXq2Lm9Vw4Rx8" || f.Line != 4 || f.Severity != "high" {
		t.Errorf("got secret %q line %d severity %s", f.Secret, f.Line, f.Severity)
	}
	if !strings.Contains(f.Note, "'builder'") || !strings.Contains(f.Note, "registry.example.net") || strings.Contains(f.Note, f.Secret) {
		t.Errorf("note %q should name user and registry, not the password", f.Note)
	}
	// Not user:password once decoded: dropped.
	bad := `{"auths": {"r": {"auth": "bm9jb2xvbmhlcmU="}}}`
	if f := findRule(d.Scan("/root/.docker/config.json", []byte(bad), 1), "docker-config-auth"); f != nil {
		t.Errorf("auth without a colon reported: %+v", f)
	}
}

func TestPrivateKeyNotesAndSeverity(t *testing.T) {
	d := newDetector(t)
	for _, c := range []struct {
		path, text, sev, note string
	}{
		{"/root/.ssh/id_rsa", fakeRSAKey, "high", "RSA private key (PKCS#1 PEM), not encrypted"},
		{"/root/key.pem", fakeEncRSAKey, "medium", "encrypted (PEM Proc-Type"},
		{"/root/key.p8", fakePKCS8Enc, "medium", "PKCS#8 PEM), encrypted"},
		{"/root/.ssh/id_ed25519", fakeOpenSSH, "high", "OpenSSH private key, not encrypted"},
		{"/root/.ssh/id_ed25519", fakeOpenSSHEnc, "medium", "encrypted (aes256-ctr)"},
		{"/etc/ssh/ssh_host_rsa_key", fakeRSAKey, "info", "generated when openssh-server was installed"},
		{"/etc/ssl/private/ssl-cert-snakeoil.key", fakeRSAKey, "info", "snakeoil"},
	} {
		f := findRule(d.Scan(c.path, []byte(c.text), 1), "private-key")
		if f == nil {
			t.Errorf("%s: no private-key finding", c.path)
			continue
		}
		if f.Severity != c.sev || !strings.Contains(f.Note, c.note) {
			t.Errorf("%s: severity %s note %q; want %s and %q", c.path, f.Severity, f.Note, c.sev, c.note)
		}
	}
}

func TestSeverities(t *testing.T) {
	prev := 100
	for _, s := range Severities {
		r := SeverityRank(s)
		if r < 0 || r >= prev {
			t.Errorf("Severities not ordered most severe first at %s", s)
		}
		prev = r
	}
	if ValidSeverity("bogus") || SeverityRank("bogus") != SeverityRank("high") {
		t.Error("an unknown severity is not valid and ranks as high")
	}
	d := newDetector(t)
	fs := d.Scan("/app/.env", []byte("GITHUB_TOKEN="+githubPAT+"\n"), 1)
	if len(fs) != 1 || fs[0].Severity != "high" || fs[0].RuleID != "github-pat" {
		t.Errorf("github-pat in .env: want one high github-pat (dotenv-secret yields), got %+v", fs)
	}
}

func TestDefaultAllowlist(t *testing.T) {
	als, err := parseDefaultAllowlist()
	if err != nil {
		t.Fatal(err)
	}
	if len(als) < 5 {
		t.Fatalf("only %d allowlist entries", len(als))
	}
	d := newDetector(t)
	// Documentation examples: allowlisted.
	doc := "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
	if fs := d.Scan("/root/.aws/credentials", []byte(doc), 1); len(fs) != 0 {
		t.Errorf("documentation example keys reported: %+v", fs)
	}
	// /usr/share/doc is skipped, and package test fixtures too.
	if fs := d.Scan("/usr/share/doc/app/README", []byte(fakeRSAKey), 1); len(fs) != 0 {
		t.Errorf("/usr/share/doc reported: %+v", fs)
	}
	if fs := d.Scan("/usr/lib/python3/dist-packages/requests/tests/key.pem", []byte(fakeRSAKey), 1); len(fs) != 0 {
		t.Errorf("package test fixture reported: %+v", fs)
	}
	// But node_modules and site-packages themselves are read (gitleaks'
	// default allowlist would skip them).
	for _, p := range []string{"/app/node_modules/leaky/index.js", "/usr/lib/python3/dist-packages/app/settings.py", "/app/vendor/github.com/x/y/conf.go"} {
		if fs := d.Scan(p, []byte("token = "+githubPAT+"\n"), 1); findRule(fs, "github-pat") == nil {
			t.Errorf("%s not scanned: %+v", p, fs)
		}
	}
}

const userTOML = `
title = "team rules"
[extend]
useDefault = true
disabledRules = ["shell-history"]

[[rules]]
id = "acme-internal-token"
description = "ACME internal service token"
regex = '''\bacme_[a-z0-9]{24}\b'''
keywords = ["acme_"]
tags = ["severity:low"]

[[allowlists]]
description = "our fixtures"
paths = ['''^/srv/fixtures/''']

[[allowlists]]
description = "a known test PAT"
targetRules = ["github-pat"]
regexes = ['''^ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV$''']
`

func TestUserConfigExtendsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "layerscan.toml")
	if err := os.WriteFile(path, []byte(userTOML), 0o644); err != nil {
		t.Fatal(err)
	}
	def := newDetector(t)
	// Loaded twice: the second New must see the same config (gitleaks'
	// extend counter would break a second Translate of an extending config).
	for range 2 {
		d, err := New(Options{ConfigFile: path})
		if err != nil {
			t.Fatal(err)
		}
		if d.RuleCount() != def.RuleCount() {
			t.Errorf("rule count %d, want %d (+1 custom −1 disabled)", d.RuleCount(), def.RuleCount())
		}
		if d.RulesetFingerprint() == def.RulesetFingerprint() {
			t.Error("ruleset fingerprint ignores --config")
		}
		f := findRule(d.Scan("/app/x.conf", []byte("t=acme_0123456789abcdefghijklmn\n"), 1), "acme-internal-token")
		if f == nil || f.Severity != "low" {
			t.Errorf("custom rule: %+v", f)
		}
		// Defaults still there.
		if findRule(d.Scan("/app/x", []byte("id="+awsKey+"\n"), 1), "aws-access-token") == nil {
			t.Error("default rule lost")
		}
		// Disabled rule gone.
		if fs := d.ScanPath("/root/.bash_history"); len(fs) != 0 {
			t.Errorf("disabled rule fired: %+v", fs)
		}
		// Global path allowlist and per-rule regex allowlist.
		if fs := d.Scan("/srv/fixtures/a", []byte("id="+awsKey+"\n"), 1); len(fs) != 0 {
			t.Errorf("path allowlist ignored: %+v", fs)
		}
		if fs := d.Scan("/app/y", []byte("GITHUB_TOKEN="+githubPAT+"\n"), 1); findRule(fs, "github-pat") != nil {
			t.Errorf("per-rule allowlist ignored: %+v", fs)
		}
	}
}

func TestUserConfigReplacesWithoutUseDefault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "only.toml")
	cfg := "[[rules]]\nid = \"only\"\nregex = '''only_[0-9]{8}'''\nkeywords = [\"only_\"]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{ConfigFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if d.RuleCount() != 1 {
		t.Errorf("rule count %d, want 1", d.RuleCount())
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[[rules]]\nid = \"x\"\nregex = '''([a-z'''\n"), 0o644)
	if _, err := New(Options{ConfigFile: bad}); err == nil {
		t.Error("bad regex in --config accepted")
	}
}

func TestRulesetFingerprintCoversOptions(t *testing.T) {
	a, _ := New(Options{})
	b, _ := New(Options{MaxDecodeDepth: 2})
	if a.RulesetFingerprint() == b.RulesetFingerprint() {
		t.Error("decode depth not in the fingerprint")
	}
	c, _ := New(Options{})
	if a.RulesetFingerprint() != c.RulesetFingerprint() {
		t.Error("fingerprint not stable")
	}
}

func TestGenericThresholds(t *testing.T) {
	for v, want := range map[string]bool{
		"Tq7vX2mL9rKz":                     true,
		"self.secret_key":                  false,
		"abcdefgh":                         false,
		"aaaaBBBB":                         false,
		"Passw0rdPassw0rd":                 false,
		"q8Vt2Lm9Xr4Kp7Wz3Nb6Hc1Yd5Fg0Js8": true,
	} {
		if got := keepGeneric(v); got != want {
			t.Errorf("keepGeneric(%q) = %v (entropy %.2f)", v, got, Entropy(v))
		}
	}
}

func TestRefineDropsNoise(t *testing.T) {
	d, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A Debian Packages index: SHA-1 digests near the word "sourcegraph".
	packages := "Package: sourcegraph-cli\nDescription: sourcegraph command line\nSHA1: 4f2a9c0e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39\n"
	for _, f := range d.Scan("/var/lib/apt/lists/x_Packages", []byte(packages), 1) {
		if f.RuleID == "sourcegraph-access-token" {
			t.Errorf("a SHA-1 digest reported as a Sourcegraph token: %+v", f.RuleID)
		}
	}
	// A real-shaped token still fires.
	tok := "SRC_ACCESS_TOKEN=sgp_" + "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c" + "\n"
	found := false
	for _, f := range d.Scan("/app/.env", []byte(tok), 1) {
		found = found || f.RuleID == "sourcegraph-access-token"
	}
	if !found {
		t.Error("an sgp_ token must still be found")
	}
	// PEM markers from a TLS library's strings, with other strings between.
	markers := "-----BEGIN RSA PRIVATE KEY-----\nunable to load private key from file\nerror reading the PEM header %s in %s\n-----END RSA PRIVATE KEY-----\n"
	for _, f := range d.ScanBinary("/usr/lib/libgnutls.so.30", []byte(markers)) {
		if f.RuleID == "private-key" {
			t.Errorf("PEM markers without a key body reported: %+v", f.Note)
		}
	}
}

func TestRuleOriginAndDefaultSeverity(t *testing.T) {
	for id, want := range map[string][2]string{
		"private-key":               {OriginLayerscan, "high"},
		"pkcs12-file":               {OriginLayerscan, "medium"},
		"shell-history":             {OriginLayerscan, "low"},
		"generic-secret-assignment": {OriginLayerscan, "medium"},
		"github-pat":                {OriginGitleaks, "high"},
		"generic-api-key":           {OriginGitleaks, "medium"},
		"acme-internal-token":       {OriginConfig, "high"},
	} {
		if o, s := RuleOrigin(id), DefaultSeverity(id); o != want[0] || s != want[1] {
			t.Errorf("%s: origin %s, severity %s; want %v", id, o, s, want)
		}
	}
	if ids := LayerscanRules(); len(ids) != len(customRules()) || !sort.StringsAreSorted(ids) {
		t.Errorf("LayerscanRules: %v", ids)
	}
}
