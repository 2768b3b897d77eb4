// Package outfile creates the files layerscan writes on the user's disk —
// reports (-o, --format FORMAT=FILE) and extracted layer files — so that
// what they hold stays theirs: a file that holds secrets is 0600 even when
// it existed before with a wider mode, and a symbolic link at the path is
// refused, or with Force replaced, never written through (it could point
// at a file another user reads, or at one the user did not mean to
// overwrite).
package outfile
