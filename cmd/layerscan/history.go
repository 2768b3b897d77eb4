package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/scan"
)

// HistorySchema names the shape of layerscan history --format json
// (docs/history-json.md).
const HistorySchema = "layerscan-history/v1"

type historyDoc struct {
	Schema    string         `json:"schema"`
	Image     string         `json:"image"`
	Digest    string         `json:"digest,omitempty"`
	Platform  string         `json:"platform,omitempty"`
	Base      *historyBase   `json:"base"`
	Entries   []historyEntry `json:"entries"`
	BuildArgs []historyArg   `json:"build_args"`
	// ConfigFindings are the secrets in the image config (Env, Labels,
	// Cmd, …): no history entry holds them.
	ConfigFindings []historyFinding `json:"config_findings"`
	// Causes gives the remediation of each cause the findings name.
	Causes   []historyCause `json:"causes"`
	Warnings []string       `json:"warnings"`
}

// historyFinding is one secret under the history entry that holds it: in
// the layer the entry made, or in its created_by.
type historyFinding struct {
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

type historyCause struct {
	Cause       string `json:"cause"`
	Remediation string `json:"remediation"`
}

type historyBase struct {
	Name   string `json:"name,omitempty"`
	Digest string `json:"digest,omitempty"`
	// LastHistoryIndex is the last history entry of the base image, -1
	// when the boundary is not known; Layers the base's layer count.
	LastHistoryIndex int    `json:"last_history_index"`
	Layers           int    `json:"layers"`
	Source           string `json:"source"`
}

type historyEntry struct {
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
	Hidden      *historyCount `json:"hidden,omitempty"`
	// Findings are the secrets in this entry's layer (file findings) or
	// in its created_by (history findings).
	Findings []historyFinding `json:"findings,omitempty"`
}

type historyCount struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

type historyArg struct {
	HistoryIndex int    `json:"history_index"`
	Name         string `json:"name"`
	Value        string `json:"value"`
}

func newHistoryCmd(opts *scanOptions) *cobra.Command {
	var baseRef string
	cmd := &cobra.Command{
		Use:   "history IMAGE [--base REF] [--format table|json]",
		Short: "Show how the image was built: its history as a Dockerfile-like listing",
		Long: `history rebuilds IMAGE's build from its config history: one line per history
entry with its index, the layer it made (short digest, or - for an
empty_layer entry such as ENV or CMD), the layer's stored size, the created
time and the readable instruction. Under each layer: how many of its files,
and how many bytes, a later layer deleted or overwrote — hidden from the
final filesystem but still in the image (see layerscan ls --deleted and
layerscan extract), and the secrets the entry left: in its layer's
files or in its own created_by, each with its leak cause (see layerscan
--help and docs/leak-patterns.md) — a Causes list at the end says how to fix
each. Secrets in the image config (Env, Labels, Cmd) come after the listing.
Build arguments recorded by RUN steps are listed apart. Secrets, the
history and build-argument values are redacted (first characters then
****) unless --show-secrets.

The base image boundary, in this order:
  --base REF   REF is the base image: its layer diff IDs must be a prefix
               of IMAGE's (an error otherwise); its layers and history
               entries are the base's.
  annotations  the manifest annotations org.opencontainers.image.base.name
               /.digest, the base ending before the first history entry
               commented "FROM <base.name>" (as buildah writes).
  heuristics   without annotations: the base ends before the last history
               entry commented "FROM <name>" where name is not an image ID
               (buildah's comments, e.g. in a docker archive); else at the
               last entry before the first one created more than an hour
               after the entry before it.
When none applies the boundary is not shown. Findings in the base's layers
and history entries have the cause inherited-from-base-image: the base
image's maintainers have to fix them.

--format json writes the layerscan-history/v1 document described in
docs/history-json.md.

Exit status: 0 shown, 2 usage error or the image could not be fetched, 3 a
layer could not be read to its end (its hidden counts are incomplete).`,
		Example: `  layerscan history oci-archive:./app.oci.tar
  layerscan history oci-archive:./app.oci.tar --base oci-archive:./base.oci.tar
  layerscan history registry.example.com/app:1.4 --format json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("history needs one IMAGE (see layerscan history --help)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runHistory(cmd, opts, args[0], baseRef) },
	}
	cmd.Flags().StringVar(&baseRef, "base", "", "the base image (any IMAGE form): its layers and history entries are marked as the base's")
	return cmd
}

func runHistory(cmd *cobra.Command, opts *scanOptions, ref, baseRef string) error {
	if opts.format != "table" && opts.format != "json" {
		return usageErr("unknown --format %q: use table or json", opts.format)
	}
	src, img, err := openForensicImage(cmd, opts, ref)
	if err != nil {
		return err
	}
	defer src.Close()
	steps, _, _ := history.Map(img.Config, len(img.Layers))
	base := history.FindBase(img.Annotations, steps)
	if baseRef != "" {
		if base, err = baseFromImage(cmd, opts, baseRef, img, steps); err != nil {
			return err
		}
	}
	list, err := evidence.List(cmd.Context(), img.Layers, evidence.Options{Jobs: opts.jobs})
	if err != nil {
		return usageErr("reading %s: %v", ref, oneLine(err.Error()))
	}
	det, err := detect.New(detect.Options{MaxDecodeDepth: opts.decodeDepth})
	if err != nil {
		return err
	}
	scanner := scan.New(det, scan.Options{Jobs: opts.jobs, ShowSecrets: opts.showSecrets, MaxFileSize: opts.maxFileSize})
	a, err := scanner.Analyze(cmd.Context(), img)
	if err != nil {
		return usageErr("scanning %s: %v", ref, oneLine(err.Error()))
	}
	found := a.Report
	scanner.Causes(img, found, base)
	red := func(t string, _ []history.Arg) string { return a.Redact(t) }
	doc, incomplete := buildHistory(img, list, red, opts.showSecrets, base, found)

	bw := bufio.NewWriter(cmd.OutOrStdout())
	if opts.format == "json" {
		var b []byte
		if b, err = json.MarshalIndent(doc, "", "  "); err == nil {
			_, err = bw.Write(append(sanitize.JSON(b), '\n'))
		}
	} else {
		writeHistoryTable(bw, doc)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return usageErr("writing the history: %v", err)
	}
	if incomplete {
		return &exitError{code: exitIncomplete, msg: "history incomplete: some layers could not be read"}
	}
	return nil
}

// baseFromImage opens baseRef and checks that its layers are the first of
// img's: the --base boundary.
func baseFromImage(cmd *cobra.Command, opts *scanOptions, baseRef string, img *fetch.Image, steps []history.Step) (*history.Base, error) {
	bsrc, bimg, err := openForensicImage(cmd, opts, baseRef)
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
	b, err := history.BaseFromDiffIDs(baseRef, digest, baseIDs, ids, nHist, steps)
	if err != nil {
		return nil, usageErr("--base: %v", err)
	}
	return b, nil
}

func buildHistory(img *fetch.Image, list *evidence.Listing, red func(string, []history.Arg) string, show bool, base *history.Base, found *report.Image) (*historyDoc, bool) {
	steps, _, warnings := history.Map(img.Config, len(img.Layers))
	doc := &historyDoc{Schema: HistorySchema, Image: img.Ref, Platform: img.Platform,
		Entries: []historyEntry{}, BuildArgs: []historyArg{}, ConfigFindings: []historyFinding{},
		Causes: []historyCause{}, Warnings: warnings}
	if doc.Warnings == nil {
		doc.Warnings = []string{}
	}
	if img.Digest.Hex != "" {
		doc.Digest = img.Digest.String()
	}
	incomplete := false
	for _, li := range list.Layers {
		if li.Err != nil {
			incomplete = true
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("layer %d could not be read to its end: %s", li.Index, oneLine(li.Err.Error())))
		}
	}
	if found != nil && len(found.Errors) > 0 {
		incomplete = true
	}
	doc.Base = docBase(base)
	byLayer, byStep := map[int][]historyFinding{}, map[int][]historyFinding{}
	if found != nil {
		seen := map[string]bool{}
		for _, f := range found.Findings {
			hf := historyFinding{Rule: f.Rule, Source: f.Source, Path: (f.Path), Line: f.Line, Field: (f.Field),
				Status: f.Status, Secret: (f.Secret), Cause: f.Cause, Evidence: f.Evidence}
			if f.RemovedBy != nil {
				by := f.RemovedBy.Index
				hf.RemovedBy = &by
			}
			switch {
			case f.Source == "history" && f.HistoryIndex != nil:
				byStep[*f.HistoryIndex] = append(byStep[*f.HistoryIndex], hf)
			case f.Source == "file":
				byLayer[f.Layer.Index] = append(byLayer[f.Layer.Index], hf)
			default:
				doc.ConfigFindings = append(doc.ConfigFindings, hf)
			}
			if f.Cause != "" && !seen[f.Cause] {
				seen[f.Cause] = true
				doc.Causes = append(doc.Causes, historyCause{Cause: f.Cause, Remediation: f.Remediation})
			}
		}
	}
	for _, st := range steps {
		e := historyEntry{Index: st.Index, CreatedBy: (red(st.CreatedBy, st.BuildArgs)),
			Instruction: (red(st.Instruction, st.BuildArgs)), Comment: (red(st.Comment, nil)),
			EmptyLayer: st.EmptyLayer, InBase: doc.Base != nil && st.Index <= doc.Base.LastHistoryIndex}
		if !st.Created.IsZero() {
			t := st.Created.UTC()
			e.Created = &t
		}
		if st.Layer >= 0 {
			l := st.Layer
			e.Layer = &l
			size := img.Layers[l].Size
			if size < 0 && l < len(list.Layers) {
				size = list.Layers[l].Bytes
			}
			e.Size = &size
			if d := img.Layers[l].Digest; d.Hex != "" {
				e.Digest = d.String()
			} else if l < len(list.Layers) && list.Layers[l].Digest.Hex != "" {
				e.Digest = list.Layers[l].Digest.String()
			}
			if l < len(list.Layers) {
				e.Hidden = &historyCount{Files: list.Layers[l].HiddenFiles, Bytes: list.Layers[l].HiddenBytes}
			}
		}
		e.Findings = append(e.Findings, byStep[st.Index]...)
		if st.Layer >= 0 {
			e.Findings = append(e.Findings, byLayer[st.Layer]...)
		}
		doc.Entries = append(doc.Entries, e)
		for _, a := range st.BuildArgs {
			v := a.Value
			if !show {
				v = redactArg(v)
			}
			doc.BuildArgs = append(doc.BuildArgs, historyArg{HistoryIndex: st.Index, Name: (a.Name), Value: (v)})
		}
	}
	return doc, incomplete
}

func redactArg(v string) string {
	if v == "" {
		return ""
	}
	return redactValue(v)
}

// docBase is the JSON form of the base boundary, nil when unknown.
func docBase(b *history.Base) *historyBase {
	if b == nil {
		return nil
	}
	return &historyBase{Name: (b.Name), Digest: b.Digest, LastHistoryIndex: b.LastHistoryIndex, Layers: b.Layers, Source: b.Source}
}

func writeHistoryTable(out io.Writer, doc *historyDoc) {
	st := sanitize.Text
	head := st(doc.Image)
	if doc.Digest != "" {
		head += " @ " + forensicShortDigest(doc.Digest)
	}
	if doc.Platform != "" {
		head += " (" + doc.Platform + ")"
	}
	fmt.Fprintln(out, head)
	if b := doc.Base; b != nil {
		name := st(b.Name)
		if name == "" {
			name = "base image"
		}
		if b.Digest != "" {
			name += " @ " + forensicShortDigest(b.Digest)
		}
		switch {
		case b.LastHistoryIndex < 0:
			fmt.Fprintf(out, "Base: %s (from the manifest annotations; where it ends in the history is not known)\n", name)
		default:
			var how string
			switch b.Source {
			case history.BaseFromAnnotation:
				how = "from the manifest annotations and the history comment FROM " + st(b.Name)
			case history.BaseFromImage:
				how = "--base: its layer diff IDs are the first of this image's"
			case history.BaseFromComment:
				how = "heuristic: the history comment FROM " + st(b.Name)
			default:
				how = "heuristic: the next history entry was created more than an hour later"
			}
			fmt.Fprintf(out, "Base: %s: history 0-%d, layers 0-%d (%s)\n", name, b.LastHistoryIndex, b.Layers-1, how)
		}
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HIST\tLAYER\tSIZE\tCREATED\tINSTRUCTION")
	for _, e := range doc.Entries {
		layer, size, created := "-", "-", "-"
		if e.Layer != nil {
			layer = fmt.Sprintf("%d %s", *e.Layer, forensicShortDigest(e.Digest))
			size = forensicBytes(*e.Size)
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
			s := "s"
			if e.Hidden.Files == 1 {
				s = ""
			}
			fmt.Fprintf(tw, "\t\t\t\t└ %d file%s (%s) deleted or overwritten later: hidden but still in the image\n", e.Hidden.Files, s, forensicBytes(e.Hidden.Bytes))
		}
		for _, f := range e.Findings {
			fmt.Fprintf(tw, "\t\t\t\t└ secret %s\n", findingLine(f))
		}
		if doc.Base != nil && e.Index == doc.Base.LastHistoryIndex {
			fmt.Fprintf(tw, "\t\t\t\t─── end of the base image ───\n")
		}
	}
	tw.Flush()
	if len(doc.ConfigFindings) > 0 {
		fmt.Fprintln(out, "\nImage config:")
		for _, f := range doc.ConfigFindings {
			fmt.Fprintf(out, "  secret %s\n", findingLine(f))
		}
	}
	if len(doc.Causes) > 0 {
		fmt.Fprintln(out, "\nCauses:")
		for _, c := range doc.Causes {
			fmt.Fprintf(out, "  %s: %s\n", c.Cause, c.Remediation)
		}
	}
	if len(doc.BuildArgs) > 0 {
		fmt.Fprintln(out, "\nBuild args:")
		for _, a := range doc.BuildArgs {
			fmt.Fprintf(out, "  history %d: %s=%s\n", a.HistoryIndex, st(a.Name), st(a.Value))
		}
	}
	for _, w := range doc.Warnings {
		fmt.Fprintf(out, "warning: %s\n", st(w))
	}
}

// findingLine describes a finding on one line of the history listing:
// rule, where, fate, redacted secret and cause.
func findingLine(f historyFinding) string {
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
