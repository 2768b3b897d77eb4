package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func assertOneLineError(t *testing.T, res result, want string) {
	t.Helper()
	if res.code != 2 {
		t.Errorf("exit %d, want 2\nstderr: %s", res.code, res.stderr)
	}
	if strings.Count(strings.TrimRight(res.stderr, "\n"), "\n") != 0 || !strings.Contains(res.stderr, want) {
		t.Errorf("stderr %q: want one line with %q", res.stderr, want)
	}
}

func TestExtractDeletedFile(t *testing.T) {
	corpus := buildahCorpus(t)
	ref := "oci-archive:" + filepath.Join(corpus, "copy-then-rm.oci.tar")
	want, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "buildah", "cases", "copy-then-rm", "secrets.txt"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "secrets.txt")
	res := runCLI(t, nil, "extract", ref, "--layer", "1", "/app/secrets.txt", "-o", out)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if res.stdout != "" {
		t.Errorf("stdout not empty: %q", res.stdout)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("extracted %q, want %q", got, want)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}

	// A second extract must not overwrite it.
	os.WriteFile(out, []byte("keep me"), 0o600)
	res = runCLI(t, nil, "extract", ref, "--layer", "1", "/app/secrets.txt", "-o", out)
	assertOneLineError(t, res, "already exists")
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Errorf("file changed to %q", b)
	}
	res = runCLI(t, nil, "extract", ref, "--layer", "1", "/app/secrets.txt", "-o", out, "--force")
	if b, _ := os.ReadFile(out); res.code != 0 || !bytes.Equal(b, want) {
		t.Errorf("--force: exit %d, content %q", res.code, b)
	}

	// The file is gone from the final filesystem: layer 3 does not hold it.
	res = runCLI(t, nil, "extract", ref, "--layer", "3", "/app/secrets.txt", "-o", filepath.Join(t.TempDir(), "x"))
	assertOneLineError(t, res, "/app/secrets.txt is not in layer 3")
}

func TestExtractLifecycle(t *testing.T) {
	ref := "oci:" + fixture(t, "lifecycle")
	res := runCLI(t, nil, "extract", ref, "--layer", "0", "/app/overwritten.env", "-o", "-")
	if res.code != 0 || !strings.Contains(res.stdout, "glpat-Xq8Jk2mVxP3nR7tLw9Zc") {
		t.Errorf("overwritten.env at layer 0: exit %d, %q, %s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, nil, "extract", ref, "--layer", "2", "/app/overwritten.env", "-o", "-")
	if res.code != 0 || strings.TrimSpace(res.stdout) != "clean" {
		t.Errorf("overwritten.env at layer 2: exit %d, %q", res.code, res.stdout)
	}
	// Through a hardlink: /app/hard.env → /app/present.env.
	hard := runCLI(t, nil, "extract", ref, "--layer", "0", "/app/hard.env", "-o", "-")
	present := runCLI(t, nil, "extract", ref, "--layer", "0", "/app/present.env", "-o", "-")
	if hard.code != 0 || hard.stdout != present.stdout || !strings.Contains(hard.stdout, "sk_live_") {
		t.Errorf("hardlink: exit %d, %q vs %q", hard.code, hard.stdout, present.stdout)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--layer", "0", "/app/nope.env", "-o", "-"}, "/app/nope.env is not in layer 0"},
		{[]string{"--layer", "9", "/app/present.env", "-o", "-"}, "layer 9 is out of range"},
		{[]string{"/app/present.env", "-o", "-"}, "needs --layer"},
		{[]string{"--layer", "0", "/app/present.env"}, "needs -o FILE"},
		{[]string{"--layer", "0", "/app/link", "-o", "-"}, "symlink"},
	} {
		res := runCLI(t, nil, append([]string{"extract", ref}, tc.args...)...)
		assertOneLineError(t, res, tc.want)
		if strings.Contains(res.stdout+res.stderr, "sk_live_") {
			t.Errorf("%v: output shows a secret", tc.args)
		}
	}
}

func TestLsDeleted(t *testing.T) {
	ref := "oci:" + fixture(t, "lifecycle")
	res := runCLI(t, nil, "ls", ref, "--deleted")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(res.stdout, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && strings.HasPrefix(f[len(f)-1], "/") {
			lines[f[len(f)-1]] = strings.Join(f, " ")
		}
	}
	for path, want := range map[string]string{
		"/app/deleted.env":     "deleted by layer 1 file /app/deleted.env",
		"/app/overwritten.env": "overwritten by layer 2 file /app/overwritten.env",
		"/app/opaque/a.env":    "deleted by layer 3 file /app/opaque/a.env",
	} {
		if lines[path] != want {
			t.Errorf("%s: %q, want %q\n%s", path, lines[path], want, res.stdout)
		}
	}
	if _, ok := lines["/app/present.env"]; ok || !strings.Contains(res.stdout, "Layer 0  ") {
		t.Errorf("--deleted output:\n%s", res.stdout)
	}

	res = runCLI(t, nil, "ls", ref, "--layer", "1", "--long")
	if res.code != 0 || !strings.Contains(res.stdout, "(deletes /app/deleted.env)") || strings.Contains(res.stdout, "Layer 0") {
		t.Errorf("ls --layer 1 --long: exit %d\n%s", res.code, res.stdout)
	}
	res = runCLI(t, nil, "ls", ref, "--long")
	if !strings.Contains(res.stdout, "/app/hard.env -> /app/present.env") || !strings.Contains(res.stdout, "/app/link -> present.env") {
		t.Errorf("ls --long:\n%s", res.stdout)
	}
}

func TestHistoryBuildArg(t *testing.T) {
	corpus := buildahCorpus(t)
	ref := "oci-archive:" + filepath.Join(corpus, "build-arg.oci.tar")
	args, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "buildah", "cases", "build-arg", "build.args"))
	if err != nil {
		t.Fatal(err)
	}
	_, plain, _ := strings.Cut(strings.TrimSpace(string(args)), "TOKEN=")
	if plain == "" {
		t.Fatalf("no TOKEN in build.args: %q", args)
	}

	res := runCLI(t, nil, "history", ref)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, plain) {
		t.Errorf("history shows the plaintext token:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, `RUN test -n "$TOKEN"`) || !strings.Contains(res.stdout, "TOKEN="+plain[:4]+"****") {
		t.Errorf("history:\n%s", res.stdout)
	}
	res = runCLI(t, nil, "history", ref, "--show-secrets")
	if !strings.Contains(res.stdout, "TOKEN="+plain) {
		t.Errorf("--show-secrets:\n%s", res.stdout)
	}
	res = runCLI(t, nil, "history", ref, "--format", "json")
	if strings.Contains(res.stdout, plain) {
		t.Errorf("JSON history shows the plaintext token")
	}
}

func TestHistoryJSON(t *testing.T) {
	ref := "oci:" + fixture(t, "lifecycle")
	res := runCLI(t, nil, "history", ref, "--format", "json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var doc struct {
		Schema  string
		Entries []struct {
			Index       int
			Layer       *int
			EmptyLayer  bool `json:"empty_layer"`
			Instruction string
			Hidden      *struct{ Files int }
		}
		BuildArgs []any `json:"build_args"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	// lifecycle: history 0..4, history 1 is an empty_layer ENV.
	wantLayers := []int{0, -1, 1, 2, 3}
	if doc.Schema != "layerscan-history/v1" || len(doc.Entries) != len(wantLayers) {
		t.Fatalf("%s", res.stdout)
	}
	for i, e := range doc.Entries {
		got := -1
		if e.Layer != nil {
			got = *e.Layer
		}
		if e.Index != i || got != wantLayers[i] || e.EmptyLayer != (got == -1) {
			t.Errorf("entry %d: index %d layer %d empty %v, want layer %d", i, e.Index, got, e.EmptyLayer, wantLayers[i])
		}
	}
	if h := doc.Entries[0].Hidden; h == nil || h.Files != 4 {
		t.Errorf("layer 0 hidden: %+v, want 4 files", h)
	}
	if doc.Entries[1].Instruction != "ENV APP_MODE=prod" {
		t.Errorf("entry 1: %q", doc.Entries[1].Instruction)
	}
}
