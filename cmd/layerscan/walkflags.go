package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/layerscan/layerscan/internal/bytesize"
	"github.com/layerscan/layerscan/internal/flagdefaults"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/walk"
)

// walkOptions are the flags about how layers and files are read.
type walkOptions struct {
	binaries       string
	archiveDepth   int
	archiveEntry   int64
	archiveTotal   int64
	archiveRatio   int64
	archiveEntries int
	archiveMemory  int64

	// Bounds on what an image can make layerscan read (docs/security.md).
	maxEntries      int
	limits          walk.Limits
	maxMetadata     int64
	maxLayers       int
	maxHistory      int
	maxImageEntries int
	timeout         time.Duration
}

func (o *walkOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.binaries, "binaries", string(walk.BinaryStrings),
		"binary files: strings (printable runs of 8+ bytes, high-confidence rules only), skip (path rules only), full (every rule over the raw bytes)")
	f.IntVar(&o.archiveDepth, "archive-depth", walk.DefaultArchiveDepth, "how many nested archives deep to scan (zip/jar/war/tar/gz/zst/bz2/xz…; 0: none)")
	bytesize.Var(f, &o.archiveEntry, "archive-max-entry-size", walk.DefaultArchiveMaxEntrySize, "largest decompressed archive member scanned, in bytes")
	bytesize.Var(f, &o.archiveTotal, "archive-max-total-size", walk.DefaultArchiveMaxTotalSize, "most decompressed bytes read out of one archive, nested ones included")
	f.Int64Var(&o.archiveRatio, "archive-max-ratio", walk.DefaultArchiveMaxRatio, "largest decompressed/compressed ratio of an archive member past its first MiB")
	f.IntVar(&o.archiveEntries, "archive-max-entries", walk.DefaultArchiveMaxEntries, "most members read from one archive")
	bytesize.Var(f, &o.archiveMemory, "archive-memory", walk.DefaultArchiveMemory, "bytes of zip archives held in memory at once; larger ones go to an unlinked 0600 temp file")

	f.IntVar(&o.maxEntries, "max-entries", walk.DefaultMaxEntries, "most tar entries read from one layer")
	bytesize.Var(f, &o.limits.MaxPathLen, "max-path-len", walk.DefaultMaxPathLen, "longest entry path kept, in bytes (longer ones are recorded cut, with a warning)")
	f.IntVar(&o.limits.MaxPathDepth, "max-path-depth", walk.DefaultMaxPathDepth, "most directories deep an entry path is kept (deeper ones are recorded cut, with a warning)")
	bytesize.Var(f, &o.limits.MaxLayerSize, "max-layer-size", walk.DefaultMaxLayerSize, "most uncompressed bytes read from one layer")
	bytesize.Var(f, &o.limits.MaxImageSize, "max-image-size", walk.DefaultMaxImageSize, "most uncompressed bytes read from all the layers of one image")
	bytesize.Var(f, &o.limits.MaxPathBytes, "max-path-bytes", walk.DefaultMaxPathBytes, "most bytes of entry paths kept from one layer (a layer of many long names is an error past it)")
	bytesize.Var(f, &o.limits.MaxImagePathBytes, "max-image-path-bytes", walk.DefaultMaxImagePathBytes, "most bytes of entry paths kept from all the layers of one image")
	f.Int64Var(&o.limits.MaxLayerRatio, "max-layer-ratio", walk.DefaultMaxLayerRatio, "largest uncompressed/stored ratio of a layer (and of the image) past its first 64 MiB: stops decompression bombs")
	bytesize.Var(f, &o.maxMetadata, "max-metadata-size", fetch.DefaultMaxMetadataSize, "largest manifest, index or image config read, in bytes")
	f.IntVar(&o.maxLayers, "max-layers", fetch.DefaultMaxLayers, "most layers of one image")
	f.IntVar(&o.maxHistory, "max-history", fetch.DefaultMaxHistory, "most history entries read from an image config")
	f.IntVar(&o.maxImageEntries, "max-image-archive-entries", fetch.DefaultMaxArchiveEntries, "most entries of a docker-archive or oci-archive file")
	f.DurationVar(&o.timeout, "timeout", fetch.DefaultTimeout, "per registry request: longest wait for a response, and longest stall of a download")
	flagdefaults.Positive(f, "archive-max-entry-size", "archive-max-total-size", "archive-max-ratio", "archive-max-entries",
		"max-entries", "max-path-len", "max-path-depth", "max-layer-size", "max-image-size", "max-layer-ratio", "max-path-bytes",
		"max-image-path-bytes", "max-metadata-size", "max-layers", "max-history", "max-image-archive-entries", "timeout", "jobs")
}

// fetchOptions are the bounds that apply while opening the image.
func (o *walkOptions) fetchOptions() []fetch.Option {
	return []fetch.Option{fetch.WithMaxMetadataSize(o.maxMetadata), fetch.WithMaxLayers(o.maxLayers), fetch.WithMaxHistory(o.maxHistory),
		fetch.WithMaxArchiveEntries(o.maxImageEntries), fetch.WithTimeout(o.timeout), fetch.WithMaxStreamSize(o.limits.MaxImageSize)}
}

// apply checks the flags and puts them into the scan options.
func (o *walkOptions) apply(so *scan.Options) error {
	switch walk.BinaryMode(o.binaries) {
	case walk.BinaryStrings, walk.BinarySkip, walk.BinaryFull:
		so.Binaries = walk.BinaryMode(o.binaries)
	default:
		return usageErr("unknown --binaries %q: use strings, skip or full", o.binaries)
	}
	so.MaxEntries, so.Limits = o.maxEntries, o.limits
	if o.archiveDepth < 0 || o.archiveMemory < 0 {
		return usageErr("%s must not be negative", map[bool]string{true: "--archive-depth", false: "--archive-memory"}[o.archiveDepth < 0])
	}
	// The flags say 0 for "none", the library "negative" (0 is its default).
	so.Archive = walk.ArchiveOptions{MaxDepth: o.archiveDepth, MaxEntrySize: o.archiveEntry, MaxTotalSize: o.archiveTotal,
		MaxRatio: o.archiveRatio, MaxEntries: o.archiveEntries, Memory: o.archiveMemory}
	if o.archiveDepth == 0 {
		so.Archive.MaxDepth = -1
	}
	if o.archiveMemory == 0 {
		so.Archive.Memory = -1 // every zip archive goes to a temp file
	}
	return nil
}
