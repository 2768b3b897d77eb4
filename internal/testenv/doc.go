// Package testenv gives layerscan's tests real external components instead of
// mocks: executables found on PATH (RequireTool) and a real, TLS-protected,
// password-protected OCI registry (StartRegistry) backed by the Debian
// docker-registry package (CNCF distribution 2.8), with images pushed into it
// by skopeo.
//
// For pkg/verify's tests of live credential verification it also starts,
// each on a temporary directory and a free 127.0.0.1 port and stopped when
// the test ends: PostgreSQL with password auth (StartPostgresPassword),
// MariaDB (StartMariaDB), Redis with requirepass and an ACL user
// (StartRedis), git's smart HTTP protocol under lighttpd with basic auth
// (StartGitHTTP) and the verdaccio npm registry with a user and its token
// (StartVerdaccio, from .cache/verdaccio). StartPodman starts podman's
// Docker-compatible API service on a vfs store of its own under a temporary
// directory (the engine of the docker: and podman: source tests).
//
// Missing tools make a test skip, so `go test ./...` works on a bare machine.
// When the environment variable LAYERSCAN_REQUIRE_TOOLS=1 is set (make test
// and CI set it) a missing tool is a test failure instead, naming the Debian
// package that provides it.
//
// Data that lives outside the repository is different: make test cannot
// install it, so it stays optional there. ExternalImagesDir finds the images
// of other builders ($LAYERSCAN_EXTERNAL_IMAGES, else ../shared/external-images
// next to the repository); when they are missing the test is skipped and the
// skip appended to the file $LAYERSCAN_SKIP_LOG names (make test prints one
// summary line of it), or fails when LAYERSCAN_REQUIRE_EXTERNAL=1 (CI).
//
// Typical use:
//
//	reg := testenv.StartRegistry(t)
//	reg.Push(t, "oci:"+layoutDir+":v1", "app/web:v1")
//	cmd := exec.Command(layerscanBin, "scan", reg.Host+"/app/web:v1")
//	cmd.Env = append(os.Environ(), reg.Env()...)
//
// StartRegistry(t, Anonymous()) serves without credentials (benchmarks: no
// bcrypt check per request), and a test may write a distribution storage
// tree into Registry.StorageDir directly instead of pushing
// (internal/benchreg).
//
// Besides Push and Env, a Registry offers Transport (an *http.Transport
// trusting only the test CA, for in-process go-containerregistry clients via
// remote.WithTransport), Log/SyncLog (the registry's own log) and BlobGETs
// (successful blob GETs per repository and digest, counted from the access
// log, for tests about how often layers are downloaded).
//
// Note that go-containerregistry treats 127.0.0.1 and localhost registries as
// possibly insecure: it tries https first and falls back to plain http, so a
// TLS error against the test registry comes wrapped together with an http
// error (errors.As still finds the x509 error).
//
// Everything listens on 127.0.0.1 only; nothing here reaches the network.
package testenv
