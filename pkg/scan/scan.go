package scan

import (
	"context"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/walk"
)

// Options configure a Scanner.
type Options struct {
	// Jobs is how many layers are read at once; Workers how many
	// goroutines run the detector. Both default to the number of CPUs.
	Jobs, Workers int
	// ShowSecrets puts plaintext secrets in the report instead of
	// redacted ones.
	ShowSecrets bool
	// MaxFileSize, when positive, bounds the bytes scanned of one file.
	MaxFileSize int64
	// MaxEntries bounds the tar entries of one layer.
	MaxEntries int
	// Limits bound decompressed layer sizes and path shapes (issue 9).
	Limits walk.Limits
	// OnFile, when set, is called (from the layer's own goroutine) for
	// each file of a layer whose content is scanned: progress display.
	OnFile func(layer int)
	// Binaries is what is done with binary files: walk.BinaryStrings (the
	// default), walk.BinarySkip or walk.BinaryFull.
	Binaries walk.BinaryMode
	// ArchiveDepth is how deep nested archives are opened: 0 is the
	// default (walk.DefaultArchiveDepth), negative opens none.
	ArchiveDepth int
	// Archive bounds nested archives (its MaxDepth is set from
	// ArchiveDepth); zero fields take walk's defaults.
	Archive walk.ArchiveOptions
	// Suppress are finding fingerprints left out of the report
	// (.layerscanignore, --ignore, --baseline); their number is a warning.
	Suppress Suppressions
	// Vendor says what the report does with findings in vendor content
	// (files packages installed as they shipped them): VendorHide (the
	// default), VendorShow or VendorFail.
	Vendor VendorMode
}

// Scanner runs the pipeline; one Scanner (and its detector) serves a run.
type Scanner struct {
	det  *detect.Detector
	opts Options
}

// New makes a Scanner around a detector.
func New(det *detect.Detector, opts Options) *Scanner {
	if opts.Jobs < 1 {
		opts.Jobs = runtime.NumCPU()
	}
	if opts.Workers < 1 {
		opts.Workers = runtime.NumCPU()
	}
	return &Scanner{det: det, opts: opts}
}

// raw is a detector finding before it is tied to history.
type raw struct {
	layer, entry int
	path         string
	chain        []string // members of nested archives inside the file at path
	f            detect.Finding
}

type collector struct {
	mu       sync.Mutex
	findings []raw
	binaries int
	// packages are the package databases read per layer (walk index).
	packages map[int]*provenance.Records
	// digests of files with findings, computed from their one whole
	// chunk, by walk layer index and entry.
	digests map[[2]int]walk.Digests
}

func (c *collector) add(layer, entry int, path string, fs []detect.Finding) {
	if len(fs) == 0 {
		return
	}
	c.mu.Lock()
	for _, f := range fs {
		c.findings = append(c.findings, raw{layer: layer, entry: entry, path: path, f: f})
	}
	c.mu.Unlock()
}

// Image scans every layer of img and returns its report. Problems with a
// layer are recorded in the report; the error is for a cancelled run.
func (s *Scanner) Image(ctx context.Context, img *fetch.Image) (*report.Image, error) {
	start := time.Now()
	results, err := s.ScanLayers(ctx, img.Layers)
	if err != nil {
		return nil, err
	}
	out := s.Assemble(img, results)
	out.Stats.DurationMS = time.Since(start).Milliseconds()
	return out, nil
}

// Assemble builds the report of img from the results of its layers (one
// per layer, in order; from ScanLayers or from a cache): the fates of the
// files, the findings attributed to this image's layer indexes and
// instructions, the config and history findings, causes and suppressions.
// A nil result is a layer that was not scanned. Stats.DurationMS is left
// to the caller.
func (s *Scanner) Assemble(img *fetch.Image, results []*LayerResult) *report.Image {
	steps, infos, histWarnings := history.Map(img.Config, len(img.Layers))
	histWarnings = append(img.Warnings, histWarnings...) // fetch's bounds crossed (--max-history)
	results = append([]*LayerResult(nil), results...)
	for len(results) < len(img.Layers) {
		results = append(results, nil)
	}
	entries := make([][]walk.Entry, len(img.Layers))
	for i := range img.Layers {
		if results[i] == nil {
			results[i] = errLayer("layer not scanned")
		}
		entries[i] = walkEntries(results[i].Entries)
	}
	lc := history.NewLifecycle(entries)

	out := &report.Image{
		Ref:          img.Ref,
		Digest:       hashString(img.Digest.String()),
		ConfigDigest: hashString(img.ConfigDigest.String()),
		Platform:     img.Platform,
		Layers:       []report.Layer{},
		Findings:     []report.Finding{},
		Errors:       []report.Problem{},
	}
	if out.Digest == "" {
		out.Digest = out.ConfigDigest
	}
	red := s.redactor(results)
	for i, l := range img.Layers {
		r := results[i]
		digest := l.Digest.String()
		if l.Digest.Hex == "" {
			digest = r.Digest
		}
		diffID := l.DiffID.String()
		if l.DiffID.Hex == "" {
			diffID = r.DiffID
		}
		size := l.Size
		if size < 0 {
			size = r.StoredBytes
		}
		info := infos[i]
		out.Layers = append(out.Layers, report.Layer{
			Index: i, Digest: digest, DiffID: diffID, Size: size, HistoryIndex: info.Step,
			CreatedBy: red(info.CreatedBy), Instruction: red(info.Instruction),
		})
		idx := i
		if r.Err != "" {
			out.Errors = append(out.Errors, report.Problem{Layer: &idx, Message: r.Err})
		} else {
			out.Stats.LayersScanned++
		}
		for _, w := range r.Warnings {
			out.Warnings = append(out.Warnings, report.Problem{Layer: &idx, Message: w})
		}
		out.Warnings = append(out.Warnings, fileWarnings(idx, r.FileWarnings)...)
		out.Stats.FilesScanned += r.Files
		out.Stats.Entries += len(r.Entries)
		out.Stats.StoredBytes += r.StoredBytes
		out.Stats.Bytes += r.Bytes
	}
	for _, w := range histWarnings {
		out.Warnings = append(out.Warnings, report.Problem{Message: w})
	}
	for _, w := range lc.Warnings {
		out.Warnings = append(out.Warnings, report.Problem{Message: w})
	}
	ix := packageIndex(results)
	for _, w := range ix.Warnings {
		out.Warnings = append(out.Warnings, report.Problem{Message: w})
	}
	out.Findings = s.findings(results, out.Layers, lc, ix)
	for i := range out.Findings {
		f := &out.Findings[i]
		f.Evidence = evidence.Command(img.Source, f.Layer.Index, f.Path)
		if img.Platform != "" && img.Platform != "linux/amd64" {
			f.Evidence += " --platform " + img.Platform
		}
	}
	out.Findings = append(out.Findings, s.metadataFindings(img, steps, out.Layers, red)...)
	s.Causes(img, out, nil)
	s.applySuppressions(out)
	s.applyVendor(out)
	report.SortFindings(out.Findings)
	return out
}

// packageIndex joins the package databases of an image's layers.
func packageIndex(results []*LayerResult) *provenance.Index {
	recs := make([]*provenance.Records, len(results))
	for i, r := range results {
		recs[i] = r.Packages
	}
	return provenance.NewIndex(recs)
}

// findings ties raw detector findings to layers and fates, adds the
// hardlinks through which each file is reachable, and drops the duplicates
// that overlapping chunks produce.
func (s *Scanner) findings(results []*LayerResult, layers []report.Layer, lc *history.Lifecycle, ix *provenance.Index) []report.Finding {
	type dedupeKey struct {
		layer, entry int
		chain        string
		rule         string
		line         int
		fingerprint  string
	}
	seen := map[dedupeKey]bool{}
	out := []report.Finding{}
	add := func(layer, entry int, path, linkTo string, f *RawFinding, content [2]int) {
		fp := f.fingerprintAt(path)
		k := dedupeKey{layer, entry, strings.Join(f.Chain, "\x00"), f.Rule, f.Line, fp}
		if seen[k] || layer < 0 || layer >= len(layers) {
			return
		}
		seen[k] = true
		l := layers[layer]
		fate := lc.Fate(layer, entry)
		rf := report.Finding{
			Rule: f.Rule, Description: f.Description, Severity: f.Severity, Encoding: f.Encoding, Note: f.Note, Source: "file",
			Path: path, Line: f.Line, HardlinkTo: linkTo,
			Layer:       report.LayerRef{Index: l.Index, Digest: l.Digest, CreatedBy: l.CreatedBy, Instruction: l.Instruction},
			Status:      string(fate.Status),
			Secret:      s.rawSecret(f),
			Fingerprint: fp,
			ArchivePath: f.Chain,
		}
		o := ix.Lookup(path, f.Chain, results[content[0]].digests(content[1]))
		rf.Origin = &o
		if fate.By >= 0 && fate.By < len(layers) {
			by := layers[fate.By]
			rf.RemovedBy = &report.Removal{Index: by.Index, Digest: by.Digest, Instruction: by.Instruction}
		}
		out = append(out, rf)
	}
	for li, r := range results {
		for i := range r.Findings {
			f := &r.Findings[i]
			content := [2]int{li, f.Entry}
			add(li, f.Entry, f.Path, "", f, content)
			for _, a := range lc.Aliases(li, f.Entry) {
				add(a.Layer, a.Entry, a.Path, f.Path, f, content)
			}
		}
	}
	report.SortFindings(out)
	return out
}

// rawSecret is the secret of a layer finding as the report shows it; a
// cached result has only the redacted form.
func (s *Scanner) rawSecret(f *RawFinding) string {
	if f.secret == "" {
		return f.Redacted
	}
	return s.secret(f.secret)
}

func (s *Scanner) secret(v string) string {
	if s.opts.ShowSecrets {
		return v
	}
	return detect.Redact(v)
}

// redactor returns a function that hides, in history text, the secrets the
// scan found and every build-argument value (history records them in the
// clear), unless secrets are to be shown.
//
// Results read from a cache carry no plaintext: their secrets are hidden
// from history text only where the detector finds them there.
func (s *Scanner) redactor(results []*LayerResult) func(string) string {
	if s.opts.ShowSecrets {
		return func(t string) string { return t }
	}
	secrets := map[string]bool{}
	for _, r := range results {
		for _, f := range r.Findings {
			if len(f.secret) >= 6 {
				secrets[f.secret] = true
			}
		}
	}
	list := make([]string, 0, len(secrets))
	for k := range secrets {
		list = append(list, k)
	}
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	return func(t string) string {
		for _, f := range s.det.Scan("", []byte(t), 1) {
			if len(f.Secret) >= 4 {
				t = strings.ReplaceAll(t, f.Secret, detect.Redact(f.Secret))
			}
		}
		for _, sec := range list {
			t = strings.ReplaceAll(t, sec, detect.Redact(sec))
		}
		_, args := history.Normalize(t)
		for _, a := range args {
			if a.Value != "" {
				t = strings.Replace(t, a.Name+"="+a.Value, a.Name+"="+detect.Redact(a.Value), 1)
			}
		}
		return t
	}
}

func hashString(s string) string {
	if strings.HasSuffix(s, ":") {
		return ""
	}
	return s
}
