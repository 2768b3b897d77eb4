package scan_test

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

const (
	looseSecret = "api_key = 7Hq2xLm9Vt4Rz8Kw3Np6\n"
	vendorToken = "ghp_Zq4Hn8Tc2Wx6Lr9Vb3Ky7Md1Pf5Sg0Ju2Ea8"
)

func md5Of(s string) string  { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
func sha1Of(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }

// TestVendorProvenance: files of a dpkg package and a Maven jar in layer 0,
// the builder's own file and an edited package file in layer 1, and the
// package databases only in layer 2, after the files they describe.
func TestVendorProvenance(t *testing.T) {
	ini := "; defaults\n" + looseSecret
	// A text file longer than a chunk: hashed by the walker while it streams.
	big := strings.Repeat("# filler line of a long vendor file\n", 40000) + looseSecret
	settings := "TOKEN = \"" + vendorToken + "\"\n"
	testVector := "TOKEN = \"" + strings.Replace(vendorToken, "Zq4", "Yt5", 1) + "\"\n"
	jar := string(zipOf(t, "app.properties", "db.password=Kx8Wq2Lm7Zt4Vr9\n"))
	jarPath := "root/.m2/repository/org/acme/lib/1.0/lib-1.0.jar"
	edited := "; defaults\n" + looseSecret + "password = Tg8Lq2Zx7VmP\n"

	layer0 := testimage.Tar(
		testimage.Entry{Name: "usr/lib/acme/defaults.ini", Body: ini},
		testimage.Entry{Name: "usr/lib/acme/big.conf", Body: big},
		testimage.Entry{Name: "usr/lib/acme/settings.py", Body: settings},
		testimage.Entry{Name: "usr/lib/acme/tests/vectors.py", Body: testVector},
		testimage.Entry{Name: "usr/lib/acme/edited.ini", Body: ini},
		testimage.Entry{Name: jarPath, Body: jar},
	)
	layer1 := testimage.Tar(
		testimage.Entry{Name: "app/config.ini", Body: ini},
		testimage.Entry{Name: "usr/lib/acme/edited.ini", Body: edited},
	)
	md5sums := ""
	for _, f := range []struct{ p, b string }{
		{"usr/lib/acme/defaults.ini", ini}, {"usr/lib/acme/big.conf", big}, {"usr/lib/acme/settings.py", settings},
		{"usr/lib/acme/tests/vectors.py", testVector}, {"usr/lib/acme/edited.ini", ini},
	} {
		md5sums += md5Of(f.b) + "  " + f.p + "\n"
	}
	layer2 := testimage.Tar(
		testimage.Entry{Name: "var/lib/dpkg/status", Body: "Package: acme\nStatus: install ok installed\nVersion: 1.4.2\n\n"},
		testimage.Entry{Name: "var/lib/dpkg/info/acme.md5sums", Body: md5sums},
		testimage.Entry{Name: jarPath + ".sha1", Body: sha1Of(jar) + "\n"},
	)
	img := memImage(t, []string{"ADD rootfs.tar /", "COPY app /app", "RUN dpkg --configure -a"}, layer0, layer1, layer2)

	origin := func(f report.Finding) string {
		o := f.Origin
		switch {
		case o == nil:
			return "none"
		case o.Type == provenance.TypePackage:
			return fmt.Sprintf("package %s %s %s %s", o.Manager, o.Name, o.Version, o.VerifiedBy)
		case o.Modified:
			return "image modified " + o.Name
		}
		return o.Type
	}
	list := func(fs []report.Finding) []string {
		var out []string
		for _, f := range fs {
			s := fmt.Sprintf("%s %s:%d layer %d: %s", f.Rule, f.Path, f.Line, f.Layer.Index, origin(f))
			if f.Vendor {
				s += " [vendor]"
			}
			out = append(out, s)
		}
		sort.Strings(out)
		return out
	}

	// Default: the builder's findings and the vendor token outside tests;
	// the loose vendor findings folded into one line per package.
	im := scanImage(t, newScanner(t, scan.Options{}), img)
	want := []string{
		"generic-api-key /app/config.ini:2 layer 1: image",
		"generic-api-key /usr/lib/acme/edited.ini:2 layer 1: image modified acme",
		"generic-api-key /usr/lib/acme/edited.ini:3 layer 1: image modified acme",
		"github-pat /usr/lib/acme/settings.py:1 layer 0: package dpkg acme 1.4.2 digest",
	}
	if got := list(im.Findings); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("default view:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	var folded []string
	for _, v := range im.Vendor {
		folded = append(folded, fmt.Sprintf("%s %s %s %s %d %v", v.Manager, v.Name, v.Version, v.VerifiedBy, v.Findings, v.Rules))
	}
	wantFolded := []string{
		// defaults.ini, big.conf (hashed as streamed), tests/vectors.py, and
		// edited.ini as layer 0 shipped it (overwritten by layer 1).
		"dpkg acme 1.4.2 digest 4 [generic-api-key github-pat]",
		"maven org.acme:lib 1.0 digest 1 [generic-api-key]", // the jar, hashed while opened
	}
	if strings.Join(folded, "\n") != strings.Join(wantFolded, "\n") {
		t.Errorf("vendor summary:\n got %s\nwant %s", strings.Join(folded, "\n     "), strings.Join(wantFolded, "\n     "))
	}

	// --vendor show: the same findings plus the folded ones, marked.
	show := scanImage(t, newScanner(t, scan.Options{Vendor: scan.VendorShow}), img)
	if len(show.Vendor) != 0 || len(show.Findings) != len(im.Findings)+5 {
		t.Errorf("--vendor show: %d findings, summary %+v\n%s", len(show.Findings), show.Vendor, strings.Join(list(show.Findings), "\n"))
	}
	n := 0
	for _, f := range show.Findings {
		if f.Vendor {
			n++
		}
	}
	if n != 5 {
		t.Errorf("--vendor show marks %d findings vendor, want 5", n)
	}
	// --vendor fail: listed and counted like any other (no vendor mark).
	fail := scanImage(t, newScanner(t, scan.Options{Vendor: scan.VendorFail}), img)
	for _, f := range fail.Findings {
		if f.Vendor {
			t.Errorf("--vendor fail marks %s vendor", f.Path)
		}
	}
	if len(fail.Findings) != len(show.Findings) || len(fail.Vendor) != 0 {
		t.Errorf("--vendor fail: %d findings, want %d", len(fail.Findings), len(show.Findings))
	}
}

// TestVendorCachedLayers: a layer result read back from a cache (JSON, no
// plaintext) gives the same origins.
func TestVendorCachedLayers(t *testing.T) {
	ini := "; defaults\n" + looseSecret
	layer0 := testimage.Tar(testimage.Entry{Name: "usr/lib/acme/defaults.ini", Body: ini}, testimage.Entry{Name: "app/config.ini", Body: ini})
	layer1 := testimage.Tar(testimage.Entry{Name: "var/lib/dpkg/info/acme.md5sums", Body: md5Of(ini) + "  usr/lib/acme/defaults.ini\n"})
	img := memImage(t, []string{"ADD rootfs.tar /", "RUN dpkg -i acme.deb"}, layer0, layer1)
	s := newScanner(t, scan.Options{Vendor: scan.VendorShow})
	results := scanLayersRoundTrip(t, s, img)
	im := s.Assemble(img, results)
	got := map[string]string{}
	for _, f := range im.Findings {
		got[f.Path] = f.Origin.Type + fmt.Sprint(f.Vendor)
	}
	if got["/usr/lib/acme/defaults.ini"] != "packagetrue" || got["/app/config.ini"] != "imagefalse" {
		t.Errorf("origins after a cache round trip: %v", got)
	}
}

// scanLayersRoundTrip scans img's layers and returns their results as a
// cache returns them: through JSON.
func scanLayersRoundTrip(t *testing.T, s *scan.Scanner, img *fetch.Image) []*scan.LayerResult {
	t.Helper()
	results, err := s.ScanLayers(context.Background(), img.Layers)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*scan.LayerResult, len(results))
	for i, r := range results {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = &scan.LayerResult{}
		if err := json.Unmarshal(b, out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
