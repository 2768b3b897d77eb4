// Package fetch opens a container image from any of the places images live
// and hands its layers out as compressed byte streams, never unpacked.
//
// Sources, chosen by Open from the reference it is given:
//
//   - a registry reference (tag or digest), read with go-containerregistry's
//     remote package, with credentials from the docker config and its
//     credential helpers or from explicit basic auth;
//   - a `docker save` / `podman save` tarball (legacy layout and the
//     Docker 25+ layout with blobs/sha256), "docker-archive:PATH";
//   - an OCI image archive (a tar of an OCI layout), "oci-archive:PATH";
//   - an OCI image layout directory, "oci:PATH".
//
// Plain paths are recognised by looking at them: a directory holding an
// oci-layout file is a layout; a tar with manifest.json is a docker archive;
// a tar with index.json and oci-layout is an OCI archive.
//
// Archives are indexed once (entry name to offset and size) and blobs are
// served as sections of the open file, so a layer is read exactly once, by
// the walker. Every size that comes from the image (manifest, config, entry
// count) is bounded.
package fetch
