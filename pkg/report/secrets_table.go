package report

import (
	"fmt"
	"strings"
)

// maxTablePlaces bounds the places the table lists under one secret; the
// JSON report lists them all.
const maxTablePlaces = 5

// secrets writes the secrets view the table leads with: how many secrets
// to rotate, then each secret (most urgent first) with its places.
func (t *tableWriter) secrets(r *Report) {
	secrets := r.Secrets()
	if len(secrets) == 0 {
		return
	}
	ew := t.ew
	tot := r.TotalsOf(secrets)
	detail := []string{fmt.Sprintf("%d still present", tot.Present)}
	if r.Verifying() {
		detail = append(detail, fmt.Sprintf("%d verified working", tot.Verified))
	}
	ew.printf("%s\n", t.paint(ansiBold, fmt.Sprintf("%d secret%s to rotate (%s), in %d finding%s:",
		tot.Secrets, plural(tot.Secrets), strings.Join(detail, ", "), tot.Findings, plural(tot.Findings))))
	several := len(r.Images) > 1
	for _, s := range secrets {
		kind := s.Kind
		if len(s.Rules) > 1 {
			var also []string
			for _, r := range s.Rules {
				if r != s.Kind {
					also = append(also, r)
				}
			}
			kind += " (also " + strings.Join(also, ", ") + ")"
		}
		verdict := ""
		if v := s.Verification; v != nil {
			verdict = "  " + strings.ToUpper(v.Status)
			if v.Identity != "" {
				verdict += " as " + v.Identity
			}
			if v.Status == Verified {
				verdict = t.paint(ansiBold+ansiRed, verdict)
			}
		}
		ew.printf("  %s  %s  %s #%s  %s  %d place%s%s\n", t.paint(severityColor(s.Severity), s.Severity), kind, s.Secret,
			ShortID(s.ID), s.Status, len(s.Occurrences), plural(len(s.Occurrences)), verdict)
		for i, o := range s.Occurrences {
			if i == maxTablePlaces {
				ew.printf("      … and %d more (--format json lists them all)\n", len(s.Occurrences)-i)
				break
			}
			ew.printf("      %s  %s\n", t.fitPlace(o, several, 8+len(o.Status)), o.Status)
		}
		ew.printf("      fix: %s\n", s.Remediation)
	}
	ew.printf("\n")
}

// place says where an occurrence is, for the table: the layer and its
// instruction, then the file (or config field, or history entry).
func place(o Occurrence, image bool) string {
	var b strings.Builder
	if image {
		b.WriteString(o.Image + "  ")
	}
	switch o.Source {
	case "config":
		b.WriteString("config " + o.Field)
	case "history":
		if o.HistoryIndex != nil {
			fmt.Fprintf(&b, "history[%d] ", *o.HistoryIndex)
		}
		b.WriteString(o.Instruction)
	default:
		fmt.Fprintf(&b, "layer %d (%s): %s", o.Layer, cut(o.Instruction, 40), o.Path)
		for _, m := range o.ArchivePath {
			b.WriteString("!" + m)
		}
		if o.Line > 0 {
			fmt.Fprintf(&b, ":%d", o.Line)
		}
	}
	return b.String()
}

// fitPlace is place cut to the terminal's width less used cells: the
// instruction to 30 cells, then a path loses its start (what tells two
// places apart is at its end).
func (t *tableWriter) fitPlace(o Occurrence, image bool, used int) string {
	p := place(o, image)
	if t.opts.Width <= 0 || cells.StringWidth(p) <= t.opts.Width-used {
		return p
	}
	if o.Source != "file" {
		return cutCells(p, max(t.opts.Width-used, 20))
	}
	head := ""
	if image {
		head = o.Image + "  "
	}
	head += fmt.Sprintf("layer %d (%s): ", o.Layer, cutCells(o.Instruction, 30))
	tail := strings.TrimPrefix(p, place(Occurrence{Source: "file", Layer: o.Layer, Instruction: o.Instruction, Image: o.Image}, image))
	return head + cutLeft(tail, max(t.opts.Width-used-cells.StringWidth(head), 16))
}
