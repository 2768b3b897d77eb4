package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/redact"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/walk"
)

// Config is everything that shapes a run of layerscan's pipeline: how
// images are fetched (source, platform, credentials, bounds), how their
// layers are read and what counts as a finding (rules, decoding,
// suppressions, vendor content), and what the report's header says.
type Config struct {
	// Fetch are the options of fetch.Open.
	Fetch []fetch.Option
	// Detect builds the detector.
	Detect detect.Options
	// Scan configures the walk, the report and what is left out of it.
	Scan Options
	// Tool names the program in the report (Name defaults to "layerscan";
	// Ruleset is the detector's).
	Tool report.Tool
	// OnImage, when set, is called before an image of a reference is
	// scanned (it may wrap img's layers, e.g. to draw progress); the
	// returned function is called once the image is scanned.
	OnImage func(img *fetch.Image) (done func())
}

// Pipeline is layerscan's pipeline built once from a Config:
// fetch → walk → detect → history and provenance → report. Every command
// (scan, sweep, report, history, ls, extract) runs through one, so each
// honours the same flags; it is safe for concurrent use once built.
type Pipeline struct {
	cfg     Config
	det     *detect.Detector
	scanner *Scanner
}

// NewPipeline builds the detector and the scanner of cfg.
func NewPipeline(cfg Config) (*Pipeline, error) {
	det, err := detect.New(cfg.Detect)
	if err != nil {
		return nil, err
	}
	if cfg.Tool.Name == "" {
		cfg.Tool.Name = "layerscan"
	}
	cfg.Tool.Ruleset = det.RulesetFingerprint()
	return &Pipeline{cfg: cfg, det: det, scanner: New(det, cfg.Scan)}, nil
}

// Detector is the pipeline's detector.
func (p *Pipeline) Detector() *detect.Detector { return p.det }

// Scanner is the pipeline's scanner.
func (p *Pipeline) Scanner() *Scanner { return p.scanner }

// Ruleset identifies the rules and options: stored results are valid only
// under the same one.
func (p *Pipeline) Ruleset() string { return p.cfg.Tool.Ruleset }

// NewReport is a report of images with the pipeline's header.
func (p *Pipeline) NewReport(images ...*report.Image) *report.Report {
	return report.New(p.cfg.Tool, images...)
}

// NewStream is a report of the images images yields, with the pipeline's
// header: written as they are read (report.Stream).
func (p *Pipeline) NewStream(images report.Images) *report.Stream {
	return report.NewStream(p.cfg.Tool, images)
}

// Open opens ref (a registry reference, an archive, a layout) with the
// pipeline's fetch options; extra ones come last.
func (p *Pipeline) Open(ctx context.Context, ref string, extra ...fetch.Option) (*fetch.Source, error) {
	opts := append(append([]fetch.Option(nil), p.cfg.Fetch...), extra...)
	return fetch.Open(ctx, ref, opts...)
}

// Remote opens a session with registry under the pipeline's fetch
// options (platform, credentials, bounds); extra ones come last. A sweep
// reads the whole registry through one.
func (p *Pipeline) Remote(registry string, extra ...fetch.Option) (*fetch.Remote, error) {
	opts := append(append([]fetch.Option(nil), p.cfg.Fetch...), extra...)
	return fetch.NewRemote(registry, opts...)
}

// ScanRef scans every image ref holds (several for a platform "all" index
// or a multi-image archive) and returns their reports. A ref that cannot
// be opened is an error wrapping fetch's sentinel errors.
func (p *Pipeline) ScanRef(ctx context.Context, ref string) ([]*report.Image, error) {
	src, err := p.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []*report.Image
	for _, img := range src.Images {
		if img.Ref == "" {
			img.Ref = ref
		}
		done := func() {}
		if p.cfg.OnImage != nil {
			done = p.cfg.OnImage(img)
		}
		im, err := p.scanner.Image(ctx, img)
		done()
		if err != nil {
			return nil, fmt.Errorf("scanning %s: %w", ref, err)
		}
		out = append(out, im)
	}
	return out, nil
}

// Analyze reads every layer of img once: its report and what the
// forensic commands show besides (see Analysis).
func (p *Pipeline) Analyze(ctx context.Context, img *fetch.Image) (*Analysis, error) {
	return p.scanner.Analyze(ctx, img)
}

// List reads the headers of every layer of img once (no content is
// scanned) under the pipeline's bounds, with each entry's fate.
func (p *Pipeline) List(ctx context.Context, img *fetch.Image) (*evidence.Listing, error) {
	return evidence.List(ctx, img.Layers, p.evidenceOptions())
}

// Extract writes the file at path as layer stores it, under the
// pipeline's bounds: to dest ("-": w) created as evidence.ExtractFile does.
func (p *Pipeline) Extract(ctx context.Context, layer fetch.Layer, path, dest string, force bool, w io.Writer) error {
	if dest == "-" {
		return evidence.Extract(ctx, layer, path, w, p.evidenceOptions())
	}
	return evidence.ExtractFile(ctx, layer, path, dest, force, p.evidenceOptions())
}

func (p *Pipeline) evidenceOptions() evidence.Options {
	o := p.cfg.Scan
	return evidence.Options{Jobs: o.Jobs, MaxEntries: o.MaxEntries, Limits: o.Limits}
}

// Redact hides, in text from an image that was not scanned (ls: paths and
// instructions), what the detector finds there and in its encoded runs,
// and build-argument values; it is the identity with ShowSecrets.
func (p *Pipeline) Redact(text string) string {
	if p.cfg.Scan.ShowSecrets {
		return text
	}
	return redact.New(p.det).Text(text)
}

// Ref scans the images of one reference with cfg and returns the report:
// the library's entry point.
func Ref(ctx context.Context, ref string, cfg Config) (*report.Report, error) {
	p, err := NewPipeline(cfg)
	if err != nil {
		return nil, err
	}
	images, err := p.ScanRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	return p.NewReport(images...), nil
}

// ErrSeveralImages says a reference holds more than one image where one
// is needed (the forensic commands read one: pick it with a platform).
var ErrSeveralImages = errors.New("scan: the reference holds several images")

// OpenImage opens ref and returns its one image (the Source must be
// closed). Several images (a platform "all" index) are ErrSeveralImages,
// naming their platforms.
func (p *Pipeline) OpenImage(ctx context.Context, ref string) (*fetch.Source, *fetch.Image, error) {
	src, err := p.Open(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if len(src.Images) != 1 {
		var plats []string
		for _, im := range src.Images {
			plats = append(plats, im.Platform)
		}
		src.Close()
		return nil, nil, fmt.Errorf("%w: %s has %d platform images (%s)", ErrSeveralImages, ref, len(plats), strings.Join(plats, ", "))
	}
	img := src.Images[0]
	if img.Ref == "" {
		img.Ref = ref
	}
	return src, img, nil
}

// Base opens baseRef and returns the boundary it draws in img: its layer
// diff IDs must be the first of img's (--base).
func (p *Pipeline) Base(ctx context.Context, baseRef string, img *fetch.Image) (*history.Base, error) {
	bsrc, bimg, err := p.OpenImage(ctx, baseRef)
	if err != nil {
		return nil, err
	}
	defer bsrc.Close()
	var baseIDs, ids []v1.Hash
	for _, l := range bimg.Layers {
		baseIDs = append(baseIDs, l.DiffID)
	}
	for _, l := range img.Layers {
		ids = append(ids, l.DiffID)
	}
	nHist := 0
	if bimg.Config != nil {
		nHist = len(bimg.Config.History)
	}
	digest := ""
	if bimg.Digest.Hex != "" {
		digest = bimg.Digest.String()
	}
	steps, _, _ := history.Map(img.Config, len(img.Layers))
	return history.BaseFromDiffIDs(baseRef, digest, baseIDs, ids, nHist, steps)
}

// DefaultConfig is the configuration layerscan's command line starts from:
// two rounds of base64/hex/percent decoding, binaries read as strings,
// nested archives opened three deep, vendor content folded.
func DefaultConfig() Config {
	return Config{
		Detect: detect.Options{MaxDecodeDepth: 2},
		Scan:   Options{Binaries: walk.BinaryStrings, Vendor: VendorHide},
	}
}
