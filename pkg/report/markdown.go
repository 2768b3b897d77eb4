package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/layerscan/layerscan/pkg/sanitize"
)

// WriteMarkdown writes the report as GitHub-flavoured Markdown, for
// tickets and pull-request comments: per image a heading, a summary, one
// table of findings (by layer) and the commands that extract deleted files.
func WriteMarkdown(w io.Writer, r *Report) error {
	r = Sanitized(r)
	ew := &errWriter{w: w}
	ew.printf("# layerscan report\n")
	if secrets := r.Secrets(); len(secrets) > 0 {
		tot := r.TotalsOf(secrets)
		ew.printf("\n**%d secret%s to rotate** (%d still present), in %d finding%s:\n\n", tot.Secrets, plural(tot.Secrets), tot.Present, tot.Findings, plural(tot.Findings))
		ew.printf("| Severity | Kind | Secret | Status | Places | Verified | Fix |\n|---|---|---|---|---|---|---|\n")
		for _, s := range secrets {
			places := make([]string, 0, maxTablePlaces)
			for i, o := range s.Occurrences {
				if i == maxTablePlaces {
					places = append(places, fmt.Sprintf("… and %d more", len(s.Occurrences)-i))
					break
				}
				places = append(places, "`"+mdCode(place(o, len(r.Images) > 1))+"` ("+mdText(o.Status)+")")
			}
			verified := ""
			if v := s.Verification; v != nil {
				verified = mdText(strings.TrimSpace(v.Status + " " + v.Identity))
			}
			ew.printf("| %s | `%s` | `%s #%s` | %s | %s | %s | %s |\n", mdText(s.Severity), mdCode(strings.Join(s.Rules, ", ")),
				mdCode(s.Secret), mdCode(ShortID(s.ID)), mdText(s.Status), strings.Join(places, "<br>"), verified, mdText(s.Remediation))
		}
	}
	for _, im := range r.Images {
		ew.printf("\n## `%s`\n\n", mdCode(im.Ref))
		if im.Digest != "" || im.Platform != "" {
			ew.printf("Digest `%s`, platform `%s`.\n\n", mdCode(im.Digest), mdCode(im.Platform))
		}
		ew.printf("**%s**\n", mdText(summary(im)))
		if len(im.Findings) > 0 {
			ew.printf("\n| Severity | Rule | Layer | Where | Status | Cause | Origin | Secret |\n")
			ew.printf("|---|---|---|---|---|---|---|---|\n")
			for _, f := range im.Findings {
				layer := "config"
				if f.Layer.Index >= 0 {
					layer = fmt.Sprintf("%d `%s`", f.Layer.Index, mdCode(cut(f.Layer.Instruction, 80)))
				}
				where := "`" + mdCode(Location(f)) + "`"
				if f.Line > 0 {
					where += fmt.Sprintf(" line %d", f.Line)
				}
				sev := f.Severity
				if f.Vendor {
					sev += " (vendor)"
				}
				ew.printf("| %s | `%s` | %s | %s | %s | %s | %s | `%s` |\n",
					mdText(sev), mdCode(f.Rule), layer, where, mdText(status(f)), mdText(f.Cause), mdText(OriginText(f.Origin)), mdCode(SecretLabel(f)))
			}
			var extra []string
			seen := map[string]bool{}
			for _, fx := range remediations(im.Findings) {
				codes := make([]string, len(fx.rules))
				for i, rule := range fx.rules {
					codes[i] = "`" + mdCode(rule) + "`"
				}
				extra = append(extra, fmt.Sprintf("- Fix %s: %s", strings.Join(codes, ", "), mdText(fx.text)))
			}
			for _, f := range im.Findings {
				if f.Evidence() != "" && f.Status != "present" && !seen["e"+f.Evidence()] {
					seen["e"+f.Evidence()] = true
					extra = append(extra, fmt.Sprintf("- Still extractable: `%s`", mdCode(f.Evidence())))
				}
			}
			if len(extra) > 0 {
				ew.printf("\n%s\n", strings.Join(extra, "\n"))
			}
		}
		if len(im.Vendor) > 0 {
			ew.printf("\n<details><summary>Vendor content: %d finding%s in %d package%s (not counted; <code>--vendor show</code> lists them)</summary>\n\n",
				vendorFindings(im), plural(vendorFindings(im)), len(im.Vendor), plural(len(im.Vendor)))
			for _, v := range im.Vendor {
				ew.printf("- %s\n", mdText(VendorLine(v)))
			}
			ew.printf("\n</details>\n")
		}
		for _, e := range im.Errors {
			ew.printf("\n> **Error:** %s\n", mdText(problemText(e)))
		}
		if len(im.Warnings) > 0 {
			ew.printf("\n<details><summary>%d warning%s</summary>\n\n", len(im.Warnings), plural(len(im.Warnings)))
			for _, wn := range im.Warnings {
				ew.printf("- %s\n", mdText(problemText(wn)))
			}
			ew.printf("\n</details>\n")
		}
	}
	return ew.err
}

// mdText escapes text for a Markdown table cell.
func mdText(s string) string {
	s = sanitize.OneLine(s)
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

// mdCode makes s safe inside a `code span` in a table cell.
func mdCode(s string) string {
	s = sanitize.OneLine(s)
	return strings.NewReplacer("`", "'", "|", `\|`).Replace(s)
}
