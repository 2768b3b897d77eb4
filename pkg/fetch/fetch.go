package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Kind names the kind of place an image was read from.
type Kind string

// The kinds of source Open understands.
const (
	KindRegistry      Kind = "registry"
	KindDockerArchive Kind = "docker-archive"
	KindOCIArchive    Kind = "oci-archive"
	KindOCILayout     Kind = "oci"
)

// Limits on what an image may make layerscan read into memory.
const (
	// DefaultMaxMetadataSize bounds a manifest, index or config blob.
	DefaultMaxMetadataSize = 8 << 20
	// DefaultMaxArchiveEntries bounds the number of entries in an image archive.
	DefaultMaxArchiveEntries = 100000
	// DefaultMaxLayers bounds the number of layers of one image.
	DefaultMaxLayers = 1000
	// maxIndexDepth bounds nested image indexes.
	maxIndexDepth = MaxIndexDepth
)

// Layer is one layer of an image, oldest (base) first.
type Layer struct {
	// Index is the layer's position in the image, 0 being the base.
	Index int
	// Digest is the digest of the layer blob as stored. It is zero for a
	// legacy docker-archive layer whose digest is only known once read.
	Digest v1.Hash
	// DiffID is the digest of the uncompressed tar, from the image config.
	// It is zero when the config lists fewer diff IDs than layers.
	DiffID v1.Hash
	// Size is the stored (usually compressed) size in bytes, or -1.
	Size int64
	// MediaType is the media type the manifest gives, if any.
	MediaType types.MediaType

	open func() (io.ReadCloser, error)
}

// Open returns the layer blob exactly as stored (usually compressed). The
// caller reads it to EOF and closes it.
func (l Layer) Open() (io.ReadCloser, error) {
	if l.open == nil {
		return nil, fmt.Errorf("layer %d: no content", l.Index)
	}
	return l.open()
}

// NewLayer makes a Layer served by open; for tests and other sources.
func NewLayer(index int, digest, diffID v1.Hash, size int64, mt types.MediaType, open func() (io.ReadCloser, error)) Layer {
	return Layer{Index: index, Digest: digest, DiffID: diffID, Size: size, MediaType: mt, open: open}
}

// Image is one platform image: its config and its layers.
type Image struct {
	// Ref is the reference as given, with the tag or the archive's name.
	Ref string
	// Source is the reference exactly as given to Open: what a user passes
	// to layerscan again to read this image.
	Source string
	// Digest is the manifest digest; zero for a legacy docker archive.
	Digest v1.Hash
	// ConfigDigest is the digest of the config blob (Docker's image ID).
	ConfigDigest v1.Hash
	// Platform is os/arch[/variant] from the config (or the index).
	Platform string
	// RawConfig is the config blob; Config its parsed form.
	RawConfig []byte
	Config    *v1.ConfigFile
	// Annotations are the manifest's annotations, if any.
	Annotations map[string]string
	// Layers are the image's layers, base first.
	Layers []Layer
	// Warnings are problems with the image's metadata that did not stop
	// it being read (a bound crossed).
	Warnings []string
}

// Source is an opened image source holding one or more images. Close
// releases the files it keeps open.
type Source struct {
	Kind   Kind
	Ref    string
	Images []*Image

	closer io.Closer
}

// Close releases the source's open files.
func (s *Source) Close() error {
	if s == nil || s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// MaxIndexDepth bounds image indexes nested in image indexes.
const MaxIndexDepth = 4

// Options configure Open.
type Options struct {
	// Platform selects images from a multi-platform index: "os/arch[/variant]",
	// or "all". Default linux/amd64. Single-platform images are taken
	// whatever their platform.
	Platform string
	// Username and Password, when Username is set, are used as basic auth
	// for the registry instead of the keychain.
	Username, Password string
	// Keychain resolves registry credentials; default authn.DefaultKeychain
	// (~/.docker/config.json, $DOCKER_CONFIG, credential helpers).
	Keychain authn.Keychain
	// Insecure allows plain HTTP and skips TLS verification.
	Insecure bool
	// Transport overrides the HTTP transport (tests, fault injection).
	Transport http.RoundTripper
	// Jobs bounds concurrent blob downloads; it must be at least the number
	// of layers the walker reads at once.
	Jobs int
	// MaxMetadataSize bounds manifests, indexes and configs.
	MaxMetadataSize int64
	// MaxArchiveEntries bounds the entries of an image archive.
	MaxArchiveEntries int
	// MaxLayers bounds the number of layers of one image.
	MaxLayers int
	// MaxHistory bounds the history entries kept from a config.
	MaxHistory int
	// Timeout bounds a registry request's wait for its response headers
	// and each stall of a response body.
	Timeout time.Duration
	// BlobAttempts bounds how many times a registry layer blob is
	// requested when its download breaks off (resumed where it stopped).
	BlobAttempts int
	// UserAgent is sent to registries.
	UserAgent string
	// QPS limits the requests per second to a registry (0: no limit);
	// PageSize is the n of catalog and tag list pages (0: the registry's);
	// MaxNames bounds the names of a catalog, and the tags of one
	// repository, that are read (Remote.Catalog, Remote.Tags).
	QPS      float64
	PageSize int
	MaxNames int
	// MaxStreamSize bounds a stream spooled to a temporary file so it
	// can be read as an archive: standard input, a daemon's export.
	MaxStreamSize int64
	// Stdin is what "-" reads; default os.Stdin.
	Stdin io.Reader
	// Env looks up environment variables (DOCKER_HOST, CONTAINER_HOST,
	// XDG_RUNTIME_DIR, HOME); default os.Getenv.
	Env func(string) string
}

// Option changes Options.
type Option func(*Options)

// WithPlatform selects the platform(s) to read from an index.
func WithPlatform(p string) Option { return func(o *Options) { o.Platform = p } }

// WithBasicAuth sets registry credentials.
func WithBasicAuth(user, pass string) Option {
	return func(o *Options) { o.Username, o.Password = user, pass }
}

// WithKeychain sets the keychain used when no basic auth is given.
func WithKeychain(k authn.Keychain) Option { return func(o *Options) { o.Keychain = k } }

// WithInsecure allows plain HTTP and unverified TLS.
func WithInsecure(b bool) Option { return func(o *Options) { o.Insecure = b } }

// WithTransport sets the HTTP transport for registry access.
func WithTransport(t http.RoundTripper) Option { return func(o *Options) { o.Transport = t } }

// WithJobs bounds concurrent blob downloads.
func WithJobs(n int) Option { return func(o *Options) { o.Jobs = n } }

// WithUserAgent sets the User-Agent sent to registries.
func WithUserAgent(ua string) Option { return func(o *Options) { o.UserAgent = ua } }

func makeOptions(opts []Option) Options {
	o := Options{
		Platform:          "linux/amd64",
		Keychain:          authn.DefaultKeychain,
		Jobs:              4,
		MaxMetadataSize:   DefaultMaxMetadataSize,
		MaxArchiveEntries: DefaultMaxArchiveEntries,
		MaxLayers:         DefaultMaxLayers,
		MaxHistory:        DefaultMaxHistory,
		Timeout:           DefaultTimeout,
		BlobAttempts:      DefaultBlobAttempts,
		MaxNames:          DefaultMaxNames,
		MaxStreamSize:     DefaultMaxStreamSize,
		Stdin:             os.Stdin,
		Env:               os.Getenv,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Platform == "" {
		o.Platform = "linux/amd64"
	}
	if o.Jobs < 1 {
		o.Jobs = 1
	}
	return o
}

// Open opens the image(s) named by ref, a reference of the grammar
// ParseReference documents: a registry reference, a path (auto-detected),
// a path or name after one of the prefixes of Schemes, or "-" (standard
// input). An unknown scheme is an error wrapping ErrUnknownScheme.
func Open(ctx context.Context, ref string, opts ...Option) (*Source, error) {
	o := makeOptions(opts)
	if o.Platform != "all" {
		if _, err := v1.ParsePlatform(o.Platform); err != nil {
			return nil, fmt.Errorf("bad --platform %q: %w", o.Platform, err)
		}
	}
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	kind, target := r.Kind, r.Target
	var src *Source
	switch kind {
	case KindRegistry:
		src, err = openRemote(ctx, target, o)
	case KindDockerArchive:
		src, err = openDockerArchive(target, o)
	case KindOCIArchive:
		src, err = openOCIArchive(target, o)
	case KindOCILayout:
		src, err = openOCILayout(target, o)
	case KindStdin:
		src, err = openStdin(ctx, o)
	case KindDaemon, KindPodman:
		src, err = openDaemon(ctx, kind, target, o)
	case KindStorage:
		src, err = openStorage(target, o)
	case KindDir:
		src, err = openDir(target, o)
	default:
		err = fmt.Errorf("%w: no reader for %s", ErrBadReference, kind)
	}
	if err != nil {
		return nil, err
	}
	src.Kind, src.Ref = kind, ref
	for _, img := range src.Images {
		img.Source = ref
	}
	if kind == KindOCILayout || kind == KindOCIArchive {
		// Name OCI images by where they came from, plus their ref.name.
		_, suffix := splitRefSuffix(target)
		for _, img := range src.Images {
			switch {
			case suffix != "" || img.Ref == "":
				img.Ref = ref
			default:
				img.Ref = ref + ":" + img.Ref
			}
		}
	}
	if len(src.Images) == 0 {
		src.Close()
		return nil, fmt.Errorf("%s: %w: no image found", ref, ErrNotImage)
	}
	return src, nil
}

func looksLikePath(ref string) bool {
	return strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") ||
		strings.HasSuffix(ref, ".tar") || strings.HasSuffix(ref, ".tar.gz") || strings.HasSuffix(ref, ".tgz")
}

// sniffArchive decides between docker and OCI archives by their members.
func sniffArchive(path string) Kind {
	idx, err := indexArchive(path, DefaultMaxArchiveEntries)
	if err != nil {
		return KindDockerArchive // the docker reader gives the precise error
	}
	defer idx.Close()
	if _, ok := idx.entries["manifest.json"]; ok {
		return KindDockerArchive
	}
	if _, ok := idx.entries["oci-layout"]; ok {
		return KindOCIArchive
	}
	return KindDockerArchive
}

// splitRefSuffix splits "path:name" when path exists and the whole does
// not, as skopeo's oci: and oci-archive: transports allow.
func splitRefSuffix(target string) (string, string) {
	if _, err := os.Stat(target); err == nil {
		return target, ""
	}
	// Names may hold colons themselves (registry/repo:tag): the path is the
	// shortest prefix that exists.
	for i := 0; i < len(target); i++ {
		if target[i] != ':' || i == 0 {
			continue
		}
		if _, err := os.Stat(target[:i]); err == nil {
			return target[:i], target[i+1:]
		}
	}
	return target, ""
}

// Describe says in one line why ref could not be opened, for people: the
// kind of failure (a sentinel error of this package) and what to do.
func Describe(ref string, err error) string {
	msg := sanitize.OneLine(err.Error())
	switch {
	case errors.Is(err, ErrUnknownScheme):
		return fmt.Sprintf("usage: %s (see layerscan scan --help)", msg)
	case errors.Is(err, ErrNoDaemon):
		return fmt.Sprintf("no container engine for %s (is it running? DOCKER_HOST for docker:, CONTAINER_HOST for podman:): %s", ref, msg)
	case errors.Is(err, ErrNoStore):
		return fmt.Sprintf("cannot read the containers-storage store for %s (containers-storage:[DRIVER@ROOT]NAME names another store): %s", ref, msg)
	case errors.Is(err, ErrBadReference):
		return fmt.Sprintf("%q is not a valid image reference or an existing path: %s", ref, msg)
	case errors.Is(err, ErrUnauthorized):
		return fmt.Sprintf("unauthorized: the registry refused the credentials for %s (docker login, or --username/--password-stdin): %s", ref, msg)
	case errors.Is(err, ErrNotFound):
		return fmt.Sprintf("not found: %s: %s", ref, msg)
	case errors.Is(err, ErrCertificate):
		return fmt.Sprintf("TLS: %s", msg)
	case errors.Is(err, ErrUnreachable):
		return fmt.Sprintf("registry unreachable for %s: %s", ref, msg)
	case errors.Is(err, ErrNotImage):
		return fmt.Sprintf("not an image: %s", msg)
	case errors.Is(err, ErrNoPlatform):
		return msg
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("no such file: %s", msg)
	}
	return fmt.Sprintf("cannot open %s: %s", ref, msg)
}

// ReadPassword reads a registry password from r (--password-stdin): at
// most 64 KiB, without its trailing line break; empty is an error.
func ReadPassword(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<16))
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", errors.New("empty password")
	}
	return pw, nil
}
