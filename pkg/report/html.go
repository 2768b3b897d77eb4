package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"sort"
	"strings"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// The HTML report's page, style sheet and script, inlined into every
// report: the file makes no network request.
//
//go:embed html/report.html.tmpl html/report.css html/report.js
var htmlAssets embed.FS

var (
	htmlPage = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"short":   ShortDigest,
		"bytes":   HumanBytes,
		"cut":     func(n int, s string) string { return cut(s, n) },
		"plural":  plural,
		"join":    strings.Join,
		"shortid": ShortID,
		"place":   func(o Occurrence) string { return place(o, true) },
	}).ParseFS(htmlAssets, "html/report.html.tmpl"))
	htmlCSS = mustAsset("html/report.css")
	htmlJS  = mustAsset("html/report.js")
	// htmlCSP lets only the page's own script and style sheet run (by
	// hash) and forbids every fetch: a path or instruction that got past
	// the escaping still could not run or phone home.
	htmlCSP = "default-src 'none'; script-src '" + cspHash(htmlJS) + "'; style-src '" + cspHash(htmlCSS) +
		"'; img-src data:; base-uri 'none'; form-action 'none'"
)

func mustAsset(name string) string {
	b, err := htmlAssets.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(h[:])
}

// HTMLSharedLayers is how many shared layers the registry overview lists.
const HTMLSharedLayers = 25

type htmlView struct {
	Title    string
	Tool     Tool
	CSP      string
	CSS      template.CSS
	JS       template.JS
	Data     template.JS // the report as layerscan/v1 JSON
	Meta     template.JS // what the page computes from it: repositories
	Images   []htmlImage
	Totals   htmlCounts
	Findings int
	Overview *htmlOverview
	Causes   []string
	Repos    []string
	AnyNew   bool
	Open     bool // open every image section at once (few images)
	// Secrets is the secrets view (each lists at most HTMLPlaces places);
	// SecretTotals its counts.
	Secrets      []Secret
	SecretTotals Totals
	Verify       bool
}

// HTMLPlaces is how many places the page lists under one secret (the
// embedded JSON has them all).
const HTMLPlaces = 50

type htmlImage struct {
	N        int
	Ref      string
	Repo     string
	Platform string
	Digest   string
	Counts   htmlCounts
	Findings int
	Hidden   int // deleted or overwritten
	New      int
	Errors   int
	Summary  string
	Vendor   []string // one line per package whose findings are folded
}

// htmlCounts are findings by severity, in Severities order.
type htmlCounts [5]int

func (c *htmlCounts) add(sev string) {
	switch i := 4 - detect.SeverityRank(sev); {
	case i >= 0 && i < len(c):
		c[i]++
	}
}

// Cells pairs each severity with its count, for the template.
func (c htmlCounts) Cells() []htmlCell {
	out := make([]htmlCell, len(c))
	for i, n := range c {
		out[i] = htmlCell{Severity: detect.Severities[i], N: n}
	}
	return out
}

type htmlCell struct {
	Severity string
	N        int
}

type htmlOverview struct {
	Registry string // common to every image, stripped from the names
	Repos    []htmlRepo
	Shared   []htmlShared
	// SharedTotal counts the layers with findings that two or more
	// images share (Shared lists the first HTMLSharedLayers).
	SharedTotal int
	New         int
}

type htmlRepo struct {
	Name     string
	Images   []htmlImageLink
	Counts   htmlCounts
	Findings int
	New      int
}

type htmlImageLink struct {
	N     int
	Label string
	Count int
}

type htmlShared struct {
	Digest      string
	Instruction string
	Size        int64
	Images      int
	Findings    int // in this layer, over all images
	Worst       string
	First       htmlImageLink
	FirstLayer  int
	InBase      bool
}

// WriteHTML writes the report as one self-contained HTML page: per image
// the layer timeline with each finding on the layer that added it and a
// span to the layer that hid it; for several images a registry overview
// first (repositories by severity, the layers most images share that
// carry findings); filters; a print style sheet. The page embeds the
// report as JSON and builds an image's timeline when it is first opened,
// so that thousands of images stay fast. Everything from the image is
// escaped, and a Content-Security-Policy runs only the page's own script.
func WriteHTML(w io.Writer, r *Report) error {
	if r != nil {
		r = Sanitized(r)
	}
	v, err := htmlViewOf(r)
	if err != nil {
		return err
	}
	return htmlPage.Execute(w, v)
}

// jsonForScript marshals v for a <script type="application/json">:
// encoding/json escapes <, > and & (so "</script>" cannot end the element)
// and U+2028/U+2029.
func jsonForScript(v any) (template.JS, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return template.JS(bytes.TrimRight(sanitize.JSON(b.Bytes()), "\n")), nil
}

func htmlViewOf(r *Report) (*htmlView, error) {
	if r == nil {
		r = &Report{}
	}
	v := &htmlView{Title: "layerscan report", Tool: r.Tool, CSP: htmlCSP, CSS: template.CSS(htmlCSS), JS: template.JS(htmlJS)}
	// The data block is the layerscan/v1 report, with [] rather than null.
	images := r.Images
	if images == nil {
		images = []*Image{}
	}
	rr := *r
	rr.Images = images
	if rr.Schema == "" {
		rr.Schema = Schema
	}
	data, err := jsonForScript(&rr)
	if err != nil {
		return nil, err
	}
	v.Data = data
	v.Secrets = r.Secrets()
	v.SecretTotals, v.Verify = r.TotalsOf(v.Secrets), r.Verifying()
	for i := range v.Secrets {
		if s := &v.Secrets[i]; len(s.Occurrences) > HTMLPlaces {
			s.Occurrences = s.Occurrences[:HTMLPlaces]
		}
	}

	registry := commonRegistry(images)
	repoOf := make([]string, len(images))
	causes := map[string]bool{}
	for i, im := range images {
		repo := Repository(im.Ref)
		if registry != "" {
			repo = strings.TrimPrefix(repo, registry+"/")
		}
		repoOf[i] = repo
		hi := htmlImage{N: i, Ref: im.Ref, Repo: repo, Platform: im.Platform, Digest: im.Digest,
			Findings: len(im.Findings), Errors: len(im.Errors), Summary: summary(im)}
		for _, vp := range im.Vendor {
			hi.Vendor = append(hi.Vendor, VendorLine(vp))
		}
		for _, f := range im.Findings {
			hi.Counts.add(f.Severity)
			v.Totals.add(f.Severity)
			if f.Status == "deleted" || f.Status == "overwritten" {
				hi.Hidden++
			}
			if f.New {
				hi.New++
				v.AnyNew = true
			}
			if f.Cause != "" {
				causes[f.Cause] = true
			}
		}
		v.Findings += len(im.Findings)
		v.Images = append(v.Images, hi)
	}
	for c := range causes {
		v.Causes = append(v.Causes, c)
	}
	sort.Strings(v.Causes)
	v.Open = len(images) <= 3
	if len(images) == 1 {
		v.Title = "layerscan: " + images[0].Ref
	}
	if len(images) > 1 {
		v.Overview = overviewOf(images, v.Images, registry)
		for _, rp := range v.Overview.Repos {
			v.Repos = append(v.Repos, rp.Name)
		}
	}
	meta, err := jsonForScript(map[string]any{"repos": repoOf, "registry": registry})
	if err != nil {
		return nil, err
	}
	v.Meta = meta
	return v, nil
}

// Repository is the repository of an image reference, without transport,
// tag or digest: "registry.example.com/team/app:1.4" →
// "registry.example.com/team/app"; "oci-archive:app.oci.tar:latest" →
// "app.oci.tar"; "oci:DIR:NAME" → "DIR".
func Repository(ref string) string {
	s := ref
	if at := strings.LastIndex(s, "@"); at >= 0 {
		s = s[:at]
	}
	for _, tr := range []string{"docker://", "oci-archive:", "oci:", "docker-archive:", "docker-daemon:"} {
		if rest, ok := strings.CutPrefix(s, tr); ok {
			// A layout or archive path, then :NAME.
			if i := strings.LastIndex(rest, ":"); i > 0 && tr != "docker://" {
				rest = rest[:i]
			}
			s = rest
			if tr != "docker://" {
				return s
			}
			break
		}
	}
	slash := strings.LastIndex(s, "/")
	if i := strings.LastIndex(s, ":"); i > slash {
		s = s[:i]
	}
	return s
}

// commonRegistry is the registry host every image reference names, or "".
func commonRegistry(images []*Image) string {
	common := ""
	for i, im := range images {
		repo := Repository(im.Ref)
		host, _, ok := strings.Cut(repo, "/")
		if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
			return ""
		}
		if i == 0 {
			common = host
		} else if host != common {
			return ""
		}
	}
	if len(images) < 2 {
		return ""
	}
	return common
}

func overviewOf(images []*Image, his []htmlImage, registry string) *htmlOverview {
	ov := &htmlOverview{Registry: registry}
	byRepo := map[string]*htmlRepo{}
	platforms := map[string]map[string]bool{}
	for i, im := range images {
		if platforms[his[i].Repo] == nil {
			platforms[his[i].Repo] = map[string]bool{}
		}
		platforms[his[i].Repo][im.Platform] = true
	}
	for i, im := range images {
		hi := his[i]
		rp := byRepo[hi.Repo]
		if rp == nil {
			rp = &htmlRepo{Name: hi.Repo}
			byRepo[hi.Repo] = rp
		}
		label := strings.TrimPrefix(im.Ref, hi.Repo)
		if registry != "" {
			label = strings.TrimPrefix(strings.TrimPrefix(im.Ref, registry+"/"), hi.Repo)
		}
		label = strings.TrimLeft(label, ":")
		if label == "" || label == im.Ref {
			label = im.Ref
		}
		if im.Platform != "" && len(platforms[hi.Repo]) > 1 {
			label += " " + im.Platform
		}
		rp.Images = append(rp.Images, htmlImageLink{N: i, Label: label, Count: len(im.Findings)})
		for k := range hi.Counts {
			rp.Counts[k] += hi.Counts[k]
		}
		rp.Findings += hi.Findings
		rp.New += hi.New
		ov.New += hi.New
	}
	for _, rp := range byRepo {
		ov.Repos = append(ov.Repos, *rp)
	}
	sort.Slice(ov.Repos, func(i, j int) bool {
		a, b := ov.Repos[i], ov.Repos[j]
		if a.Counts != b.Counts {
			for k := range a.Counts {
				if a.Counts[k] != b.Counts[k] {
					return a.Counts[k] > b.Counts[k]
				}
			}
		}
		return a.Name < b.Name
	})

	// Layers by digest: the images that hold each, and the findings in it.
	type acc struct {
		htmlShared
		seen map[int]bool
	}
	layers := map[string]*acc{}
	var order []string
	for i, im := range images {
		for _, l := range im.Layers {
			if l.Digest == "" {
				continue
			}
			a := layers[l.Digest]
			if a == nil {
				a = &acc{htmlShared: htmlShared{Digest: l.Digest, Instruction: l.Instruction, Size: l.Size,
					First: htmlImageLink{N: i, Label: im.Ref}, FirstLayer: l.Index, InBase: im.Base != nil && l.Index < im.Base.Layers}, seen: map[int]bool{}}
				layers[l.Digest] = a
				order = append(order, l.Digest)
			}
			if !a.seen[i] {
				a.seen[i] = true
				a.Images++
			}
		}
		for _, f := range im.Findings {
			if f.Layer.Index < 0 || f.Layer.Index >= len(im.Layers) {
				continue
			}
			a := layers[im.Layers[f.Layer.Index].Digest]
			if a == nil {
				continue
			}
			a.Findings++
			if a.Worst == "" || detect.SeverityRank(f.Severity) > detect.SeverityRank(a.Worst) {
				a.Worst = f.Severity
			}
		}
	}
	for _, d := range order {
		a := layers[d]
		if a.Findings > 0 && a.Images > 1 {
			ov.Shared = append(ov.Shared, a.htmlShared)
		}
	}
	sort.SliceStable(ov.Shared, func(i, j int) bool {
		a, b := ov.Shared[i], ov.Shared[j]
		if a.Images != b.Images {
			return a.Images > b.Images
		}
		if detect.SeverityRank(a.Worst) != detect.SeverityRank(b.Worst) {
			return detect.SeverityRank(a.Worst) > detect.SeverityRank(b.Worst)
		}
		return a.Findings > b.Findings
	})
	ov.SharedTotal = len(ov.Shared)
	if len(ov.Shared) > HTMLSharedLayers {
		ov.Shared = ov.Shared[:HTMLSharedLayers]
	}
	return ov
}
