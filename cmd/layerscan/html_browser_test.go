package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/layerscan/layerscan/internal/browsertest"
	"github.com/layerscan/layerscan/internal/testimage"
	"github.com/layerscan/layerscan/pkg/report"
)

// shownFinding is a finding card as the page shows it.
type shownFinding struct {
	Image    int               `json:"image"`
	Rule     string            `json:"rule"`
	Severity string            `json:"severity"`
	Where    string            `json:"where"`
	Line     string            `json:"line"`
	Fields   map[string]string `json:"fields"`
}

// collectFindings opens every image section and reads the finding cards
// that are shown (not filtered out).
const collectFindings = `(() => {
  document.querySelectorAll("details.image").forEach(d => { if (!d.hidden) d.open = true; });
  const out = [];
  document.querySelectorAll("details.image:not([hidden]) li.finding").forEach(li => {
    if (li.classList.contains("filtered") || li.offsetParent === null) return;
    const fields = {};
    const dts = li.querySelectorAll("dl.fd > dt");
    dts.forEach(dt => { const dd = dt.nextElementSibling; fields[dt.textContent] = (dd.querySelector("code") || dd).textContent; });
    out.push({image: +li.closest("details.image").dataset.i, rule: li.querySelector(".rule").textContent,
      severity: li.querySelector(".fh .sev").textContent, where: li.querySelector(".where").textContent,
      line: (li.querySelector(".fh .line") || {textContent: ""}).textContent, fields});
  });
  return out;
})()`

// where is the card's WHERE of f.
func where(f report.Finding) string {
	switch f.Source {
	case "config":
		return "config " + f.Field
	case "history":
		if f.HistoryIndex != nil {
			return fmt.Sprintf("history[%d]", *f.HistoryIndex)
		}
		return "history[?]"
	}
	return report.Location(f)
}

func checkShownFindings(t *testing.T, got []shownFinding, rep *report.Report, keep func(report.Finding) bool) {
	t.Helper()
	var want []report.Finding
	var wantImage []int
	for i, im := range rep.Images {
		for _, f := range im.Findings {
			if keep(f) {
				want = append(want, f)
				wantImage = append(wantImage, i)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("page shows %d findings, the JSON report has %d", len(got), len(want))
	}
	for k, f := range want {
		g := got[k]
		layer := "image config"
		if f.Layer.Index >= 0 {
			layer = fmt.Sprintf("layer %d · %s", f.Layer.Index, f.Layer.Instruction)
		}
		status := f.Status
		if f.RemovedBy != nil {
			status += fmt.Sprintf(" by layer %d · %s", f.RemovedBy.Index, f.RemovedBy.Instruction)
		}
		line := ""
		if f.Line > 0 {
			line = fmt.Sprintf("line %d", f.Line)
		}
		for _, c := range []struct{ what, got, want string }{
			{"image", fmt.Sprint(g.Image), fmt.Sprint(wantImage[k])},
			{"rule", g.Rule, f.Rule},
			{"severity", g.Severity, f.Severity},
			{"where", g.Where, where(f)},
			{"line", g.Line, line},
			{"added by", g.Fields["added by"], layer},
			{"status", g.Fields["status"], status},
			{"cause", g.Fields["cause"], f.Cause},
			{"remediation", g.Fields["remediation"], f.Remediation},
			{"evidence", g.Fields["evidence"], rep.Images[wantImage[k]].Evidence(f)},
			{"secret", g.Fields["secret"], f.Secret},
			{"fingerprint", g.Fields["fingerprint"], f.Fingerprint},
		} {
			if c.got != c.want {
				t.Errorf("finding %d (%s %s): %s shown %q, JSON %q", k, f.Rule, f.Path, c.what, c.got, c.want)
			}
		}
	}
}

// artifactDir is where browser tests leave their screenshots:
// .cache/html-report at the top of the repository.
func artifactDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(repoRoot(t), ".cache", "html-report")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func screenshot(t *testing.T, p *browsertest.Page, name string) {
	t.Helper()
	png := p.Screenshot(t)
	path := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func openReport(t *testing.T, p *browsertest.Page, path string) {
	t.Helper()
	start := time.Now()
	p.Do(t, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS(`html[data-ready="1"] #filters`)))
	initMS := browsertest.Eval[string](t, p, `document.documentElement.dataset.initMs`)
	t.Logf("%s interactive after %s (script %s ms)", filepath.Base(path), time.Since(start).Round(time.Millisecond), initMS)
}

// TestHTMLReportInBrowser scans the lifecycle fixture into HTML and JSON
// in one run and checks the page in headless chromium.
func TestHTMLReportInBrowser(t *testing.T) {
	p := browsertest.Start(t, 2*time.Minute)
	dir := t.TempDir()
	html, js := filepath.Join(dir, "lifecycle.html"), filepath.Join(dir, "lifecycle.json")
	if res := runCLI(t, nil, "--format", "html="+html, "--format", "json="+js, "--exit-code", "0", lifecycleRef); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var rep report.Report
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Images) != 1 || len(rep.Images[0].Findings) < 4 {
		t.Fatalf("fixture report: %d images", len(rep.Images))
	}
	openReport(t, p, html)

	t.Run("findings equal the JSON", func(t *testing.T) {
		got := browsertest.Eval[[]shownFinding](t, p, collectFindings)
		checkShownFindings(t, got, &rep, func(report.Finding) bool { return true })
	})

	t.Run("deleted finding spans to the removing layer", func(t *testing.T) {
		n := 0
		for k, f := range rep.Images[0].Findings {
			if f.RemovedBy == nil {
				continue
			}
			n++
			var geo struct {
				Found                                bool
				SpanTop, SpanBottom                  float64
				FromTop, FromBottom, ToTop, ToBottom float64
				From, To                             string
			}
			p.Eval(t, fmt.Sprintf(`(() => {
  const s = document.querySelector('#img-0 .span[data-f="%d"]');
  if (!s) return {Found: false};
  const r = s.getBoundingClientRect();
  const a = document.getElementById("img-0-l-" + s.dataset.from).getBoundingClientRect();
  const b = document.getElementById("img-0-l-" + s.dataset.to).getBoundingClientRect();
  return {Found: true, SpanTop: r.top, SpanBottom: r.bottom, FromTop: a.top, FromBottom: a.bottom, ToTop: b.top, ToBottom: b.bottom,
    From: s.dataset.from, To: s.dataset.to};
})()`, k), &geo)
			if !geo.Found {
				t.Errorf("%s %s: no span drawn", f.Rule, f.Path)
				continue
			}
			if geo.From != fmt.Sprint(f.Layer.Index) || geo.To != fmt.Sprint(f.RemovedBy.Index) {
				t.Errorf("%s %s: span from layer %s to %s, want %d to %d", f.Rule, f.Path, geo.From, geo.To, f.Layer.Index, f.RemovedBy.Index)
			}
			// The bar starts on the adding layer's row and ends on the
			// removing layer's row.
			if abs(geo.SpanTop-geo.FromTop) > 2 || abs(geo.SpanBottom-geo.ToBottom) > 2 || geo.ToTop <= geo.FromTop {
				t.Errorf("%s %s: span %.0f–%.0f px, layer %s row %.0f–%.0f, layer %s row %.0f–%.0f",
					f.Rule, f.Path, geo.SpanTop, geo.SpanBottom, geo.From, geo.FromTop, geo.FromBottom, geo.To, geo.ToTop, geo.ToBottom)
			}
		}
		if n == 0 {
			t.Fatal("the fixture has no deleted or overwritten finding")
		}
	})

	t.Run("no plaintext secret in the DOM", func(t *testing.T) {
		var dom string
		p.Eval(t, `document.documentElement.outerHTML + "\n" + document.body.innerText`, &dom)
		for _, s := range []string{testimage.SecretAWS, testimage.SecretGitHub, testimage.SecretGitLab, testimage.SecretStripe, testimage.SecretSlack, testimage.SecretNPM} {
			if strings.Contains(dom, s) {
				t.Errorf("secret %.8s… in the page without --show-secrets", s)
			}
		}
		if !strings.Contains(dom, "ghp_****") {
			t.Error("the redacted secret is not shown")
		}
	})

	t.Run("filters", func(t *testing.T) {
		var got []shownFinding
		p.Do(t, chromedp.Click(chromedp.CSS(`input[name=status][value=present]`)))
		got = browsertest.Eval[[]shownFinding](t, p, collectFindings)
		checkShownFindings(t, got, &rep, func(f report.Finding) bool { return f.Status != "present" })

		p.Do(t, chromedp.SetValue(chromedp.CSS(`select[name=cause]`), "overwritten-in-later-layer"),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("select[name=cause]").dispatchEvent(new Event("change", {bubbles: true}))`))
		got = browsertest.Eval[[]shownFinding](t, p, collectFindings)
		checkShownFindings(t, got, &rep, func(f report.Finding) bool {
			return f.Status != "present" && f.Cause == "overwritten-in-later-layer"
		})
		var spans int
		p.Eval(t, `[...document.querySelectorAll("#img-0 .span")].filter(s => s.offsetParent !== null).length`, &spans)
		if spans != 1 {
			t.Errorf("%d spans shown, want the overwritten file's only", spans)
		}

		p.Do(t, chromedp.Click(chromedp.CSS(`button[data-act=reset]`)))
		p.Do(t, chromedp.Click(chromedp.CSS(`input[name=severity][value=high]`)))
		got = browsertest.Eval[[]shownFinding](t, p, collectFindings)
		checkShownFindings(t, got, &rep, func(f report.Finding) bool { return f.Severity != "high" })
		var none bool
		p.Eval(t, `!document.getElementById("none").hidden && document.querySelector("details.image").hidden`, &none)
		if !none {
			t.Error("with every finding filtered out the image is still shown")
		}
		p.Do(t, chromedp.Click(chromedp.CSS(`button[data-act=reset]`)))
		got = browsertest.Eval[[]shownFinding](t, p, collectFindings)
		checkShownFindings(t, got, &rep, func(report.Finding) bool { return true })
	})

	t.Run("screenshot", func(t *testing.T) {
		screenshot(t, p, "lifecycle.png")
	})

	t.Run("print style sheet", func(t *testing.T) {
		if _, err := chromedp.Call(p.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
			t.Fatal(err)
		}
		var st struct{ Filters, Timeline string }
		p.Eval(t, `({Filters: getComputedStyle(document.getElementById("filters")).display,
		  Timeline: getComputedStyle(document.querySelector("#img-0 .tl")).display})`, &st)
		if st.Filters != "none" || st.Timeline != "grid" {
			t.Errorf("printed: filters %q, timeline %q", st.Filters, st.Timeline)
		}
		screenshot(t, p, "lifecycle-print.png")
		chromedp.Call(p.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
	})

	t.Run("no network request, no error", func(t *testing.T) {
		for _, u := range p.Requests() {
			if u != "file://"+html {
				t.Errorf("request to %s", u)
			}
		}
		if d := p.Dialogs(); len(d) > 0 {
			t.Errorf("dialogs: %v", d)
		}
		if e := p.Errors(); len(e) > 0 {
			t.Errorf("page errors: %v", e)
		}
	})
}

// TestHTMLShowSecrets checks that the secret check above can fail: with
// --show-secrets the page holds the secrets.
func TestHTMLShowSecrets(t *testing.T) {
	p := browsertest.Start(t, time.Minute)
	html := filepath.Join(t.TempDir(), "shown.html")
	if res := runCLI(t, nil, "--format", "html="+html, "--show-secrets", "--exit-code", "0", lifecycleRef); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if fi, err := os.Stat(html); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--show-secrets HTML: %v, mode %v (want 0600)", err, fi.Mode().Perm())
	}
	openReport(t, p, html)
	var text string
	p.Eval(t, `(() => { document.querySelectorAll("details.image").forEach(d => d.open = true); return document.body.innerText; })()`, &text)
	if !strings.Contains(text, testimage.SecretGitHub) {
		t.Error("with --show-secrets the GitHub token is not shown")
	}
}

// TestHTMLOverviewInBrowser scans several fixtures into one report: the
// registry overview comes first and its rows lead to the images.
func TestHTMLOverviewInBrowser(t *testing.T) {
	p := browsertest.Start(t, 2*time.Minute)
	root := repoRoot(t)
	html := filepath.Join(t.TempDir(), "several.html")
	args := []string{"--format", "html=" + html, "--exit-code", "0", "--platform", "all"}
	for _, img := range []string{"lifecycle.oci.tar", "lifecycle.docker.tar", "hardlink-survives.docker.tar", "multiarch.oci.tar"} {
		args = append(args, filepath.Join(root, "testdata", "images", img))
	}
	if res := runCLI(t, nil, args...); res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	openReport(t, p, html)
	var rows, images int
	p.Eval(t, `document.querySelectorAll("#overview table.repos tbody tr").length`, &rows)
	p.Eval(t, `document.querySelectorAll("details.image").length`, &images)
	if rows < 2 || images < 4 {
		t.Fatalf("%d repository rows, %d images", rows, images)
	}
	screenshot(t, p, "overview.png")
	// A repository row's image link opens that image's timeline.
	p.Do(t, chromedp.Click(chromedp.CSS(`#overview table.repos tbody tr:first-child a.tag`)))
	if !waitTrue(t, p, `(() => { const d = document.querySelector(location.hash); return !!d && d.open && !!d.querySelector(".tl"); })()`) {
		t.Error("the overview link did not open the image's timeline")
	}
	// "show N images" of a shared layer keeps only the images with it.
	if n := len(rep(t, p)); n > 0 {
		// (From the top: the sticky filter bar covers what it scrolled over.)
		p.Do(t, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`), chromedp.Click(chromedp.CSS(`#overview table.shared button[data-layer-filter]`)))
		var pill string
		p.Eval(t, `document.getElementById("layer-filter").textContent`, &pill)
		if !strings.Contains(pill, "images with layer") {
			t.Errorf("layer filter pill %q", pill)
		}
		var shown int
		p.Eval(t, `document.querySelectorAll("details.image:not([hidden])").length`, &shown)
		var want int
		p.Eval(t, `+document.querySelector("#overview table.shared tbody tr td.num").textContent`, &want)
		if shown != want {
			t.Errorf("the shared layer filter shows %d images, the layer is in %d", shown, want)
		}
	}
	for _, u := range p.Requests() {
		if u != "file://"+html {
			t.Errorf("request to %s", u)
		}
	}
	if e := p.Errors(); len(e) > 0 {
		t.Errorf("page errors: %v", e)
	}
}

// rep lists the shared layers of the overview.
func rep(t *testing.T, p *browsertest.Page) []string {
	var ds []string
	p.Eval(t, `[...document.querySelectorAll("#overview table.shared tbody tr")].map(r => r.dataset.layer)`, &ds)
	return ds
}

// waitTrue evaluates expr until it is true, for up to two seconds.
func waitTrue(t *testing.T, p *browsertest.Page, expr string) bool {
	t.Helper()
	for range 40 {
		var ok bool
		p.Eval(t, expr, &ok)
		if ok {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
