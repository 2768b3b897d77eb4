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
)
