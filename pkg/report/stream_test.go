package report

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A streamed report is the same document as the report held whole: the
// JSON byte for byte what encoding the whole Report gives (the other
// formats are checked by their golden files, written through streams),
// each format reading the images in as few passes as it needs, the tally
// counting what the exit status needs.
func TestStreamWritesTheWholeDocument(t *testing.T) {
	for _, r := range []*Report{sample(), New(Tool{Name: "layerscan", Version: "1.0"})} {
		var whole, streamed bytes.Buffer
		if err := writeJSON(&whole, r); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&streamed, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(whole.Bytes(), streamed.Bytes()) {
			t.Errorf("%d images: streamed JSON differs:\n%s\nwant\n%s", len(r.Images), streamed.Bytes(), whole.Bytes())
		}
	}
	r := sample()
	// The secrets view comes first in json, csv (its kind and verdict
	// columns), table and markdown: one pass for it, one for the images.
	// SARIF reads the images' names, then writes a run per image.
	for format, passes := range map[string]int{"json": 2, "csv": 2, "table": 2, "markdown": 2, "sarif": 2, "html": 1, "gitlab": 1} {
		calls := 0
		s := NewStream(r.Tool, func(yield func(*Image) error) error {
			calls++
			return r.Stream().Images(yield)
		})
		var b bytes.Buffer
		if err := WriteStream(&b, format, s, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		if calls != passes {
			t.Errorf("%s: %d passes over the images, want %d", format, calls, passes)
		}
		if tl := s.Tally(); tl.Images != len(r.Images) || tl.Findings != r.FindingCount() || tl.Incomplete != r.Incomplete() ||
			tl.Failing("high") != r.Failing("high") || tl.Failing("info") != r.Failing("info") {
			t.Errorf("%s: tally %+v, report: %d findings, %d failing high", format, tl, r.FindingCount(), r.Failing("high"))
		}
	}
	broken := errors.New("the store went away")
	s := NewStream(r.Tool, func(yield func(*Image) error) error {
		if err := yield(r.Images[0]); err != nil {
			return err
		}
		return broken
	})
	for _, format := range []string{"json", "sarif", "csv", "table", "markdown", "html"} {
		if err := WriteStream(&bytes.Buffer{}, format, s, WriteOptions{}); !errors.Is(err, broken) {
			t.Errorf("%s: %v, want the source's error", format, err)
		}
	}
}

// A secret in more places than MaxOccurrences (a base layer shared by a
// whole registry's images) lists MaxOccurrences of them and counts the
// rest: the view of a streamed report does not grow with the images, and
// the table still says how many places there are.
func TestSecretPlacesBounded(t *testing.T) {
	const images = MaxOccurrences + 7
	s := NewStream(Tool{Name: "layerscan"}, func(yield func(*Image) error) error {
		for i := range images {
			im := &Image{Ref: fmt.Sprintf("reg/app:%d", i), Layers: []Layer{{Index: 0}},
				Findings: []Finding{{Rule: "github-pat", Severity: "high", Source: "file", Path: "/etc/token", Status: "present",
					Secret: "ghp_****", SecretID: "s1", Fingerprint: "f1", Layer: LayerRef{Index: 0}}}}
			if err := yield(im); err != nil {
				return err
			}
		}
		return nil
	})
	v, err := s.SecretsView()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Secrets) != 1 || len(v.Secrets[0].Occurrences) != MaxOccurrences || v.Secrets[0].OccurrencesOmitted != 7 || v.Totals.Findings != images {
		t.Fatalf("view: %d secrets, %d places listed, %d omitted, %d findings", len(v.Secrets), len(v.Secrets[0].Occurrences), v.Secrets[0].OccurrencesOmitted, v.Totals.Findings)
	}
	var b bytes.Buffer
	if err := WriteStream(&b, "table", s, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d places", images); !strings.Contains(b.String(), want) {
		t.Errorf("table does not say %q:\n%.600s", want, b.String())
	}
}
