package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/verify"
)

// DefaultVerifyTTL is how long a stored verdict is used before the secret
// is tried again (docs/verification.md).
const DefaultVerifyTTL = 7 * 24 * time.Hour

// VerifyOptions turn on live verification (--verify): each secret a scan
// reports is tried once against the service it belongs to (pkg/verify).
type VerifyOptions struct {
	Verifier *verify.Verifier
	// Store, when set, keeps verdicts by secret id across runs (a sweep's
	// store): a verdict younger than TTL is used instead of trying the
	// secret again, and a secret whose plaintext is not at hand (its layer
	// came from the store's cache) gets its stored verdict, whatever its
	// age.
	Store VerdictStore
	// TTL is how long a stored verdict holds (0: DefaultVerifyTTL).
	TTL time.Duration
	// Now is the clock (nil: time.Now); tests set it.
	Now func() time.Time
}

// VerdictStore keeps verdicts by secret id (store.Store is one).
type VerdictStore interface {
	Verdict(ctx context.Context, secretID string) (verdict []byte, at time.Time, ok bool, err error)
	PutVerdict(ctx context.Context, secretID string, verdict []byte, at time.Time) error
}

// verdictMemo is the verdict of each secret tried in this process: one
// attempt per unique secret, whatever the number of images.
type verdictMemo struct {
	mu sync.Mutex
	m  map[string]report.Verdict
}

// Verify tries the secrets of an image's report against their services
// and records a verdict per secret id in im.Verdicts. results are the
// image's layer results (their plaintext and captured credential files,
// when freshly scanned) and img its config (the config and history
// texts). A secret with nothing to try is unknown, saying why.
func (s *Scanner) Verify(ctx context.Context, img *fetch.Image, results []*LayerResult, im *report.Image) {
	vo := s.opts.Verify
	if vo == nil || vo.Verifier == nil || len(im.Findings) == 0 {
		return
	}
	creds := s.credentials(img, results)
	if im.Verdicts == nil {
		im.Verdicts = map[string]report.Verdict{}
	}
	kinds := map[string]string{}
	for _, f := range im.Findings {
		if f.SecretID != "" && kinds[f.SecretID] == "" {
			kinds[f.SecretID] = f.Rule
		}
	}
	for id, rule := range kinds {
		im.Verdicts[id] = s.verdict(ctx, id, rule, creds[id])
	}
}

// credentials are the credentials of an image by secret id: from each
// finding's secret and line (its rule and what the line names), from the
// credential files the walk kept, and from the config and history.
func (s *Scanner) credentials(img *fetch.Image, results []*LayerResult) map[string][]verify.Credential {
	out := map[string][]verify.Credential{}
	add := func(cs ...verify.Credential) {
		for _, c := range cs {
			if c.Secret == "" {
				continue
			}
			id := s.opts.Key.Secret(c.Secret)
			if len(out[id]) < verify.MaxCredentials {
				out[id] = append(out[id], c)
			}
		}
	}
	for _, r := range results {
		if r == nil {
			continue
		}
		add(r.credentials...)
		for _, h := range r.Findings {
			if h.secret == "" {
				continue
			}
			if c, ok := verify.FromRule(h.Rule, h.secret); ok {
				add(c)
			}
			add(verify.FromText(h.context)...)
		}
	}
	if img != nil && img.Config != nil {
		c := img.Config.Config
		add(verify.FromText(strings.Join(c.Env, "\n"))...)
		for k, v := range c.Labels {
			add(verify.FromText(k + "=" + v)...)
		}
		for _, h := range img.Config.History {
			add(verify.FromText(h.CreatedBy)...)
		}
	}
	return out
}

// verdict is the verdict on one secret: from this process's memo, a
// fresh stored one, or by trying its credentials (the first verified
// wins; all invalid is invalid; otherwise unknown).
func (s *Scanner) verdict(ctx context.Context, id, rule string, creds []verify.Credential) report.Verdict {
	vo := s.opts.Verify
	now := time.Now
	if vo.Now != nil {
		now = vo.Now
	}
	ttl := vo.TTL
	if ttl <= 0 {
		ttl = DefaultVerifyTTL
	}
	s.verdicts.mu.Lock()
	if v, ok := s.verdicts.m[id]; ok {
		s.verdicts.mu.Unlock()
		return v
	}
	s.verdicts.mu.Unlock()
	if vo.Store != nil {
		if b, at, ok, err := vo.Store.Verdict(ctx, id); err == nil && ok {
			var v report.Verdict
			if json.Unmarshal(b, &v) == nil && (len(creds) == 0 || now().Sub(at) < ttl) {
				return s.memo(id, v)
			}
		}
	}
	v := report.Verdict{Status: report.Unknown, CheckedAt: now().UTC()}
	switch {
	case len(creds) == 0:
		v.Reason = "nothing to try: no verifier for " + rule + ", or where the credential belongs is not in the image"
	default:
		var reasons []string
		invalid := 0
		for _, c := range creds {
			r := vo.Verifier.Verify(ctx, c)
			if r.Status == verify.StatusVerified {
				v = report.Verdict{Status: report.Verified, Identity: r.Identity, Reason: r.Reason, CheckedAt: v.CheckedAt}
				break
			}
			if r.Status == verify.StatusInvalid {
				invalid++
			}
			reasons = append(reasons, fmt.Sprintf("%s: %s", c.Kind, r.Reason))
		}
		if v.Status != report.Verified {
			if invalid == len(creds) {
				v.Status = report.Invalid
			}
			v.Reason = strings.Join(reasons, "; ")
		}
	}
	if vo.Store != nil && ctx.Err() == nil {
		if b, err := json.Marshal(v); err == nil {
			vo.Store.PutVerdict(ctx, id, b, now()) // a lost verdict is tried again next run
		}
	}
	return s.memo(id, v)
}

func (s *Scanner) memo(id string, v report.Verdict) report.Verdict {
	s.verdicts.mu.Lock()
	defer s.verdicts.mu.Unlock()
	if s.verdicts.m == nil {
		s.verdicts.m = map[string]report.Verdict{}
	}
	s.verdicts.m[id] = v
	return v
}
