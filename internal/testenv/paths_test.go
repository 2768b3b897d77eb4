package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRoot(t *testing.T) {
	if _, err := os.Stat(filepath.Join(RepoRoot(), "go.mod")); err != nil {
		t.Fatalf("RepoRoot() = %s holds no go.mod: %v", RepoRoot(), err)
	}
}

// TestExternalImagesDir covers the decision of ExternalImagesDir: use the
// directory when present, else skip (and record the skip), or fail under
// LAYERSCAN_REQUIRE_EXTERNAL=1; LAYERSCAN_REQUIRE_TOOLS plays no part.
func TestExternalImagesDir(t *testing.T) {
	// A fake checkout: TOP/repo, with or without TOP/shared/external-images.
	newRoot := func(t *testing.T, withShared bool) (root, shared string) {
		top := t.TempDir()
		root, shared = filepath.Join(top, "repo"), filepath.Join(top, "shared", "external-images")
		dirs := []string{root}
		if withShared {
			dirs = append(dirs, shared)
		}
		for _, d := range dirs {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return root, shared
	}
	// env sets the four variables; log is the skip log's path.
	env := func(t *testing.T, dir, requireExternal string) (log string) {
		log = filepath.Join(t.TempDir(), "skips.txt")
		t.Setenv(ExternalImagesEnv, dir)
		t.Setenv(RequireExternalEnv, requireExternal)
		t.Setenv(RequireToolsEnv, "1") // as make test sets it: no effect here
		t.Setenv(SkipLogEnv, log)
		return log
	}
	readLog := func(t *testing.T, log string) []string {
		data, err := os.ReadFile(log)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	}
	noSkipNoFatal := func(t *testing.T, f *fakeTB, log string) {
		t.Helper()
		if f.skipped != "" || f.fatal != "" {
			t.Errorf("skipped %q, fatal %q; want neither", f.skipped, f.fatal)
		}
		if lines := readLog(t, log); len(lines) != 0 {
			t.Errorf("skip log %q, want none", lines)
		}
	}

	t.Run("sibling shared directory is used", func(t *testing.T) {
		root, shared := newRoot(t, true)
		log := env(t, "", "1")
		f := &fakeTB{TB: t}
		if got := externalImagesDir(f, root); got != shared {
			t.Errorf("dir = %q, want %q", got, shared)
		}
		noSkipNoFatal(t, f, log)
	})

	t.Run("missing skips and records the skip", func(t *testing.T) {
		root, _ := newRoot(t, false)
		log := env(t, "", "")
		f := &fakeTB{TB: t}
		if got := externalImagesDir(f, root); got != "" {
			t.Errorf("dir = %q for a missing directory", got)
		}
		if f.fatal != "" {
			t.Errorf("unexpected Fatalf (LAYERSCAN_REQUIRE_TOOLS=1 must not require data): %s", f.fatal)
		}
		for _, want := range []string{"../shared/external-images not found", ExternalImagesEnv + "=DIR", RequireExternalEnv + "=1"} {
			if !strings.Contains(f.skipped, want) {
				t.Errorf("skip message %q lacks %q", f.skipped, want)
			}
		}
		lines := readLog(t, log)
		if len(lines) != 1 {
			t.Fatalf("skip log %q, want one line", lines)
		}
		fields := strings.Split(lines[0], "\t")
		if len(fields) != 3 || fields[1] != t.Name() ||
			!strings.HasPrefix(fields[2], "../shared/external-images not found") ||
			!strings.HasSuffix(fields[2], "set "+ExternalImagesEnv+"=DIR to run them") {
			t.Errorf("skip log line %q, want PACKAGE, %q and the reason", lines[0], t.Name())
		}
	})

	t.Run("missing fails when required", func(t *testing.T) {
		root, shared := newRoot(t, false)
		log := env(t, "", "1")
		f := &fakeTB{TB: t}
		externalImagesDir(f, root)
		if f.skipped != "" {
			t.Errorf("unexpected Skipf: %s", f.skipped)
		}
		for _, want := range []string{shared, RequireExternalEnv + "=1", ExternalImagesEnv} {
			if !strings.Contains(f.fatal, want) {
				t.Errorf("fatal message %q lacks %q", f.fatal, want)
			}
		}
		if lines := readLog(t, log); len(lines) != 0 {
			t.Errorf("a failure was recorded as a skip: %q", lines)
		}
	})

	t.Run("variable overrides the sibling directory", func(t *testing.T) {
		root, _ := newRoot(t, true)
		other := t.TempDir()
		log := env(t, other, "1")
		f := &fakeTB{TB: t}
		if got := externalImagesDir(f, root); got != other {
			t.Errorf("dir = %q, want %s=%q", got, ExternalImagesEnv, other)
		}
		noSkipNoFatal(t, f, log)
	})

	t.Run("relative variable is taken from the repository", func(t *testing.T) {
		root, _ := newRoot(t, false)
		want := filepath.Join(root, "testdata", "ext")
		if err := os.MkdirAll(want, 0o755); err != nil {
			t.Fatal(err)
		}
		log := env(t, "testdata/ext", "")
		f := &fakeTB{TB: t}
		if got := externalImagesDir(f, root); got != want {
			t.Errorf("dir = %q, want %q", got, want)
		}
		noSkipNoFatal(t, f, log)
	})

	t.Run("variable naming a missing directory skips, even with the sibling present", func(t *testing.T) {
		root, _ := newRoot(t, true)
		log := env(t, "/nonexistent/external-images", "")
		f := &fakeTB{TB: t}
		if got := externalImagesDir(f, root); got != "" {
			t.Errorf("dir = %q for a missing directory", got)
		}
		if !strings.Contains(f.skipped, ExternalImagesEnv+"=/nonexistent/external-images not found") || f.fatal != "" {
			t.Errorf("skipped %q, fatal %q; want a skip naming the variable", f.skipped, f.fatal)
		}
		if lines := readLog(t, log); len(lines) != 1 {
			t.Errorf("skip log %q, want one line", lines)
		}
	})

	t.Run("a file is not a directory", func(t *testing.T) {
		root, _ := newRoot(t, false)
		file := filepath.Join(t.TempDir(), "images.tar")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		env(t, file, "1")
		f := &fakeTB{TB: t}
		externalImagesDir(f, root)
		if !strings.Contains(f.fatal, "is not a directory") {
			t.Errorf("fatal %q, want a message saying it is not a directory", f.fatal)
		}
	})

	t.Run("no skip log without the variable", func(t *testing.T) {
		root, _ := newRoot(t, false)
		env(t, "", "")
		t.Setenv(SkipLogEnv, "")
		f := &fakeTB{TB: t}
		externalImagesDir(f, root) // must not write anywhere
		if f.skipped == "" {
			t.Error("no skip")
		}
	})
}
