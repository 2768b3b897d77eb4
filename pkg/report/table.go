package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/sanitize"
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

// fit cuts s to the terminal width minus used cells (never below min).
func (t *tableWriter) fit(s string, used, min, noTerm int) string {
	if t.opts.Width <= 0 {
		if noTerm > 0 {
			return cutCells(s, noTerm)
		}
		return sanitize.OneLine(s)
	}
	return cutCells(s, max(t.opts.Width-used, min))
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

// colMin is how narrow a column may be cut on a narrow terminal, in
// cells (0: never cut). STATUS is never cut below its "deleted by layer
// N" part (statusHead); CAUSE, a keyword, is not cut but left out when
// the row does not fit (every other format has it).
var colMin = [nCols]int{0, 0, 14, 0, 12, 0, 10, 0}

// cells measures and cuts text in terminal cells (East Asian wide
// characters take two), the same whatever the locale.
var cells = &runewidth.Condition{StrictEmojiNeutral: true}

func (t *tableWriter) findings(fs []Finding) {
	rows := make([][nCols]string, 0, len(fs)+1)
	rows = append(rows, colNames)
	hasCause, hasOrigin := false, false
	mins := colMin
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
		row := [nCols]string{sev, f.Rule, Location(f), fmt.Sprint(f.Line), status(f), f.Cause, OriginText(f.Origin), SecretLabel(f)}
		for c := range row {
			row[c] = sanitize.OneLine(row[c])
		}
		rows = append(rows, row)
		mins[colStatus] = max(mins[colStatus], cells.StringWidth(statusHead(f)))
	}
	show := [nCols]bool{true, true, true, true, true, hasCause, hasOrigin, true}
	var width [nCols]int
	for _, r := range rows {
		for c := range nCols {
			width[c] = max(width[c], cells.StringWidth(r[c]))
		}
	}
	// The secret's short id goes first when the row is too wide: the
	// secrets view above names every secret by it.
	if t.opts.Width > 0 && nCols*2+width[colSeverity]+width[colRule]+colMin[colWhere]+width[colLine]+mins[colStatus]+width[colSecret] > t.opts.Width {
		width[colSecret] = 0
		for i := range rows {
			if i > 0 {
				rows[i][colSecret] = sanitize.OneLine(fs[i-1].Secret)
			}
			width[colSecret] = max(width[colSecret], cells.StringWidth(rows[i][colSecret]))
		}
	}
	natural := width
	if t.opts.Width > 0 {
		total := func() int {
			n := 0
			for c := range nCols {
				if show[c] {
					n += width[c] + 2
				}
			}
			return n
		}
		// Shrink the long free-text columns one cell at a time, the one
		// with the most room above its minimum first. Before a path is cut
		// below whereKeep cells, or when the row cannot fit, drop the
		// cause (every other format has it, and the fix lines say it);
		// then let WHERE and ORIGIN go narrower.
	shrink:
		for total() > t.opts.Width {
			// STATUS gives up its instruction three times as fast as
			// WHERE its path: the path is what tells findings apart.
			best, room := -1, 0
			for _, c := range []int{colWhere, colStatus, colOrigin} {
				r := (width[c] - mins[c]) * map[bool]int{true: 3, false: 1}[c == colStatus]
				if show[c] && width[c] > mins[c] && r > room {
					best, room = c, r
				}
			}
			switch {
			case show[colCause] && (best < 0 || best == colWhere && width[colWhere] <= min(natural[colWhere], whereKeep)):
				show[colCause] = false
				width = natural
			case best >= 0:
				width[best]--
			case mins[colWhere] > 8:
				mins[colWhere], mins[colOrigin] = 8, 6
			default:
				break shrink
			}
		}
	}
	// A STATUS too narrow to show any of the removing instruction needs no
	// more than its "deleted by layer N": the rest goes to WHERE.
	if t.opts.Width > 0 && width[colStatus] < mins[colStatus]+statusRoom && width[colStatus] > mins[colStatus] {
		spare := width[colStatus] - mins[colStatus]
		width[colStatus] = mins[colStatus]
		width[colWhere] = min(width[colWhere]+spare, natural[colWhere])
	}
	for i, r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		last := colSecret
		for c := range nCols {
			if !show[c] {
				continue
			}
			cell := cutCells(r[c], width[c])
			switch {
			case i == 0:
			case c == colWhere:
				cell = cutWhere(fs[i-1], width[c])
			case c == colStatus:
				cell = cutStatus(fs[i-1], width[c])
			}
			pad := width[c] - cells.StringWidth(cell)
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
	return fmt.Sprintf("%d finding%s%s%s in %d layer%s, %d file%s, %s scanned in %s",
		len(im.Findings), plural(len(im.Findings)), detail, vendor, st.LayersScanned, plural(st.LayersScanned), st.FilesScanned, plural(st.FilesScanned),
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
	s = sanitize.OneLine(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

// cutCells shortens s to at most n terminal cells, marking the cut with
// "…".
func cutCells(s string, n int) string {
	if n < 1 {
		return ""
	}
	return cells.Truncate(sanitize.OneLine(s), n, "…")
}

// cutLeft shortens a path to at most n cells by dropping its start, at a
// "/" or "!" (archive member) when one is in reach, so that what tells
// paths apart stays: …/node_modules/x/config.js rather than /app/…/config.js.
func cutLeft(p string, n int) string {
	p = sanitize.OneLine(p)
	if cells.StringWidth(p) <= n {
		return p
	}
	if n < 2 {
		return cutCells(p, n)
	}
	tail := strings.TrimPrefix(cells.TruncatePrefix(p, n, "…"), "…")
	// Start at a component when that drops only a few cells: a cut
	// name that still tells two paths apart is worth more.
	if i := strings.IndexAny(tail, "/!"); i > 0 && i < len(tail)-1 && cells.StringWidth(tail[:i]) <= max(3, n/4) {
		tail = tail[i:]
	}
	return "…" + tail
}

// cutWhere fits a finding's WHERE to n cells: a path loses its start (and
// a hardlink's target first), a config field or history entry its end.
func cutWhere(f Finding, n int) string {
	where := sanitize.OneLine(Location(f))
	if cells.StringWidth(where) <= n || f.Source == "config" || f.Source == "history" {
		return cutCells(where, n)
	}
	p := f.Path
	for _, m := range f.ArchivePath {
		p += "!" + m
	}
	if f.HardlinkTo != "" {
		if short := sanitize.OneLine(p) + " (hardlink)"; cells.StringWidth(short) <= n {
			return short
		}
	}
	return cutLeft(p, n)
}

// whereKeep is how many cells of a path the table keeps before it drops
// the CAUSE column to make room.
const whereKeep = 40

// statusRoom is how many cells past "deleted by layer N" STATUS needs to
// show some of the removing instruction: " (", 8 cells of it, "…)".
const statusRoom = 12

// statusHead is the part of a finding's STATUS the table never cuts:
// "present", or "deleted by layer N".
func statusHead(f Finding) string {
	if f.RemovedBy == nil {
		return f.Status
	}
	return fmt.Sprintf("%s by layer %d", f.Status, f.RemovedBy.Index)
}

// cutStatus fits a finding's STATUS to n cells by cutting the removing
// layer's instruction, keeping "deleted by layer N".
func cutStatus(f Finding, n int) string {
	full := sanitize.OneLine(status(f))
	head := statusHead(f)
	switch hw := cells.StringWidth(head); {
	case cells.StringWidth(full) <= n:
		return full
	case f.RemovedBy != nil && n >= hw+statusRoom:
		return head + " (" + cutCells(strings.TrimSuffix(strings.TrimPrefix(full, head+" ("), ")"), n-hw-3) + ")"
	case hw <= n:
		return head
	}
	return cutCells(full, n)
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
