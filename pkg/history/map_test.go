package history

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func cfgWith(h ...v1.History) *v1.ConfigFile { return &v1.ConfigFile{History: h} }

func TestMapSkipsEmptyLayers(t *testing.T) {
	cfg := cfgWith(
		v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:a in / "},
		v1.History{CreatedBy: "/bin/sh -c #(nop)  CMD [\"sh\"]", EmptyLayer: true},
		v1.History{CreatedBy: "COPY secrets.txt /app/ # buildkit"},
		v1.History{CreatedBy: "/bin/sh -c #(nop)  ENV A=b", EmptyLayer: true},
		v1.History{CreatedBy: "RUN /bin/sh -c rm /app/secrets.txt # buildkit"},
	)
	steps, layers, warnings := Map(cfg, 3)
	if len(warnings) != 0 {
		t.Errorf("unexpected warnings %v", warnings)
	}
	want := []struct {
		step  int
		instr string
	}{{0, "ADD file:a /"}, {2, "COPY secrets.txt /app/"}, {4, "RUN rm /app/secrets.txt"}}
	for i, w := range want {
		if layers[i].Step != w.step || layers[i].Instruction != w.instr {
			t.Errorf("layer %d = step %d %q, want step %d %q", i, layers[i].Step, layers[i].Instruction, w.step, w.instr)
		}
	}
	if steps[1].Layer != -1 || steps[2].Layer != 1 {
		t.Errorf("steps not tied to layers: %+v", steps)
	}
}

func TestMapMissingShortAndLongHistory(t *testing.T) {
	_, layers, warnings := Map(&v1.ConfigFile{}, 2)
	if layers[1].Step != -1 || layers[1].Instruction != MissingInstruction || len(warnings) != 1 {
		t.Errorf("no history: layers %+v warnings %v", layers, warnings)
	}
	_, layers, warnings = Map(nil, 1)
	if layers[0].Instruction != MissingInstruction || len(warnings) != 1 {
		t.Errorf("nil config: layers %+v warnings %v", layers, warnings)
	}
	// The OCI spec's own example: fewer history entries than layers.
	_, layers, warnings = Map(cfgWith(v1.History{CreatedBy: "/bin/sh -c echo a"}), 3)
	if layers[0].Instruction != "RUN echo a" || layers[2].Step != -1 || len(warnings) != 1 || !strings.Contains(warnings[0], "last 2 layers") {
		t.Errorf("short history: layers %+v warnings %v", layers, warnings)
	}
	steps, layers, warnings := Map(cfgWith(v1.History{CreatedBy: "a"}, v1.History{CreatedBy: "b"}), 1)
	if layers[0].Instruction != "a" || steps[1].Layer != -1 || len(warnings) != 1 {
		t.Errorf("long history: steps %+v warnings %v", steps, warnings)
	}
}

func TestMapWarnsOnWrongEmptyLayerFlag(t *testing.T) {
	_, _, warnings := Map(cfgWith(
		v1.History{CreatedBy: "COPY app /app # buildkit", EmptyLayer: true},
		v1.History{CreatedBy: "/bin/sh -c #(nop)  ENV APP_ENV=production"},
	), 1)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "history entry 1 (ENV)") {
		t.Errorf("warnings = %v", warnings)
	}
}
