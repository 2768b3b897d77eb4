package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/pkg/history"
)

// causeExpectation is what TestBuildahCauses reads of expected.json.
type causeExpectation struct {
	Path   string `json:"path"`
	Layer  int    `json:"layer"`
	Status string `json:"status"`
	Rule   string `json:"rule"`
	Source string `json:"source"`
	Cause  string `json:"cause"`
}

// requiredCauses must each be the expected cause of some buildah case.
var requiredCauses = []history.Cause{
	history.CopiedIntoImage, history.RemovedInLaterLayer, history.OverwrittenInLaterLayer,
	history.SecretMountPersisted, history.BuildArgInHistory, history.EnvInConfig, history.LabelInConfig,
	history.CredentialStore, history.VCSMetadata, history.ShellHistory, history.InheritedFromBase,
}

// TestBuildahCauses checks the cause of every finding of every buildah case
// against expected.json, that every finding has a cause and a remediation,
// and that every required cause is covered by a case.
func TestBuildahCauses(t *testing.T) {
	dir := buildahCorpus(t)
	cases, err := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "buildah", "cases", "*", "expected.json"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	covered := map[string]bool{}
	for _, exp := range cases {
		name := filepath.Base(filepath.Dir(exp))
		raw, err := os.ReadFile(exp)
		if err != nil {
			t.Fatal(err)
		}
		var want []causeExpectation
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%s: %v", exp, err)
		}
		t.Run(name, func(t *testing.T) {
			rep := scanJSON(t, nil, "oci-archive:"+filepath.Join(dir, name+".oci.tar"))
			got := map[string]string{}
			for _, im := range rep.Images {
				for _, f := range im.Findings {
					if f.Cause == "" || f.Remediation == "" {
						t.Errorf("%s %s: cause %q remediation %q", f.Rule, f.Path, f.Cause, f.Remediation)
					}
					got[fmt.Sprintf("%s|%s|%d|%s|%s", f.Source, f.Path, f.Layer.Index, f.Status, f.Rule)] = f.Cause
					if f.Cause == string(history.InheritedFromBase) && !strings.Contains(f.Remediation, "localhost/layerscan-test/inherit-base:latest") {
						t.Errorf("inherited remediation does not name the base: %q", f.Remediation)
					}
				}
			}
			for _, w := range want {
				if w.Cause == "" {
					t.Errorf("%s %s: expected.json entry has no cause", w.Rule, w.Path)
					continue
				}
				source := w.Source
				if source == "layer" {
					source = "file"
				}
				k := fmt.Sprintf("%s|%s|%d|%s|%s", source, w.Path, w.Layer, w.Status, w.Rule)
				if got[k] != w.Cause {
					t.Errorf("%s: cause %q, want %q", k, got[k], w.Cause)
				}
				covered[w.Cause] = true
			}
		})
	}
	for _, c := range requiredCauses {
		if !covered[string(c)] {
			t.Errorf("no buildah case expects cause %s", c)
		}
	}
}

// TestArticleClaimsChecked pins down where the seed article is wrong, with
// the causes layerscan gives and the evidence anyone can extract.
func TestArticleClaimsChecked(t *testing.T) {
	dir := buildahCorpus(t)
	cases := filepath.Join(repoRoot(t), "testdata", "buildah", "cases")
	t.Run("a file written from a secret mount is stored: extract gets it back", func(t *testing.T) {
		ref := "oci-archive:" + filepath.Join(dir, "secret-mount-persisted.oci.tar")
		rep := scanJSON(t, nil, ref)
		f := onlyFinding(t, rep, "npm-access-token")
		if f.Cause != "secret-mount-persisted" || f.Layer.Index != 1 || !strings.Contains(rep.Images[0].Evidence(f), "--layer 1") {
			t.Errorf("finding = %+v", f)
		}
		want, err := os.ReadFile(filepath.Join(cases, "secret-mount-persisted", "mysecret.json"))
		if err != nil {
			t.Fatal(err)
		}
		res := runCLI(t, nil, "extract", ref, "--layer", "1", "/app/secrets.json", "-o", "-")
		if res.code != 0 || !bytes.Equal([]byte(res.stdout), want) {
			t.Errorf("extract: exit %d, %q, want %q (%s)", res.code, res.stdout, want, res.stderr)
		}
	})
	t.Run("the GOOD example leaves docker login's credential store", func(t *testing.T) {
		ref := "oci-archive:" + filepath.Join(dir, "article-good.oci.tar")
		rep := scanJSON(t, nil, ref, "--max-decode-depth", "2")
		for _, rule := range []string{"docker-config-auth", "github-pat"} {
			f := onlyFinding(t, rep, rule)
			if f.Path != "/root/.docker/config.json" || f.Cause != "credential-store" || !strings.Contains(f.Layer.Instruction, "docker login") {
				t.Errorf("%s: %+v", rule, f)
			}
		}
		res := runCLI(t, nil, "extract", ref, "--layer", "2", "/root/.docker/config.json", "-o", "-")
		// base64("layerscan-ci:ghp_R7tL…") as the shim writes it.
		if res.code != 0 || !strings.Contains(res.stdout, `"auth": "bGF5ZXJzY2FuLWNpOmdocF9SN3RMdzlaY1k0YkhmNnNEZzFhRW81dUl5VDBRZXE4SmsybVY="`) {
			t.Errorf("extract: exit %d\n%s%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("the BAD example: copied-into-image, in the history listing under its COPY", func(t *testing.T) {
		ref := "oci-archive:" + filepath.Join(dir, "article-bad.oci.tar")
		res := runCLI(t, nil, "history", ref)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		lines := strings.Split(res.stdout, "\n")
		at := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "3 ") && strings.Contains(l, "COPY file:") {
				at = i
			}
		}
		if at < 0 || at+2 >= len(lines) ||
			!strings.Contains(lines[at+1], "secret aws-access-token /app/secrets.txt:1 (present) AKIA****  cause: copied-into-image") ||
			!strings.Contains(lines[at+2], "aws-secret-access-key /app/secrets.txt:2") {
			t.Errorf("history:\n%s", res.stdout)
		}
		if !strings.Contains(res.stdout, "copied-into-image: Rotate the secret") || strings.Contains(res.stdout, "AKIAZ7QH3LMNX4TR2KWP") {
			t.Errorf("history:\n%s", res.stdout)
		}
	})
	for _, clean := range []string{"secret-mount-cleaned", "multistage"} {
		t.Run(clean+": nothing in the history listing", func(t *testing.T) {
			res := runCLI(t, nil, "history", "oci-archive:"+filepath.Join(dir, clean+".oci.tar"))
			if res.code != 0 || strings.Contains(res.stdout, "└ secret") || strings.Contains(res.stdout, "Causes:") {
				t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
		})
	}
}

// TestHistoryBaseImage checks the base boundary of a case built FROM
// another case: from the annotations, from --base, and --base with an image
// that is not the base.
func TestHistoryBaseImage(t *testing.T) {
	dir := buildahCorpus(t)
	ref := "oci-archive:" + filepath.Join(dir, "inherited.oci.tar")
	base := "oci-archive:" + filepath.Join(dir, "inherit-base.oci.tar")
	type doc struct {
		Base *struct {
			Name             string
			LastHistoryIndex int `json:"last_history_index"`
			Layers           int
			Source           string
		}
		Entries []struct {
			Index    int
			InBase   bool `json:"in_base"`
			Findings []struct{ Rule, Path, Cause string }
		}
	}
	for _, tc := range []struct {
		args       []string
		name, from string
	}{
		{nil, "localhost/layerscan-test/inherit-base:latest", "annotation"},
		{[]string{"--base", base}, base, "base-image"},
	} {
		res := runCLI(t, nil, append([]string{"history", ref, "--format", "json"}, tc.args...)...)
		var d doc
		if err := json.Unmarshal([]byte(res.stdout), &d); res.code != 0 || err != nil {
			t.Fatalf("%v: exit %d %v\n%s", tc.args, res.code, err, res.stderr)
		}
		if d.Base == nil || d.Base.Name != tc.name || d.Base.Source != tc.from || d.Base.LastHistoryIndex != 2 || d.Base.Layers != 2 {
			t.Errorf("%v: base %+v", tc.args, d.Base)
		}
		if len(d.Entries) != 4 || !d.Entries[2].InBase || d.Entries[3].InBase {
			t.Fatalf("%v: entries %+v", tc.args, d.Entries)
		}
		if fs := d.Entries[2].Findings; len(fs) != 1 || fs[0].Path != "/etc/aws.env" || fs[0].Cause != "inherited-from-base-image" {
			t.Errorf("%v: findings of entry 2: %+v", tc.args, fs)
		}
	}
	res := runCLI(t, nil, "history", ref, "--base", "oci-archive:"+filepath.Join(dir, "label.oci.tar"))
	assertOneLineError(t, res, "is not the base of the image")
	// Without annotations (docker archive): buildah's FROM comment.
	res = runCLI(t, nil, "history", filepath.Join(dir, "inherited.docker.tar"))
	if res.code != 0 || !strings.Contains(res.stdout, "history 0-2, layers 0-1 (heuristic: the history comment FROM localhost/layerscan-test/inherit-base:latest)") ||
		!strings.Contains(res.stdout, "cause: inherited-from-base-image") {
		t.Errorf("docker archive: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
