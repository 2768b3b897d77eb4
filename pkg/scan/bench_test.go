package scan_test

import (
	"testing"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/walk"
)

// BenchmarkScanImage scans realisticImage (three layers of this machine's
// real text and binaries, archives, encoded and deleted secrets) end to
// end — walk, detect, lifecycle, causes — with the CLI's defaults (decoding
// depth 2, binaries as strings): MB/s of uncompressed layer bytes, with
// every core the benchmark is given (-cpu).
func BenchmarkScanImage(b *testing.B) {
	img, _ := realisticImage(b)
	det, err := detect.New(detect.Options{MaxDecodeDepth: 2})
	if err != nil {
		b.Fatal(err)
	}
	s := scan.New(det, scan.Options{Binaries: walk.BinaryStrings})
	rep := scanImage(b, s, img)
	if len(rep.Findings) == 0 {
		b.Fatal("no findings: the image lost its planted secrets")
	}
	b.SetBytes(rep.Stats.Bytes)
	b.ResetTimer()
	for b.Loop() {
		scanImage(b, s, img)
	}
}
