package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
)

// fakeToken makes a distinct fake token: prefix and n characters of
// [0-9A-Za-z] derived from seed.
func fakeToken(prefix, seed string, n int) string {
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; b.Len() < len(prefix)+n; i++ {
		for _, c := range sha256.Sum256([]byte(fmt.Sprint(seed, i))) {
			if b.Len() < len(prefix)+n {
				b.WriteByte(alnum[int(c)%len(alnum)])
			}
		}
	}
	return b.String()
}

// twelveSecrets is a three-layer image holding 12 distinct fake secrets
// the way images leak them: several in one .env (deleted by layer 2), one
// token copied into 40 node_modules files, a docker login's config.json
// (two rules on the same bytes), an .npmrc, a database URL, ENV and LABEL
// values (in the config and in the history), a build argument.
func twelveSecrets(t *testing.T) (dir string, secrets map[string]string) {
	gh2, gh3, gh4 := fakeToken("ghp_", "copied", 36), fakeToken("ghp_", "login", 36), fakeToken("ghp_", "env", 36)
	gl2, xoxb2 := fakeToken("glpat-", "arg", 20), "xoxb-2745193051-4819275630194-"+fakeToken("", "label", 24)
	pgPass := fakeToken("", "pg", 20)
	secrets = map[string]string{"github .env": testimage.SecretGitHub, "gitlab .env": testimage.SecretGitLab,
		"stripe .env": testimage.SecretStripe, "slack .env": testimage.SecretSlack, "github node_modules": gh2,
		"docker login": gh3, "npmrc": testimage.SecretNPM, "env": gh4, "build arg": gl2, "label": xoxb2,
		"postgres": pgPass, "aws": testimage.SecretAWS}
	layer0 := []testimage.Entry{{Name: "app/.env", Body: "GITHUB_TOKEN=" + testimage.SecretGitHub + "\nGITLAB_TOKEN=" + testimage.SecretGitLab +
		"\nSTRIPE_KEY=" + testimage.SecretStripe + "\nSLACK_TOKEN=" + testimage.SecretSlack + "\n"}}
	for i := range 40 {
		layer0 = append(layer0, testimage.Entry{Name: fmt.Sprintf("app/node_modules/pkg%02d/config.js", i),
			Body: "module.exports = { github: { token: \"" + gh2 + "\" } };\n"})
	}
	auth := base64.StdEncoding.EncodeToString([]byte("deploy:" + gh3))
	layer1 := []testimage.Entry{
		{Name: "root/.docker/config.json", Body: "{\n\t\"auths\": {\n\t\t\"ghcr.io\": {\n\t\t\t\"auth\": \"" + auth + "\"\n\t\t}\n\t}\n}\n"},
		{Name: "root/.npmrc", Body: "//registry.npmjs.org/:_authToken=" + testimage.SecretNPM + "\n"},
		{Name: "app/config.yaml", Body: "database:\n  url: postgres://app:" + pgPass + "@db.internal:5432/app\n"},
		{Name: "app/aws.env", Body: "AWS_ACCESS_KEY_ID=" + testimage.SecretAWS + "\n"},
	}
	layer2 := []testimage.Entry{{Name: "app/.wh..env"}}
	dir = hostileImage{
		layers: []hostileLayer{{tar: testimage.Tar(layer0...)}, {tar: testimage.Tar(layer1...)}, {tar: testimage.Tar(layer2...)}},
		history: []map[string]any{
			{"created_by": "COPY . /app # buildkit"},
			{"created_by": "ENV GITHUB_TOKEN=" + gh4, "empty_layer": true},
			{"created_by": "LABEL ci.token=" + xoxb2, "empty_layer": true},
			{"created_by": "|1 GITLAB_TOKEN=" + gl2 + " /bin/sh -c docker login ghcr.io && npm config set //registry.npmjs.org/:_authToken $NPM"},
			{"created_by": "RUN /bin/sh -c rm /app/.env"},
		},
		env:    []string{"PATH=/usr/bin", "GITHUB_TOKEN=" + gh4},
		labels: map[string]string{"ci.token": xoxb2},
	}.write(t)
	return dir, secrets
}

// TestOneEntryPerSecret: 12 distinct secrets are 12 entries of the
// secrets view, each with all its places, whatever the number of findings.
func TestOneEntryPerSecret(t *testing.T) {
	dir, secrets := twelveSecrets(t)
	ref := "oci:" + dir
	rep := scanJSON(t, nil, ref, "--show-secrets")
	var doc struct {
		Totals  report.Totals
		Secrets []report.Secret
	}
	res := runCLI(t, nil, "--format", "json", "--show-secrets", "--exit-code", "0", ref)
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	findings := len(rep.Images[0].Findings)
	if doc.Totals.Secrets != 12 || len(doc.Secrets) != 12 || doc.Totals.Findings != findings || findings <= 12 {
		var lines []string
		for _, s := range doc.Secrets {
			lines = append(lines, fmt.Sprintf("%s %s %v (%d places)", s.Kind, s.Secret, s.Rules, len(s.Occurrences)))
		}
		t.Fatalf("totals %+v, %d secrets, %d findings; want 12 secrets in more findings:\n%s", doc.Totals, len(doc.Secrets), findings, strings.Join(lines, "\n"))
	}
	by := map[string]report.Secret{}
	for _, s := range doc.Secrets {
		by[s.Secret] = s
	}
	key, _ := fingerprint.ParseKey(testFingerprintKey)
	for what, v := range secrets {
		s, ok := by[v]
		if !ok {
			t.Errorf("%s: no secret entry", what)
			continue
		}
		if s.ID != key.Secret(v) {
			t.Errorf("%s: id %s, want the keyed id", what, s.ID)
		}
	}
	check := func(what string, places int, status string, rules ...string) {
		t.Helper()
		s := by[secrets[what]]
		if len(s.Occurrences) != places || s.Status != status || !slices.Equal(s.Rules, rules) {
			t.Errorf("%s: %d places, status %s, rules %v; want %d, %s, %v", what, len(s.Occurrences), s.Status, s.Rules, places, status, rules)
		}
	}
	check("github node_modules", 40, "present", "github-pat")
	check("github .env", 1, "deleted", "github-pat")
	check("docker login", 1, "present", "docker-config-auth", "github-pat")
	if s := by[secrets["docker login"]]; s.Kind != "github-pat" {
		t.Errorf("docker login: kind %s, want the most specific rule, github-pat", s.Kind)
	}
	for _, what := range []string{"env", "label"} {
		s := by[secrets[what]]
		var sources []string
		for _, o := range s.Occurrences {
			sources = append(sources, o.Source)
		}
		slices.Sort(sources)
		if !slices.Equal(sources, []string{"config", "history"}) {
			t.Errorf("%s: places in %v, want the config and the history", what, sources)
		}
	}
	// Redacted, the table tells the two GitHub tokens apart by their ids.
	table := runCLI(t, nil, "--exit-code", "0", ref).stdout
	if !strings.HasPrefix(table, "12 secrets to rotate (") || strings.Contains(table, testimage.SecretGitHub) {
		t.Errorf("table head:\n%s", table[:min(len(table), 400)])
	}
	for _, what := range []string{"github .env", "github node_modules"} {
		if id := key.Secret(secrets[what]); !strings.Contains(table, "ghp_**** #"+id[:8]) {
			t.Errorf("the table does not name %s as ghp_**** #%s", what, id[:8])
		}
	}
}

// TestArticleGoodOneSecret: the seed article's GOOD example leaks one
// secret (the registry password in config.json) found by two rules.
func TestArticleGoodOneSecret(t *testing.T) {
	corpus := buildahCorpus(t)
	res := runCLI(t, nil, "--format", "json", "--exit-code", "0", "oci-archive:"+corpus+"/article-good.oci.tar")
	var doc struct {
		Totals  report.Totals
		Secrets []report.Secret
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, res.stderr)
	}
	if doc.Totals.Secrets != 1 || doc.Totals.Findings != 2 || len(doc.Secrets) != 1 {
		t.Fatalf("totals %+v", doc.Totals)
	}
	s := doc.Secrets[0]
	if !slices.Equal(s.Rules, []string{"docker-config-auth", "github-pat"}) || len(s.Occurrences) != 1 || s.Occurrences[0].Path != "/root/.docker/config.json" {
		t.Errorf("secret %+v", s)
	}
}

// TestFingerprintsAreKeyed: no fingerprint or secret id in a report is the
// old unsalted formula or a plain hash of the secret; another key gives
// other values for the same image.
func TestFingerprintsAreKeyed(t *testing.T) {
	dir, _ := twelveSecrets(t)
	ref := "oci:" + dir
	shown := scanJSON(t, nil, ref, "--show-secrets")
	redacted := runCLI(t, nil, "--format", "json", "--exit-code", "0", ref).stdout
	other := runCLI(t, []string{fingerprint.EnvKey + "=another key, for another team"}, "--format", "json", "--exit-code", "0", ref).stdout
	key, _ := fingerprint.ParseKey(testFingerprintKey)
	for _, f := range shown.Images[0].Findings {
		place := f.Path
		switch f.Source {
		case "history":
			place = "history"
		case "config":
			place = "config:" + f.Field
		}
		for _, m := range f.ArchivePath {
			place += "!/" + m
		}
		plain := sha256.Sum256([]byte(f.Secret))
		for _, unkeyed := range []string{fingerprint.Legacy(f.Rule, place, f.Secret), fmt.Sprintf("%x", plain)[:32], fmt.Sprintf("%x", plain)[:16]} {
			if strings.Contains(redacted, unkeyed) {
				t.Errorf("%s %s: the report holds an unkeyed hash of the secret", f.Rule, place)
			}
		}
		if f.Fingerprint != key.Finding(f.Rule, place, f.Secret) || f.SecretID != key.Secret(f.Secret) {
			t.Errorf("%s %s: fingerprint %s / id %s are not the key's", f.Rule, place, f.Fingerprint, f.SecretID)
		}
		if strings.Contains(other, f.Fingerprint) || strings.Contains(other, f.SecretID) {
			t.Errorf("%s %s: another key gives the same values", f.Rule, place)
		}
	}
}

// TestFingerprintKeyFile: without LAYERSCAN_FINGERPRINT_KEY the key is made
// once in the user's config directory (0600) and used again; a key file
// others can read is refused.
func TestFingerprintKeyFile(t *testing.T) {
	home := t.TempDir()
	env := []string{fingerprint.EnvKey + "=", "HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config"}
	ref := "oci:" + fixture(t, "lifecycle")
	fps := func(args ...string) string {
		t.Helper()
		res := runCLI(t, env, append([]string{"--format", "json", "--exit-code", "0"}, args...)...)
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("exit %d: %v\n%s", res.code, err, res.stderr)
		}
		var out []string
		for _, f := range rep.Images[0].Findings {
			out = append(out, f.Fingerprint+" "+f.SecretID)
		}
		return strings.Join(out, "\n")
	}
	a, b := fps(ref), fps(ref)
	if a != b || a == "" {
		t.Fatalf("two runs with the installation key differ:\n%s\n%s", a, b)
	}
	path := home + "/.config/layerscan/fingerprint.key"
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	os.Chmod(path, 0o644)
	assertUsageError(t, runCLI(t, env, ref), "chmod 600")
	os.Chmod(path, 0o600)
	if fps("--fingerprint-key-file", path, ref) != a {
		t.Error("--fingerprint-key-file with the same file gives other values")
	}
}
