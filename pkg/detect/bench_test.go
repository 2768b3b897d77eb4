package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// benchCorpus is realistic text: Go's own sources and docs from GOROOT,
// about 4 MB, with no secrets in it.
func benchCorpus(b *testing.B) [][]byte {
	b.Helper()
	root := os.Getenv("GOROOT")
	if root == "" {
		root = "/usr/local/go"
	}
	var files [][]byte
	total := 0
	filepath.WalkDir(filepath.Join(root, "src", "net"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || total > 4<<20 || !strings.HasSuffix(p, ".go") {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil {
			files = append(files, data)
			total += len(data)
		}
		return nil
	})
	if total == 0 {
		b.Skip("no corpus")
	}
	return files
}

// engines are the detectors BenchmarkDetectText and
// BenchmarkDetectDebianText compare.
var engines = []struct {
	name  string
	depth int
	plain bool
}{{"gitleaks/decode=0", 0, true}, {"gitleaks/decode=2", 2, true}, {"windows/decode=0", 0, false}, {"windows/decode=2", 2, false}}

// benchScan builds a detector with opts and reports its throughput over
// files (total bytes) as path, on one goroutine: MB/s = MB per CPU-second.
func benchScan(b *testing.B, opts Options, path string, files [][]byte, total int) {
	d, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			d.Scan(path, f, 1)
		}
	}
}

// BenchmarkDetectText reports the detector's throughput (MB/s on one
// goroutine, so MB per CPU-second) over real source text.
func BenchmarkDetectText(b *testing.B) {
	for _, c := range engines {
		b.Run(c.name, func(b *testing.B) {
			files := benchCorpus(b)
			total := 0
			for _, f := range files {
				total += len(f)
			}
			benchScan(b, Options{MaxDecodeDepth: c.depth, NoWindows: c.plain}, "/src/file.go", files, total)
		})
	}
}

// BenchmarkDetectDebianText is BenchmarkDetectText over the kind of text a
// Debian image holds: up to 16 MB of this machine's /usr/share and
// /usr/lib/python3 text files, 1 MiB at most from each (skipped when absent).
func BenchmarkDetectDebianText(b *testing.B) {
	files, total := debianText(b)
	for _, c := range engines {
		b.Run(c.name, func(b *testing.B) {
			benchScan(b, Options{MaxDecodeDepth: c.depth, NoWindows: c.plain}, "/usr/lib/file.txt", files, total)
		})
	}
}

// debianText is up to 16 MB of this machine's /usr/share and
// /usr/lib/python3 text files, 1 MiB at most from each (the benchmark is
// skipped when there is less than 1 MiB).
func debianText(b *testing.B) ([][]byte, int) {
	b.Helper()
	var files [][]byte
	total := 0
	for _, root := range []string{"/usr/lib/python3", "/usr/share/doc", "/usr/share/perl", "/usr/share"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || total > 16<<20 {
				return filepath.SkipDir
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil || len(data) == 0 || !utf8.Valid(data) {
				return nil
			}
			files = append(files, data[:min(len(data), 1<<20)])
			total += min(len(data), 1<<20)
			return nil
		})
	}
	if total < 1<<20 {
		b.Skip("no text under /usr")
	}
	return files, total
}

// BenchmarkSpeedups measures what each speed-up of the windowed engine
// buys, on the Debian-like text of BenchmarkDetectDebianText at decoding
// depth 2 (layerscan's default): all on, then each one off alone, then
// plain gitleaks (the findings are the same in every row).
func BenchmarkSpeedups(b *testing.B) {
	files, total := debianText(b)
	saved := speedups
	defer func() { speedups = saved }()
	for _, c := range []struct {
		name string
		off  func()
	}{
		{"all", func() {}},
		{"no-hit-filters", func() { speedups.hitFilters = false }},
		{"gitleaks-decoder", func() { speedups.nativeDecode = false }},
		{"no-window-regex-first", func() { speedups.windowRegexFirst = false }},
		{"rest-rules-together", func() { speedups.restAlone = false }},
		{"gitleaks-plain", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			speedups = saved
			if c.off != nil {
				c.off()
			}
			benchScan(b, Options{MaxDecodeDepth: 2, NoWindows: c.off == nil}, "/usr/lib/file.txt", files, total)
		})
	}
}
