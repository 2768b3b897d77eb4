package report

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/layerscan/layerscan/pkg/sanitize"
)

// HistorySchema names the shape of layerscan history --format json
// (docs/history-json.md).
const HistorySchema = "layerscan-history/v1"

// History is an image's build told from its config history: one entry per
// history entry, with the layer it made, what later layers hid of it, and
// the secrets it left (layerscan history).
type History struct {
	Schema    string         `json:"schema"`
	Image     string         `json:"image"`
	Digest    string         `json:"digest,omitempty"`
	Platform  string         `json:"platform,omitempty"`
	Base      *HistoryBase   `json:"base"`
	Entries   []HistoryEntry `json:"entries"`
	BuildArgs []HistoryArg   `json:"build_args"`
	// ConfigFindings are the secrets in the image config (Env, Labels,
	// Cmd, …): no history entry holds them.
	ConfigFindings []HistoryFinding `json:"config_findings"`
	// Causes gives the remediation of each cause the findings name.
	Causes   []HistoryCause `json:"causes"`
	Warnings []string       `json:"warnings"`
	// Incomplete: a layer could not be read to its end.
	Incomplete bool `json:"-"`
}

// HistoryFinding is a Finding as the history shows it, under the entry
// that holds it: in the layer the entry made, or in its created_by.
type HistoryFinding struct {
	Rule   string `json:"rule"`
	Source string `json:"source"`
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
	Field  string `json:"field,omitempty"`
	Status string `json:"status"`
	// RemovedBy is the layer that deleted or overwrote the file.
	RemovedBy *int   `json:"removed_by,omitempty"`
	Secret    string `json:"secret"`
	Cause     string `json:"cause"`
	Evidence  string `json:"evidence,omitempty"`
}

// HistoryCause is a cause and its remediation.
type HistoryCause struct {
	Cause       string `json:"cause"`
	Remediation string `json:"remediation"`
}

// HistoryBase is where the base image ends in the history.
type HistoryBase struct {
	Name   string `json:"name,omitempty"`
	Digest string `json:"digest,omitempty"`
	// LastHistoryIndex is the last history entry of the base image, -1
	// when the boundary is not known; Layers the base's layer count.
	LastHistoryIndex int    `json:"last_history_index"`
	Layers           int    `json:"layers"`
	Source           string `json:"source"`
}

// HistoryEntry is one entry of the config history.
type HistoryEntry struct {
	Index       int           `json:"index"`
	Layer       *int          `json:"layer"`
	Digest      string        `json:"digest,omitempty"`
	Size        *int64        `json:"size,omitempty"`
	Created     *time.Time    `json:"created,omitempty"`
	CreatedBy   string        `json:"created_by"`
	Instruction string        `json:"instruction"`
	Comment     string        `json:"comment,omitempty"`
	EmptyLayer  bool          `json:"empty_layer"`
	InBase      bool          `json:"in_base"`
	Hidden      *HistoryCount `json:"hidden,omitempty"`
	// Findings are the secrets in this entry's layer (file findings) or
	// in its created_by (history findings).
	Findings []HistoryFinding `json:"findings,omitempty"`
}

// HistoryCount counts the files of a layer later layers hid, and bytes.
type HistoryCount struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// HistoryArg is a build argument a RUN step recorded.
type HistoryArg struct {
	HistoryIndex int    `json:"history_index"`
	Name         string `json:"name"`
	Value        string `json:"value"`
}

// Base sources (history.Base*), as the table explains them.
var historyBaseHow = map[string]string{
	"annotation":       "from the manifest annotations and the history comment FROM %s",
	"base-image":       "--base: its layer diff IDs are the first of this image's",
	"history-comment":  "heuristic: the history comment FROM %s",
	"created-time-gap": "heuristic: the next history entry was created more than an hour later",
}

// WriteHistoryJSON writes h as the layerscan-history/v1 document.
func WriteHistoryJSON(w io.Writer, h *History) error {
	return writeJSON(w, h)
}

// WriteHistoryTable writes h for people: a Dockerfile-like listing, what
// each layer hides, the secrets each entry left, the base boundary, the
// config's secrets, the causes and the build arguments. Every string from
// the image is sanitised.
func WriteHistoryTable(out io.Writer, h *History) error {
	ew := &errWriter{w: out}
	st := sanitize.Text
	head := st(h.Image)
	if h.Digest != "" {
		head += " @ " + ShortDigest(h.Digest)
	}
	if h.Platform != "" {
		head += " (" + h.Platform + ")"
	}
	ew.printf("%s\n", head)
	if b := h.Base; b != nil {
		name := st(b.Name)
		if name == "" {
			name = "base image"
		}
		if b.Digest != "" {
			name += " @ " + ShortDigest(b.Digest)
		}
		if b.LastHistoryIndex < 0 {
			ew.printf("Base: %s (from the manifest annotations; where it ends in the history is not known)\n", name)
		} else {
			how := historyBaseHow[b.Source]
			if how == "" {
				how = historyBaseHow["created-time-gap"]
			}
			if bytes.Contains([]byte(how), []byte("%s")) {
				how = fmt.Sprintf(how, st(b.Name))
			}
			ew.printf("Base: %s: history 0-%d, layers 0-%d (%s)\n", name, b.LastHistoryIndex, b.Layers-1, how)
		}
	}
	ew.printf("\n")
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HIST\tLAYER\tSIZE\tCREATED\tINSTRUCTION")
	for _, e := range h.Entries {
		layer, size, created := "-", "-", "-"
		if e.Layer != nil {
			layer = fmt.Sprintf("%d %s", *e.Layer, ShortDigest(e.Digest))
			if e.Size != nil && *e.Size >= 0 {
				size = HumanBytes(*e.Size)
			}
		}
		if e.Created != nil {
			created = e.Created.Format(time.RFC3339)
		}
		instr := st(e.Instruction)
		if instr == "" {
			instr = "(no created_by)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Index, layer, size, created, instr)
		if e.Hidden != nil && e.Hidden.Files > 0 {
			fmt.Fprintf(tw, "\t\t\t\t└ %d file%s (%s) deleted or overwritten later: hidden but still in the image\n", e.Hidden.Files, plural(e.Hidden.Files), HumanBytes(e.Hidden.Bytes))
		}
		for _, f := range e.Findings {
			fmt.Fprintf(tw, "\t\t\t\t└ secret %s\n", historyFindingLine(f))
		}
		if h.Base != nil && e.Index == h.Base.LastHistoryIndex {
			fmt.Fprintf(tw, "\t\t\t\t─── end of the base image ───\n")
		}
	}
	tw.Flush()
	if len(h.ConfigFindings) > 0 {
		ew.printf("\nImage config:\n")
		for _, f := range h.ConfigFindings {
			ew.printf("  secret %s\n", historyFindingLine(f))
		}
	}
	if len(h.Causes) > 0 {
		ew.printf("\nCauses:\n")
		for _, c := range h.Causes {
			ew.printf("  %s: %s\n", c.Cause, c.Remediation)
		}
	}
	if len(h.BuildArgs) > 0 {
		ew.printf("\nBuild args:\n")
		for _, a := range h.BuildArgs {
			ew.printf("  history %d: %s=%s\n", a.HistoryIndex, st(a.Name), st(a.Value))
		}
	}
	for _, w := range h.Warnings {
		ew.printf("warning: %s\n", st(w))
	}
	return ew.err
}

// historyFindingLine describes a finding on one line of the history
// listing: rule, where, fate, redacted secret and cause.
func historyFindingLine(f HistoryFinding) string {
	where := sanitize.Text(f.Path)
	switch {
	case f.Source == "history":
		where = "in created_by"
	case f.Source == "config":
		where = sanitize.Text(f.Field)
	case f.Line > 0:
		where = fmt.Sprintf("%s:%d", sanitize.Text(f.Path), f.Line)
	}
	st := f.Status
	if f.RemovedBy != nil {
		st = fmt.Sprintf("%s by layer %d", f.Status, *f.RemovedBy)
	}
	return fmt.Sprintf("%s %s (%s) %s  cause: %s", f.Rule, where, st, sanitize.Text(f.Secret), f.Cause)
}
