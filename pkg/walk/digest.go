package walk

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

// Digests are the digests of a file's bytes that package managers record
// (dpkg: MD5; apk, Maven: SHA-1; rpm, Python wheels: SHA-256), lower-case
// hex; "" when not computed.
//
// A file's digests are computed only where they cost nothing extra to
// keep: by the scanner for a file whose whole content is one chunk and
// holds a finding (Chunk.Whole), and by the walker while it streams a text
// file longer than a chunk, or an archive it opens (Result.Digests).
// Binaries read as strings are not hashed.
type Digests struct {
	MD5    string `json:"md5,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// Get returns the digest of algorithm algo ("md5", "sha1" or "sha256").
func (d *Digests) Get(algo string) string {
	if d == nil {
		return ""
	}
	switch algo {
	case "md5":
		return d.MD5
	case "sha1":
		return d.SHA1
	case "sha256":
		return d.SHA256
	}
	return ""
}

// DigestsOf computes the Digests of b.
func DigestsOf(b []byte) Digests {
	h := newHasher()
	h.Write(b)
	return h.sum()
}

// hasher computes every Digests algorithm in one pass.
type hasher struct {
	md5, sha1, sha256 hash.Hash
	n                 int64
}

func newHasher() *hasher {
	return &hasher{md5: md5.New(), sha1: sha1.New(), sha256: sha256.New()}
}

func (h *hasher) Write(p []byte) (int, error) {
	h.md5.Write(p)
	h.sha1.Write(p)
	h.sha256.Write(p)
	h.n += int64(len(p))
	return len(p), nil
}

func (h *hasher) sum() Digests {
	return Digests{
		MD5:    hex.EncodeToString(h.md5.Sum(nil)),
		SHA1:   hex.EncodeToString(h.sha1.Sum(nil)),
		SHA256: hex.EncodeToString(h.sha256.Sum(nil)),
	}
}

// hashingReader hashes what is read through it.
type hashingReader struct {
	r io.Reader
	h *hasher
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	return n, err
}
