package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func sample() *Report {
	one, two := 1, 3
	return &Report{
		Schema: Schema,
		Tool:   Tool{Name: "layerscan", Version: "test", Ruleset: "0123456789abcdef"},
		Images: []*Image{{
			Ref: "oci-archive:app.oci.tar:latest", Source: "oci-archive:app.oci.tar", Digest: "sha256:93714a231338dab44910268c156c95261607cd172ed4a0d684632912f5f36b57",
			ConfigDigest: "sha256:336e77fa97836c86d182d187e6975c8753d9c16b0365507f3f6dc0ebc12e900a", Platform: "linux/amd64",
			Layers: []Layer{
				{Index: 0, Digest: "sha256:c7fd49f4d6601b5b7ce9ab51314985b900f9eeb718e3a84211261e1b694948db", DiffID: "sha256:a1", Size: 504, HistoryIndex: 0, CreatedBy: "/bin/sh -c #(nop) COPY file:abc in /app/", Instruction: "COPY file:abc /app/"},
				{Index: 1, Digest: "sha256:bdb3fbbe3a1fcfd646a2f0446c3793c4db246a4dd2242d090e129d13fbb2daf4", DiffID: "sha256:b2", Size: 132, HistoryIndex: 3, CreatedBy: "|1 TOKEN=glpa**** /bin/sh -c rm /app/deleted.env", Instruction: "RUN rm /app/deleted.env"},
			},
			Findings: []Finding{
				{Rule: "github-pat", Description: "GitHub token", Severity: "high", Source: "file", Path: "/app/deleted.env", Line: 2,
					Layer:  LayerRef{Index: 0, Digest: "sha256:c7fd49f4d6601b5b7ce9ab51314985b900f9eeb718e3a84211261e1b694948db", Instruction: "COPY file:abc /app/"},
					Status: "deleted", RemovedBy: &Removal{Index: 1, Instruction: "RUN rm /app/deleted.env"},
					Secret: "ghp_****", Fingerprint: "fp1", SecretID: "5e1d0c4b3a291807",
					Cause: "removed-in-later-layer", Remediation: "Revoke the token; deleting the file in a later layer does not remove it from the image."},
				{Rule: "private-key", Description: "Private Key", Severity: "critical", Source: "file", Path: "/app/lib/app.jar", ArchivePath: []string{"BOOT-INF/classes/id_rsa"}, Line: 1,
					Layer:  LayerRef{Index: 0, Digest: "sha256:c7fd49f4d6601b5b7ce9ab51314985b900f9eeb718e3a84211261e1b694948db", Instruction: "COPY file:abc /app/"},
					Status: "present", Secret: "----****", Fingerprint: "fp5", SecretID: "a1b2c3d4e5f60718", Encoding: "base64", Cause: "copied-into-image"},
				{Rule: "stripe-access-token", Description: "Stripe", Severity: "high", Source: "file", Path: "/app/hard.env", HardlinkTo: "/app/present.env", Line: 2,
					Layer: LayerRef{Index: 0, Instruction: "COPY file:abc /app/"}, Status: "present", Secret: "sk_l****", Fingerprint: "fp2", SecretID: "77aa00bb11cc22dd"},
				{Rule: "generic-api-key", Description: "Generic", Severity: "medium", Source: "config", Field: "Env API_KEY", Layer: LayerRef{Index: -1}, Status: "present", Secret: "XYhc****", Fingerprint: "fp3", SecretID: "0f0e0d0c0b0a0908"},
				{Rule: "github-pat", Description: "GitHub token", Severity: "high", Source: "history", HistoryIndex: &two, Layer: LayerRef{Index: 1, Instruction: "RUN rm /app/deleted.env"}, Status: "present", Secret: "ghp_****", Fingerprint: "fp4", SecretID: "5e1d0c4b3a291807"},
			},
			Errors:   []Problem{},
			Warnings: []Problem{{Layer: &one, Message: "entry name climbs out of the root: \"../x\""}},
			Stats:    ImageStats{LayersScanned: 2, FilesScanned: 7, Entries: 21, StoredBytes: 636, Bytes: 17408, DurationMS: 3},
		}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./pkg/report -update to accept):\n%s", name, got)
	}
}

func TestGoldenJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json.golden", b.Bytes())
}

func TestGoldenTable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.table.golden", b.Bytes())
}

func TestCountsAndIncomplete(t *testing.T) {
	r := sample()
	if r.FindingCount() != 5 || r.Incomplete() {
		t.Errorf("count %d incomplete %v", r.FindingCount(), r.Incomplete())
	}
	r.Images[0].Errors = append(r.Images[0].Errors, Problem{Message: "x"})
	if !r.Incomplete() {
		t.Error("an image error makes the report incomplete")
	}
}
