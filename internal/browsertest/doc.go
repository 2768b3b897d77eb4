// Package browsertest runs Debian's headless chromium for tests, driven by
// chromedp, and records what a page does: the network requests it makes,
// the JavaScript dialogs it opens (an alert() means injected script ran),
// its uncaught exceptions and console errors.
//
// Tests skip when chromium is not installed, unless
// LAYERSCAN_REQUIRE_TOOLS=1 (make test installs it).
package browsertest
