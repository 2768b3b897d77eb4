package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/verify"
	"github.com/layerscan/layerscan/pkg/walk"
)

// LayerResult is what scanning one layer yields, whatever image holds it:
// the detector's findings per tar entry, the layer's entries in the compact
// form the lifecycle replay needs, and the walk's problems and counters. It
// depends only on the layer's content and the ruleset, so a sweep caches it
// by layer digest and ruleset fingerprint.
//
// Encoded as JSON it holds no plaintext secret: findings carry their
// fingerprint and redacted secret only. The plaintext is kept in memory
// (for Scanner.Image and --show-secrets) and never marshalled.
type LayerResult struct {
	// Digest and DiffID are computed from the bytes read ("" when unknown).
	Digest string `json:"digest,omitempty"`
	DiffID string `json:"diff_id,omitempty"`
	// StoredBytes and Bytes count the stored and uncompressed bytes read.
	StoredBytes int64 `json:"stored_bytes"`
	Bytes       int64 `json:"bytes"`
	// Files is the number of regular files whose content was scanned.
	Files int `json:"files"`
	// Entries are the layer's tar entries in archive order.
	Entries []walk.Entry `json:"entries"`
	// Findings are the detector's findings, in no particular order.
	Findings     []LayerHit         `json:"findings"`
	Warnings     []string           `json:"warnings,omitempty"`
	FileWarnings []walk.FileWarning `json:"file_warnings,omitempty"`
	// Err is set when the layer could not be read to its end; entries
	// before the failure are still listed and were scanned.
	Err string `json:"error,omitempty"`
	// Packages is what the layer's package databases record (dpkg, apk,
	// rpm, Python RECORD, npm package.json, …): with the other layers'
	// it tells vendor content from the builder's (package provenance).
	Packages *provenance.Records `json:"packages,omitempty"`
	// Digests are the digests of the files with findings, by entry index,
	// where they were computed (see walk.Digests).
	Digests map[int]walk.Digests `json:"digests,omitempty"`

	// credentials are those of the layer's credential files, plaintext;
	// memory only (--verify).
	credentials []verify.Credential
}

// LayerHit is a detector finding in one entry of a layer, before it is
// tied to an image's history.
type LayerHit struct {
	// Entry is the index of the file among the layer's entries; Path its
	// path and Chain the members of nested archives inside it.
	Entry       int      `json:"e"`
	Path        string   `json:"path"`
	Chain       []string `json:"chain,omitempty"`
	Rule        string   `json:"rule"`
	Description string   `json:"description,omitempty"`
	Severity    string   `json:"severity,omitempty"`
	Encoding    string   `json:"encoding,omitempty"`
	Note        string   `json:"note,omitempty"`
	Line        int      `json:"line,omitempty"`
	// Redacted is the secret as reports show it; Fingerprint is the keyed
	// fingerprint of the rule, the member path and the secret
	// (fingerprint.Key.Finding), SecretID the keyed id of the secret's
	// value (fingerprint.Key.Secret).
	Redacted    string `json:"redacted"`
	Fingerprint string `json:"fingerprint"`
	SecretID    string `json:"secret_id,omitempty"`
	// LinkFingerprints are the fingerprints the secret has under the paths
	// of the layer's hardlinks (path → fingerprint), so that a cached result
	// can name a finding reached through a hardlink without the plaintext.
	LinkFingerprints map[string]string `json:"links,omitempty"`

	secret  string // plaintext; memory only
	context string // the secret's line, plaintext; memory only (--verify)
}

// fingerprintAt is the finding's fingerprint when reached at path.
func (r *LayerHit) fingerprintAt(key *fingerprint.Key, path string) string {
	if path == r.Path {
		return r.Fingerprint
	}
	if r.secret != "" {
		return key.Finding(r.Rule, memberPath(path, r.Chain), r.secret)
	}
	if fp, ok := r.LinkFingerprints[path]; ok {
		return fp
	}
	// A hardlink in another layer, from a cached result: the plaintext is
	// gone, so derive a stable fingerprint from the original one.
	return key.Finding(r.Rule, memberPath(path, r.Chain), "fingerprint:"+r.Fingerprint)
}

// ScanLayers walks layers (their Index fields number the results; use
// 0..len-1) and returns one result per layer. Problems with a layer are in
// its result; the error is for a cancelled run.
func (s *Scanner) ScanLayers(ctx context.Context, layers []fetch.Layer) ([]*LayerResult, error) {
	col := &collector{packages: map[int]*provenance.Records{}, digests: map[[2]int]walk.Digests{}, credentials: map[int][]verify.Credential{}}
	verifying := s.opts.Verify != nil
	wopts := walk.Options{
		Capture: func(e *walk.Entry) bool {
			return provenance.Classify(e.Path) != provenance.None || verifying && verify.CredentialFile(e.Path)
		},
		Captured: func(layer, _ int, e *walk.Entry, data []byte) {
			if verifying && verify.CredentialFile(e.Path) {
				creds := verify.FromFile(e.Path, data)
				col.mu.Lock()
				col.credentials[layer] = append(col.credentials[layer], creds...)
				col.mu.Unlock()
			}
			kind := provenance.Classify(e.Path)
			if kind == provenance.None {
				return
			}
			r := provenance.Parse(kind, e.Path, data)
			col.mu.Lock()
			if col.packages[layer] == nil {
				col.packages[layer] = &provenance.Records{}
			}
			col.packages[layer].Merge(r)
			col.mu.Unlock()
		},
		Jobs:        s.opts.Jobs,
		Workers:     s.opts.Workers,
		MaxFileSize: s.opts.MaxFileSize,
		MaxEntries:  s.opts.MaxEntries,
		Limits:      s.opts.Limits,
		Accept: func(layer, entry int, e *walk.Entry, head []byte) bool {
			return s.accept(col, layer, entry, e.Path, nil, head)
		},
		AcceptMember: func(layer, entry int, e *walk.Entry, chain []string, head []byte) bool {
			return s.accept(col, layer, entry, e.Path, chain, head)
		},
		Archives: s.opts.Archive,
		Binaries: s.binaryMode(),
	}
	results, err := walk.Walk(ctx, layers, wopts, func(_ context.Context, c *walk.Chunk) error {
		s.scanChunk(col, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	pos := map[int]int{} // walk index → position in layers
	for i, l := range layers {
		pos[l.Index] = i
	}
	out := make([]*LayerResult, len(results))
	for i, r := range results {
		lr := &LayerResult{
			Digest: hashString(r.Digest.String()), DiffID: hashString(r.DiffID.String()),
			StoredBytes: r.StoredBytes, Bytes: r.Bytes, Files: r.Files,
			Entries:  r.Entries,
			Findings: []LayerHit{}, Warnings: r.Warnings, FileWarnings: r.FileWarnings,
		}
		if r.Err != nil {
			lr.Err = r.Err.Error()
		}
		if p := col.packages[r.Index]; !p.Empty() {
			lr.Packages = p
		}
		lr.credentials = col.credentials[r.Index]
		out[i] = lr
	}
	for _, r := range col.findings {
		i, ok := pos[r.layer]
		if !ok {
			continue
		}
		lr := out[i]
		rf := LayerHit{
			Entry: r.entry, Path: r.path, Chain: r.chain, Rule: r.f.RuleID, Description: r.f.Description,
			Severity: r.f.Severity, Encoding: r.f.Encoding, Note: r.f.Note, Line: r.f.Line,
			Redacted: detect.Redact(r.f.Secret), Fingerprint: s.opts.Key.Finding(r.f.RuleID, memberPath(r.path, r.chain), r.f.Secret),
			SecretID: s.opts.Key.Secret(r.f.Secret),
			secret:   r.f.Secret,
		}
		if verifying {
			rf.context = r.f.Context
		}
		// Hardlinks to the file (directly or through another hardlink).
		reach := map[string]bool{r.path: true}
		for _, e := range lr.Entries {
			if e.Kind == walk.Hardlink && reach[e.Linkname] && !reach[e.Path] {
				reach[e.Path] = true
				if rf.LinkFingerprints == nil {
					rf.LinkFingerprints = map[string]string{}
				}
				rf.LinkFingerprints[e.Path] = s.opts.Key.Finding(r.f.RuleID, memberPath(e.Path, r.chain), r.f.Secret)
			}
		}
		lr.Findings = append(lr.Findings, rf)
		if d, ok := col.digests[[2]int{r.layer, r.entry}]; ok {
			lr.setDigests(r.entry, d)
		} else if d, ok := results[i].Digests[r.entry]; ok {
			lr.setDigests(r.entry, d)
		}
	}
	return out, nil
}

// ReportFingerprint identifies what, besides the layers and the config,
// shapes an assembled image report: the suppressed fingerprints and
// whether secrets are shown. A cached assembled report is valid only
// under the same value (and the same ruleset).
func (s *Scanner) ReportFingerprint() string {
	keys := make([]string, 0, len(s.opts.Suppress))
	for k := range s.opts.Suppress {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	fmt.Fprintf(h, "show=%v\x00vendor=%s\x00%s", s.opts.ShowSecrets, s.opts.Vendor, strings.Join(keys, ","))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// digests are the digests of the file of entry, nil when unknown.
func (lr *LayerResult) digests(entry int) *walk.Digests {
	if d, ok := lr.Digests[entry]; ok {
		return &d
	}
	return nil
}

func (lr *LayerResult) setDigests(entry int, d walk.Digests) {
	if lr.Digests == nil {
		lr.Digests = map[int]walk.Digests{}
	}
	lr.Digests[entry] = d
}

// errLayer is the result of a layer that could not be scanned at all.
func errLayer(msg string) *LayerResult {
	return &LayerResult{Err: msg, Findings: []LayerHit{}}
}

// FailedLayer makes the result of a layer that could not be read (a sweep
// whose download failed before the walk started).
func FailedLayer(err error) *LayerResult {
	if err == nil {
		err = errors.New("layer not scanned")
	}
	return errLayer(strings.TrimSpace(err.Error()))
}
