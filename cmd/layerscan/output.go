package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/spf13/pflag"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/outfile"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// formats are the values --format takes.
var formats = []string{"table", "json", "sarif", "csv", "markdown", "template", "html"}

// outputOptions are the flags about how results are written and gated.
type outputOptions struct {
	// specs are the --format values in order: FORMAT, or FORMAT=FILE.
	specs    []outputSpec
	template string
	failOn   string
	quiet    bool
	color    string
	force    bool

	tmpl *template.Template
}

// outputSpec is one output: a format, and a file ("" for the main output:
// -o FILE, or stdout).
type outputSpec struct {
	format, file string
}

func (o *outputOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.template, "template", "", "Go text/template file for --format template (runs over the layerscan/v1 report)")
	f.StringVar(&o.failOn, "fail-on", "low", "lowest severity that makes the exit status non-zero: critical, high, medium, low or info")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bars on stderr")
	f.StringVar(&o.color, "color", "auto", "colour in the table: auto (only on a terminal, and not with NO_COLOR set), always or never")
	f.BoolVar(&o.force, "force", false, "replace a symbolic link at an output file's path (-o, --format FORMAT=FILE) instead of refusing it")
}

// formatValue is --format: repeatable, each FORMAT or FORMAT=FILE. The
// last format name also goes to *primary, for commands that take one
// format (history).
type formatValue struct {
	primary *string
	specs   *[]outputSpec
	set     bool
}

func newFormatValue(primary *string, specs *[]outputSpec) *formatValue {
	return &formatValue{primary: primary, specs: specs}
}

func (v *formatValue) String() string { return *v.primary }
func (v *formatValue) Type() string   { return "format" }
func (v *formatValue) Set(s string) error {
	if !v.set {
		*v.specs = nil // the first value replaces the default
		v.set = true
	}
	name, file, _ := strings.Cut(s, "=")
	*v.specs = append(*v.specs, outputSpec{format: strings.TrimSpace(name), file: file})
	*v.primary = strings.TrimSpace(name)
	return nil
}

const formatUsage = "output format: table, json, sarif, csv, markdown, template or html; repeat as FORMAT=FILE for several outputs in one run"

// outputs resolves the outputs of a scan: every --format, with the main
// one going to -o FILE or stdout.
func (o *outputOptions) outputs(primary string) []outputSpec {
	if len(o.specs) == 0 {
		return []outputSpec{{format: primary}}
	}
	return o.specs
}

// validate checks the output and gating flags before anything is fetched.
func (o *outputOptions) validate(s *scanOptions) error {
	main := 0
	for _, sp := range o.outputs(s.format) {
		if !slices.Contains(formats, sp.format) {
			return usageErr("unknown --format %q: use %s", sp.format, strings.Join(formats, ", "))
		}
		if sp.file == "" {
			main++
		}
		if sp.format == "template" && o.template == "" {
			return usageErr("--format template needs --template FILE")
		}
	}
	if main > 1 {
		return usageErr("%d formats would go to the same output: give the others a file (--format FORMAT=FILE)", main)
	}
	if o.template != "" {
		t, err := report.ParseTemplateFile(o.template)
		if err != nil {
			return usageErr("--template: %s", oneLine(err.Error()))
		}
		o.tmpl = t
	}
	if !slices.Contains(report.Severities, o.failOn) {
		return usageErr("unknown --fail-on %q: use critical, high, medium, low or info", o.failOn)
	}
	if s.exitCode < 0 || s.exitCode > 125 {
		return usageErr("--exit-code must be between 0 and 125")
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return usageErr("unknown --color %q: use auto, always or never", o.color)
	}
	return nil
}

// failing counts the findings at or above --fail-on.
func (o *outputOptions) failing(rep *report.Report) int {
	min := report.SeverityRank(o.failOn)
	n := 0
	for _, im := range rep.Images {
		for _, f := range im.Findings {
			if !f.Vendor && report.SeverityRank(f.Severity) >= min {
				n++
			}
		}
	}
	return n
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// tableOptions says how to draw the table on w.
func (o *outputOptions) tableOptions(w io.Writer) report.TableOptions {
	var opts report.TableOptions
	tty := isTerminal(w)
	switch o.color {
	case "always":
		opts.Color = true
	case "auto":
		_, noColor := os.LookupEnv("NO_COLOR")
		opts.Color = tty && !noColor && os.Getenv("TERM") != "dumb"
	}
	if tty {
		if width, _, err := term.GetSize(int(w.(*os.File).Fd())); err == nil && width > 0 {
			opts.Width = width
		}
	}
	return opts
}

// writeReportTo writes rep in one format.
func (o *outputOptions) writeReportTo(w io.Writer, format string, rep *report.Report, table report.TableOptions) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "json":
		err = report.WriteJSON(bw, rep)
	case "sarif":
		err = report.WriteSARIF(bw, rep)
	case "csv":
		err = report.WriteCSV(bw, rep)
	case "markdown":
		err = report.WriteMarkdown(bw, rep)
	case "template":
		err = report.WriteTemplate(bw, rep, o.tmpl)
	case "html":
		err = report.WriteHTML(bw, rep)
	default:
		err = report.WriteTableOptions(bw, rep, table)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// writeFile writes rep to path: mode 0600 with --show-secrets (an
// existing file is chmod-ed), else 0644; a symbolic link at path is
// refused unless --force (outfile.Create).
func (o *outputOptions) writeFile(path, format string, rep *report.Report, showSecrets bool) (err error) {
	mode := os.FileMode(0o644)
	if showSecrets {
		mode = 0o600
	}
	f, err := outfile.Create(path, outfile.Options{Mode: mode, Secret: showSecrets, Overwrite: true, Force: o.force})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return o.writeReportTo(f, format, rep, report.TableOptions{})
}

// progress shows bars on stderr while layers are read: one per layer in
// flight (bytes read, rate) and one per image (all its layers). It is nil
// — and every method a no-op — unless stderr is a terminal and --quiet is
// not set.
type progress struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bars []*mpb.Bar
	// files counts the files scanned per layer of the image being read.
	files []atomic.Int64
}

// fileScanned counts a file of layer; images are scanned one at a time.
func (pr *progress) fileScanned(layer int) {
	pr.mu.Lock()
	files := pr.files
	pr.mu.Unlock()
	if layer >= 0 && layer < len(files) {
		files[layer].Add(1)
	}
}

func (pr *progress) add(total int64, opts ...mpb.BarOption) *mpb.Bar {
	b := pr.p.AddBar(total, opts...)
	pr.mu.Lock()
	pr.bars = append(pr.bars, b)
	pr.mu.Unlock()
	return b
}

func (o *outputOptions) startProgress(stderr io.Writer) *progress {
	if o.quiet || !isTerminal(stderr) {
		return nil
	}
	return &progress{p: mpb.New(mpb.WithOutput(stderr), mpb.WithWidth(32), mpb.WithRefreshRate(120*time.Millisecond))}
}

// image wraps img's layers so that reading them moves the bars; done
// completes the image's bar.
func (pr *progress) image(img *fetch.Image) (done func()) {
	if pr == nil {
		return func() {}
	}
	var total int64
	for _, l := range img.Layers {
		if l.Size > 0 {
			total += l.Size
		}
	}
	files := make([]atomic.Int64, len(img.Layers))
	pr.mu.Lock()
	pr.files = files
	pr.mu.Unlock()
	name := sanitize.Text(img.Ref)
	if len(name) > 40 {
		name = "…" + name[len(name)-39:]
	}
	overall := pr.add(total,
		mpb.BarPriority(1<<30), // last line
		mpb.PrependDecorators(
			decor.Name(name+" ", decor.WCSyncSpaceR),
			decor.Any(func(decor.Statistics) string { return fmt.Sprintf("%d layers", len(img.Layers)) }, decor.WCSyncSpaceR),
		),
		mpb.AppendDecorators(
			decor.Counters(decor.SizeB1000(0), "% .1f / % .1f", decor.WCSyncSpace),
			rate(time.Now()),
			decor.Percentage(decor.WCSyncSpace),
		))
	for i, l := range img.Layers {
		open := l.Open
		idx := i
		size := l.Size
		img.Layers[i] = fetch.NewLayer(l.Index, l.Digest, l.DiffID, l.Size, l.MediaType, func() (io.ReadCloser, error) {
			rc, err := open()
			if err != nil {
				return nil, err
			}
			bar := pr.add(max(size, 0), mpb.BarRemoveOnComplete(),
				mpb.PrependDecorators(decor.Name(fmt.Sprintf("  layer %d ", idx), decor.WCSyncSpaceR)),
				mpb.AppendDecorators(
					decor.Counters(decor.SizeB1000(0), "% .1f / % .1f", decor.WCSyncSpace),
					rate(time.Now()),
					decor.Any(func(decor.Statistics) string { return fmt.Sprintf(" %d files", files[idx].Load()) }),
				))
			return &countingReader{rc: rc, bar: bar, overall: overall}, nil
		})
	}
	return func() { overall.SetTotal(-1, true) }
}

// wait completes every bar, draws the last frame (the images' totals
// and rates) and stops, before the report is written.
func (pr *progress) wait() {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	bars, p := pr.bars, pr.p
	pr.bars, pr.p = nil, nil
	pr.mu.Unlock()
	if p == nil {
		return
	}
	for _, b := range bars {
		if !b.Completed() {
			b.SetTotal(-1, true)
		}
	}
	p.Wait()
}

type countingReader struct {
	rc           io.ReadCloser
	bar, overall *mpb.Bar
	once         sync.Once
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		c.bar.IncrBy(n)
		c.overall.IncrBy(n)
	}
	return n, err
}

func (c *countingReader) Close() error {
	c.once.Do(func() { c.bar.SetTotal(-1, true) })
	return c.rc.Close()
}

// rate shows the average bytes per second since start, kept once the bar
// completes.
func rate(start time.Time) decor.Decorator {
	var mu sync.Mutex
	var final string
	return decor.Any(func(s decor.Statistics) string {
		mu.Lock()
		defer mu.Unlock()
		if final != "" {
			return final
		}
		el := time.Since(start).Seconds()
		if el <= 0 {
			return ""
		}
		r := fmt.Sprintf("% .1f/s", decor.SizeB1000(float64(s.Current)/el))
		if s.Completed {
			final = r
		}
		return r
	}, decor.WCSyncSpace)
}
