package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/history"
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

// printable keeps a name from the image on one terminal line: names with
// control characters or invalid UTF-8 are Go-quoted.
func printable(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0) {
			return strconv.Quote(s)
		}
	}
	return s
}

// historyRedactor hides, in history text (created_by, instructions), the
// secrets the detector finds there and the values of recorded build
// arguments, unless show is set.
func historyRedactor(o *scanOptions, show bool) (func(text string, args []history.Arg) string, error) {
	if show {
		return func(t string, _ []history.Arg) string { return t }, nil
	}
	det, err := detect.New(detect.Options{MaxDecodeDepth: o.decodeDepth})
	if err != nil {
		return nil, err
	}
	return func(t string, args []history.Arg) string {
		for _, a := range args {
			if a.Value != "" {
				t = strings.ReplaceAll(t, a.Name+"="+a.Value, a.Name+"="+detect.Redact(a.Value))
			}
		}
		for _, f := range det.Scan("", []byte(t), 1) {
			if f.Secret != "" {
				t = strings.ReplaceAll(t, f.Secret, detect.Redact(f.Secret))
			}
		}
		return t
	}, nil
}

// redactValue shows the first characters of a secret value then ****.
func redactValue(v string) string { return detect.Redact(v) }
