package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
)

// externalImage returns the path of an image made by Docker or BuildKit,
// kept in ../shared/external-images (see its README).
func externalImage(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(testenv.ExternalImagesDir(t), name)
}

// TestExternalImages scans the images made by other builders: every layer
// is read, and only the planted secrets are reported.
func TestExternalImages(t *testing.T) {
	tests := []struct {
		name   string
		ref    string
		layers int
		// want lists source|location of every finding.
		want []string
	}{
		{name: "dive-test-docker-image.tar", layers: 14},
		{name: "dockle-symbolic.tar", layers: 9},
		{name: "ggcr-hello-world-v25.tar", layers: 1},
		{name: "snyk-node-removed-oci-archive.tar", ref: "oci-archive:", layers: 3},
		{name: "snyk-npm7-with-package-lock-file.tar", layers: 4},
		{name: "ggshield-docker-example.tar", layers: 3, want: []string{
			"config|Env SOME_SECRET", "config|Env WHATEVER_TOKEN", "history|0", "history|4",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := scanJSON(t, nil, tt.ref+externalImage(t, tt.name))
			im := rep.Images[0]
			if len(im.Errors) > 0 || im.Stats.LayersScanned != tt.layers || len(im.Layers) != tt.layers {
				t.Errorf("errors %+v, scanned %d of %d layers, want %d", im.Errors, im.Stats.LayersScanned, len(im.Layers), tt.layers)
			}
			var got []string
			for _, f := range im.Findings {
				loc := f.Path
				switch f.Source {
				case "config":
					loc = f.Field
				case "history":
					loc = "-"
					if f.HistoryIndex != nil {
						loc = strconv.Itoa(*f.HistoryIndex)
					}
				}
				got = append(got, f.Source+"|"+loc)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("findings %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHistorySecretsRedacted: the ENV values that Docker recorded in the
// history are secrets; created_by in the report must not show them.
func TestHistorySecretsRedacted(t *testing.T) {
	img := externalImage(t, "ggshield-docker-example.tar")
	plain := []string{"XYhc1F-yUShhDfL4mp5LK_GIHAE9nY1tJKoUvNPeNLcT5yU67Vu-ckiBhgwIr_OtdPPCGPq", "Shiy5oh58Zl5zMdFOocAtpu81xsIW"}
	for _, format := range []string{"json", "table"} {
		res := runCLI(t, nil, "--format", format, img)
		for _, p := range plain {
			if strings.Contains(res.stdout+res.stderr, p) {
				t.Errorf("%s output shows the secret %s…", format, p[:6])
			}
		}
	}
	res := runCLI(t, nil, "--format", "json", "--show-secrets", img)
	if !strings.Contains(res.stdout, plain[0]) {
		t.Error("--show-secrets must show the secret")
	}
}
