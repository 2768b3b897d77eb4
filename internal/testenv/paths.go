package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ImagesDir is testdata/images, the generated fixtures.
func ImagesDir() string {
	return filepath.Join(RepoRoot(), "testdata", "images")
}

// Data that lives outside the repository (the external images) is optional:
// tests that need it are skipped when it is missing, unlike the tools of
// RequireTool, which make test installs. Only CI insists on it.
const (
	// ExternalImagesEnv names the directory of the external images, instead
	// of the default ../shared/external-images next to the repository. A
	// relative path is taken from the repository's top directory.
	ExternalImagesEnv = "LAYERSCAN_EXTERNAL_IMAGES"
	// RequireExternalEnv=1 turns missing external images from skipped tests
	// into failed ones (.ci/run sets it). LAYERSCAN_REQUIRE_TOOLS does not.
	RequireExternalEnv = "LAYERSCAN_REQUIRE_EXTERNAL"
	// SkipLogEnv names a file to which every test skipped for missing
	// external data appends one line, "PACKAGE<TAB>TEST<TAB>REASON" (the
	// package relative to the repository's top directory); make test sets
	// it and prints one summary line of it after go test.
	SkipLogEnv = "LAYERSCAN_SKIP_LOG"
)

// defaultExternalImages is where the external images are looked for,
// relative to the repository's top directory.
const defaultExternalImages = "../shared/external-images"

// ExternalImagesDir is the directory of the images made by Docker's builders
// (see its README): $LAYERSCAN_EXTERNAL_IMAGES, else ../shared/external-images
// next to the repository. When it is missing the test is skipped (and the
// skip recorded in $LAYERSCAN_SKIP_LOG), or fails when
// LAYERSCAN_REQUIRE_EXTERNAL=1. When t does not stop the goroutine (a fake
// testing.TB), ExternalImagesDir returns "" for a missing directory.
func ExternalImagesDir(t testing.TB) string {
	t.Helper()
	return externalImagesDir(t, RepoRoot())
}

func externalImagesDir(t testing.TB, root string) string {
	t.Helper()
	dir, reason := findExternalImages(root, os.Getenv(ExternalImagesEnv))
	if reason == "" {
		return dir
	}
	if os.Getenv(RequireExternalEnv) == "1" {
		t.Fatalf("external images: %s, and %s=1 requires them (set %s=DIR to where they are)",
			reason, RequireExternalEnv, ExternalImagesEnv)
		return ""
	}
	logSkip(t, root, reason+"; set "+ExternalImagesEnv+"=DIR to run them")
	t.Skipf("external images: %s (set %s=DIR to run this test; %s=1 makes this a failure)",
		reason, ExternalImagesEnv, RequireExternalEnv)
	return ""
}

// findExternalImages returns the external images' directory, or why there
// is none. env is the value of LAYERSCAN_EXTERNAL_IMAGES.
func findExternalImages(root, env string) (dir, reason string) {
	name := defaultExternalImages
	if env != "" {
		name = ExternalImagesEnv + "=" + env
		dir = env
	} else {
		dir = defaultExternalImages
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	dir = filepath.Clean(dir)
	info, err := os.Stat(dir)
	switch {
	case err != nil && os.IsNotExist(err):
		return "", fmt.Sprintf("%s not found (%s)", name, dir)
	case err != nil:
		return "", fmt.Sprintf("%s: %v", name, err)
	case !info.IsDir():
		return "", fmt.Sprintf("%s is not a directory (%s)", name, dir)
	}
	return dir, ""
}

// logSkip appends "PACKAGE<TAB>TEST<TAB>REASON" to $LAYERSCAN_SKIP_LOG, if
// set. Each line is one write to a file opened for appending, so the test
// binaries that go test runs at the same time do not mix their lines.
func logSkip(t testing.TB, root, reason string) {
	t.Helper()
	path := os.Getenv(SkipLogEnv)
	if path == "" {
		return
	}
	pkg := "."
	if wd, err := os.Getwd(); err == nil { // go test runs a test in its package's directory
		if rel, err := filepath.Rel(root, wd); err == nil {
			pkg = filepath.ToSlash(rel)
		}
	}
	clean := func(s string) string { return strings.NewReplacer("\t", " ", "\n", " ").Replace(s) }
	line := clean(pkg) + "\t" + clean(t.Name()) + "\t" + clean(reason) + "\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Logf("recording the skip in %s=%s: %v", SkipLogEnv, path, err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		t.Logf("recording the skip in %s=%s: %v", SkipLogEnv, path, err)
	}
}
