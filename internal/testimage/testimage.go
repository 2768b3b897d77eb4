package testimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	ggcrcompression "github.com/google/go-containerregistry/pkg/compression"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Epoch is the fixed time used for every tar entry's mtime and as the
// created time of the first history entry of an image built by [Image].
var Epoch = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// Entry is one tar entry of a layer built by [Tar] or [Layer].
type Entry struct {
	// Name is written verbatim (no leading "/" is added or removed).
	// Layers made by real builders use relative names such as "app/x.env"
	// and a trailing slash for directories ("app/").
	Name string
	// Type is a tar type flag: tar.TypeReg, tar.TypeDir, tar.TypeSymlink,
	// tar.TypeLink, ... The zero value means tar.TypeReg.
	Type byte
	// Body is the content of a regular file; ignored for other types.
	Body string
	// Linkname is the target of a symlink (resolved like a path in the
	// image) or of a hard link (a name in the tar, e.g. "app/present.env").
	Linkname string
	// Mode is the permission bits; 0 means 0644 for files and hard links,
	// 0755 for directories and 0777 for symlinks.
	Mode int64
	// Format forces a tar format (tar.FormatPAX, tar.FormatGNU); the zero
	// value lets archive/tar pick the first of USTAR, PAX, GNU that can
	// encode the entry.
	Format tar.Format
}

// Tar builds an uncompressed tar stream from entries, in the order given.
// The output is deterministic: mtime is [Epoch], uid/gid 0, no user or group
// names, and the USTAR format where the names allow it. Whiteouts are just
// entries named ".wh.NAME" or ".wh..wh..opq".
//
// Tar panics if an entry cannot be encoded (for example a name too long for
// any tar format); entries are test data written by hand.
func Tar(entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{
			Typeflag: typ,
			Name:     e.Name,
			Linkname: e.Linkname,
			Mode:     e.Mode,
			ModTime:  Epoch,
			Uid:      0,
			Gid:      0,
			Format:   e.Format,
		}
		if hdr.Mode == 0 {
			switch typ {
			case tar.TypeDir:
				hdr.Mode = 0o755
			case tar.TypeSymlink:
				hdr.Mode = 0o777
			default:
				hdr.Mode = 0o644
			}
		}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			panic(fmt.Sprintf("testimage.Tar: header for %q: %v", e.Name, err))
		}
		if hdr.Size > 0 {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				panic(fmt.Sprintf("testimage.Tar: body of %q: %v", e.Name, err))
			}
		}
	}
	if err := tw.Close(); err != nil {
		panic(fmt.Sprintf("testimage.Tar: %v", err))
	}
	return buf.Bytes()
}

// TarHeaders builds an uncompressed tar of headers alone, exactly as given
// (no defaults, no content: sizes must be 0), for tests that need full
// control of a header. It panics, like [Tar], when one cannot be encoded.
func TarHeaders(hdrs ...*tar.Header) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			panic(fmt.Sprintf("testimage.TarHeaders: header for %q: %v", h.Name, err))
		}
	}
	if err := tw.Close(); err != nil {
		panic(fmt.Sprintf("testimage.TarHeaders: %v", err))
	}
	return buf.Bytes()
}

// Compression selects how [Layer] compresses its tar.
type Compression int

const (
	// None stores the tar as is (application/vnd.oci.image.layer.v1.tar).
	None Compression = iota
	// Gzip compresses with gzip (application/vnd.oci.image.layer.v1.tar+gzip).
	Gzip
	// Zstd compresses with zstd (application/vnd.oci.image.layer.v1.tar+zstd).
	Zstd
)

// String returns "none", "gzip" or "zstd".
func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// MediaType is the OCI layer media type that goes with c.
func (c Compression) MediaType() types.MediaType {
	switch c {
	case Gzip:
		return types.OCILayer
	case Zstd:
		return types.OCILayerZStd
	}
	return types.OCIUncompressedLayer
}

// Layer builds a layer from entries (see [Tar]) with the OCI media type that
// matches c. Compression is done here, once, with fixed settings of the
// klauspost/compress version pinned in go.mod, so digests are stable.
// Layer panics on an unknown Compression or an entry [Tar] rejects.
func Layer(c Compression, entries ...Entry) v1.Layer {
	return LayerFromTar(c, Tar(entries...))
}

// LayerFromTar is [Layer] for a tar stream made elsewhere (for example a
// deliberately malformed one).
func LayerFromTar(c Compression, tarball []byte) v1.Layer {
	switch c {
	case None:
		// static keeps the bytes as they are: digest == diffID.
		return static.NewLayer(tarball, types.OCIUncompressedLayer)
	case Gzip:
		return compressedLayer(gzipBytes(tarball), ggcrcompression.GZip, types.OCILayer)
	case Zstd:
		return compressedLayer(zstdBytes(tarball), ggcrcompression.ZStd, types.OCILayerZStd)
	}
	panic(fmt.Sprintf("testimage.Layer: unknown compression %d", int(c)))
}

func compressedLayer(blob []byte, comp ggcrcompression.Compression, mt types.MediaType) v1.Layer {
	// The opener returns already-compressed bytes, so LayerFromOpener keeps
	// them as the compressed blob and only decompresses to get the diffID.
	opener := func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}
	l, err := tarball.LayerFromOpener(opener, tarball.WithCompression(comp), tarball.WithMediaType(mt))
	if err != nil {
		panic(fmt.Sprintf("testimage.Layer: %v", err))
	}
	return l
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	// The header has no name and a zero mtime; the OS byte is fixed by the
	// library. Level 9 keeps testdata small.
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic(err)
	}
	if _, err := zw.Write(b); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func zstdBytes(b []byte) []byte {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderCRC(true),
	)
	if err != nil {
		panic(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// Step is one build step of an image made by [Image]: one history entry and,
// unless Layer is nil, one layer.
type Step struct {
	// CreatedBy is the history entry's created_by, e.g.
	// "/bin/sh -c #(nop) COPY file:abc in /app/" or
	// "RUN /bin/sh -c rm /app/x # buildkit".
	CreatedBy string
	// Layer is the layer the step adds; nil makes an "empty_layer": true
	// history entry (ENV, LABEL, CMD, ...).
	Layer v1.Layer
	// Comment is the history entry's comment.
	Comment string
}

// Option configures [Image].
type Option func(*imageOptions)

type imageOptions struct {
	os, arch, variant string
	env               []string
	noHistory         bool
	history           []v1.History
	historySet        bool
}

// WithPlatform sets the config's os, architecture and variant (default
// linux/amd64, no variant).
func WithPlatform(os, arch, variant string) Option {
	return func(o *imageOptions) {
		o.os, o.arch, o.variant = os, arch, variant
	}
}

// WithoutHistory leaves the config with no "history" field at all.
func WithoutHistory() Option {
	return func(o *imageOptions) {
		o.noHistory = true
		o.history, o.historySet = nil, false
	}
}

// WithEnv sets the config's Env (e.g. "PATH=/usr/bin", "APP_MODE=prod").
func WithEnv(env ...string) Option {
	return func(o *imageOptions) {
		o.env = append([]string(nil), env...)
	}
}

// WithHistoryOverride replaces the history computed from the steps with h,
// verbatim: it may be shorter or longer than the list of layers, and its
// empty_layer flags need not match them. The config's "history" field is
// omitempty, so an empty h gives the same config as [WithoutHistory].
func WithHistoryOverride(h []v1.History) Option {
	return func(o *imageOptions) {
		o.history = append([]v1.History(nil), h...)
		o.historySet = true
		o.noHistory = false
	}
}

// StepTime is the created time [Image] gives to the i-th step's history
// entry: [Epoch] plus i minutes.
func StepTime(i int) time.Time {
	return Epoch.Add(time.Duration(i) * time.Minute)
}

// Image appends steps, oldest first, to an empty image with the OCI manifest
// and config media types. The history entry of step i is created at
// [StepTime](i); the config's created time is that of the last step (or
// [Epoch] with no steps). The config's os/architecture default to
// linux/amd64.
func Image(steps []Step, opts ...Option) (v1.Image, error) {
	o := imageOptions{os: "linux", arch: "amd64"}
	for _, opt := range opts {
		opt(&o)
	}

	var img v1.Image = empty.Image
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)

	adds := make([]mutate.Addendum, 0, len(steps))
	for i, s := range steps {
		adds = append(adds, mutate.Addendum{
			Layer: s.Layer,
			History: v1.History{
				Created:    v1.Time{Time: StepTime(i)},
				CreatedBy:  s.CreatedBy,
				Comment:    s.Comment,
				EmptyLayer: s.Layer == nil,
			},
		})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, err
	}

	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = o.os, o.arch, o.variant
	cf.Created = v1.Time{Time: Epoch}
	if len(steps) > 0 {
		cf.Created = v1.Time{Time: StepTime(len(steps) - 1)}
	}
	if o.env != nil {
		cf.Config.Env = o.env
	}
	switch {
	case o.noHistory:
		cf.History = nil
	case o.historySet:
		cf.History = o.history
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return plainImage{img}, nil
}

// plainImage hides go-containerregistry's habit of giving every image
// descriptor an "artifactType" equal to the config media type (see
// partial.Descriptor). Images pushed by docker, buildkit or skopeo carry no
// artifactType in index.json or in an image index, and a scanner must not be
// tested only against descriptors that look like OCI artifacts.
type plainImage struct{ v1.Image }

// ArtifactType implements partial's withArtifactType: no artifact type.
func (plainImage) ArtifactType() (string, error) { return "", nil }

// Index builds an OCI image index from images keyed by platform
// ("linux/amd64", "linux/arm64/v8", ...). Entries are sorted by key, so the
// result does not depend on map order.
func Index(imgs map[string]v1.Image) (v1.ImageIndex, error) {
	keys := make([]string, 0, len(imgs))
	for k := range imgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	adds := make([]mutate.IndexAddendum, 0, len(keys))
	for _, k := range keys {
		p, err := v1.ParsePlatform(k)
		if err != nil {
			return nil, fmt.Errorf("testimage.Index: platform %q: %w", k, err)
		}
		if p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("testimage.Index: platform %q: want os/arch[/variant]", k)
		}
		img := imgs[k]
		if img == nil {
			return nil, fmt.Errorf("testimage.Index: nil image for %q", k)
		}
		mt, err := img.MediaType()
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				MediaType: mt,
				Platform:  p,
			},
		})
	}
	var idx v1.ImageIndex = empty.Index
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	return mutate.AppendManifests(idx, adds...), nil
}
