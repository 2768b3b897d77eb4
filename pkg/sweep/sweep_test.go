package sweep

import (
	"testing"

	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/store"
)

func TestPatterns(t *testing.T) {
	p, err := NewPatterns([]string{"team-a/*", "!team-a/tmp-*", "base"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"team-a/web": true, "team-a/tmp-1": false, "base": true, "team-b/web": false, "team-a/x/y": false,
	} {
		if got := p.Match(name); got != want {
			t.Errorf("Match(%q) = %v, want %v", name, got, want)
		}
	}
	all, _ := NewPatterns([]string{"v*,latest", "!v0*"})
	for name, want := range map[string]bool{"v1.2": true, "latest": true, "v0.9": false, "dev": false} {
		if got := all.Match(name); got != want {
			t.Errorf("tags Match(%q) = %v, want %v", name, got, want)
		}
	}
	none, _ := NewPatterns(nil)
	if !none.Match("anything/at/all") {
		t.Error("no patterns should select everything")
	}
	if _, err := NewPatterns([]string{"[bad"}); err == nil {
		t.Error("a malformed glob was accepted")
	}
}

// sweptImages are the images of a finished sweep, as its report has them.
func sweptImages(t *testing.T, st store.Store, res *Result) []*report.Image {
	t.Helper()
	r, err := Render(t.Context(), st, RenderOptions{Sweep: res.Sweep, NewIn: res.Sweep})
	if err != nil {
		t.Fatal(err)
	}
	var out []*report.Image
	if err := r.Images(func(im *report.Image) error { out = append(out, im); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}
