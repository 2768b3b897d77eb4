package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestAccuracy measures detection over the buildah corpus: recall and
// precision of findings, and how often the layer and the status of a found
// secret are right. `make accuracy` prints the table; the corpus must score
// 100% on every measure.
func TestAccuracy(t *testing.T) {
	dir := buildahCorpus(t)
	cases, _ := filepath.Glob(filepath.Join(repoRoot(t), "testdata", "buildah", "cases", "*", "expected.json"))
	sort.Strings(cases)
	var tot struct{ expected, got, hit, located, layerOK, statusOK int }
	var rows []string
	for _, exp := range cases {
		name := filepath.Base(filepath.Dir(exp))
		raw, err := os.ReadFile(exp)
		if err != nil {
			t.Fatal(err)
		}
		var want []expectation
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%s: %v", exp, err)
		}
		rep := scanJSON(t, nil, "oci-archive:"+filepath.Join(dir, name+".oci.tar"))
		// what: source|path|rule identifies a secret; full adds layer and status.
		what := func(source, path, rule string) string { return source + "|" + path + "|" + rule }
		got := map[string][]string{}
		full := map[string]bool{}
		n := 0
		for _, im := range rep.Images {
			for _, f := range im.Findings {
				n++
				w := what(f.Source, f.Path, f.Rule)
				got[w] = append(got[w], fmt.Sprintf("%d|%s", f.Layer.Index, f.Status))
				full[w+"|"+fmt.Sprintf("%d|%s", f.Layer.Index, f.Status)] = true
			}
		}
		hit, located, layerOK, statusOK := 0, 0, 0, 0
		for _, w := range want {
			source := w.Source
			if source == "layer" {
				source = "file"
			}
			k := what(source, w.Path, w.Rule)
			if full[k+"|"+fmt.Sprintf("%d|%s", w.Layer, w.Status)] {
				hit++
			}
			if alts := got[k]; len(alts) > 0 {
				located++
				for _, a := range alts {
					if layer, _, _ := strings.Cut(a, "|"); layer == fmt.Sprint(w.Layer) {
						layerOK++
						break
					}
				}
				for _, a := range alts {
					if strings.HasSuffix(a, "|"+w.Status) {
						statusOK++
						break
					}
				}
			}
		}
		rows = append(rows, fmt.Sprintf("%-24s %8d %8d %8d", name, len(want), n, hit))
		tot.expected += len(want)
		tot.got += n
		tot.hit += hit
		tot.located += located
		tot.layerOK += layerOK
		tot.statusOK += statusOK
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 100
		}
		return 100 * float64(a) / float64(b)
	}
	recall, precision := pct(tot.hit, tot.expected), pct(tot.hit, tot.got)
	layerAcc, statusAcc := pct(tot.layerOK, tot.located), pct(tot.statusOK, tot.located)
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s %8s %8s %8s\n", "case", "expected", "reported", "correct")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	fmt.Fprintf(&b, "recall %.1f%%  precision %.1f%%  layer attribution %.1f%%  status %.1f%%  (%d cases, %d expected findings)\n",
		recall, precision, layerAcc, statusAcc, len(cases), tot.expected)
	t.Log("\n" + b.String())
	if recall != 100 || precision != 100 || layerAcc != 100 || statusAcc != 100 {
		t.Errorf("the corpus must score 100%% on every measure:\n%s", b.String())
	}
}
