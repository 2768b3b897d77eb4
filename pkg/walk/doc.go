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
// Archives inside files (zip/jar/war/…, tar, and .gz/.zst/.bz2/.xz
// streams, recognised by name and magic bytes) are opened recursively up to
// Options.Archives.MaxDepth; their members' chunks carry the chain of
// member paths (Chunk.ArchivePath). Tar and compressed streams are read as
// streams; a zip archive, which needs random access, is held in memory
// within a budget shared by the walk, else spooled to an unlinked 0600
// temporary file. Member size, total size, compression ratio, member count
// and depth are bounded; crossing a bound is a FileWarning, not an error.
//
// Binary files (IsBinary) are handed over as is, skipped, or reduced to
// their printable string runs (Options.Binaries).
//
// Walk records every tar entry of every layer (regular files, directories,
// symlinks, hardlinks, whiteouts and opaque-directory markers, per the OCI
// image spec) but does not interpret them across layers: which files a later
// layer deleted or overwrote is decided afterwards, from the entries, by
// package history. Symlinks are never followed.
package walk
