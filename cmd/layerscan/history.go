package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/evidence"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
)

// HistorySchema names the shape of layerscan history --format json
// (docs/history-json.md).
const HistorySchema = "layerscan-history/v1"

// Manifest annotations naming the base image (OCI image spec).
const (
	annotationBaseName   = "org.opencontainers.image.base.name"
	annotationBaseDigest = "org.opencontainers.image.base.digest"
)

type historyDoc struct {
	Schema    string         `json:"schema"`
	Image     string         `json:"image"`
	Digest    string         `json:"digest,omitempty"`
	Platform  string         `json:"platform,omitempty"`
	Base      *historyBase   `json:"base"`
	Entries   []historyEntry `json:"entries"`
	BuildArgs []historyArg   `json:"build_args"`
	Warnings  []string       `json:"warnings"`
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
	return &cobra.Command{
		Use:   "history IMAGE [--format table|json]",
		Short: "Show how the image was built: its history as a Dockerfile-like listing",
		Long: `history rebuilds IMAGE's build from its config history: one line per history
entry with its index, the layer it made (short digest, or - for an
empty_layer entry such as ENV or CMD), the layer's stored size, the created
time and the readable instruction. Under each layer: how many of its files,
and how many bytes, a later layer deleted or overwrote — hidden from the
final filesystem but still in the image (see layerscan ls --deleted and
layerscan extract). Build arguments recorded by RUN steps are listed
apart. Secrets in the history and build-argument values are redacted (first
characters then ****) unless --show-secrets.

The base image boundary comes from the manifest annotations
org.opencontainers.image.base.name/.digest when present, the base ending
before the first history entry commented "FROM <base.name>" (as buildah
writes). Otherwise it is a heuristic: the base ends at the last history
entry before the first one created more than an hour after the entry
before it. When neither applies the boundary is not shown.

--format json writes the layerscan-history/v1 document described in
docs/history-json.md.

Exit status: 0 shown, 2 usage error or the image could not be fetched, 3 a
layer could not be read to its end (its hidden counts are incomplete).`,
		Example: `  layerscan history oci-archive:./app.oci.tar
  layerscan history registry.example.com/app:1.4 --format json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("history needs one IMAGE (see layerscan history --help)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runHistory(cmd, opts, args[0]) },
	}
}

func runHistory(cmd *cobra.Command, opts *scanOptions, ref string) error {
	if opts.format != "table" && opts.format != "json" {
		return usageErr("unknown --format %q: use table or json", opts.format)
	}
	src, img, err := openForensicImage(cmd, opts, ref)
	if err != nil {
		return err
	}
	defer src.Close()
	red, err := historyRedactor(opts, opts.showSecrets)
	if err != nil {
		return err
	}
	list, err := evidence.List(cmd.Context(), img.Layers, evidence.Options{Jobs: opts.jobs})
	if err != nil {
		return usageErr("reading %s: %v", ref, oneLine(err.Error()))
	}
	doc, incomplete := buildHistory(img, list, red, opts.showSecrets)

	bw := bufio.NewWriter(cmd.OutOrStdout())
	if opts.format == "json" {
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		err = enc.Encode(doc)
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

func buildHistory(img *fetch.Image, list *evidence.Listing, red func(string, []history.Arg) string, show bool) (*historyDoc, bool) {
	steps, _, warnings := history.Map(img.Config, len(img.Layers))
	doc := &historyDoc{Schema: HistorySchema, Image: img.Ref, Platform: img.Platform,
		Entries: []historyEntry{}, BuildArgs: []historyArg{}, Warnings: warnings}
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
	doc.Base = findBase(img, steps)
	for _, st := range steps {
		e := historyEntry{Index: st.Index, CreatedBy: printable(red(st.CreatedBy, st.BuildArgs)),
			Instruction: printable(red(st.Instruction, st.BuildArgs)), Comment: printable(red(st.Comment, nil)),
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
		doc.Entries = append(doc.Entries, e)
		for _, a := range st.BuildArgs {
			v := a.Value
			if !show {
				v = redactArg(v)
			}
			doc.BuildArgs = append(doc.BuildArgs, historyArg{HistoryIndex: st.Index, Name: printable(a.Name), Value: printable(v)})
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

// findBase locates the base image's last history entry: see the history
// command's help.
func findBase(img *fetch.Image, steps []history.Step) *historyBase {
	b := &historyBase{LastHistoryIndex: -1, Name: img.Annotations[annotationBaseName], Digest: img.Annotations[annotationBaseDigest]}
	if b.Name != "" {
		for _, st := range steps {
			if st.Comment == "FROM "+b.Name {
				b.LastHistoryIndex, b.Source = st.Index-1, "annotation"
				break
			}
		}
	}
	if b.LastHistoryIndex < 0 {
		for i := 1; i < len(steps); i++ {
			prev, cur := steps[i-1].Created, steps[i].Created
			if prev.IsZero() || cur.IsZero() {
				continue
			}
			if d := cur.Sub(prev); d > time.Hour || d < -time.Hour {
				b.LastHistoryIndex, b.Source = i-1, "created-time-gap"
				break
			}
		}
	}
	if b.LastHistoryIndex < 0 {
		if b.Name == "" && b.Digest == "" {
			return nil
		}
		b.Source = "annotation"
		return b
	}
	for _, st := range steps[:b.LastHistoryIndex+1] {
		if st.Layer >= 0 {
			b.Layers++
		}
	}
	return b
}

func writeHistoryTable(out io.Writer, doc *historyDoc) {
	head := doc.Image
	if doc.Digest != "" {
		head += " @ " + forensicShortDigest(doc.Digest)
	}
	if doc.Platform != "" {
		head += " (" + doc.Platform + ")"
	}
	fmt.Fprintln(out, head)
	if b := doc.Base; b != nil {
		name := b.Name
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
			how := "from the manifest annotations and the history comment FROM " + b.Name
			if b.Source != "annotation" {
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
		instr := e.Instruction
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
		if doc.Base != nil && e.Index == doc.Base.LastHistoryIndex {
			fmt.Fprintf(tw, "\t\t\t\t─── end of the base image ───\n")
		}
	}
	tw.Flush()
	if len(doc.BuildArgs) > 0 {
		fmt.Fprintln(out, "\nBuild args:")
		for _, a := range doc.BuildArgs {
			fmt.Fprintf(out, "  history %d: %s=%s\n", a.HistoryIndex, a.Name, a.Value)
		}
	}
	for _, w := range doc.Warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
}
