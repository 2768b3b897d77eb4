package history

import (
	"strings"
	"testing"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FuzzNormalize: any created_by (an image author writes it) gives an
// instruction without panicking, never longer than its input plus "RUN ",
// and the mapping of history to layers stays consistent.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"/bin/sh -c #(nop) COPY file:ab12 in /app/ ",
		"|1 TOKEN=x /bin/sh -c make",
		"RUN /bin/sh -c rm /node # buildkit",
		"/bin/sh -c #(nop)  ENV A=b",
		"|2 A=1 B= /bin/bash -o pipefail -c echo",
		"cmd /S /C dir",
		"COPY --chown=1:1 a b in /x",
		"|", "|x", "|1", "|9999999999999999999 A=b", "RUN ", "#(nop)", "\xff\xfe",
	} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, createdBy string, nLayers uint8) {
		instr, args := Normalize(createdBy)
		if len(instr) > len(createdBy)+len("RUN ") {
			t.Fatalf("instruction %q longer than its input %q", instr, createdBy)
		}
		for _, a := range args {
			if !strings.Contains(createdBy, a.Name) {
				t.Fatalf("arg %q not in the input", a.Name)
			}
		}
		if utf8.ValidString(createdBy) && !utf8.ValidString(instr) {
			t.Fatalf("valid UTF-8 in, invalid out: %q", instr)
		}
		// The same text as a whole history, with empty and non-empty steps.
		var h []v1.History
		for i, line := range strings.Split(createdBy, "\n") {
			h = append(h, v1.History{CreatedBy: line, EmptyLayer: i%2 == 1})
		}
		steps, infos, _ := Map(&v1.ConfigFile{History: h}, int(nLayers%8))
		if len(infos) != int(nLayers%8) {
			t.Fatalf("%d layer infos for %d layers", len(infos), nLayers%8)
		}
		_ = steps
	})
}
