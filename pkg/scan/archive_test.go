package scan_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/walk"
)

const (
	ghpToken  = "ghp_R7tLw9ZcY4bHf6sDg1aEo5uIyT0Qeq8Jk2mV"
	awsKeyID  = "AKIAZ7QH3LMNX4TR2KWP"
	glpat     = "glpat-Xq8Jk2mVxP3nR7tLw9Zc"
	npmToken  = "npm_Xq8Jk2mVxP3nR7tLw9ZcY4bHf6sDg1aEo5uI"
	stripeKey = "sk_live_51Hq8Jk2mVxP3nR7tLw9ZcY4bHf6sDg1aEo5uIyT0QeWq"
)

func zipOf(t testing.TB, kv ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(kv); i += 2 {
		w, err := zw.Create(kv[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(kv[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func findingsIn(rep *report.Image, path string) []report.Finding {
	var out []report.Finding
	for _, f := range rep.Findings {
		if f.Path == path {
			out = append(out, f)
		}
	}
	return out
}

func TestArchiveFindings(t *testing.T) {
	props := "# spring\nspring.github.token=" + ghpToken + "\n"
	inner := zipOf(t, "config.properties", "x=1\naws.key="+awsKeyID+"\n")
	jar := zipOf(t,
		"BOOT-INF/classes/application.properties", props,
		"BOOT-INF/classes/copy.properties", props,
		"lib/inner.jar", string(inner))
	tgz := gzipOf(testimage.Tar(testimage.Entry{Name: "package/.npmrc", Body: "//registry.npmjs.org/:_authToken=" + npmToken + "\n"}))
	layer0 := testimage.Tar(
		testimage.Entry{Name: "app/", Type: tar.TypeDir},
		testimage.Entry{Name: "app/app.jar", Body: string(jar)},
		testimage.Entry{Name: "app/pkg.tgz", Body: string(tgz)},
		testimage.Entry{Name: "srv/", Type: tar.TypeDir},
		testimage.Entry{Name: "srv/copy.jar", Type: tar.TypeLink, Linkname: "app/app.jar"},
		testimage.Entry{Name: "app/bomb.gz", Body: string(gzipOf(make([]byte, 4<<20)))})
	layer1 := testimage.Tar(testimage.Entry{Name: "app/.wh.app.jar"})
	img := memImage(t, []string{"/bin/sh -c #(nop) COPY dir:abc in /", "/bin/sh -c rm /app/app.jar"}, layer0, layer1)
	rep := scanImage(t, newScanner(t, scan.Options{}), img)

	type key struct{ path, chain, rule, status, link string }
	got := map[key]report.Finding{}
	for _, f := range rep.Findings {
		got[key{f.Path, strings.Join(f.ArchivePath, "|"), f.Rule, f.Status, f.HardlinkTo}] = f
	}
	for _, k := range []key{
		{"/app/app.jar", "BOOT-INF/classes/application.properties", "github-pat", "deleted", ""},
		{"/app/app.jar", "BOOT-INF/classes/copy.properties", "github-pat", "deleted", ""},
		{"/app/app.jar", "lib/inner.jar|config.properties", "aws-access-token", "deleted", ""},
		{"/srv/copy.jar", "BOOT-INF/classes/application.properties", "github-pat", "present", "/app/app.jar"},
		{"/srv/copy.jar", "lib/inner.jar|config.properties", "aws-access-token", "present", "/app/app.jar"},
		{"/app/pkg.tgz", "package/.npmrc", "npm-access-token", "present", ""},
	} {
		f, ok := got[k]
		if !ok {
			t.Errorf("missing %+v; findings:\n%s", k, jsonOf(t, rep))
			continue
		}
		if f.Layer.Index != 0 {
			t.Errorf("%+v: layer %d", k, f.Layer.Index)
		}
		if k.rule == "github-pat" && f.Line != 2 {
			t.Errorf("%+v: line %d, want 2", k, f.Line)
		}
		if e := rep.Evidence(f); !strings.Contains(e, "'/app/") && !strings.Contains(e, "'/srv/") {
			t.Errorf("evidence extracts the outer file: %s", e)
		}
	}
	if n := len(findingsIn(rep, "/app/app.jar")); n != 3 {
		t.Errorf("%d findings in app.jar, want 3 (dedupe must keep members apart)", n)
	}
	a, b := got[key{"/app/app.jar", "BOOT-INF/classes/application.properties", "github-pat", "deleted", ""}], got[key{"/app/app.jar", "BOOT-INF/classes/copy.properties", "github-pat", "deleted", ""}]
	if a.Fingerprint == b.Fingerprint {
		t.Error("two members with the same secret need different fingerprints")
	}
	js := jsonOf(t, rep)
	if !strings.Contains(js, `"archive_path": [
            "lib/inner.jar",
            "config.properties"
          ]`) {
		t.Errorf("archive_path not in the JSON:\n%s", js)
	}
	var bomb bool
	for _, w := range rep.Warnings {
		if w.Path == "/app/bomb.gz" && w.Layer != nil && *w.Layer == 0 && strings.Contains(w.Message, "--archive-max-ratio") {
			bomb = true
		}
	}
	if !bomb {
		t.Errorf("no warning for the gzip bomb: %+v", rep.Warnings)
	}

	// --archive-depth 0: the jar is only a binary, its deflated members
	// are not readable.
	rep = scanImage(t, newScanner(t, scan.Options{Archive: walk.ArchiveOptions{MaxDepth: -1}}), img)
	for _, f := range rep.Findings {
		if len(f.ArchivePath) > 0 {
			t.Errorf("archives off, yet %+v", f)
		}
	}
}

func TestArchiveMemberPathRules(t *testing.T) {
	// A member's own path counts for path-only rules, inside the jar.
	var pathRule bool
	for _, f := range detector(t).ScanPath("/x/keystore.p12") {
		pathRule = pathRule || f.RuleID != ""
	}
	if !pathRule {
		t.Skip("no path-only rule for .p12 in this ruleset")
	}
	jar := zipOf(t, "certs/keystore.p12", "\x30\x82\x01\x00binary")
	img := memImage(t, []string{"COPY"}, testimage.Tar(testimage.Entry{Name: "app.jar", Body: string(jar)}))
	rep := scanImage(t, newScanner(t, scan.Options{}), img)
	for _, f := range rep.Findings {
		if f.Path == "/app.jar" && strings.Join(f.ArchivePath, "|") == "certs/keystore.p12" {
			return
		}
	}
	t.Errorf("no path-rule finding for the member: %s", jsonOf(t, rep))
}
