// Package bytesize reads and writes byte counts with units, for the flags
// that take a size: "4096" (bytes), "512MiB", "1GB", "1.5GiB". Decimal
// units (kB, MB, GB, TB, PB) are powers of 1000, binary ones (KiB, MiB,
// GiB, TiB, PiB) powers of 1024; units are read in any letter case and may
// follow the number after a space. Value is the pflag.Value of such a
// flag, so the flag also takes a size from the environment or a config
// file (internal/flagdefaults sets flags through pflag).
package bytesize
