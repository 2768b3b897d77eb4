package report

import (
	"bytes"
	"strings"
	"testing"
)

// cjkReport has paths and instructions of East Asian wide characters,
// long paths that differ only at their end, and a long removing
// instruction: what a narrow terminal has to cut.
func cjkReport() *Report {
	layer := LayerRef{Index: 0, Digest: "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f9", Instruction: "COPY 設定ファイル /app/"}
	rm := &Removal{Index: 3, Instruction: "RUN rm -rf /app/node_modules/.cache /app/設定/秘密鍵.pem /tmp/build-artifacts-of-the-previous-stage"}
	f := func(rule, path, status string, rb *Removal) Finding {
		return Finding{Rule: rule, Severity: "high", Source: "file", Path: path, Line: 3, Layer: layer, Status: status, RemovedBy: rb, Secret: "ghp_****", Cause: "copied-into-image"}
	}
	return New(Tool{Name: "layerscan", Version: "test"}, &Image{
		Ref: "registry.example.com/アプリ:1", Platform: "linux/amd64", Digest: "sha256:93714a231338dab44910268c156c95261607cd172ed4a0d684632912f5f36b57",
		Layers: []Layer{{Index: 0, Digest: layer.Digest, Instruction: layer.Instruction}},
		Findings: []Finding{
			f("github-pat", "/app/設定/秘密鍵.pem", "deleted", rm),
			f("github-pat", "/app/node_modules/@acme/very-long-package-name-a/config.js", "present", nil),
			f("github-pat", "/app/node_modules/@acme/very-long-package-name-b/config.js", "overwritten", rm),
			f("npm-access-token", "/app/ユーザー/データ/認証情報.env", "present", nil),
		},
		Stats: ImageStats{LayersScanned: 1, FilesScanned: 1, Bytes: 2048},
	})
}

// TestTableCJK100: on a 100-column terminal, with wide characters, every
// line fits, the columns line up in cells, a cut path keeps its end (what
// tells it from its neighbours), STATUS keeps the layer that removed the
// file, and the summary says "1 layer, 1 file".
func TestTableCJK100(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTableOptions(&b, cjkReport(), TableOptions{Width: 100}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.table-cjk-100.golden", b.Bytes())
	out := b.String()
	secretAt := -1
	inTable := false // the secrets to rotate come first, then the layers' tables
	for _, line := range strings.Split(out, "\n") {
		inTable = inTable || strings.HasPrefix(line, "Layer ")
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(strings.TrimSpace(line), "fix") && !strings.HasPrefix(line, "  still extractable") {
			if w := cells.StringWidth(line); w > 100 {
				t.Errorf("line of %d cells: %q", w, line)
			}
			if !inTable {
				continue
			}
			i := strings.LastIndex(line, "  ")
			if at := cells.StringWidth(line[:i]); secretAt >= 0 && at != secretAt {
				t.Errorf("SECRET column at cell %d, not %d: %q", at, secretAt, line)
			} else {
				secretAt = at
			}
		}
	}
	for _, want := range []string{
		"-package-name-a/config.js  ", "-package-name-b/config.js  ", // the ends that differ
		"deleted by layer 3 ", "overwritten by layer 3 ", "/app/設定/秘密鍵.pem", "…/ユーザー/データ/認証情報.env",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	one := &Image{Findings: cjkReport().Images[0].Findings[:1], Stats: ImageStats{LayersScanned: 1, FilesScanned: 1, Bytes: 10}}
	if got := summary(one); !strings.HasPrefix(got, "1 finding (1 high; 1 deleted) in 1 layer, 1 file, 10 B") {
		t.Errorf("summary of one: %q", got)
	}
}

func TestCutHelpers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"/app/node_modules/x/config.js", 26, "…/node_modules/x/config.js"},
		{"/app/node_modules/x/config.js", 20, "…modules/x/config.js"},
		{"/app/node_modules/x/config.js", 16, "…/x/config.js"},
		{"/app/lib/app.jar!BOOT-INF/classes/id_rsa", 20, "…/classes/id_rsa"},
		{"/a/verylongfilename.txt", 10, "…ename.txt"},
		{"/app/設定/秘密鍵.pem", 12, "…/秘密鍵.pem"},
		{"/short", 10, "/short"},
	} {
		if got := cutLeft(tc.in, tc.n); got != tc.want || cells.StringWidth(got) > tc.n {
			t.Errorf("cutLeft(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	f := Finding{Status: "deleted", RemovedBy: &Removal{Index: 12, Instruction: "RUN rm /app/secret.env && apt-get clean"}}
	for n, want := range map[int]string{70: "deleted by layer 12 (RUN rm /app/secret.env && apt-get clean)", 31: "deleted by layer 12 (RUN rm /…)", 30: "deleted by layer 12", 19: "deleted by layer 12", 10: "deleted b…"} {
		if got := cutStatus(f, n); got != want {
			t.Errorf("cutStatus(%d) = %q, want %q", n, got, want)
		}
	}
	if got := cutCells("設定ファイル", 7); got != "設定フ…" || cells.StringWidth(got) != 7 {
		t.Errorf("cutCells of wide characters: %q", got)
	}
}
