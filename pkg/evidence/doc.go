// Package evidence gets the proof out of an image: the bytes of a file as
// one layer stores them (Extract), every entry of every layer with its fate
// in the final filesystem (List), and the shell command that extracts a
// finding (Command).
//
// Files that a later layer deleted (whiteout, opaque directory) or
// overwrote are still in their own layer's blob: Extract reads that layer
// alone, so it returns them exactly as anyone with the image can.
package evidence
