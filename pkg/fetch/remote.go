package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func remoteOptions(ctx context.Context, o Options) []remote.Option {
	tr := o.Transport
	if tr == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		if o.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with --insecure
		}
		tr = t
	}
	if o.Timeout > 0 {
		tr = &timeoutTransport{base: tr, d: o.Timeout}
	}
	tr = &metadataLimit{base: tr, limit: o.MaxMetadataSize}
	tr = retryAfterTransport{base: tr}
	ropts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(tr),
		remote.WithJobs(o.Jobs),
		remote.WithRetryBackoff(remote.Backoff{Duration: 500 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 4}),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
	}
	if o.UserAgent != "" {
		ropts = append(ropts, remote.WithUserAgent(o.UserAgent))
	}
	if o.Username != "" {
		ropts = append(ropts, remote.WithAuth(&authn.Basic{Username: o.Username, Password: o.Password}))
	} else {
		ropts = append(ropts, remote.WithAuthFromKeychain(o.Keychain))
	}
	return ropts
}

func openRemote(ctx context.Context, target string, o Options) (*Source, error) {
	var nopts []name.Option
	if o.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.ParseReference(target, nopts...)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadReference, target, err)
	}
	ropts := remoteOptions(ctx, o)
	var desc *remote.Descriptor
	err = retry(ctx, o.BlobAttempts, transient, func() (err error) {
		desc, err = remote.Get(ref, ropts...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, classifyRemote(err))
	}
	if desc.Size > o.MaxMetadataSize {
		return nil, fmt.Errorf("fetching %s: manifest is %d bytes, more than the %d allowed", ref, desc.Size, o.MaxMetadataSize)
	}
	src := &Source{}
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("reading index %s: %w", ref, classifyRemote(err))
		}
		if src.Images, err = remoteIndex(ctx, ref, idx, o, 0); err != nil {
			return nil, err
		}
	case desc.MediaType.IsImage() || desc.MediaType == "":
		fi, err := remoteImage(ctx, ref.String(), desc.Digest, desc.Image, o)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", ref, err)
		}
		src.Images = append(src.Images, fi)
	default:
		return nil, fmt.Errorf("%s: %w: media type %s", ref, ErrNotImage, desc.MediaType)
	}
	return src, nil
}

// remoteImage reads an image's metadata; fresh gives a new v1.Image each
// call (the registry client caches a config once read, even a broken one).
func remoteImage(ctx context.Context, ref string, digest v1.Hash, fresh func() (v1.Image, error), o Options) (*Image, error) {
	img, err := fresh()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", classifyRemote(err))
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", classifyRemote(err))
	}
	if m.Config.Size > o.MaxMetadataSize {
		return nil, fmt.Errorf("config is %d bytes, more than the %d allowed", m.Config.Size, o.MaxMetadataSize)
	}
	if len(m.Layers) > o.MaxLayers {
		return nil, fmt.Errorf("%d layers, more than the %d allowed", len(m.Layers), o.MaxLayers)
	}
	var rawCfg []byte
	tries := 0
	err = retry(ctx, o.BlobAttempts, transient, func() (err error) {
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
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing config: %v", ErrNotImage, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("layers: %w", classifyRemote(err))
	}
	out := &Image{
		Ref:          ref,
		Digest:       digest,
		ConfigDigest: m.Config.Digest,
		RawConfig:    rawCfg,
		Config:       cfg,
		Warnings:     boundHistory(cfg, o),
		Platform:     platformOf(cfg),
		Annotations:  m.Annotations,
	}
	for i, l := range layers {
		l := l
		fl := Layer{Index: i, Size: -1, open: func() (io.ReadCloser, error) {
			rc, err := newResumingBlob(ctx, o.BlobAttempts, transient, l.Compressed)
			if err != nil {
				return nil, classifyRemote(err)
			}
			return rc, nil
		}}
		if i < len(m.Layers) {
			fl.Digest, fl.Size, fl.MediaType = m.Layers[i].Digest, m.Layers[i].Size, m.Layers[i].MediaType
		}
		if i < len(cfg.RootFS.DiffIDs) {
			fl.DiffID = cfg.RootFS.DiffIDs[i]
		}
		out.Layers = append(out.Layers, fl)
	}
	return out, nil
}

// classifyRemote wraps a registry error with one of the sentinels so the
// CLI can explain it; the URL in the message is stripped of credentials.
func classifyRemote(err error) error {
	var (
		unknownCA *x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) || errors.As(err, &verifyErr) {
		var cause string
		switch {
		case unknownCA != nil:
			cause = unknownCA.Error()
		case verifyErr != nil:
			cause = verifyErr.Error()
		case invalid.Cert != nil:
			cause = invalid.Error()
		default:
			cause = hostErr.Error()
		}
		return fmt.Errorf("%w (add its CA with SSL_CERT_FILE, or use --insecure): %s", ErrCertificate, cause)
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: %s", ErrUnauthorized, strings.TrimSpace(redactText(te.Error())))
		case http.StatusNotFound:
			return fmt.Errorf("%w: %s", ErrNotFound, strings.TrimSpace(redactText(te.Error())))
		}
		return errors.New(redactText(te.Error()))
	}
	for _, bound := range []error{ErrTooLarge, ErrTooSlow} {
		if errors.Is(err, bound) {
			return fmt.Errorf("%w: %s", bound, strings.TrimPrefix(redactText(err.Error()), bound.Error()+": "))
		}
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s", ErrUnreachable, redactText(err.Error()))
	}
	return err
}

// redactText removes userinfo from any URL in s.
func redactText(s string) string {
	fields := strings.Fields(s)
	for i, f := range fields {
		trimmed := strings.Trim(f, `"':,;()[]`)
		u, err := url.Parse(trimmed)
		if err != nil || u.User == nil || u.Host == "" {
			continue
		}
		u.User = url.User("REDACTED")
		fields[i] = strings.Replace(f, trimmed, u.String(), 1)
	}
	return strings.Join(fields, " ")
}

// transient says whether a registry error is worth another request: not
// an HTTP status (the registry client has retried those already, with
// backoff), a certificate problem, or a cancelled context.
func transient(err error) bool {
	var te *transport.Error
	var ce *tls.CertificateVerificationError
	var ua *x509.UnknownAuthorityError
	return !errors.As(err, &te) && !errors.As(err, &ce) && !errors.As(err, &ua) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, ErrTooSlow) && !errors.Is(err, ErrTooLarge)
}

// remoteIndex reads the images an index holds for the wanted platform,
// descending into nested indexes (up to MaxIndexDepth).
func remoteIndex(ctx context.Context, ref name.Reference, idx v1.ImageIndex, o Options, depth int) ([]*Image, error) {
	if depth >= maxIndexDepth {
		return nil, fmt.Errorf("%s: image indexes nested more than %d deep", ref, maxIndexDepth)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", ref, classifyRemote(err))
	}
	children, err := selectPlatforms(im.Manifests, o.Platform)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	var out []*Image
	for _, c := range children {
		switch {
		case c.MediaType.IsIndex():
			child, err := idx.ImageIndex(c.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading index %s@%s: %w", ref, c.Digest, classifyRemote(err))
			}
			imgs, err := remoteIndex(ctx, ref, child, o, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, imgs...)
		case c.MediaType.IsImage():
			fresh := func() (img v1.Image, err error) {
				err = retry(ctx, o.BlobAttempts, transient, func() (err error) {
					img, err = idx.Image(c.Digest)
					if err == nil {
						_, err = img.Manifest()
					}
					return err
				})
				return img, err
			}
			fi, err := remoteImage(ctx, ref.String(), c.Digest, fresh, o)
			if err != nil {
				return nil, fmt.Errorf("reading %s@%s: %w", ref, c.Digest, err)
			}
			out = append(out, fi)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w: the index holds no image for platform %s", ref, ErrNoPlatform, o.Platform)
	}
	return out, nil
}

// metadataLimit bounds the manifests and indexes read from a registry
// before they are parsed: an answer whose Content-Length is over the
// limit is refused at once, and a body that runs past it is cut with an
// error (go-containerregistry would read up to 100 MiB, on every retry).
type metadataLimit struct {
	base  http.RoundTripper
	limit int64
}

func (m *metadataLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := m.base.RoundTrip(req)
	if err != nil || m.limit <= 0 || !strings.Contains(req.URL.Path, "/manifests/") || req.Method != http.MethodGet {
		return resp, err
	}
	if resp.ContentLength > m.limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s is %d bytes, more than --max-metadata-size %d", ErrTooLarge, req.URL.Path, resp.ContentLength, m.limit)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: m.limit, what: req.URL.Path}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	what string
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%w: %s is more than --max-metadata-size", ErrTooLarge, b.what)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("%w: %s is more than --max-metadata-size", ErrTooLarge, b.what)
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
