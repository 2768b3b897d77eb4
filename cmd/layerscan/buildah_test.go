package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/report"
)

// expectation is one entry of a case's expected.json.
type expectation struct {
	Path        string `json:"path"`
	Layer       int    `json:"layer"`
	Instruction string `json:"instruction"`
	Status      string `json:"status"`
	Rule        string `json:"rule"`
	Source      string `json:"source"`
	// ArchivePath, Encoding and Origin, when given, must match too.
	ArchivePath []string `json:"archive_path"`
	Encoding    string   `json:"encoding"`
	// Origin is "image", "image modified MANAGER NAME VERSION" or
	// "package MANAGER NAME VERSION VERIFIED_BY" (see originKey).
	Origin string `json:"origin"`
}

// originKey is the compact form of a finding's origin that expected.json
// names.
func originKey(o *provenance.Origin) string {
	switch {
	case o == nil:
		return ""
	case o.Type == provenance.TypePackage:
		return strings.Join([]string{o.Type, o.Manager, o.Name, o.Version, o.VerifiedBy}, " ")
	case o.Modified:
		return strings.Join([]string{o.Type, "modified", o.Manager, o.Name, o.Version}, " ")
	}
	return o.Type
}

// TestBuildahCases scans every image of the buildah corpus and checks the
// findings against the case's expected.json: path, layer, instruction,
// status and rule — and that nothing else is reported.
func TestBuildahCases(t *testing.T) {
	dir := buildahCorpus(t)
	cases, err := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "buildah", "cases", "*", "expected.json"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, exp := range cases {
		name := filepath.Base(filepath.Dir(exp))
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			var want []expectation
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("%s: %v", exp, err)
			}
			rep := scanJSON(t, nil, "oci-archive:"+filepath.Join(dir, name+".oci.tar"))
			if len(rep.Images) != 1 {
				t.Fatalf("%d images", len(rep.Images))
			}
			im := rep.Images[0]
			if len(im.Errors) != 0 {
				t.Errorf("errors: %+v", im.Errors)
			}
			got := map[string]bool{}
			for _, f := range im.Findings {
				got[fmt.Sprintf("%s|%s|%d|%s|%s", f.Source, f.Path, f.Layer.Index, f.Status, f.Rule)] = true
			}
			wanted := map[string]bool{}
			for _, w := range want {
				source := w.Source
				if source == "layer" {
					source = "file"
				}
				k := fmt.Sprintf("%s|%s|%d|%s|%s", source, w.Path, w.Layer, w.Status, w.Rule)
				wanted[k] = true
				if !got[k] {
					t.Errorf("missing finding %s", k)
				}
				// The finding's layer is the one the expected instruction made.
				for _, f := range im.Findings {
					if f.Source == source && f.Path == w.Path && f.Rule == w.Rule {
						if len(w.ArchivePath) > 0 && strings.Join(f.ArchivePath, "!") != strings.Join(w.ArchivePath, "!") {
							t.Errorf("%s: archive_path %v, want %v", w.Path, f.ArchivePath, w.ArchivePath)
						}
						if w.Encoding != "" && f.Encoding != w.Encoding {
							t.Errorf("%s: encoding %q, want %q", w.Path, f.Encoding, w.Encoding)
						}
						if w.Origin != "" && originKey(f.Origin) != w.Origin {
							t.Errorf("%s: origin %q, want %q", w.Path, originKey(f.Origin), w.Origin)
						}
					}
					if source != "config" && f.Source == source && f.Path == w.Path && f.Rule == w.Rule && !strings.Contains(f.Layer.CreatedBy, w.Instruction) {
						t.Errorf("%s: layer %d created_by %q, want it to contain %q", w.Path, f.Layer.Index, f.Layer.CreatedBy, w.Instruction)
					}
				}
			}
			for k := range got {
				if !wanted[k] {
					t.Errorf("unexpected finding %s", k)
				}
			}
		})
	}
}

// TestArticleExamples pins down what the seed article's examples leave in
// the image, with the instruction and removal each finding names.
func TestArticleExamples(t *testing.T) {
	dir := buildahCorpus(t)
	t.Run("bad example: COPY secrets.txt stays in the COPY layer", func(t *testing.T) {
		rep := scanJSON(t, nil, "oci-archive:"+filepath.Join(dir, "article-bad.oci.tar"))
		f := onlyFinding(t, rep, "aws-access-token")
		if f.Path != "/app/secrets.txt" || f.Status != "present" || !strings.HasPrefix(f.Layer.Instruction, "COPY ") || f.Secret != "AKIA****" {
			t.Errorf("finding = %+v", f)
		}
	})
	t.Run("rm in a later layer: deleted, attributed to the COPY, removed by the RUN rm", func(t *testing.T) {
		rep := scanJSON(t, nil, "oci-archive:"+filepath.Join(dir, "copy-then-rm.oci.tar"))
		f := onlyFinding(t, rep, "github-pat")
		if f.Status != "deleted" || !strings.HasPrefix(f.Layer.Instruction, "COPY ") || f.RemovedBy == nil || !strings.Contains(f.RemovedBy.Instruction, "rm /app/secrets.txt") {
			t.Errorf("finding = %+v removed_by %+v", f, f.RemovedBy)
		}
	})
	t.Run("secret mount written to a file is stored in the RUN layer", func(t *testing.T) {
		rep := scanJSON(t, nil, "oci-archive:"+filepath.Join(dir, "secret-mount-persisted.oci.tar"))
		f := onlyFinding(t, rep, "npm-access-token")
		if f.Path != "/app/secrets.json" || f.Status != "present" || !strings.Contains(f.Layer.Instruction, "/run/secrets/mysecret") {
			t.Errorf("finding = %+v", f)
		}
	})
	for _, clean := range []string{"secret-mount-cleaned", "multistage"} {
		t.Run(clean+" leaves nothing", func(t *testing.T) {
			res := runCLI(t, nil, "oci-archive:"+filepath.Join(dir, clean+".oci.tar"))
			if res.code != 0 || !strings.Contains(res.stdout, "0 findings") {
				t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
			}
		})
	}
}

// TestVendorContent checks what the default view folds away and what
// --vendor show and --vendor fail do with it, on real packages: Debian's
// python3-botocore and an internal .deb unpacked by dpkg (provenance), and
// the node_modules of popular npm packages (npm-app).
func TestVendorContent(t *testing.T) {
	dir := buildahCorpus(t)
	ref := "oci-archive:" + filepath.Join(dir, "provenance.oci.tar")
	rep := scanJSON(t, nil, ref)
	im := rep.Images[0]
	folded := map[string]report.VendorPackage{}
	for _, v := range im.Vendor {
		folded[v.Manager+" "+v.Name] = v
	}
	boto, ok := folded["dpkg python3-botocore"]
	if !ok || boto.VerifiedBy != provenance.ByDigest || boto.Version != "1.29.27+repack-1" || boto.Findings < 10 {
		t.Errorf("python3-botocore's documentation examples not folded as vendor content verified by digest: %+v", im.Vendor)
	}
	if acme := folded["dpkg acme-agent"]; acme.Findings != 1 || !slices.Contains(acme.Rules, "generic-api-key") {
		t.Errorf("acme-agent's loose finding (defaults.ini) not folded: %+v", acme)
	}
	for _, f := range im.Findings {
		if f.Origin.Vendor() && !detect.HighConfidence(f.Rule) {
			t.Errorf("a loose finding in vendor content is listed by default: %+v", f)
		}
	}

	// --vendor show lists them, marked vendor, and drops the summary.
	show := scanJSON(t, nil, ref, "--vendor", "show")
	var vendor, own int
	for _, f := range show.Images[0].Findings {
		if f.Vendor {
			vendor++
			if !f.Origin.Vendor() {
				t.Errorf("vendor finding without a package origin: %+v", f)
			}
		} else {
			own++
		}
	}
	if vendor != boto.Findings+1 || own != len(im.Findings) || len(show.Images[0].Vendor) != 0 {
		t.Errorf("--vendor show: %d vendor findings (want %d), %d others (want %d), summary %+v", vendor, boto.Findings+1, own, len(im.Findings), show.Images[0].Vendor)
	}
	// npm-app: real npm packages and nothing planted: nothing is reported
	// and the exit status is 0, even with --fail-on info.
	npm := "oci-archive:" + filepath.Join(dir, "npm-app.oci.tar")
	for _, mode := range []string{"hide", "show"} {
		if res := runCLI(t, nil, "--vendor", mode, "--fail-on", "info", npm); res.code != 0 {
			t.Errorf("npm-app --vendor %s: exit %d, want 0\n%s%s", mode, res.code, res.stdout, res.stderr)
		}
	}
	// --vendor fail lists and counts vendor findings like the builder's.
	res := runCLI(t, nil, "--vendor", "fail", "--format", "json", ref)
	if res.code != 1 {
		t.Errorf("--vendor fail: exit %d, want 1", res.code)
	}
	var failRep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &failRep); err != nil {
		t.Fatal(err)
	}
	if n := len(failRep.Images[0].Findings); n != len(im.Findings)+vendor {
		t.Errorf("--vendor fail lists %d findings, want %d", n, len(im.Findings)+vendor)
	}
	// The table names each folded package on one line.
	table := runCLI(t, nil, ref).stdout
	if !strings.Contains(table, "python3-botocore 1.29.27+repack-1 (dpkg, digest): ") || !strings.Contains(table, "in vendor files of 2 packages (not shown)") {
		t.Errorf("table lacks the vendor summary:\n%s", table)
	}
}

func onlyFinding(t *testing.T, rep *report.Report, rule string) report.Finding {
	t.Helper()
	var out []report.Finding
	for _, im := range rep.Images {
		for _, f := range im.Findings {
			if f.Rule == rule {
				out = append(out, f)
			}
		}
	}
	if len(out) != 1 {
		t.Fatalf("want one %s finding, got %+v", rule, out)
	}
	return out[0]
}

// TestSameFindingsFromEverySource scans one image as a docker archive, an
// OCI archive, an OCI layout, from a real registry (TLS, basic auth,
// credentials from a docker config file), from buildah's own store read
// from disk (containers-storage:, vfs), from standard input (docker save
// and OCI archives piped in) and from a real engine API (podman's
// service, as docker: and podman:): the findings must be the same —
// path, layer, instruction, status, rule, line, fingerprint.
func TestSameFindingsFromEverySource(t *testing.T) {
	dir := buildahCorpus(t)
	reg := testenv.StartRegistry(t)
	pm := testenv.StartPodman(t)
	store := filepath.Join(dir, "storage")
	for _, name := range []string{"copy-then-rm", "hardlink", "whiteout-dir"} {
		t.Run(name, func(t *testing.T) {
			ociTar := filepath.Join(dir, name+".oci.tar")
			dockerTar := filepath.Join(dir, name+".docker.tar")
			layout := filepath.Join(t.TempDir(), "layout")
			if out, err := exec.Command("skopeo", "copy", "--quiet", "oci-archive:"+ociTar, "oci:"+layout+":latest").CombinedOutput(); err != nil {
				t.Fatalf("skopeo: %v\n%s", err, out)
			}
			reg.Push(t, "oci-archive:"+ociTar, "corpus/"+name+":v1")
			pm.Run(t, "load", "-q", "-i", dockerTar)

			base := keysOf(scanJSON(t, nil, "oci-archive:"+ociTar))
			if len(base) == 0 {
				t.Fatal("no findings in the OCI archive")
			}
			check := func(ref string, got []findingKey) {
				t.Helper()
				if fmt.Sprint(got) != fmt.Sprint(base) {
					t.Errorf("%s:\n got %+v\nwant %+v", ref, got, base)
				}
			}
			for _, src := range []struct {
				ref string
				env []string
			}{
				{dockerTar, nil},
				{"oci:" + layout, nil},
				{reg.Host + "/corpus/" + name + ":v1", reg.Env()},
				{"containers-storage:[vfs@" + store + "]localhost/layerscan-test/" + name + ":latest", nil},
				{"docker:localhost/layerscan-test/" + name, pm.Env()},
				{"podman:layerscan-test/" + name + ":latest", pm.Env()},
			} {
				check(src.ref, keysOf(scanJSON(t, src.env, src.ref)))
			}
			for _, file := range []string{dockerTar, ociTar} {
				check("- < "+file, keysOf(scanStdin(t, file)))
			}
		})
	}
}
