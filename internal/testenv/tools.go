package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireToolsEnv is the environment variable that turns a missing tool from a
// skipped test into a failed one. make test and CI set it to "1".
const RequireToolsEnv = "LAYERSCAN_REQUIRE_TOOLS"

// debianPackages maps executables to the Debian package that installs them.
var debianPackages = map[string]string{
	"docker-registry":    "docker-registry",
	"skopeo":             "skopeo",
	"buildah":            "buildah",
	"umoci":              "umoci",
	"podman":             "podman",
	"git":                "git",
	"tar":                "tar",
	"gzip":               "gzip",
	"zstd":               "zstd",
	"rpmbuild":           "rpm",
	"mariadbd":           "mariadb-server",
	"mariadb-install-db": "mariadb-server",
	"redis-server":       "redis-server",
	"lighttpd":           "lighttpd",
	"git-http-backend":   "git",
	"node":               "nodejs",
}

// debianPackage returns the Debian package that provides the executable name.
func debianPackage(name string) string {
	if p, ok := debianPackages[name]; ok {
		return p
	}
	return name
}

// RequireTool returns the path of the executable name, looked up on PATH.
// When it is missing the test is skipped, unless LAYERSCAN_REQUIRE_TOOLS=1 is
// set, in which case the test fails with a message naming the Debian package
// to install. When t does not stop the goroutine (a fake testing.TB),
// RequireTool returns "" for a missing tool.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv(RequireToolsEnv) == "1" {
		t.Fatalf("required tool %q not found (%v) and %s=1: install it with `apt-get install %s`",
			name, err, RequireToolsEnv, debianPackage(name))
		return ""
	}
	t.Skipf("tool %q not found (%v); install the Debian package %q to run this test (set %s=1 to make this a failure)",
		name, err, debianPackage(name), RequireToolsEnv)
	return ""
}
