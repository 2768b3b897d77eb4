package main

import (
	"github.com/spf13/pflag"

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
}

func (o *walkOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.binaries, "binaries", string(walk.BinaryStrings),
		"binary files: strings (printable runs of 8+ bytes, high-confidence rules only), skip (path rules only), full (every rule over the raw bytes)")
	f.IntVar(&o.archiveDepth, "archive-depth", walk.DefaultArchiveDepth, "how many nested archives deep to scan (zip/jar/war/tar/gz/zst/bz2/xz…; 0: none)")
	f.Int64Var(&o.archiveEntry, "archive-max-entry-size", walk.DefaultArchiveMaxEntrySize, "largest decompressed archive member scanned, in bytes")
	f.Int64Var(&o.archiveTotal, "archive-max-total-size", walk.DefaultArchiveMaxTotalSize, "most decompressed bytes read out of one archive, nested ones included")
	f.Int64Var(&o.archiveRatio, "archive-max-ratio", walk.DefaultArchiveMaxRatio, "largest decompressed/compressed ratio of an archive member past its first MiB")
	f.IntVar(&o.archiveEntries, "archive-max-entries", walk.DefaultArchiveMaxEntries, "most members read from one archive")
	f.Int64Var(&o.archiveMemory, "archive-memory", walk.DefaultArchiveMemory, "bytes of zip archives held in memory at once; larger ones go to an unlinked 0600 temp file")
}

// apply checks the flags and puts them into the scan options.
func (o *walkOptions) apply(so *scan.Options) error {
	switch walk.BinaryMode(o.binaries) {
	case walk.BinaryStrings, walk.BinarySkip, walk.BinaryFull:
		so.Binaries = walk.BinaryMode(o.binaries)
	default:
		return usageErr("unknown --binaries %q: use strings, skip or full", o.binaries)
	}
	for _, c := range []struct {
		name string
		v    int64
	}{{"--archive-max-entry-size", o.archiveEntry}, {"--archive-max-total-size", o.archiveTotal},
		{"--archive-max-ratio", o.archiveRatio}, {"--archive-max-entries", int64(o.archiveEntries)}} {
		if c.v < 1 {
			return usageErr("%s must be at least 1", c.name)
		}
	}
	if o.archiveDepth < 0 || o.archiveMemory < 0 {
		return usageErr("%s must not be negative", map[bool]string{true: "--archive-depth", false: "--archive-memory"}[o.archiveDepth < 0])
	}
	so.ArchiveDepth = o.archiveDepth
	if o.archiveDepth == 0 {
		so.ArchiveDepth = -1
	}
	so.Archive = walk.ArchiveOptions{
		MaxEntrySize: o.archiveEntry, MaxTotalSize: o.archiveTotal, MaxRatio: o.archiveRatio,
		MaxEntries: o.archiveEntries, Memory: o.archiveMemory,
	}
	if o.archiveMemory == 0 {
		so.Archive.Memory = -1 // every zip archive goes to a temp file
	}
	return nil
}
