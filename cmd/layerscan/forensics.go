package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/redact"
)

// openForensicImage opens ref with the root's fetch flags (--platform, --username,
// --password-stdin, --insecure) and returns its one image. The forensic
// commands read a single image: with several (--platform all on an index)
// the user is asked to pick one.
func openForensicImage(cmd *cobra.Command, o *scanOptions, ref string) (*fetch.Source, *fetch.Image, error) {
	fopts, err := o.fetchOptions(cmd)
	if err != nil {
		return nil, nil, err
	}
	src, err := fetch.Open(cmd.Context(), ref, fopts...)
	if err != nil {
		return nil, nil, &exitError{code: exitError2, msg: describeFetchError(ref, err)}
	}
	if len(src.Images) != 1 {
		var plats []string
		for _, im := range src.Images {
			plats = append(plats, im.Platform)
		}
		src.Close()
		return nil, nil, usageErr("%s has %d platform images (%s): %s reads one, pick it with --platform os/arch",
			ref, len(plats), strings.Join(plats, ", "), cmd.Name())
	}
	img := src.Images[0]
	if img.Ref == "" {
		img.Ref = ref
	}
	return src, img, nil
}

// checkLayerIndex says when n is not a layer index of img.
func checkLayerIndex(img *fetch.Image, ref string, n int) error {
	if n < 0 || n >= len(img.Layers) {
		return usageErr("layer %d is out of range: %s has %d layers (0-%d)", n, ref, len(img.Layers), len(img.Layers)-1)
	}
	return nil
}

// forensicShortDigest is the first 12 hex digits of a digest, or "-".
func forensicShortDigest(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" {
		return "-"
	}
	return s[:min(12, len(s))]
}

// forensicBytes writes a size the way the scan summary does: 2.1 MB, 38 B.
func forensicBytes(n int64) string {
	switch {
	case n < 0:
		return "-"
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// textRedactor hides, in text from an image the forensic commands print
// without scanning its files (ls: paths and instructions), what the
// detector built from the flags finds there and in its encoded runs, and
// build-argument values — unless --show-secrets.
func textRedactor(o *scanOptions) (func(string) string, error) {
	if o.showSecrets {
		return func(t string) string { return t }, nil
	}
	det, err := detect.New(o.det.options(o.decodeDepth))
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return redact.New(det).Text, nil
}

// redactValue shows the first characters of a secret value then ****.
func redactValue(v string) string { return detect.Redact(v) }
