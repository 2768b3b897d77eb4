// Package walk reads image layers as streams and hands every file's bytes
// to a detector, without unpacking anything to disk.
//
// Each layer is read once: stored bytes → digest check → decompressor
// (gzip, zstd or none, chosen from the magic bytes) → diff_id check → tar
// reader. Layers are walked concurrently (Options.Jobs); the contents of
// regular files are cut into bounded, overlapping chunks and handed to a
// bounded pool of detector workers (Options.Workers), so memory stays
// bounded whatever the size of a layer or a file.
//
// Walk records every tar entry of every layer (regular files, directories,
// symlinks, hardlinks, whiteouts and opaque-directory markers, per the OCI
// image spec) but does not interpret them across layers: which files a later
// layer deleted or overwrote is decided afterwards, from the entries, by
// package history. Symlinks are never followed.
package walk
