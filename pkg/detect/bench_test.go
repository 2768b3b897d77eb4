package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// BenchmarkDetectText reports the detector's throughput (MB/s on one
// goroutine, so MB per CPU-second) over real source text.
func BenchmarkDetectText(b *testing.B) {
	for _, depth := range []int{0, 2} {
		b.Run("decode="+string(rune('0'+depth)), func(b *testing.B) {
			d, err := New(Options{MaxDecodeDepth: depth})
			if err != nil {
				b.Fatal(err)
			}
			files := benchCorpus(b)
			var n int64
			for _, f := range files {
				n += int64(len(f))
			}
			b.SetBytes(n)
			b.ResetTimer()
			for b.Loop() {
				for _, f := range files {
					d.Scan("/src/file.go", f, 1)
				}
			}
		})
	}
}
