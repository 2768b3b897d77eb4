// Package fetch opens a container image from any of the places images live
// and hands its layers out as byte streams (compressed as stored, or plain
// tar), never unpacked to disk.
//
// # References
//
// Open takes one reference of the grammar ParseReference applies (the
// table is Schemes, the text for --help ReferenceHelp):
//
//   - a registry reference (tag or digest), "docker://REF" or "registry:REF",
//     read with go-containerregistry's remote package, with credentials from
//     the docker config and its credential helpers or from explicit basic
//     auth;
//   - a `docker save` / `podman save` tarball (legacy layout and the Docker
//     25+ layout with blobs/sha256), "docker-archive:PATH[:REF|:@N]", where
//     REF (a RepoTag) or @N picks one image of a multi-image archive;
//   - an OCI image archive (a tar of an OCI layout), "oci-archive:PATH", and
//     an OCI image layout directory, "oci:PATH";
//   - an image of the Docker daemon ("docker-daemon:NAME", "docker:NAME",
//     $DOCKER_HOST) or of podman's service ("podman:NAME", $CONTAINER_HOST),
//     exported through the Docker Engine API and spooled to an unlinked
//     temporary file (daemon.go);
//   - an image of a containers-storage store (podman, buildah, CRI-O) read
//     from disk without a daemon: "containers-storage:[DRIVER@ROOT]NAME";
//     each layer's tar is rebuilt from its tar-split metadata and the
//     layer's files (storage.go, storage_layer.go);
//   - a directory read as one layer with no history, "dir:PATH" or
//     "rootfs:PATH": a tar made on the fly, links never followed (dir.go);
//   - "-": a docker save or OCI archive on standard input (stream.go).
//
// The order: a known scheme wins; then "-"; then an existing path, read as
// what its content says (a directory holding oci-layout is a layout; a tar
// with manifest.json is a docker archive; a tar with index.json and
// oci-layout is an OCI archive); then another tool's scheme (containerd:,
// oci-dir:, …) or WORD:x/y is an error wrapping ErrUnknownScheme (an
// UnknownSchemeError), never a Docker Hub name; then what looks like a path
// is a missing file; anything else is a registry reference.
//
// # Bounds
//
// Archives are indexed once (entry name to offset and size) and blobs are
// served as sections of the open file, so a layer is read exactly once, by
// the walker. Every size that comes from the image or the store (manifest,
// config, entry count, images.json, tar-split records, a directory's
// entries and depth, a spooled stream) is bounded, and files of a store or
// a directory are opened only beneath it (os.Root), regular files only.
//
// Failures wrap a sentinel of errors.go; Describe turns one into a line
// for people.
package fetch
