package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/layerscan/layerscan/internal/testenv"
)

// Page is one browser tab with what it has done so far.
type Page struct {
	Ctx context.Context

	mu       sync.Mutex
	requests []string
	dialogs  []string
	errors   []string
}

// Start starts chromium (a fresh profile in a temporary directory, no
// background networking) and opens a blank tab. Everything is torn down
// when the test ends.
func Start(t *testing.T, timeout time.Duration) *Page {
	t.Helper()
	exe := testenv.RequireTool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1400, 1000),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	p := &Page{Ctx: bctx}
	err := chromedp.Listen(bctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, e.Request.URL)
		case *page.EventJavascriptDialogOpening:
			p.dialogs = append(p.dialogs, string(e.Type)+": "+e.Message)
			go chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *runtime.EventExceptionThrown:
			msg := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			p.errors = append(p.errors, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" || e.Type == "warning" {
				p.errors = append(p.errors, fmt.Sprintf("console.%s: %d args", e.Type, len(e.Args)))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				p.errors = append(p.errors, "log: "+e.Entry.Text)
			}
		}
	})
	if err == nil {
		_, err = chromedp.Call(bctx, network.Enable, network.EnableParams{})
	}
	if err == nil {
		_, err = chromedp.Call(bctx, runtime.Enable, cdp.Empty{})
	}
	if err == nil {
		_, err = chromedp.Call(bctx, log.Enable, cdp.Empty{})
	}
	if err == nil {
		_, err = chromedp.Call(bctx, page.Enable, page.EnableParams{})
	}
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return p
}

// Requests are the URLs the page has requested, the page itself included.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Dialogs are the JavaScript dialogs the page opened (alert, confirm, …).
func (p *Page) Dialogs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dialogs...)
}

// Errors are the page's uncaught exceptions, console errors and warnings,
// and error log entries (a Content-Security-Policy violation is one).
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// Do runs chromedp actions in the page, failing the test on error.
func (p *Page) Do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(p.Ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Eval evaluates a JavaScript expression in p and decodes its value.
func Eval[T any](t *testing.T, p *Page, expr string) T {
	t.Helper()
	v, err := chromedp.Run(p.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// Screenshot returns a PNG of the whole page.
func (p *Page) Screenshot(t *testing.T) []byte {
	t.Helper()
	b, err := chromedp.Run(p.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return b
}

// Eval evaluates a JavaScript expression in p and decodes its JSON value
// into out.
func (p *Page) Eval(t *testing.T, expr string, out any) {
	t.Helper()
	raw := Eval[[]byte](t, p, expr)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decoding the value of %s: %v (%.200s)", expr, err, raw)
	}
}
