package walk

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/fetch"
)

// BenchmarkWalk measures reading a gzip layer of 2,000 text files (about
// 16 MB uncompressed) into chunks, without a detector: decompression, tar,
// hashing and hand-off.
func BenchmarkWalk(b *testing.B) {
	var entries []testimage.Entry
	line := strings.Repeat("some configuration text = value; ", 3) + "\n"
	for i := range 2000 {
		entries = append(entries, testimage.Entry{Name: fmt.Sprintf("usr/share/doc/pkg%d/README", i), Body: strings.Repeat(line, 80)})
	}
	plain := testimage.Tar(entries...)
	stored := gz(b, plain)
	l := layerOf(0, stored, plain)
	b.SetBytes(int64(len(plain)))
	b.ResetTimer()
	for b.Loop() {
		res, err := Walk(context.Background(), []fetch.Layer{l}, Options{}, func(context.Context, *Chunk) error { return nil })
		if err != nil || res[0].Err != nil {
			b.Fatal(err, res[0].Err)
		}
	}
}
