package scan_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/walk"
)

// fakeELF is an ELF header, machine-code-like noise and a string table
// holding a GitHub token, as a Go or C binary that embeds it would.
func fakeELF(secret string) string {
	var b strings.Builder
	b.WriteString("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00")
	r := rand.New(rand.NewSource(7))
	noise := make([]byte, 20000)
	r.Read(noise)
	b.Write(noise)
	b.WriteString("\x00.rodata\x00main.token\x00" + secret + "\x00runtime.main\x00")
	b.Write(noise)
	return b.String()
}

func TestBinaryStrings(t *testing.T) {
	noise := make([]byte, 1<<20)
	rand.New(rand.NewSource(42)).Read(noise)
	img := memImage(t, []string{"COPY"}, testimage.Tar(
		testimage.Entry{Name: "usr/local/bin/tool", Body: fakeELF(ghpToken)},
		testimage.Entry{Name: "usr/lib/noise.so", Body: string(noise)},
		testimage.Entry{Name: "etc/app.conf", Body: "token = " + glpat + "\n"}))

	count := func(opts scan.Options) map[string]int {
		rep := scanImage(t, newScanner(t, opts), img)
		n := map[string]int{}
		for _, f := range rep.Findings {
			n[f.Path+" "+f.Rule]++
			if f.Path == "/usr/local/bin/tool" && f.Line != 0 && opts.Binaries == "" {
				t.Errorf("a binary finding has no line: %+v", f)
			}
		}
		return n
	}
	def := count(scan.Options{})
	if def["/usr/local/bin/tool github-pat"] != 1 || def["/etc/app.conf gitlab-pat"] != 1 {
		t.Errorf("default (strings): %v", def)
	}
	for k := range def {
		if strings.HasPrefix(k, "/usr/lib/noise.so") {
			t.Errorf("random noise gave a finding: %s", k)
		}
	}
	skip := count(scan.Options{Binaries: walk.BinarySkip})
	if skip["/usr/local/bin/tool github-pat"] != 0 || skip["/etc/app.conf gitlab-pat"] != 1 {
		t.Errorf("skip: %v", skip)
	}
	full := count(scan.Options{Binaries: walk.BinaryFull})
	if full["/usr/local/bin/tool github-pat"] != 1 {
		t.Errorf("full: %v", full)
	}
}

func TestBinaryStringsHighConfidenceOnly(t *testing.T) {
	// A loose rule's match (generic api key) in a binary is not reported
	// in strings mode; a stripe key (fixed prefix) is.
	bin := "\x7fELF\x02\x01\x00\x00" + "\x00api_key = \"Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz\"\x00" + "\x00" + stripeKey + "\x00"
	img := memImage(t, []string{"COPY"}, testimage.Tar(testimage.Entry{Name: "bin/app", Body: bin}))
	rep := scanImage(t, newScanner(t, scan.Options{}), img)
	var rules []string
	for _, f := range rep.Findings {
		rules = append(rules, f.Rule)
	}
	if strings.Join(rules, ",") != "stripe-access-token" {
		t.Errorf("rules = %v, want only stripe-access-token", rules)
	}
}
