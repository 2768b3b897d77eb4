package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/provenance"
)

// TableOptions say how the table is drawn.
type TableOptions struct {
	// Color adds ANSI colours (severities, headings). Only for a terminal,
	// and never when NO_COLOR is set: the caller decides.
	Color bool
	// Width is the terminal's width in columns: long instructions and
	// paths are cut to fit it. 0 means no terminal: nothing is cut but
	// layer headings (to 100 runes).
	Width int
}

// WriteTable writes the report for people, without colour or width limit.
func WriteTable(w io.Writer, r *Report) error {
	return WriteTableOptions(w, r, TableOptions{})
}

// WriteTableOptions writes the report for people: per image, findings
// grouped by the layer (and instruction) that added them, then a summary
// line.
func WriteTableOptions(w io.Writer, r *Report, opts TableOptions) error {
	r = Sanitized(r)
	ew := &errWriter{w: w}
	t := &tableWriter{ew: ew, opts: opts}
	t.secrets(r)
	for i, im := range r.Images {
		if i > 0 {
			ew.printf("\n")
		}
		t.image(im)
	}
	return ew.err
}

type tableWriter struct {
	ew   *errWriter
	opts TableOptions
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiCyan   = "\x1b[36m"
)

func (t *tableWriter) paint(code, s string) string {
	if !t.opts.Color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func severityColor(s string) string {
	switch s {
	case "critical":
		return ansiBold + ansiRed
	case "high":
		return ansiRed
	case "medium":
		return ansiYellow
	case "low":
		return ansiBlue
	}
	return ansiDim
}

// fit cuts s to the terminal width minus used columns (never below min).
func (t *tableWriter) fit(s string, used, min, noTerm int) string {
	if t.opts.Width <= 0 {
		if noTerm > 0 {
			return cut(s, noTerm)
		}
		return cut(s, utf8.RuneCountInString(s)+1)
	}
	return cut(s, max(t.opts.Width-used, min))
}

func (t *tableWriter) image(im *Image) {
	ew := t.ew
	name := im.Ref
	if name == "" {
		name = "(unnamed image)"
	}
	head := name
	if im.Digest != "" {
		head += " @ " + ShortDigest(im.Digest)
	}
	if im.Platform != "" {
		head += " (" + im.Platform + ")"
	}
	ew.printf("%s\n", t.paint(ansiBold, head))
	byLayer := map[int][]Finding{}
	for _, f := range im.Findings {
		byLayer[f.Layer.Index] = append(byLayer[f.Layer.Index], f)
	}
	if fs := byLayer[-1]; len(fs) > 0 {
		ew.printf("\n%s\n", t.paint(ansiBold, "Image config and history (no layer: in the config of every copy of the image)"))
		t.findings(fs)
	}
	for _, l := range im.Layers {
		fs := byLayer[l.Index]
		if len(fs) == 0 {
			continue
		}
		prefix := fmt.Sprintf("Layer %d  %s  ", l.Index, ShortDigest(l.Digest))
		ew.printf("\n%s%s\n", t.paint(ansiBold, prefix), t.paint(ansiCyan, t.fit(l.Instruction, len(prefix), 20, 100)))
		t.findings(fs)
	}
	if len(im.Vendor) > 0 {
		ew.printf("\n%s\n", t.paint(ansiBold, "Vendor content (files packages installed as they shipped them; not counted, --vendor show lists them)"))
		for _, v := range im.Vendor {
			ew.printf("  %s\n", VendorLine(v))
		}
	}
	for _, e := range im.Errors {
		ew.printf("\n%s %s\n", t.paint(ansiBold+ansiRed, "error:"), problemText(e))
	}
	for _, wn := range im.Warnings {
		ew.printf("%s %s\n", t.paint(ansiYellow, "warning:"), problemText(wn))
	}
	ew.printf("\n%s\n", summary(im))
}

// Columns of the findings table.
const (
	colSeverity = iota
	colRule
	colWhere
	colLine
	colStatus
	colCause
	colOrigin
	colSecret
	nCols
)

var colNames = [nCols]string{"SEVERITY", "RULE", "WHERE", "LINE", "STATUS", "CAUSE", "ORIGIN", "SECRET"}

// colMin is how narrow a column may be cut on a narrow terminal (0: never cut).
var colMin = [nCols]int{0, 0, 14, 0, 12, 8, 10, 0}

func (t *tableWriter) findings(fs []Finding) {
	rows := make([][nCols]string, 0, len(fs)+1)
	rows = append(rows, colNames)
	hasCause, hasOrigin := false, false
	for _, f := range fs {
		if f.Cause != "" {
			hasCause = true
		}
		if f.Origin != nil && (f.Origin.Type != provenance.TypeImage || f.Origin.Modified) {
			hasOrigin = true
		}
		sev := f.Severity
		if f.Vendor {
			sev += " (vendor)"
		}
		rows = append(rows, [nCols]string{
			sev, f.Rule, Location(f), fmt.Sprint(f.Line), status(f), f.Cause, OriginText(f.Origin), SecretLabel(f),
		})
	}
	show := [nCols]bool{true, true, true, true, true, hasCause, hasOrigin, true}
	var width [nCols]int
	for _, r := range rows {
		for c := range nCols {
			r[c] = strings.Join(strings.Fields(r[c]), " ")
			width[c] = max(width[c], utf8.RuneCountInString(r[c]))
		}
	}
	if t.opts.Width > 0 {
		// The secret's short id goes first when the row is too wide: the
		// secrets view above names every secret by it.
		if sum := nCols*2 + width[colSeverity] + width[colRule] + colMin[colWhere] + width[colLine] + colMin[colStatus] + width[colSecret]; sum > t.opts.Width {
			width[colSecret] = 0
			for i := range rows {
				if i > 0 {
					rows[i][colSecret] = fs[i-1].Secret
				}
				width[colSecret] = max(width[colSecret], utf8.RuneCountInString(rows[i][colSecret]))
			}
		}
		natural := width
		total := func() int {
			n := 0
			for c := range nCols {
				if show[c] {
					n += width[c] + 2
				}
			}
			return n
		}
		// Shrink the long free-text columns one rune at a time, the one
		// with the most room above its minimum first; if the row cannot
		// fit, drop the cause (every other format has it) and retry.
		for total() > t.opts.Width {
			best := -1
			for _, c := range []int{colWhere, colStatus, colCause, colOrigin} {
				if show[c] && width[c] > colMin[c] && (best < 0 || width[c]-colMin[c] > width[best]-colMin[best]) {
					best = c
				}
			}
			if best >= 0 {
				width[best]--
				continue
			}
			if !show[colCause] {
				break
			}
			show[colCause] = false
			width = natural
		}
	}
	for i, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		last := colSecret
		for c := range nCols {
			if !show[c] {
				continue
			}
			cell := cut(r[c], width[c])
			if c == colWhere {
				cell = cutMiddle(r[c], width[c])
			}
			pad := width[c] - utf8.RuneCountInString(cell)
			switch {
			case i == 0:
				cell = t.paint(ansiBold, cell)
			case c == colSeverity:
				cell = t.paint(severityColor(r[c]), cell)
			case c == colStatus && !strings.HasPrefix(r[c], "present"):
				cell = t.paint(ansiYellow, cell)
			}
			b.WriteString(cell)
			if c != last {
				b.WriteString(strings.Repeat(" ", pad+2))
			}
		}
		t.ew.printf("%s\n", b.String())
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if f.Evidence() != "" && f.Status != "present" && !seen[f.Evidence()] {
			seen[f.Evidence()] = true
			t.ew.printf("  still extractable: %s\n", f.Evidence())
		}
	}
	for _, fx := range remediations(fs) {
		t.ew.printf("  fix (%s): %s\n", strings.Join(fx.rules, ", "), fx.text)
	}
}

type remediation struct {
	text  string
	rules []string
}

// remediations lists the distinct remediations of fs, each with the
// rules it applies to, in order of appearance.
func remediations(fs []Finding) []remediation {
	var out []remediation
	at := map[string]int{}
	for _, f := range fs {
		if f.Remediation == "" {
			continue
		}
		i, ok := at[f.Remediation]
		if !ok {
			i = len(out)
			at[f.Remediation] = i
			out = append(out, remediation{text: f.Remediation})
		}
		if !slices.Contains(out[i].rules, f.Rule) {
			out[i].rules = append(out[i].rules, f.Rule)
		}
	}
	return out
}

// Location says where a finding is, for people: a path (with the members
// of nested archives, and the file a hardlink points at), a config field,
// or a history entry.
func Location(f Finding) string {
	switch f.Source {
	case "config":
		return "config " + f.Field
	case "history":
		if f.HistoryIndex != nil {
			return fmt.Sprintf("history[%d] %s", *f.HistoryIndex, f.Layer.Instruction)
		}
		return "history"
	}
	p := f.Path
	for _, m := range f.ArchivePath {
		p += "!" + m
	}
	if f.HardlinkTo != "" {
		return p + " (hardlink to " + f.HardlinkTo + ")"
	}
	return p
}

func status(f Finding) string {
	if f.RemovedBy == nil {
		return f.Status
	}
	return fmt.Sprintf("%s by layer %d (%s)", f.Status, f.RemovedBy.Index, cut(f.RemovedBy.Instruction, 40))
}

// countBy formats "3 high, 1 medium" from the findings.
func countBy(fs []Finding, key func(Finding) string, order []string) string {
	counts := map[string]int{}
	for _, f := range fs {
		counts[key(f)]++
	}
	var parts []string
	for _, s := range order {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
			delete(counts, s)
		}
	}
	for s, n := range counts {
		if s == "" {
			s = "unrated"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, s))
	}
	return strings.Join(parts, ", ")
}

func summary(im *Image) string {
	detail := ""
	if len(im.Findings) > 0 {
		detail = " (" + countBy(im.Findings, func(f Finding) string { return f.Severity }, detect.Severities) + "; " +
			countBy(im.Findings, func(f Finding) string { return f.Status }, []string{"present", "deleted", "overwritten"}) + ")"
	}
	vendor := ""
	if n := vendorFindings(im); n > 0 {
		vendor = fmt.Sprintf(", and %d in vendor files of %d package%s (not shown)", n, len(im.Vendor), plural(len(im.Vendor)))
	}
	st := im.Stats
	return fmt.Sprintf("%d finding%s%s%s in %d layers, %d files, %s scanned in %s",
		len(im.Findings), plural(len(im.Findings)), detail, vendor, st.LayersScanned, st.FilesScanned,
		HumanBytes(st.Bytes), (time.Duration(st.DurationMS) * time.Millisecond).String())
}

// vendorFindings counts the findings folded into im.Vendor.
func vendorFindings(im *Image) int {
	n := 0
	for _, v := range im.Vendor {
		n += v.Findings
	}
	return n
}

// OriginText says whose content a finding is in, for people: "image",
// "image (modified file of dpkg acme-agent 1.4.2)", "aws-sdk 2.1693.0 (npm,
// location)".
func OriginText(o *provenance.Origin) string {
	switch {
	case o == nil:
		return ""
	case o.Type == provenance.TypePackage:
		s := o.Name
		if o.Version != "" {
			s += " " + o.Version
		}
		return s + " (" + o.Manager + ", " + o.VerifiedBy + ")"
	case o.Modified:
		return "image (modified file of " + o.Label() + ")"
	}
	return o.Type
}

// VendorLine is one package's line in the vendor summary:
// "aws-sdk 2.1693.0 (npm, location): 9 findings (generic-api-key, jwt)".
func VendorLine(v VendorPackage) string {
	o := provenance.Origin{Type: provenance.TypePackage, Manager: v.Manager, Name: v.Name, Version: v.Version, VerifiedBy: v.VerifiedBy}
	return fmt.Sprintf("%s: %d finding%s (%s)", OriginText(&o), v.Findings, plural(v.Findings), strings.Join(v.Rules, ", "))
}

func problemText(p Problem) string {
	var b strings.Builder
	if p.Layer != nil {
		fmt.Fprintf(&b, "layer %d: ", *p.Layer)
	}
	if p.Path != "" {
		fmt.Fprintf(&b, "%s: ", p.Path)
	}
	b.WriteString(p.Message)
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ShortDigest is the first 12 hex digits of a digest ("-" when there is
// none), as layer headings show it.
func ShortDigest(d string) string {
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return hex[:12]
	}
	if d == "" {
		return "-"
	}
	return d
}

// cut shortens s to at most n runes, marking the cut with "…".
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

// cutMiddle shortens s to at most n runes by dropping its middle, so that
// both the top of a path and its file name stay.
func cutMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n || n < 8 {
		return cut(s, n)
	}
	head := (n - 1) / 3
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// HumanBytes writes a byte count for people, in powers of 1000 (kB, MB).
func HumanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
