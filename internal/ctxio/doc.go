// Package ctxio stops reads once a context is done: a copy of a layer, an
// archive member or standard input that no deadline reaches otherwise.
package ctxio
