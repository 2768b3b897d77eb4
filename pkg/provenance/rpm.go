package provenance

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // pure-Go SQLite: the rpmdb of current distributions
)

// maxRPMPackages bounds the packages read from one rpmdb.
const maxRPMPackages = 100_000

// parseRPMSQLite reads an rpmdb.sqlite (Fedora 33+, RHEL 9, current SUSE):
// table Packages holds one RPM header blob per installed package. SQLite
// needs a file: the bytes go to a 0600 temporary file, removed on return.
func parseRPMSQLite(r *Records, data []byte) error {
	f, err := os.CreateTemp("", "layerscan-rpmdb-*.sqlite")
	if err != nil {
		return fmt.Errorf("spooling the rpmdb: %w", err)
	}
	name := f.Name()
	defer os.Remove(name)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spooling the rpmdb: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+name+"?mode=ro&immutable=1")
	if err != nil {
		return fmt.Errorf("opening the rpmdb: %w", err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT blob FROM Packages")
	if err != nil {
		return fmt.Errorf("reading the rpmdb: %w", err)
	}
	defer rows.Close()
	n := 0
	var bad int
	for rows.Next() {
		if n++; n > maxRPMPackages {
			return fmt.Errorf("more than %d packages: the rest was not read", maxRPMPackages)
		}
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return fmt.Errorf("reading the rpmdb: %w", err)
		}
		if err := addRPMHeader(r, blob); err != nil {
			if errors.Is(err, errTooMany) {
				return err
			}
			bad++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the rpmdb: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("%d package header(s) could not be read", bad)
	}
	return nil
}

// RPM header tags and types read here (rpmtag.h).
const (
	tagName           = 1000
	tagVersion        = 1001
	tagRelease        = 1002
	tagEpoch          = 1003
	tagFileDigests    = 1035
	tagDirIndexes     = 1116
	tagBaseNames      = 1117
	tagDirNames       = 1118
	tagFileDigestAlgo = 5011

	typeInt32       = 4
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// rpmHeader is a parsed header blob: index entries over a data area.
type rpmHeader struct {
	entries map[int32]rpmEntry
	data    []byte
}

type rpmEntry struct {
	typ         uint32
	offset, cnt int
}

// parseRPMHeader reads a header blob as rpm stores it in the rpmdb: the
// index length il and data length dl (big-endian int32), il entries of
// tag, type, offset and count, then dl bytes of data.
func parseRPMHeader(blob []byte) (*rpmHeader, error) {
	if len(blob) < 8 {
		return nil, errors.New("short header")
	}
	il := int(binary.BigEndian.Uint32(blob[0:4]))
	dl := int(binary.BigEndian.Uint32(blob[4:8]))
	if il < 1 || il > 0xffff || dl < 0 || dl > len(blob) || 8+16*il+dl > len(blob) {
		return nil, errors.New("header lengths out of range")
	}
	h := &rpmHeader{entries: make(map[int32]rpmEntry, il), data: blob[8+16*il : 8+16*il+dl]}
	for i := range il {
		e := blob[8+16*i:]
		tag := int32(binary.BigEndian.Uint32(e[0:4]))
		ent := rpmEntry{typ: binary.BigEndian.Uint32(e[4:8]), offset: int(int32(binary.BigEndian.Uint32(e[8:12]))), cnt: int(binary.BigEndian.Uint32(e[12:16]))}
		if ent.offset < 0 || ent.offset > dl || ent.cnt < 0 || ent.cnt > dl+1 {
			continue
		}
		h.entries[tag] = ent
	}
	return h, nil
}

func (h *rpmHeader) strings(tag int32) []string {
	e, ok := h.entries[tag]
	if !ok || (e.typ != typeString && e.typ != typeStringArray && e.typ != typeI18NString) {
		return nil
	}
	n := e.cnt
	if e.typ == typeString {
		n = 1
	}
	out := make([]string, 0, min(n, 1<<16))
	rest := h.data[e.offset:]
	for range n {
		i := 0
		for i < len(rest) && rest[i] != 0 {
			i++
		}
		if i == len(rest) {
			return nil // unterminated: a broken header
		}
		out = append(out, string(rest[:i]))
		rest = rest[i+1:]
	}
	return out
}

func (h *rpmHeader) str(tag int32) string {
	if s := h.strings(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

func (h *rpmHeader) int32s(tag int32) []int {
	e, ok := h.entries[tag]
	if !ok || e.typ != typeInt32 || e.offset+4*e.cnt > len(h.data) {
		return nil
	}
	out := make([]int, e.cnt)
	for i := range out {
		out[i] = int(int32(binary.BigEndian.Uint32(h.data[e.offset+4*i:])))
	}
	return out
}

// rpmDigestAlgo maps PGPHASHALGO values to the digests the walk computes
// ("" for the others: such files are matched by location only).
func rpmDigestAlgo(v int) string {
	switch v {
	case 1:
		return MD5
	case 2:
		return SHA1
	case 8:
		return SHA256
	}
	return ""
}

// addRPMHeader records one package and its files.
func addRPMHeader(r *Records, blob []byte) error {
	h, err := parseRPMHeader(blob)
	if err != nil {
		return err
	}
	name := h.str(tagName)
	if name == "" {
		return errors.New("header without a name")
	}
	version := h.str(tagVersion)
	if rel := h.str(tagRelease); rel != "" {
		version += "-" + rel
	}
	if ep := h.int32s(tagEpoch); len(ep) == 1 && ep[0] > 0 {
		version = strconv.Itoa(ep[0]) + ":" + version
	}
	k := r.pkg(Package{Manager: RPM, Name: short(name), Version: short(version)})
	base, dirs, idx := h.strings(tagBaseNames), h.strings(tagDirNames), h.int32s(tagDirIndexes)
	if len(base) != len(idx) {
		return nil // a package without files (or a broken file list)
	}
	digests := h.strings(tagFileDigests)
	algo := MD5 // rpm's default before FILEDIGESTALGO existed
	if a := h.int32s(tagFileDigestAlgo); len(a) == 1 {
		algo = rpmDigestAlgo(a[0])
	}
	for i, b := range base {
		if idx[i] < 0 || idx[i] >= len(dirs) {
			continue
		}
		f := File{Path: abs(dirs[idx[i]] + b), Pkg: k}
		if algo != "" && len(digests) == len(base) && digests[i] != "" {
			f.Algo, f.Digest = algo, strings.ToLower(digests[i])
		}
		if err := r.file(f); err != nil {
			return err
		}
	}
	return nil
}
