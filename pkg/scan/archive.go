package scan

import (
	"strings"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/walk"
)

// memberPath names content inside nested archives for the detector's
// path rules and the fingerprint: "/app/app.jar!/lib/inner.jar!/a.properties".
func memberPath(path string, chain []string) string {
	if len(chain) == 0 {
		return path
	}
	return path + "!/" + strings.Join(chain, "!/")
}

// addIn records findings in a file of a layer or, with a chain, in a
// member of archives nested in it.
func (c *collector) addIn(layer, entry int, path string, chain []string, fs []detect.Hit) {
	if len(fs) == 0 {
		return
	}
	c.mu.Lock()
	for _, f := range fs {
		c.findings = append(c.findings, raw{layer: layer, entry: entry, path: path, chain: chain, f: f})
	}
	c.mu.Unlock()
}

// fileWarnings turns the walk's warnings about single files into report
// problems: the path is the file's in the layer, the message names the
// archive members it is about.
func fileWarnings(layer int, ws []walk.FileWarning) []report.Problem {
	out := make([]report.Problem, 0, len(ws))
	for _, w := range ws {
		l := layer
		msg := w.Message
		if len(w.ArchivePath) > 0 {
			msg = "in archive member " + strings.Join(w.ArchivePath, "!/") + ": " + msg
		}
		out = append(out, report.Problem{Layer: &l, Path: w.Path, Message: msg})
	}
	return out
}
