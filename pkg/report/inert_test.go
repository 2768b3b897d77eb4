package report

import (
	"bytes"
	"strings"
	"testing"
	"text/template"

	"github.com/layerscan/layerscan/pkg/provenance"
)

// evil is what an image can put in any string: OSC 52, clear screen, a
// carriage return, a line feed, a right-to-left override, DEL, C1 CSI.
const evil = "a\x1b]52;c;ZXZpbA==\x07\x1b[2J\rb\nINJ\u202ec\x7fd\u009be"

// evilReport fills every string MapStrings covers (and the secret) with evil.
func evilReport() *Report {
	one := 1
	im := &Image{Ref: "r", Platform: "linux/amd64", Digest: "sha256:00",
		Layers: []Layer{{Index: 0, Digest: "sha256:11", CreatedBy: "c", Instruction: "i"}},
		Findings: []Finding{{Rule: "github-pat", Severity: "high", Source: "file", Path: "p", Line: 1, Status: "deleted",
			Layer: LayerRef{Index: 0, Digest: "sha256:11", CreatedBy: "c", Instruction: "i"}, RemovedBy: &Removal{Index: 1, Instruction: "r"},
			Secret: "s", ArchivePath: []string{"m"}, HardlinkTo: "h", Note: "n", Field: "f", Cause: "copied-into-image",
			Remediation: "fix", Origin: &provenance.Origin{Type: "package", Manager: "npm", Name: "n", Version: "v", VerifiedBy: "location"}}},
		Errors:   []Problem{{Layer: &one, Path: "p", Message: "m"}},
		Warnings: []Problem{{Message: "w"}},
		Vendor:   []VendorPackage{{Manager: "npm", Name: "n", Version: "v", VerifiedBy: "location", Findings: 3, Rules: []string{"jwt"}}},
		Base:     &BaseImage{Name: "b", Layers: 1},
	}
	im.MapStrings(func(string) string { return evil })
	im.Findings[0].Secret = evil
	return &Report{Schema: Schema, Images: []*Image{im}}
}

// TestEveryWriterIsInert: no writer emits an image's control characters,
// line breaks or bidirectional overrides; the data of the JSON formats is
// unchanged (escaped), and the report the writers were given is too.
func TestEveryWriterIsInert(t *testing.T) {
	tmpl := template.Must(template.New("t").Parse(`{{range .Images}}{{.Ref}}{{range .Findings}}{{.Path}}{{.Secret}}{{.Origin.Name}}{{end}}{{end}}`))
	for name, write := range map[string]func(*bytes.Buffer, *Report) error{
		"table":    func(b *bytes.Buffer, r *Report) error { return WriteTableOptions(b, r, TableOptions{Width: 120}) },
		"csv":      func(b *bytes.Buffer, r *Report) error { return WriteCSV(b, r) },
		"markdown": func(b *bytes.Buffer, r *Report) error { return WriteMarkdown(b, r) },
		"html":     func(b *bytes.Buffer, r *Report) error { return WriteHTML(b, r) },
		"template": func(b *bytes.Buffer, r *Report) error { return WriteTemplate(b, r, tmpl) },
		"json":     func(b *bytes.Buffer, r *Report) error { return WriteJSON(b, r) },
		"sarif":    func(b *bytes.Buffer, r *Report) error { return WriteSARIF(b, r) },
		"gitlab":   func(b *bytes.Buffer, r *Report) error { return WriteGitLab(b, r) },
	} {
		r := evilReport()
		var b bytes.Buffer
		if err := write(&b, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := b.String()
		for _, c := range []string{"\x1b", "\r", "\x07", "\u202e", "\x7f", "\u009b", "\nINJ"} {
			if strings.Contains(out, c) {
				t.Errorf("%s emits %q", name, c)
			}
		}
		if r.Images[0].Findings[0].Path != evil {
			t.Errorf("%s changed the report it was given", name)
		}
	}
}

func TestMarkdownFixLineKeepsBackticks(t *testing.T) {
	r := &Report{Images: []*Image{{Ref: "x", Findings: []Finding{
		{Rule: "github-pat", Severity: "high", Remediation: "Rotate it.", Layer: LayerRef{Index: 0}},
		{Rule: "gitlab-pat", Severity: "high", Remediation: "Rotate it.", Layer: LayerRef{Index: 0}},
	}}}}
	var b bytes.Buffer
	WriteMarkdown(&b, r)
	if !strings.Contains(b.String(), "- Fix `github-pat`, `gitlab-pat`: Rotate it.") {
		t.Errorf("fix line:\n%s", b.String())
	}
}
