// Package testimage builds small, deterministic container images for unit
// tests, and defines the fixtures checked in under testdata/images.
//
// The builder API is deliberately tiny:
//
//   - [Tar] writes an uncompressed tar layer from [Entry] values, in the order
//     given, with fixed metadata (mtime 2024-01-01T00:00:00Z, uid/gid 0), so
//     the same entries always give the same bytes. Whiteouts are ordinary
//     entries named ".wh.NAME" or ".wh..wh..opq".
//   - [Layer] wraps such a tar as a v1.Layer, gzip-, zstd- or un-compressed,
//     with the matching OCI layer media type.
//   - [Image] stacks [Step] values (a layer plus its history entry, or a
//     history-only "empty_layer" step) onto an empty OCI image, with fixed
//     created times and a linux/amd64 config unless told otherwise.
//   - [Index] builds a multi-platform OCI image index.
//
// [Fixtures] describes the images in testdata/images together with the
// secrets a scanner is expected to find in them ([Finding]); [WriteFixtures]
// writes them to disk (OCI layout directories, docker-archive and OCI archive
// tarballs). The files under testdata/images are regenerated with
//
//	go generate ./internal/testimage/
//
// and TestGeneratedImagesUpToDate fails when they are stale.
//
// All secrets used here are fake values that gitleaks' default rules detect;
// see the Secret* constants.
package testimage

//go:generate go run gen/main.go -out ../../testdata/images
