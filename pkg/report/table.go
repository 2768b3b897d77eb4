package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the report for people: per image, findings grouped
// by the layer (and instruction) that added them, then a summary line.
func WriteTable(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	for i, im := range r.Images {
		if i > 0 {
			ew.printf("\n")
		}
		writeImageTable(ew, im)
	}
	return ew.err
}

func writeImageTable(ew *errWriter, im *Image) {
	name := im.Ref
	if name == "" {
		name = "(unnamed image)"
	}
	ew.printf("%s", name)
	if im.Digest != "" {
		ew.printf(" @ %s", shortDigest(im.Digest))
	}
	if im.Platform != "" {
		ew.printf(" (%s)", im.Platform)
	}
	ew.printf("\n")
	byLayer := map[int][]Finding{}
	for _, f := range im.Findings {
		byLayer[f.Layer.Index] = append(byLayer[f.Layer.Index], f)
	}
	if fs := byLayer[-1]; len(fs) > 0 {
		ew.printf("\nImage config and history (no layer: in the config of every copy of the image)\n")
		writeFindings(ew, fs)
	}
	for _, l := range im.Layers {
		fs := byLayer[l.Index]
		if len(fs) == 0 {
			continue
		}
		ew.printf("\nLayer %d  %s  %s\n", l.Index, shortDigest(l.Digest), cut(l.Instruction, 100))
		writeFindings(ew, fs)
	}
	for _, e := range im.Errors {
		ew.printf("\nerror: %s\n", problemText(e))
	}
	for _, wn := range im.Warnings {
		ew.printf("warning: %s\n", problemText(wn))
	}
	ew.printf("\n%s\n", summary(im))
}

func writeFindings(ew *errWriter, fs []Finding) {
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  RULE\tWHERE\tLINE\tSTATUS\tSECRET\n")
	for _, f := range fs {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\n", f.Rule, cut(Location(f), 80), f.Line, status(f), f.Secret)
	}
	tw.Flush()
	evidence := map[string]bool{}
	for _, f := range fs {
		if f.Evidence != "" && f.Status != "present" && !evidence[f.Evidence] {
			evidence[f.Evidence] = true
			ew.printf("  still extractable: %s\n", f.Evidence)
		}
	}
}

// Location says where a finding is, for people: a path (and the file a
// hardlink points at), a config field, or a history entry.
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
	if f.HardlinkTo != "" {
		return f.Path + " (hardlink to " + f.HardlinkTo + ")"
	}
	return f.Path
}

func status(f Finding) string {
	if f.RemovedBy == nil {
		return f.Status
	}
	return fmt.Sprintf("%s by layer %d (%s)", f.Status, f.RemovedBy.Index, cut(f.RemovedBy.Instruction, 40))
}

func summary(im *Image) string {
	counts := map[string]int{}
	for _, f := range im.Findings {
		counts[f.Status]++
	}
	var parts []string
	for _, s := range []string{"present", "deleted", "overwritten"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	detail := ""
	if len(parts) > 0 {
		detail = " (" + strings.Join(parts, ", ") + ")"
	}
	st := im.Stats
	return fmt.Sprintf("%d finding%s%s in %d layers, %d files, %s scanned in %s",
		len(im.Findings), plural(len(im.Findings)), detail, st.LayersScanned, st.FilesScanned,
		humanBytes(st.Bytes), (time.Duration(st.DurationMS) * time.Millisecond).String())
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

func shortDigest(d string) string {
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
	return string(r[:n-1]) + "…"
}

func humanBytes(n int64) string {
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
