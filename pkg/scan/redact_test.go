package scan_test

import (
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/scan"
)

var allSecrets = []string{
	testimage.SecretAWS, testimage.SecretGitHub, testimage.SecretGitLab,
	testimage.SecretStripe, testimage.SecretSlack, testimage.SecretNPM,
}

// leaks says where in js a secret, or its second half, shows.
func leaks(js string, secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		if strings.Contains(js, s) {
			out = append(out, s)
		} else if half := s[len(s)/2:]; strings.Contains(js, half) {
			out = append(out, "part of "+s)
		}
	}
	return out
}

// TestRedactedByDefault: the JSON report of every fixture, from every
// format, holds no plaintext secret; with ShowSecrets it holds each one
// that was found.
func TestRedactedByDefault(t *testing.T) {
	fixtures, err := testimage.Fixtures()
	if err != nil {
		t.Fatal(err)
	}
	redacting := newScanner(t, scan.Options{})
	showing := newScanner(t, scan.Options{ShowSecrets: true})
	for _, f := range fixtures {
		for _, ref := range fixtureRefs(t, f) {
			reps := scanRef(t, redacting, ref)
			if l := leaks(jsonOf(t, reps...), allSecrets...); len(l) > 0 {
				t.Errorf("%s: the report shows %v", ref, l)
			}
			for _, rep := range reps {
				for _, fd := range rep.Findings {
					if !strings.HasSuffix(fd.Secret, "****") || len(fd.Secret) > 8 {
						t.Errorf("%s: %s: secret shown as %q", ref, fd.Path, fd.Secret)
					}
				}
			}

			reps = scanRef(t, showing, ref)
			js := jsonOf(t, reps...)
			for _, rep := range reps {
				for _, fd := range f.Findings {
					if fd.Platform != "" && fd.Platform != rep.Platform {
						continue
					}
					if !strings.Contains(js, `"secret": "`+fd.Secret+`"`) {
						t.Errorf("%s: ShowSecrets report lacks %s's secret", ref, fd.Path)
					}
				}
				for _, got := range rep.Findings {
					for _, fd := range f.Findings {
						if fd.Rule == got.Rule && got.Secret != fd.Secret {
							t.Errorf("%s: %s: secret %q, want %q", ref, got.Path, got.Secret, fd.Secret)
						}
					}
				}
			}
		}
	}
}

// TestCreatedByRedacted: history text that holds a secret (a token on a
// RUN line, a build argument) is redacted wherever the report shows it:
// the layer list, a finding's layer and the layer that removed it.
func TestCreatedByRedacted(t *testing.T) {
	const buildArg = "hunter2-build-arg-value"
	createdBy := []string{
		// The same token as the file's: found in the layer, shown in history.
		"RUN /bin/sh -c echo GITHUB_TOKEN=" + testimage.SecretGitHub + " > /app/token.env # buildkit",
		// A token only history shows.
		"RUN /bin/sh -c curl -H 'PRIVATE-TOKEN: " + testimage.SecretGitLab + "' https://gitlab.example.com/api/v4/projects # buildkit",
		// A build argument, recorded in the clear, and a secret on the line
		// of the step that deletes the file.
		"|1 DEPLOY_KEY=" + buildArg + " /bin/sh -c rm /app/token.env && echo STRIPE=" + testimage.SecretStripe,
	}
	img := memImage(t, createdBy,
		testimage.Tar(testimage.Entry{Name: "app/", Type: '5'}, testimage.Entry{Name: "app/token.env", Body: envFile("GITHUB_TOKEN", testimage.SecretGitHub)}),
		testimage.Tar(testimage.Entry{Name: "app/notes.txt", Body: "nothing here\n"}),
		testimage.Tar(testimage.Entry{Name: "app/.wh.token.env"}),
	)
	// An ENV step that made no layer, between layers 0 and 1 (history 1).
	const envStep = "/bin/sh -c #(nop)  ENV SLACK_TOKEN=" + testimage.SecretSlack
	h := img.Config.History
	img.Config.History = append([]v1.History{h[0], {CreatedBy: envStep, EmptyLayer: true}}, h[1:]...)
	secrets := []string{testimage.SecretGitHub, testimage.SecretGitLab, testimage.SecretStripe, testimage.SecretSlack, buildArg}

	rep := scanImage(t, newScanner(t, scan.Options{}), img)
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	if l := leaks(jsonOf(t, rep), secrets...); len(l) > 0 {
		t.Errorf("the report shows %v:\n%s", l, jsonOf(t, rep))
	}
	f := findingAt(t, rep, "/app/token.env")
	if f.Status != "deleted" || f.RemovedBy == nil || f.RemovedBy.Index != 2 {
		t.Fatalf("/app/token.env: %+v", f)
	}
	// Redacted, not dropped: the rest of the text is still there.
	for i, want := range []string{"echo GITHUB_TOKEN=" + detect.Redact(testimage.SecretGitHub),
		"PRIVATE-TOKEN: " + detect.Redact(testimage.SecretGitLab),
		"DEPLOY_KEY=" + detect.Redact(buildArg)} {
		if !strings.Contains(rep.Layers[i].CreatedBy, want) {
			t.Errorf("layer %d created_by %q does not show %q", i, rep.Layers[i].CreatedBy, want)
		}
	}
	if !strings.Contains(f.RemovedBy.Instruction, "rm /app/token.env") {
		t.Errorf("removed_by instruction %q", f.RemovedBy.Instruction)
	}
	if !strings.Contains(f.Layer.Instruction, "echo GITHUB_TOKEN=") {
		t.Errorf("layer instruction %q", f.Layer.Instruction)
	}

	// The secrets in history are findings of their own, tied to the
	// history entry and the layer it made (none for the ENV step).
	wantHistory := map[string]struct{ history, layer int }{
		testimage.RuleGitHub: {0, 0}, testimage.RuleSlack: {1, -1}, testimage.RuleGitLab: {2, 1}, testimage.RuleStripe: {3, 2},
	}
	for _, f := range rep.Findings {
		if f.Source != "history" {
			continue
		}
		w, ok := wantHistory[f.Rule]
		if !ok {
			t.Errorf("unexpected history finding %+v", f)
			continue
		}
		delete(wantHistory, f.Rule)
		if f.HistoryIndex == nil || *f.HistoryIndex != w.history || f.Layer.Index != w.layer || f.Path != "" || f.Status != "present" {
			t.Errorf("%s history finding: %+v, want history %d layer %d", f.Rule, f, w.history, w.layer)
		}
		if f.Layer.CreatedBy == "" || !strings.HasSuffix(f.Secret, "****") {
			t.Errorf("%s history finding: created_by %q secret %q", f.Rule, f.Layer.CreatedBy, f.Secret)
		}
	}
	for rule := range wantHistory {
		t.Errorf("no history finding for %s", rule)
	}

	// With ShowSecrets the history is shown as it is.
	rep = scanImage(t, newScanner(t, scan.Options{ShowSecrets: true}), img)
	for i, l := range rep.Layers {
		if l.CreatedBy != createdBy[i] {
			t.Errorf("ShowSecrets: layer %d created_by %q, want %q", i, l.CreatedBy, createdBy[i])
		}
	}
	if js := jsonOf(t, rep); !strings.Contains(js, envStep) {
		t.Errorf("ShowSecrets: the ENV step's created_by is not shown as it is")
	}
}

// TestExternalHistorySecretsNotShown: ggshield's image has secrets in ENV
// steps that made no layer (so in history and in the config's Env). They
// are reported, redacted, and shown only with ShowSecrets.
func TestExternalHistorySecretsNotShown(t *testing.T) {
	p := filepath.Join(externalDir(t), "ggshield-docker-example.tar")
	secrets := []string{
		"XYhc1F-yUShhDfL4mp5LK_GIHAE9nY1tJKoUvNPeNLcT5yU67Vu-ckiBhgwIr_OtdPPCGPq",
		"Shiy5oh58Zl5zMdFOocAtpu81xsIW",
	}
	reps := scanRef(t, newScanner(t, scan.Options{}), p)
	if len(reps) != 1 {
		t.Fatalf("%d images", len(reps))
	}
	if l := leaks(jsonOf(t, reps...), secrets...); len(l) > 0 {
		t.Errorf("the report shows %v", l)
	}
	want := []int{2, 3, 5}
	for i, l := range reps[0].Layers {
		if l.HistoryIndex != want[i] {
			t.Errorf("layer %d: history_index %d, want %d", i, l.HistoryIndex, want[i])
		}
	}
	sources := map[string]int{}
	for _, f := range reps[0].Findings {
		sources[f.Source]++
		if f.Layer.Index != -1 {
			t.Errorf("%s finding in layer %d: the ENV steps made no layer", f.Source, f.Layer.Index)
		}
	}
	if sources["config"] != 2 || sources["history"] != 2 || len(reps[0].Findings) != 4 {
		t.Errorf("findings by source %v, want 2 config (Env) and 2 history (ENV steps)", sources)
	}

	js := jsonOf(t, scanRef(t, newScanner(t, scan.Options{ShowSecrets: true}), p)...)
	for _, sec := range secrets {
		if !strings.Contains(js, `"secret": "`+sec+`"`) {
			t.Errorf("ShowSecrets: %s not shown", sec)
		}
	}
}
