package evidence

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/therootcompany/xz"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// MemberSeparator joins a file's path in the layer and the members of the
// nested archives inside it: /app/app.jar!BOOT-INF/classes/app.properties.
const MemberSeparator = "!"

// DefaultMaxMemberSize bounds each archive (and member) copied while
// extracting from nested archives.
const DefaultMaxMemberSize = 1 << 30

// SplitMember splits "PATH!member!member" into the path in the layer and
// the chain of archive members (nil when there is none).
func SplitMember(p string) (string, []string) {
	parts := strings.Split(p, MemberSeparator)
	return parts[0], parts[1:]
}

// JoinMember is SplitMember's inverse.
func JoinMember(p string, chain []string) string {
	return strings.Join(append([]string{p}, chain...), MemberSeparator)
}

// extractMember writes the content of the member chain inside the file at
// outer in layer. Each archive on the way is copied to a 0600 temporary
// file that is removed at once (bounded by DefaultMaxMemberSize), because
// zip needs random access.
func extractMember(ctx context.Context, layer fetch.Layer, outer string, chain []string, w io.Writer, opts Options) error {
	cur, err := tempCopy(func(tw io.Writer) error { return Extract(ctx, layer, outer, tw, opts) })
	if err != nil {
		return err
	}
	defer func() { cur.Close() }()
	where := outer
	for i, name := range chain {
		last := i == len(chain)-1
		var dst io.Writer
		var next *os.File
		if last {
			dst = w
		} else {
			next, err = tempCreate()
			if err != nil {
				return err
			}
			dst = next
		}
		if err := copyMember(cur, name, dst); err != nil {
			if next != nil {
				next.Close()
			}
			return fmt.Errorf("%s in %s: %w", name, where, err)
		}
		where += MemberSeparator + name
		if last {
			return nil
		}
		cur.Close()
		cur = next
	}
	return nil
}

// copyMember finds member name in the archive held by f and copies it.
func copyMember(f *os.File, name string, w io.Writer) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var magic [512]byte
	n, _ := f.ReadAt(magic[:], 0)
	head := magic[:n]
	want := strings.TrimPrefix(path.Clean("/"+name), "/")
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		zr, err := zip.NewReader(f, st.Size())
		if err != nil {
			return fmt.Errorf("reading zip: %w", err)
		}
		for _, zf := range zr.File {
			if strings.TrimPrefix(path.Clean("/"+zf.Name), "/") != want {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				return err
			}
			defer rc.Close()
			return copyBounded(w, rc)
		}
		return ErrNotFound
	case isTar(head):
		return copyFromTar(io.NewSectionReader(f, 0, st.Size()), want, w)
	}
	// A compressed stream: the member is the decompressed file itself, or,
	// when that is a tar, a member of it.
	dr, err := decompressor(head, io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return err
	}
	plain, err := tempCopy(func(tw io.Writer) error { return copyBounded(tw, dr) })
	if err != nil {
		return err
	}
	defer plain.Close()
	var inner [512]byte
	m, _ := plain.ReadAt(inner[:], 0)
	pst, err := plain.Stat()
	if err != nil {
		return err
	}
	if isTar(inner[:m]) {
		if err := copyFromTar(io.NewSectionReader(plain, 0, pst.Size()), want, w); !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return copyBounded(w, io.NewSectionReader(plain, 0, pst.Size()))
}

func isTar(head []byte) bool {
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}

func decompressor(head []byte, r io.Reader) (io.Reader, error) {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzip.NewReader(r)
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2.NewReader(r), nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return xz.NewReader(r, xz.DefaultDictMax)
	}
	return nil, errors.New("not an archive layerscan can open")
}

func copyFromTar(r io.Reader, want string, w io.Writer) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		if strings.TrimPrefix(path.Clean("/"+hdr.Name), "/") == want && (hdr.Typeflag == tar.TypeReg) {
			return copyBounded(w, tr)
		}
	}
}

func copyBounded(w io.Writer, r io.Reader) error {
	n, err := io.Copy(w, io.LimitReader(r, DefaultMaxMemberSize+1))
	if err != nil {
		return err
	}
	if n > DefaultMaxMemberSize {
		return fmt.Errorf("member is larger than %d bytes", DefaultMaxMemberSize)
	}
	return nil
}

// tempCreate makes a 0600 temporary file and unlinks it at once, so it
// disappears with the process whatever happens.
func tempCreate() (*os.File, error) {
	f, err := os.CreateTemp("", "layerscan-extract-*")
	if err != nil {
		return nil, fmt.Errorf("temporary file: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

func tempCopy(fill func(io.Writer) error) (*os.File, error) {
	f, err := tempCreate()
	if err != nil {
		return nil, err
	}
	if err := fill(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
