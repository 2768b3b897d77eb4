package walk

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// OpenTar opens a layer blob and returns a tar reader over its
// uncompressed content (gzip, zstd or none, told apart by magic bytes, as
// Walk does), within the size and ratio bounds of lim (zero fields take
// the defaults). Closing the returned Closer closes the decompressor and
// the blob. Unlike Walk, OpenTar does not verify the layer's digests: a
// reader that stops early never sees the blob's end.
func OpenTar(l fetch.Layer, lim Limits) (*tar.Reader, io.Closer, error) {
	rc, err := l.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("opening layer: %w", err)
	}
	stored := &hashCounter{r: rc}
	dr, _, err := decompress(bufio.NewReaderSize(stored, 64<<10))
	if err != nil {
		rc.Close()
		return nil, nil, err
	}
	lim.defaults()
	return tar.NewReader(&boundedLayer{r: dr, stored: stored, img: &imageBytes{}, lim: &lim}), closers{dr, rc}, nil
}

// EntryOf describes a tar header as Walk records it: cleaned absolute path,
// kind (whiteouts and opaque markers recognised), hardlink target cleaned.
func EntryOf(hdr *tar.Header) Entry {
	e, _ := classify(hdr)
	return e
}

type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
