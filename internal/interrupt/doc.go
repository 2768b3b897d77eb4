// Package interrupt ends a command-line process that a signal could not
// stop in time: a read can block where no context reaches it (a FIFO or
// a device given as an image path).
package interrupt
