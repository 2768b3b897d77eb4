package fetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerscan/layerscan/internal/lru"
)

// Remote is a session with one registry, shared by every read of a run
// (scan opens one per reference, a sweep one for the whole registry):
// one transport chain (Options.Transport, --timeout and the download
// deadlines, --max-metadata-size, Retry-After, --registry-qps, the byte
// counters), one set of credentials, one authenticated transport per
// repository (the last few hundred kept), the registry pinged once per
// session, not per repository, retries of statuses and of broken
// bodies, a cache of config blobs by digest, and the platform choice of
// Options.Platform. Every bound of Options applies to every read.
//
// A Remote is safe for concurrent use.
type Remote struct {
	reg  name.Registry
	o    Options
	base http.RoundTripper
	// authBase is what every authenticated transport is made over: base with
	// go-containerregistry's retries and user agent, and the registry's
	// ping answered once per session.
	authBase http.RoundTripper

	bytes      atomic.Int64
	layerBytes atomic.Int64
	scopes     *lru.Cache[string, http.RoundTripper]
	configs    *lru.Cache[string, []byte]
}

const (
	// sessionScopes bounds the authenticated transports a session keeps
	// (one per repository read).
	sessionScopes = 256
	// sessionConfigBytes bounds the config blobs a session keeps.
	sessionConfigBytes = 16 << 20
)

// NewRemote opens a session with registry ("registry.example.com",
// "127.0.0.1:5000") under opts. Nothing is requested yet.
func NewRemote(registry string, opts ...Option) (*Remote, error) {
	return newRemote(registry, makeOptions(opts))
}

func newRemote(registry string, o Options) (*Remote, error) {
	if o.Platform != "all" {
		if _, err := v1.ParsePlatform(o.Platform); err != nil {
			return nil, fmt.Errorf("bad --platform %q: %w", o.Platform, err)
		}
	}
	reg, err := name.NewRegistry(registry, o.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadReference, registry, err)
	}
	r := &Remote{reg: reg, o: o,
		scopes:  lru.New[string, http.RoundTripper](sessionScopes, nil),
		configs: lru.New[string, []byte](sessionConfigBytes, func(b []byte) int64 { return int64(len(b)) }),
	}
	r.base = r.politeTransport()
	rt := transport.NewRetry(r.base,
		transport.WithRetryBackoff(transport.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 4}),
		transport.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout))
	r.authBase = transport.NewUserAgent(&pingMemo{base: rt, host: reg.RegistryStr()}, o.UserAgent)
	return r, nil
}

func (o Options) nameOptions() []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Registry is the registry's name as references spell it.
func (r *Remote) Registry() string { return r.reg.Name() }

// Platform is the platform choice of the session (Options.Platform).
func (r *Remote) Platform() string { return r.o.Platform }

// BytesRead counts the response body bytes read so far: manifests,
// configs, lists and layers.
func (r *Remote) BytesRead() int64 { return r.bytes.Load() }

// LayerBytesRead counts the layer blob bytes read so far.
func (r *Remote) LayerBytesRead() int64 { return r.layerBytes.Load() }

// Repository names repo of the session's registry.
func (r *Remote) Repository(repo string) (name.Repository, error) {
	rp, err := name.NewRepository(r.reg.Name()+"/"+repo, r.o.nameOptions()...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%w: repository %q: %v", ErrBadReference, repo, err)
	}
	return rp, nil
}

// reference is repo's tag, or its manifest when ref is a digest.
func (r *Remote) reference(repo, ref string) (name.Reference, error) {
	rp, err := r.Repository(repo)
	if err != nil {
		return nil, err
	}
	if strings.Contains(ref, ":") {
		if _, err := v1.NewHash(ref); err == nil {
			return rp.Digest(ref), nil
		}
	}
	t, err := name.NewTag(rp.Name()+":"+ref, r.o.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("%w: tag %q: %v", ErrBadReference, ref, err)
	}
	return t, nil
}

func (r *Remote) authenticator(ctx context.Context) (authn.Authenticator, error) {
	if r.o.Username != "" {
		return &authn.Basic{Username: r.o.Username, Password: r.o.Password}, nil
	}
	return authn.Resolve(ctx, r.o.Keychain, r.reg)
}

// transport is the authenticated transport of one scope (a repository's
// pull scope, or the catalog's), made once (the last few hundred kept): a
// token is fetched when the registry wants one, and its ping is answered
// from the session's first (pingMemo). Statuses worth it are retried with
// backoff under it.
func (r *Remote) transport(ctx context.Context, scope string) (http.RoundTripper, error) {
	if tr, ok := r.scopes.Get(scope); ok {
		return tr, nil
	}
	auth, err := r.authenticator(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := transport.NewWithContext(ctx, r.reg, auth, r.authBase, []string{scope})
	if err != nil {
		return nil, err
	}
	r.scopes.Put(scope, tr)
	return tr, nil
}

// ropts are go-containerregistry's options over an authenticated
// transport (a transport.Wrapper: not wrapped again, not pinged again).
func (r *Remote) ropts(ctx context.Context, tr http.RoundTripper) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(tr), remote.WithJobs(r.o.Jobs)}
}

// Head asks the registry which manifest ref (a tag of repo, or a digest)
// names: one HEAD request. The descriptor's Digest is what a sweep
// compares with the one it stored.
func (r *Remote) Head(ctx context.Context, repo, ref string) (*v1.Descriptor, error) {
	nref, err := r.reference(repo, ref)
	if err != nil {
		return nil, err
	}
	var desc *v1.Descriptor
	err = retry(ctx, r.o.BlobAttempts, transient, func() error {
		tr, err := r.transport(ctx, nref.Context().Scope(transport.PullScope))
		if err == nil {
			desc, err = remote.Head(nref, r.ropts(ctx, tr)...)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("HEAD %s: %w", nref, classifyRemote(err))
	}
	return desc, nil
}

// Resolved is what a reference of a registry names.
type Resolved struct {
	// Digest and MediaType are those of the manifest the reference names:
	// an index's own for a multi-platform image.
	Digest    v1.Hash
	MediaType types.MediaType
	// Images are the platform images chosen (Options.Platform), with their
	// configs read and their layers ready to open.
	Images []*Image
	// Failed are the chosen images of an index that could not be read.
	Failed []FailedImage
}

// FailedImage is an image of an index that could not be read.
type FailedImage struct {
	Platform string
	Digest   v1.Hash
	Err      error
}

// Resolve reads what ref (a tag of repo, or a digest) names: its
// manifest, and for an index the platform images chosen as scan chooses
// them (nested indexes followed up to MaxIndexDepth, attestation
// manifests skipped, one image per platform unless "all"); each image's
// manifest and config (bounded by --max-metadata-size, --max-layers,
// --max-history). An index that holds no image for the platform is
// ErrNoPlatform; an image of it that cannot be read is in Failed.
func (r *Remote) Resolve(ctx context.Context, repo, ref string) (*Resolved, error) {
	nref, err := r.reference(repo, ref)
	if err != nil {
		return nil, err
	}
	return r.resolve(ctx, nref)
}

func (r *Remote) resolve(ctx context.Context, ref name.Reference) (*Resolved, error) {
	var desc *remote.Descriptor
	err := retry(ctx, r.o.BlobAttempts, transient, func() error {
		tr, err := r.transport(ctx, ref.Context().Scope(transport.PullScope))
		if err == nil {
			desc, err = remote.Get(ref, r.ropts(ctx, tr)...)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, classifyRemote(err))
	}
	if desc.Size > r.o.MaxMetadataSize {
		return nil, fmt.Errorf("fetching %s: %w: manifest is %d bytes, more than the %d allowed (--max-metadata-size)", ref, ErrTooLarge, desc.Size, r.o.MaxMetadataSize)
	}
	res := &Resolved{Digest: desc.Digest, MediaType: desc.MediaType}
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("reading index %s: %w", ref, classifyRemote(err))
		}
		if err := r.index(ctx, ref, idx, 0, res); err != nil {
			return nil, err
		}
	case desc.MediaType.IsImage() || desc.MediaType == "":
		fi, err := r.image(ctx, ref, desc.Digest, desc.Image)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", ref, err)
		}
		res.Images = append(res.Images, fi)
	default:
		return nil, fmt.Errorf("%s: %w: media type %s", ref, ErrNotImage, desc.MediaType)
	}
	return res, nil
}

// index adds the images an index holds for the session's platform to
// res, descending into nested indexes.
func (r *Remote) index(ctx context.Context, ref name.Reference, idx v1.ImageIndex, depth int, res *Resolved) error {
	if depth >= maxIndexDepth {
		return fmt.Errorf("%s: image indexes nested more than %d deep", ref, maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("reading index %s: %w", ref, classifyRemote(err))
	}
	children, err := selectPlatforms(im.Manifests, r.o.Platform)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	before := len(res.Images) + len(res.Failed)
	for _, c := range children {
		switch {
		case c.MediaType.IsIndex():
			child, err := idx.ImageIndex(c.Digest)
			if err != nil {
				return fmt.Errorf("reading index %s@%s: %w", ref, c.Digest, classifyRemote(err))
			}
			if err := r.index(ctx, ref, child, depth+1, res); err != nil {
				return err
			}
		case c.MediaType.IsImage():
			fresh := func() (img v1.Image, err error) {
				err = retry(ctx, r.o.BlobAttempts, transient, func() (err error) {
					img, err = idx.Image(c.Digest)
					if err == nil {
						_, err = img.Manifest()
					}
					return err
				})
				return img, err
			}
			fi, err := r.image(ctx, ref, c.Digest, fresh)
			if err != nil {
				res.Failed = append(res.Failed, FailedImage{Platform: platformString(c.Platform), Digest: c.Digest,
					Err: fmt.Errorf("reading %s@%s: %w", ref, c.Digest, err)})
				continue
			}
			if c.Platform != nil {
				fi.Platform = platformString(c.Platform) // the index's word, unique per child
			}
			res.Images = append(res.Images, fi)
		}
	}
	if len(res.Images)+len(res.Failed) == before && depth == 0 {
		return fmt.Errorf("%s: %w: the index holds no image for platform %s", ref, ErrNoPlatform, r.o.Platform)
	}
	return nil
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// image reads an image's metadata; fresh gives a new v1.Image each call
// (the registry client caches a config once read, even a broken one).
func (r *Remote) image(ctx context.Context, ref name.Reference, digest v1.Hash, fresh func() (v1.Image, error)) (*Image, error) {
	img, err := fresh()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", classifyRemote(err))
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", classifyRemote(err))
	}
	if m.Config.Size > r.o.MaxMetadataSize {
		return nil, fmt.Errorf("%w: config is %d bytes, more than the %d allowed (--max-metadata-size)", ErrTooLarge, m.Config.Size, r.o.MaxMetadataSize)
	}
	if len(m.Layers) > r.o.MaxLayers {
		return nil, fmt.Errorf("%w: %d layers, more than the %d allowed (--max-layers)", ErrTooLarge, len(m.Layers), r.o.MaxLayers)
	}
	rawCfg, ok := r.configs.Get(m.Config.Digest.String())
	if !ok {
		tries := 0
		err = retry(ctx, r.o.BlobAttempts, transient, func() (err error) {
			if tries++; tries > 1 {
				if img, err = fresh(); err != nil {
					return err
				}
			}
			rawCfg, err = img.RawConfigFile()
			if err == nil && m.Config.Digest.Algorithm == "sha256" {
				// A body cut short must not pass for the config.
				if got, _, _ := v1.SHA256(bytes.NewReader(rawCfg)); got != m.Config.Digest {
					err = fmt.Errorf("config digest mismatch: manifest says %s, content is %s", m.Config.Digest, got)
				}
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("config: %w", classifyRemote(err))
		}
		r.configs.Put(m.Config.Digest.String(), rawCfg)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing config: %v", ErrNotImage, err)
	}
	out := &Image{
		Ref:          ref.String(),
		Source:       ref.String(),
		Digest:       digest,
		ConfigDigest: m.Config.Digest,
		RawConfig:    rawCfg,
		Config:       cfg,
		Warnings:     boundHistory(cfg, r.o),
		Platform:     platformOf(cfg),
		Annotations:  m.Annotations,
	}
	for i, l := range m.Layers {
		var diffID v1.Hash
		if i < len(cfg.RootFS.DiffIDs) {
			diffID = cfg.RootFS.DiffIDs[i]
		}
		out.Layers = append(out.Layers, r.layer(ctx, ref.Context(), i, l.Digest, diffID, l.Size, l.MediaType))
	}
	return out, nil
}

// Layer is the layer blob digest of repo, to be read through the
// session (resumed when a download breaks off, counted in
// LayerBytesRead): what a sweep scans once for every image holding it.
func (r *Remote) Layer(ctx context.Context, repo string, index int, digest, diffID v1.Hash, size int64, mt types.MediaType) (Layer, error) {
	rp, err := r.Repository(repo)
	if err != nil {
		return Layer{}, err
	}
	return r.layer(ctx, rp, index, digest, diffID, size, mt), nil
}

func (r *Remote) layer(ctx context.Context, repo name.Repository, index int, digest, diffID v1.Hash, size int64, mt types.MediaType) Layer {
	blob := repo.Digest(digest.String())
	return Layer{Index: index, Digest: digest, DiffID: diffID, Size: size, MediaType: mt, open: func() (io.ReadCloser, error) {
		rc, err := newResumingBlob(ctx, r.o.BlobAttempts, transient, func() (io.ReadCloser, error) {
			tr, err := r.transport(ctx, repo.Scope(transport.PullScope))
			if err != nil {
				return nil, err
			}
			l, err := remote.Layer(blob, r.ropts(ctx, tr)...)
			if err != nil {
				return nil, err
			}
			return l.Compressed()
		})
		if err != nil {
			return nil, classifyRemote(err)
		}
		return &countingBody{ReadCloser: rc, n: &r.layerBytes}, nil
	}}
}

// Key names what a resolution depends on besides the registry's answer:
// the platform choice and the bounds on what is read. A sweep reads a tag
// again when it changed since the tag was stored.
func (r *Remote) Key() string {
	return fmt.Sprintf("platform=%s layers=%d metadata=%d history=%d", r.o.Platform, r.o.MaxLayers, r.o.MaxMetadataSize, r.o.MaxHistory)
}
