// Package benchreg writes a registry for benchmarks straight into the
// filesystem storage layout of CNCF distribution (Debian's docker-registry),
// without pushing: blobs under docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data,
// and per repository the links a push would leave (_layers, manifest
// revisions, tags with their current link and index). A registry whose
// storage.filesystem.rootdirectory is the directory given to [Generate]
// serves the images at once; 100,000 images take a few minutes, since every
// blob is written once and links are tiny files.
//
// The images: three base layers shared by every image (the second one holds
// a fake GitHub token made for this benchmark, [BaseSecret]) and one small
// gzipped layer of its own per image (a few files; every SecretEvery-th
// image's also holds a fake token of its own, [ImageSecret]). Configs carry a
// history (one entry per layer and an empty ENV step). Repositories alternate
// between OCI and Docker schema 2 manifests and hold TagsPerRepo tags each.
// Everything is deterministic: the same options give the same digests.
//
// scripts/bench-sweep-scale.sh (make bench-sweep-scale) measures layerscan
// sweeps of such registries (TestBenchSweepScale in this package);
// `go run ./internal/benchreg/cmd -dir D -images N` writes one by hand.
package benchreg
