package scan

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/redact"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/verify"
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
	// Limits bound decompressed layer sizes and path shapes; see docs/security.md.
	Limits walk.Limits
	// OnFile, when set, is called (from the layer's own goroutine) for
	// each file of a layer whose content is scanned: progress display.
	OnFile func(layer int)
	// Binaries is what is done with binary files: walk.BinaryStrings (the
	// default), walk.BinarySkip or walk.BinaryFull.
	Binaries walk.BinaryMode
	// Archive bounds nested archives (MaxDepth < 0 opens none); zero
	// fields take walk's defaults.
	Archive walk.ArchiveOptions
	// Suppress are finding fingerprints left out of the report
	// (.layerscanignore, --ignore, --baseline); their number is a warning.
	Suppress Suppressions
	// Vendor says what the report does with findings in vendor content
	// (files packages installed as they shipped them): VendorHide (the
	// default), VendorShow or VendorFail.
	Vendor VendorMode
	// Verify, when set, tries each secret against its service (--verify).
	Verify *VerifyOptions
	// Key keys the fingerprints and secret ids (package fingerprint);
	// nil: a random key, so values are stable only within the process.
	// The command line loads the installation's key.
	Key *fingerprint.Key
}

// Scanner runs the pipeline; one Scanner (and its detector) serves a run.
type Scanner struct {
	det      *detect.Detector
	opts     Options
	verdicts *verdictMemo
}

// New makes a Scanner around a detector.
func New(det *detect.Detector, opts Options) *Scanner {
	if opts.Jobs < 1 {
		opts.Jobs = runtime.NumCPU()
	}
	if opts.Workers < 1 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.Key == nil {
		opts.Key = fingerprint.Random()
	}
	return &Scanner{det: det, opts: opts, verdicts: &verdictMemo{}}
}

// KeyID names the scanner's fingerprint key (fingerprint.Key.ID): a store
// holds the values of one key only.
func (s *Scanner) KeyID() string { return s.opts.Key.ID() }

// raw is a detector finding before it is tied to history.
type raw struct {
	layer, entry int
	path         string
	chain        []string // members of nested archives inside the file at path
	f            detect.Hit
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
	// credentials parsed from credential files (--verify), by walk layer
	// index.
	credentials map[int][]verify.Credential
}

// Image scans every layer of img and returns its report. Problems with a
// layer are recorded in the report; the error is for a cancelled run.
func (s *Scanner) Image(ctx context.Context, img *fetch.Image) (*report.Image, error) {
	a, err := s.Analyze(ctx, img)
	if err != nil {
		return nil, err
	}
	return a.Report, nil
}

// Analysis is what one read of an image gives: its report, the layers'
// results (tar entries, package databases), every entry's fate, and the
// redactor the report went through, for the other text a command prints
// about the image (history comments, build arguments).
type Analysis struct {
	Image   *fetch.Image
	Report  *report.Image
	Results []*LayerResult
	// Lifecycle knows the fate of every entry of Results.
	Lifecycle *history.Lifecycle
	// Redact hides in any text from the image the secrets the scan found
	// and their encoded forms (the identity with ShowSecrets).
	Redact func(string) string

	scanner *Scanner
}

// Analyze reads every layer of img once and assembles its Analysis.
// Problems with a layer are recorded in the report; the error is for a
// cancelled run.
func (s *Scanner) Analyze(ctx context.Context, img *fetch.Image) (*Analysis, error) {
	start := time.Now()
	results, err := s.ScanLayers(ctx, img.Layers)
	if err != nil {
		return nil, err
	}
	a := s.assemble(img, results, nil)
	s.Verify(ctx, img, results, a.Report)
	a.Report.Stats.DurationMS = time.Since(start).Milliseconds()
	return a, nil
}

// Assemble builds the report of img from the results of its layers (one
// per layer, in order; from ScanLayers or from a cache): the fates of the
// files, the findings attributed to this image's layer indexes and
// instructions, the config and history findings, causes and suppressions.
// A nil result is a layer that was not scanned. Stats.DurationMS is left
// to the caller.
func (s *Scanner) Assemble(img *fetch.Image, results []*LayerResult) *report.Image {
	return s.assemble(img, results, nil).Report
}

// AssembleStored is Assemble for an image whose config a store kept as
// StoreConfig made it: img.Config is that redacted config, and the config
// and history findings are the ones found before redaction.
func (s *Scanner) AssembleStored(img *fetch.Image, results []*LayerResult, sc *StoredConfig) *report.Image {
	return s.assemble(img, results, sc).Report
}

func (s *Scanner) assemble(img *fetch.Image, results []*LayerResult, stored *StoredConfig) *Analysis {
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
		entries[i] = results[i].Entries
	}
	lc := history.NewLifecycle(entries)

	out := &report.Image{
		Ref:          img.Ref,
		Source:       img.Source,
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
			CreatedBy: info.CreatedBy, Instruction: info.Instruction,
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
	legacy := map[string]bool{}
	out.Findings = s.findings(results, out.Layers, lc, ix, legacy)
	var meta []report.Finding
	var metaSecrets []string
	if stored != nil {
		meta = stored.findings(out.Layers)
	} else {
		meta, metaSecrets = s.metadataFindings(img, steps, out.Layers, legacy)
	}
	out.Findings = append(out.Findings, meta...)
	s.Causes(img, out, nil)
	if stored != nil {
		stored.keepCauses(out)
	}
	s.applySuppressions(out, legacy)
	s.applyVendor(out)
	report.SortFindings(out.Findings)
	red := s.redactor(results, metaSecrets)
	out.MapStrings(red)
	return &Analysis{Image: img, Report: out, Results: results, Lifecycle: lc, Redact: red, scanner: s}
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
func (s *Scanner) findings(results []*LayerResult, layers []report.Layer, lc *history.Lifecycle, ix *provenance.Index, legacy map[string]bool) []report.Finding {
	type dedupeKey struct {
		layer, entry int
		chain        string
		rule         string
		line         int
		fingerprint  string
	}
	seen := map[dedupeKey]bool{}
	out := []report.Finding{}
	add := func(layer, entry int, path, linkTo string, f *LayerHit, content [2]int) {
		fp := f.fingerprintAt(s.opts.Key, path)
		k := dedupeKey{layer, entry, strings.Join(f.Chain, "\x00"), f.Rule, f.Line, fp}
		if seen[k] || layer < 0 || layer >= len(layers) {
			return
		}
		seen[k] = true
		if f.secret != "" {
			s.matchLegacy(legacy, fp, f.Rule, memberPath(path, f.Chain), f.secret)
		}
		l := layers[layer]
		fate := lc.Fate(layer, entry)
		rf := report.Finding{
			Rule: f.Rule, Description: f.Description, Severity: f.Severity, Encoding: f.Encoding, Note: f.Note, Source: "file",
			Path: path, Line: f.Line, HardlinkTo: linkTo,
			Layer:       report.LayerRef{Index: l.Index, Digest: l.Digest, CreatedBy: l.CreatedBy, Instruction: l.Instruction},
			Status:      string(fate.Status),
			Secret:      s.rawSecret(f),
			Fingerprint: fp,
			SecretID:    f.SecretID,
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
func (s *Scanner) rawSecret(f *LayerHit) string {
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

// redactor returns what hides, in every string of the report an image
// supplied (report.Image.MapStrings: paths, created_by, instructions,
// config fields, warnings), the secrets the scan found and all their
// encoded forms, what the detector finds there, and every build-argument
// value in history text (history records them in the clear) — unless
// secrets are to be shown (redact package).
//
// Results read from a cache carry no plaintext: their secrets are hidden
// only where the detector finds them in the text or in its encoded runs.
func (s *Scanner) redactor(results []*LayerResult, metadata []string) func(string) string {
	if s.opts.ShowSecrets {
		return func(t string) string { return t }
	}
	red := redact.New(s.det)
	for _, r := range results {
		for _, f := range r.Findings {
			red.Add(f.secret)
		}
	}
	red.Add(metadata...)
	return red.Text
}

func hashString(s string) string {
	if strings.HasSuffix(s, ":") {
		return ""
	}
	return s
}
