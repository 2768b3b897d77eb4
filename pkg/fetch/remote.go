package fetch

import (
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

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func openRemote(ctx context.Context, target string, o Options) (*Source, error) {
	ref, err := name.ParseReference(target, o.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadReference, target, err)
	}
	r, err := newRemote(ref.Context().RegistryStr(), o)
	if err != nil {
		return nil, err
	}
	res, err := r.resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(res.Failed) > 0 {
		return nil, res.Failed[0].Err
	}
	return &Source{Images: res.Images}, nil
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
