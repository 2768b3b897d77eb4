package fetch

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blobStore serves the blobs of an OCI layout, from a directory or from an
// indexed archive.
type blobStore interface {
	openBlob(h v1.Hash) (io.ReadCloser, int64, error)
	readFile(name string, limit int64) ([]byte, error)
	io.Closer
}

type dirStore struct{ dir string }

func (d dirStore) openBlob(h v1.Hash) (io.ReadCloser, int64, error) {
	if strings.ContainsAny(h.Algorithm+h.Hex, "/\\.") {
		return nil, 0, fmt.Errorf("bad digest %s", h)
	}
	f, size, err := openRegular(filepath.Join(d.dir, "blobs", h.Algorithm, h.Hex))
	if err != nil {
		return nil, 0, fmt.Errorf("blob %s: %w", h, err)
	}
	return f, size, nil
}

func (d dirStore) readFile(name string, limit int64) ([]byte, error) {
	f, _, err := openRegular(filepath.Join(d.dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, limit, name)
}

// openRegular opens a file of an image layout only if it is a regular
// file: a symbolic link (to /dev/zero, or out of the layout), a FIFO (whose
// open and reads would block) or a device is refused. O_NONBLOCK keeps
// the open of a FIFO from blocking; on a regular file it has no effect.
func openRegular(p string) (*os.File, int64, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, 0, fmt.Errorf("%w: a symbolic link", ErrNotRegular)
	}
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %s", ErrNotRegular, st.Mode().Type())
	}
	return f, st.Size(), nil
}

func (d dirStore) Close() error { return nil }

type archiveStore struct{ *archiveIndex }

func (a archiveStore) openBlob(h v1.Hash) (io.ReadCloser, int64, error) {
	rc, n, err := a.open("blobs/" + h.Algorithm + "/" + h.Hex)
	if err != nil {
		return nil, 0, fmt.Errorf("blob %s: %w", h, err)
	}
	return rc, n, nil
}

func (a archiveStore) readFile(name string, limit int64) ([]byte, error) {
	return a.readAll(name, limit)
}

func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is more than the %d bytes allowed", what, limit)
	}
	return b, nil
}

func readBlob(s blobStore, h v1.Hash, limit int64) ([]byte, error) {
	rc, size, err := s.openBlob(h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > limit {
		return nil, fmt.Errorf("blob %s is %d bytes, more than the %d allowed", h, size, limit)
	}
	b, err := readLimited(rc, limit, "blob "+h.String())
	if err != nil {
		return nil, err
	}
	if err := verifyDigest(h, b); err != nil {
		return nil, err
	}
	return b, nil
}

// verifyDigest checks b against h, in any algorithm the OCI image spec
// registers (sha256, sha512); another algorithm cannot be verified and is
// an error, not a pass.
func verifyDigest(h v1.Hash, b []byte) error {
	var got string
	switch h.Algorithm {
	case "sha256":
		sum := sha256.Sum256(b)
		got = hex.EncodeToString(sum[:])
	case "sha512":
		sum := sha512.Sum512(b)
		got = hex.EncodeToString(sum[:])
	default:
		return fmt.Errorf("blob %s: digest algorithm %q is not supported (sha256 and sha512 are)", h, h.Algorithm)
	}
	if got != h.Hex {
		return fmt.Errorf("blob %s: content digest is %s:%s", h, h.Algorithm, got)
	}
	return nil
}

func openOCILayout(target string, o Options) (*Source, error) {
	dir, refName := splitRefSuffix(target)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("opening OCI layout: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory", ErrNotImage, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, fmt.Errorf("%w: %s has no oci-layout file", ErrNotImage, dir)
	}
	src, err := readOCI(dirStore{dir}, refName, o)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	return src, nil
}

func openOCIArchive(target string, o Options) (*Source, error) {
	p, refName := splitRefSuffix(target)
	idx, err := indexArchive(p, o.MaxArchiveEntries)
	if err != nil {
		return nil, fmt.Errorf("reading OCI archive %s: %w", p, err)
	}
	src, err := readOCIArchive(idx, refName, o)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("reading OCI archive %s: %w", p, err)
	}
	src.closer = idx
	return src, nil
}

// readOCIArchive reads the images of an indexed OCI archive.
func readOCIArchive(idx *archiveIndex, refName string, o Options) (*Source, error) {
	if !idx.has("oci-layout") || !idx.has("index.json") {
		return nil, fmt.Errorf("%w: no oci-layout or index.json", ErrNotImage)
	}
	return readOCI(archiveStore{idx}, refName, o)
}

// readOCI reads index.json and every image it names (filtered by the
// ref.name annotation when refName is set, and by platform in indexes).
func readOCI(s blobStore, refName string, o Options) (*Source, error) {
	raw, err := s.readFile("index.json", o.MaxMetadataSize)
	if err != nil {
		return nil, fmt.Errorf("%w: reading index.json: %v", ErrNotImage, err)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing index.json: %v", ErrNotImage, err)
	}
	src := &Source{}
	var names []string
	for _, d := range im.Manifests {
		name := d.Annotations["org.opencontainers.image.ref.name"]
		names = append(names, name)
		if refName != "" && name != refName {
			continue
		}
		imgs, err := ociDescriptor(s, d, name, o, 0)
		if err != nil {
			return nil, err
		}
		src.Images = append(src.Images, imgs...)
	}
	if refName != "" && len(src.Images) == 0 {
		sort.Strings(names)
		return nil, fmt.Errorf("no image named %q (names: %s)", refName, strings.Join(names, ", "))
	}
	return src, nil
}

func ociDescriptor(s blobStore, d v1.Descriptor, refName string, o Options, depth int) ([]*Image, error) {
	switch {
	case d.MediaType.IsIndex():
		if depth >= maxIndexDepth {
			return nil, fmt.Errorf("image indexes nested more than %d deep", maxIndexDepth)
		}
		raw, err := readBlob(s, d.Digest, o.MaxMetadataSize)
		if err != nil {
			return nil, fmt.Errorf("reading index: %w", err)
		}
		im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("parsing index %s: %w", d.Digest, err)
		}
		children, err := selectPlatforms(im.Manifests, o.Platform)
		if err != nil {
			return nil, err
		}
		var out []*Image
		for _, c := range children {
			imgs, err := ociDescriptor(s, c, refName, o, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, imgs...)
		}
		return out, nil
	case d.MediaType.IsImage():
		img, err := ociImage(s, d, o)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", d.Digest, err)
		}
		img.Ref = refName // the caller prefixes the source's own name
		return []*Image{img}, nil
	}
	return nil, nil // attestations, signatures and other artifacts
}

func ociImage(s blobStore, d v1.Descriptor, o Options) (*Image, error) {
	raw, err := readBlob(s, d.Digest, o.MaxMetadataSize)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing manifest: %v", ErrNotImage, err)
	}
	if len(m.Layers) > o.MaxLayers {
		return nil, fmt.Errorf("%d layers, more than the %d allowed", len(m.Layers), o.MaxLayers)
	}
	rawCfg, err := readBlob(s, m.Config.Digest, o.MaxMetadataSize)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing config: %v", ErrNotImage, err)
	}
	img := &Image{
		Digest:       d.Digest,
		ConfigDigest: m.Config.Digest,
		RawConfig:    rawCfg,
		Config:       cfg,
		Warnings:     boundHistory(cfg, o),
		Platform:     platformOf(cfg),
		Annotations:  m.Annotations,
	}
	for i, ld := range m.Layers {
		ld := ld
		l := Layer{Index: i, Digest: ld.Digest, Size: ld.Size, MediaType: ld.MediaType,
			open: func() (io.ReadCloser, error) {
				rc, _, err := s.openBlob(ld.Digest)
				return rc, err
			}}
		if i < len(cfg.RootFS.DiffIDs) {
			l.DiffID = cfg.RootFS.DiffIDs[i]
		}
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

// selectPlatforms picks the children of an image index for the wanted
// platform: os/arch[/variant] keeps the first that satisfies it (an error
// naming the platforms there are when none does), "all" keeps every child
// that names a real platform (BuildKit's attestation manifests, platform
// unknown/unknown, are not images of the index). Nested indexes are
// children like images: the caller descends into them.
func selectPlatforms(ds []v1.Descriptor, want string) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	var seen []string
	if want == "all" {
		for _, d := range ds {
			if d.Platform != nil && d.Platform.OS == "unknown" {
				continue // buildkit attestation manifests
			}
			out = append(out, d)
		}
		return out, nil
	}
	spec, err := v1.ParsePlatform(want)
	if err != nil {
		return nil, fmt.Errorf("bad platform %q: %w", want, err)
	}
	for _, d := range ds {
		if d.Platform == nil {
			continue
		}
		seen = append(seen, d.Platform.String())
		if d.Platform.Satisfies(*spec) {
			out = append(out, d)
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no %s image in the index (it has: %s); use --platform", ErrNoPlatform, want, strings.Join(seen, ", "))
	}
	return out, nil
}
