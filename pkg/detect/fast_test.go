package detect

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/report"
)

// equivCorpus is the text the windowed engine is checked on: the rule
// samples, the buildah corpus' files, and real text from this machine
// (/usr/share, /usr/lib/python3, GOROOT; skipped when absent), each also
// with the samples spliced in at several lines so that real findings sit
// in real text.
func equivCorpus(t testing.TB, limit int) map[string]string {
	var samples []string
	for _, rd := range rulesWithSamples() {
		for _, x := range append(slices.Clone(rd.tps), rd.fps...) {
			samples = append(samples, x.text)
		}
	}
	out := map[string]string{"samples": strings.Join(samples, "\n")}
	for i, s := range samples {
		out[fmt.Sprintf("sample-%d", i)] = s
	}
	total := 0
	add := func(p string, data []byte) {
		if len(data) > 1<<20 {
			data = data[:1<<20]
		}
		if slices.Contains(data, 0) {
			return
		}
		s := string(data)
		out[p] = s
		total += len(s)
		lines := strings.SplitAfter(s, "\n")
		for k, smp := range samples {
			at := (k*7919 + len(p)) % len(lines)
			lines = slices.Insert(lines, at, smp+"\n")
		}
		out[p+"+samples"] = strings.Join(lines, "")
	}
	filepath.WalkDir("../../testdata/buildah", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(p); err == nil && len(data) < 4<<20 {
				add(p, data)
			}
		}
		return nil
	})
	goroot := os.Getenv("GOROOT")
	if goroot == "" {
		goroot = "/usr/local/go"
	}
	for _, root := range []string{"/usr/share/doc", "/usr/share/perl", "/usr/share/ca-certificates", "/usr/lib/python3", "/usr/share", filepath.Join(goroot, "src/crypto")} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || total > limit {
				return fs.SkipDir
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			if _, ok := out[p]; ok {
				return nil
			}
			info, err := d.Info()
			if err != nil || info.Size() > 4<<20 || info.Size() == 0 {
				return nil
			}
			if data, err := os.ReadFile(p); err == nil && utf8.Valid(data) {
				add(p, data)
			}
			return nil
		})
	}
	return out
}

func findingKeys(fs []report.Finding, skip map[string]bool) []string {
	var out []string
	for _, f := range fs {
		if skip[f.RuleID] {
			continue
		}
		out = append(out, fmt.Sprintf("%s|%d-%d|%d-%d|%q|%q|%v", f.RuleID, f.StartLine, f.EndLine, f.StartColumn, f.EndColumn, f.Secret, f.Line, f.Tags))
	}
	slices.Sort(out)
	return out
}

// TestWindowedEqualsGitleaks: the keyword-window engine gives exactly the
// findings (rule, lines, columns, secret, line text, tags) of gitleaks'
// own Detect over the whole text, at decode depth 0 and 2.
func TestWindowedEqualsGitleaks(t *testing.T) {
	limit := 24 << 20
	if testing.Short() {
		limit = 2 << 20
	}
	corpus := equivCorpus(t, limit)
	size, n := 0, 0
	for _, depth := range []int{0, 2} {
		d, err := New(Options{MaxDecodeDepth: depth})
		if err != nil {
			t.Fatal(err)
		}
		for p, text := range corpus {
			frag := fragment{Raw: text, FilePath: p, StartLine: 1}
			want := findingKeys(d.gl.Detect(frag), d.pathOnly)
			got := findingKeys(d.fast.detect(frag), d.pathOnly)
			if !slices.Equal(got, want) {
				t.Errorf("depth %d %s:\n got %d: %v\nwant %d: %v", depth, p, len(got), got, len(want), want)
			}
			size += len(text)
			n += len(want)
		}
	}
	t.Logf("%d texts, %.1f MB, %d findings compared", len(corpus), float64(size)/1e6, n)
	if n == 0 {
		t.Fatal("no findings: the corpus does not exercise the rules")
	}
}

// binaryStrings is a crude strings(1): printable runs of 6+ bytes, one a line.
func binaryStrings(data []byte) []byte {
	var out []byte
	start := -1
	for i := 0; i <= len(data); i++ {
		if i < len(data) && (data[i] >= 0x20 && data[i] < 0x7f || data[i] == '\t') {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 6 {
			out = append(append(out, data[start:i]...), '\n')
		}
		start = -1
	}
	return out
}

// TestScanBinaryEqualsPlain: ScanBinary's reduced, windowed rule set gives
// the findings of the plain path (every rule, whole text, then filtered),
// over the printable strings of real binaries with the samples spliced in.
func TestScanBinaryEqualsPlain(t *testing.T) {
	fast, err := New(Options{MaxDecodeDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(Options{MaxDecodeDepth: 2, NoWindows: true})
	if err != nil {
		t.Fatal(err)
	}
	var samples []string
	for _, rd := range rulesWithSamples() {
		for _, x := range rd.tps {
			samples = append(samples, x.text)
		}
	}
	texts := map[string][]byte{"samples": []byte(strings.Join(samples, "\n"))}
	total, binLimit := 0, 6<<20
	if testing.Short() {
		binLimit = 1 << 20
	}
	for _, dir := range []string{"/usr/bin", "/usr/lib/x86_64-linux-gnu"} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if total > binLimit || !e.Type().IsRegular() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil || len(data) > 8<<20 {
				continue
			}
			s := binaryStrings(data)
			total += len(s)
			p := filepath.Join(dir, e.Name())
			texts[p] = s
			texts[p+"+samples"] = append(slices.Clone(s), texts["samples"]...)
		}
	}
	n := 0
	for p, s := range texts {
		got, want := fast.ScanBinary(p, s), plain.ScanBinary(p, s)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %v\nwant %v", p, got, want)
		}
		// And Scan on the same text, through refine and dropYielding.
		if g, w := fast.Scan(p, s, 1), plain.Scan(p, s, 1); fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("Scan %s:\n got %v\nwant %v", p, g, w)
		}
		n += len(want)
	}
	t.Logf("%d texts, %.1f MB of strings, %d binary findings compared", len(texts), float64(total)/1e6, n)
	if n == 0 {
		t.Fatal("no findings compared")
	}
}

// TestLineIndex: the newline-index line arithmetic of the windows equals
// the plain string scans it replaces.
func TestLineIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 3000; it++ {
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = "ab\n"[rng.IntN(3)]
		}
		raw := string(b)
		lx := newLineIndex(raw)
		var spans []span
		for k := 0; k < 1+rng.IntN(6); k++ {
			pos := rng.IntN(len(raw) + 1)
			n, before := rng.IntN(4), rng.IntN(4)
			s := span{max(0, pos-rng.IntN(20)), min(len(raw), pos+rng.IntN(20))}
			if got, want := lx.lineSpan(pos, before, n, s), refLineSpan(raw, pos, before, n, s); got != want {
				t.Fatalf("lineSpan(%q, %d, %d, %d, %v) = %v, want %v", raw, pos, before, n, s, got, want)
			}
			spans = append(spans, s)
		}
		got := lx.mergeLines(slices.Clone(spans))
		if want := refMergeLines(raw, slices.Clone(spans)); !slices.Equal(got, want) {
			t.Fatalf("mergeLines(%q, %v) = %v, want %v", raw, spans, got, want)
		}
		lx.release()
	}
}

// refLineSpan is lineIndex.lineSpan written as plain string scans: it widens s to before whole lines before the line of pos and n
// whole lines after it.
func refLineSpan(raw string, pos, before, n int, s span) span {
	a := pos
	for i := 0; i <= before && a > 0; i++ {
		a = strings.LastIndexByte(raw[:a-1], '\n') + 1
	}
	b := pos
	for i := 0; i <= n && b < len(raw); i++ {
		if j := strings.IndexByte(raw[b:], '\n'); j >= 0 {
			b += j + 1
		} else {
			b = len(raw)
		}
	}
	return span{min(s.a, a), max(s.b, b)}
}

// refMergeLines is lineIndex.mergeLines written as plain string scans: it snaps spans (in hit order) to whole lines and merges the
// overlapping ones, in place.
func refMergeLines(raw string, spans []span) []span {
	slices.SortFunc(spans, func(x, y span) int { return x.a - y.a })
	merged := spans[:0]
	for _, s := range spans {
		s.a = strings.LastIndexByte(raw[:s.a], '\n') + 1
		if s.b > 0 && raw[s.b-1] != '\n' {
			if i := strings.IndexByte(raw[s.b:], '\n'); i >= 0 {
				s.b += i + 1
			} else {
				s.b = len(raw)
			}
		}
		if n := len(merged); n > 0 && s.a <= merged[n-1].b {
			merged[n-1].b = max(merged[n-1].b, s.b)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// foldHazard is hazardRunes as a yes or no, byte by byte.
func foldHazard(raw string) bool {
	for i := 0; i+1 < len(raw); i++ {
		switch {
		case raw[i] == 0xC5 && raw[i+1] == 0xBF, raw[i] == 0xC4 && raw[i+1] == 0xB0:
			return true
		case raw[i] == 0xE2 && raw[i+1] == 0x84 && i+2 < len(raw) && raw[i+2] == 0xAA:
			return true
		}
	}
	return false
}
