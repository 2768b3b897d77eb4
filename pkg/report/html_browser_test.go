package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/layerscan/layerscan/internal/browsertest"
)

// openHTML writes r as HTML and opens it in chromium from a file:// URL.
func openHTML(t *testing.T, r *Report) (*browsertest.Page, string) {
	t.Helper()
	p := browsertest.Start(t, 3*time.Minute)
	path := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(path, writeHTML(t, r), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.Do(t, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS(`html[data-ready="1"] #filters`)))
	var initMS string
	p.Eval(t, `document.documentElement.dataset.initMs`, &initMS)
	t.Logf("%d images: interactive after %s (script %s ms)", len(r.Images), time.Since(start).Round(time.Millisecond), initMS)
	return p, "file://" + path
}

func checkQuiet(t *testing.T, p *browsertest.Page, url string) {
	t.Helper()
	for _, u := range p.Requests() {
		if u != url {
			t.Errorf("request to %s", u)
		}
	}
	if d := p.Dialogs(); len(d) > 0 {
		t.Errorf("dialogs opened (injected script ran): %v", d)
	}
	if e := p.Errors(); len(e) > 0 {
		t.Errorf("page errors: %v", e)
	}
}

// TestHTMLHostileInBrowser: markup planted in paths, instructions and
// every other image-controlled string shows as text and runs nothing.
func TestHTMLHostileInBrowser(t *testing.T) {
	p, url := openHTML(t, hostileReport())
	p.Do(t, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.image").forEach(d => d.open = true)`))
	var res struct {
		Scripts, Images, Timelines int
		Text                       string
	}
	p.Eval(t, `({Scripts: document.scripts.length, Images: document.images.length,
	  Timelines: document.querySelectorAll(".tl").length, Text: document.body.innerText})`, &res)
	if res.Scripts != 3 || res.Images != 0 {
		t.Errorf("%d script and %d img elements: markup from the report became elements", res.Scripts, res.Images)
	}
	if res.Timelines != 2 {
		t.Errorf("%d timelines built", res.Timelines)
	}
	for _, want := range []string{"/app/" + hostile, "COPY " + hostile + " /app/", "RUN rm " + hostile} {
		if !strings.Contains(res.Text, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	// The filters handle the strings too.
	p.Do(t, chromedp.SendKeys(chromedp.CSS(`input[name=q]`), "</script>"))
	time.Sleep(300 * time.Millisecond)
	checkQuiet(t, p, url)
}

// TestHTMLLargeInBrowser opens a 2,000-image sweep report: the page must
// become interactive, filter, and build an image's timeline on demand.
// Times are logged, not asserted.
func TestHTMLLargeInBrowser(t *testing.T) {
	r := sweepReport(2000)
	p, url := openHTML(t, r)
	var built int
	p.Eval(t, `document.querySelectorAll(".tl").length`, &built)
	if built != 0 {
		t.Errorf("%d timelines built before any image was opened", built)
	}

	// Filter: critical only keeps the images on the first base.
	start := time.Now()
	for _, sev := range []string{"high", "medium", "low", "info"} {
		p.Do(t, chromedp.Click(chromedp.CSS(`input[name=severity][value=`+sev+`]`)))
	}
	var shown int
	p.Eval(t, `document.querySelectorAll("details.image:not([hidden])").length`, &shown)
	t.Logf("4 severity filter clicks over 2,000 images: %s", time.Since(start).Round(time.Millisecond))
	if shown != 400 {
		t.Errorf("%d images with critical findings shown, want 400", shown)
	}

	// The shared layer's "show images" and an image link from the overview.
	p.Do(t, chromedp.Click(chromedp.CSS(`button[data-act=reset]`)))
	start = time.Now()
	p.Do(t, chromedp.Click(chromedp.CSS(`#overview table.shared button[data-layer-filter]`)))
	p.Eval(t, `document.querySelectorAll("details.image:not([hidden])").length`, &shown)
	if shown != 400 {
		t.Errorf("the most shared layer filter shows %d images, want 400", shown)
	}
	p.Do(t, chromedp.Click(chromedp.CSS(`button[data-act=reset]`)),
		chromedp.Evaluate[chromedp.Void](`location.hash = "img-1995-f-0"`))
	var ok bool
	for range 40 {
		p.Eval(t, `(() => { const d = document.getElementById("img-1995"); return d.open && !!d.querySelector(".tl") && !!document.getElementById("img-1995-f-0"); })()`, &ok)
		if ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("shared-layer filter, then opening image 1995 by its link: %s", time.Since(start).Round(time.Millisecond))
	if !ok {
		t.Error("#img-1995-f-0 did not open image 1995's timeline")
	}
	p.Eval(t, `document.querySelectorAll(".tl").length`, &built)
	if built != 1 {
		t.Errorf("%d timelines built, want only the opened image's", built)
	}

	// Open the first 50 shown images at once.
	start = time.Now()
	p.Do(t, chromedp.Click(chromedp.CSS(`button[data-act=expand]`)))
	p.Eval(t, `document.querySelectorAll(".tl").length`, &built)
	t.Logf("opening 50 images: %s", time.Since(start).Round(time.Millisecond))
	if built != 51 {
		t.Errorf("%d timelines built after opening 50 more", built)
	}
	for name, scroll := range map[string]string{
		"sweep-2000.png":       `window.scrollTo(0, 0)`,
		"sweep-2000-image.png": `document.getElementById("img-0").scrollIntoView()`,
	} {
		p.Do(t, chromedp.Evaluate[chromedp.Void](scroll))
		shot, err := chromedp.Run(p.Ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if dir := artifacts(t); dir != "" {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", path)
		}
	}
	checkQuiet(t, p, url)
}

// artifacts is .cache/html-report at the top of the repository.
func artifacts(t *testing.T) string {
	d := filepath.Join("..", "..", ".cache", "html-report")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Log(err)
		return ""
	}
	abs, _ := filepath.Abs(d)
	return abs
}
