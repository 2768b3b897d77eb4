package detect

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// trieHits are the hits of an Aho-Corasick trie over the ASCII-lowercased
// text: what the windows used before kwMatcher.
func trieHits(kws []string, text string) []kwHit {
	trie := ahocorasick.NewTrieBuilder().AddStrings(kws).Build()
	var out []kwHit
	for _, m := range trie.Match([]byte(asciiLower(text))) {
		out = append(out, kwHit{int32(m.Pattern()), int32(m.Pos())})
	}
	return out
}

func sortHits(h []kwHit) []kwHit {
	slices.SortFunc(h, func(a, b kwHit) int {
		if a.pos != b.pos {
			return int(a.pos - b.pos)
		}
		return int(a.pat - b.pat)
	})
	return h
}

func checkKwMatcher(t *testing.T, kws []string, text string) {
	t.Helper()
	got, hazard := newKwMatcher(kws).match(text, nil)
	want := sortHits(trieHits(kws, text))
	if !slices.Equal(sortHits(got), want) {
		t.Fatalf("keywords %q over %.200q:\n got  %v\n want %v", kws, text, got, want)
	}
	if hazard != foldHazard(text) {
		t.Fatalf("fold hazard in %.200q: %v, want %v", text, hazard, foldHazard(text))
	}
}

func TestKwMatcherEqualsTrie(t *testing.T) {
	d, err := New(Options{MaxDecodeDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	ruleKws := d.fast.kw.kws
	small := []string{"a", "ab", "abc", "b", "bca", "s.", "key", "api_key", "ke", "é", "x"}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		b := make([]byte, rng.IntN(120))
		for j := range b {
			b[j] = "aAbBcCs.KeYx_é\nſİK"[rng.IntN(21)]
		}
		checkKwMatcher(t, small, string(b))
	}
	var texts []string
	for _, glob := range []string{"/usr/lib/python3*/email/*.py", "/usr/share/doc/*/copyright", "../../pkg/*/*.go"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files[:min(len(files), 30)] {
			if b, err := os.ReadFile(f); err == nil {
				texts = append(texts, string(b), strings.ToUpper(string(b)))
			}
		}
	}
	if len(texts) == 0 {
		t.Fatal("no text found to compare on")
	}
	for _, x := range texts {
		checkKwMatcher(t, ruleKws, x)
	}
}

// BenchmarkKwMatcher: the keyword pass of the default rules over the
// Debian-like text of BenchmarkDetectDebianText.
func BenchmarkKwMatcher(b *testing.B) {
	files, total := debianText(b)
	d, err := New(Options{MaxDecodeDepth: 2})
	if err != nil {
		b.Fatal(err)
	}
	m := d.fast.kw
	var hits []kwHit
	texts := make([]string, len(files))
	for i, f := range files {
		texts[i] = string(f)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n = 0
		for _, f := range texts {
			hits, _ = m.match(f, hits[:0])
			n += len(hits)
		}
	}
	b.ReportMetric(float64(n)/float64(total)*1000, "hits/kB")
}
