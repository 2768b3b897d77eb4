package fetch

import "errors"

// The errors of this package wrap one of these, so a caller can say in
// one line what went wrong (errors.Is).
var (
	// ErrNotImage says the input was read but is not a container image.
	ErrNotImage = errors.New("not a container image")
	// ErrNoPlatform says an index has no image for the wanted platform.
	ErrNoPlatform = errors.New("platform not found")

	// Registry failures.
	ErrUnauthorized = errors.New("unauthorized")
	ErrNotFound     = errors.New("not found")
	ErrUnreachable  = errors.New("registry unreachable")
	ErrBadReference = errors.New("bad image reference")
	ErrCertificate  = errors.New("registry certificate not trusted")

	// ErrTooLarge: a manifest or index larger than --max-metadata-size;
	// not retried.
	ErrTooLarge = errors.New("larger than allowed")
	// ErrTooSlow: a download that missed its deadline; not retried.
	ErrTooSlow = errors.New("download too slow")
	// ErrNotRegular: a file of an OCI layout that is not a regular file.
	ErrNotRegular = errors.New("not a regular file")

	// ErrNoDaemon: the Docker daemon or podman's service did not answer
	// (no socket, connection refused, no response in time).
	ErrNoDaemon = errors.New("container engine unreachable")
	// ErrNoStore: a containers-storage store that is not there or cannot
	// be read (no images.json, a driver other than overlay or vfs).
	ErrNoStore = errors.New("containers-storage store not readable")
	// ErrUnknownScheme says a reference starts with a scheme layerscan
	// does not read; UnknownSchemeError (reference.go) carries it.
	ErrUnknownScheme = errors.New("unknown image source scheme")
)
