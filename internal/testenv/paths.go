package testenv

import (
	"os"
	"path/filepath"
	"runtime"
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

// ExternalImagesDir is ../shared/external-images next to the repository:
// images made by Docker's builders (see its README). When it is missing the
// test is skipped, or fails when LAYERSCAN_REQUIRE_TOOLS=1.
func ExternalImagesDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared", "external-images")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv(RequireToolsEnv) == "1" {
			t.Fatalf("external images: %v (%s=1)", err, RequireToolsEnv)
		}
		t.Skipf("external images not available: %v", err)
	}
	return dir
}
