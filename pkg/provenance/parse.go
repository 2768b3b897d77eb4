package provenance

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// MaxDatabaseSize bounds the bytes of one package-database file Parse
// reads; a larger one is recorded as a warning, unread.
const MaxDatabaseSize = 64 << 20

// maxFiles bounds the file records one database yields.
const maxFiles = 2_000_000

// Parse reads one package-database file of kind k at path p (see
// Classify). What cannot be read is a warning in the Records, never an
// error: a hostile database hides nothing but its own records.
func Parse(k Kind, p string, data []byte) *Records {
	r := &Records{}
	if len(data) > MaxDatabaseSize {
		r.warn(p, fmt.Errorf("%d bytes, more than %d: not read", len(data), MaxDatabaseSize))
		return r
	}
	var err error
	switch k {
	case DpkgStatus:
		err = parseDpkgStatus(r, data)
	case DpkgMD5Sums:
		err = parseMD5Sums(r, p, data)
	case ApkInstalled:
		err = parseApk(r, data)
	case RPMSQLite:
		err = parseRPMSQLite(r, data)
	case PythonRecord:
		err = parsePythonRecord(r, p, data)
	case NpmPackageJSON:
		err = parsePackageJSON(r, p, data)
	case Gemspec:
		parseGemspec(r, p)
	case MavenSHA1:
		err = parseMavenSHA1(r, p, data)
	}
	if err != nil {
		r.warn(p, err)
	}
	return r
}

func (r *Records) warn(p string, err error) {
	if len(r.Warnings) < 20 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("package database %s: %v", p, err))
	}
}

var errTooMany = fmt.Errorf("more than %d file records: the rest was not read", maxFiles)

func (r *Records) file(f File) error {
	if len(r.Files) >= maxFiles {
		return errTooMany
	}
	r.Files = append(r.Files, f)
	return nil
}

// lines calls fn for each line of data (without its end of line).
func lines(data []byte, fn func(line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if err := fn(sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// abs makes a database's relative path absolute and clean.
func abs(p string) string {
	return path.Clean("/" + p)
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// parseDpkgStatus reads dpkg's status file (or one stanza of distroless's
// status.d): each package's name and version, and its conffiles with the
// MD5 they shipped with (an edited conffile keeps that MD5 here).
func parseDpkgStatus(r *Records, data []byte) error {
	var name, version string
	var conffiles []string
	inConffiles := false
	flush := func() error {
		if name != "" {
			k := r.pkg(Package{Manager: Dpkg, Name: name, Version: version})
			for _, c := range conffiles {
				f := strings.Fields(c)
				if len(f) >= 2 && isHex(f[1], 32) {
					if err := r.file(File{Path: abs(f[0]), Pkg: k, Algo: MD5, Digest: strings.ToLower(f[1])}); err != nil {
						return err
					}
				}
			}
		}
		name, version, conffiles, inConffiles = "", "", nil, false
		return nil
	}
	err := lines(data, func(line string) error {
		switch {
		case strings.TrimSpace(line) == "":
			return flush()
		case line[0] == ' ' || line[0] == '\t':
			if inConffiles {
				conffiles = append(conffiles, line)
			}
			return nil
		}
		inConffiles = false
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Package":
			name = val
		case "Version":
			version = val
		case "Conffiles":
			inConffiles = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// dpkgName is the package name of an info/NAME[:ARCH].EXT file.
func dpkgName(p, ext string) string {
	name := strings.TrimSuffix(path.Base(p), ext)
	name, _, _ = strings.Cut(name, ":")
	return name
}

// parseMD5Sums reads dpkg's info/NAME.md5sums: "MD5  path" per line, the
// path relative to the root.
func parseMD5Sums(r *Records, p string, data []byte) error {
	k := r.pkg(Package{Manager: Dpkg, Name: dpkgName(p, ".md5sums")})
	return lines(data, func(line string) error {
		sum, file, ok := strings.Cut(line, " ")
		file = strings.TrimLeft(file, " *")
		if !ok || file == "" || !isHex(sum, 32) {
			return nil
		}
		return r.file(File{Path: abs(file), Pkg: k, Algo: MD5, Digest: strings.ToLower(sum)})
	})
}

// parseApk reads apk's installed database: stanzas of P: (name), V:
// (version), F: (a directory), R: (a file in it) and Z: (Q1 + base64 of
// the file's SHA-1).
func parseApk(r *Records, data []byte) error {
	var name, version, dir, file string
	k := -1
	var pending []File
	flush := func() error {
		if name != "" {
			k = r.pkg(Package{Manager: Apk, Name: name, Version: version})
			for _, f := range pending {
				f.Pkg = k
				if err := r.file(f); err != nil {
					return err
				}
			}
		}
		name, version, dir, file, pending = "", "", "", "", nil
		return nil
	}
	err := lines(data, func(line string) error {
		if strings.TrimSpace(line) == "" {
			return flush()
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok || len(key) != 1 {
			return nil
		}
		switch key {
		case "P":
			name = val
		case "V":
			version = val
		case "F":
			dir = val
		case "R":
			file = val
			if len(pending) < maxFiles {
				pending = append(pending, File{Path: abs(path.Join(dir, file))})
			}
		case "Z":
			if file == "" || len(pending) == 0 || !strings.HasPrefix(val, "Q1") {
				return nil
			}
			sum, err := base64.StdEncoding.DecodeString(val[2:])
			if err == nil && len(sum) == 20 {
				last := &pending[len(pending)-1]
				last.Algo, last.Digest = SHA1, hex.EncodeToString(sum)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// parsePythonRecord reads a wheel's RECORD (CSV: path, sha256=URL-safe
// base64 without padding, size), paths relative to the directory holding
// the .dist-info directory.
func parsePythonRecord(r *Records, p string, data []byte) error {
	distInfo := path.Dir(p)
	base := path.Dir(distInfo)
	nameVer := strings.TrimSuffix(path.Base(distInfo), ".dist-info")
	name, version := nameVer, ""
	if i := strings.LastIndexByte(nameVer, '-'); i > 0 {
		name, version = nameVer[:i], nameVer[i+1:]
	}
	k := r.pkg(Package{Manager: Python, Name: name, Version: version})
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(rec) < 2 || rec[0] == "" {
			continue
		}
		f := File{Path: path.Clean(path.Join(base, rec[0])), Pkg: k}
		if algo, sum, ok := strings.Cut(rec[1], "="); ok && algo == "sha256" {
			if raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(sum, "=")); err == nil && len(raw) == 32 {
				f.Algo, f.Digest = SHA256, hex.EncodeToString(raw)
			}
		}
		if err := r.file(f); err != nil {
			return err
		}
	}
}

// parsePackageJSON reads node_modules/NAME/package.json: the package's
// name and version, and its directory as the package's root.
func parsePackageJSON(r *Records, p string, data []byte) error {
	var pj struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	dir := path.Dir(p)
	if err := json.Unmarshal(data, &pj); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if pj.Name == "" {
		// The directory's name is the package's name.
		pj.Name = strings.TrimPrefix(dir[strings.LastIndex(dir, "/node_modules/")+len("/node_modules/"):], "/")
	}
	k := r.pkg(Package{Manager: Npm, Name: short(pj.Name), Version: short(pj.Version)})
	r.Roots = append(r.Roots, Root{Dir: dir, Pkg: k})
	return nil
}

// parseGemspec records the gem directory that RubyGems installed beside
// specifications/NAME-VERSION[-PLATFORM].gemspec.
func parseGemspec(r *Records, p string) {
	full := strings.TrimSuffix(path.Base(p), ".gemspec")
	name, version := splitNameVersion(full)
	k := r.pkg(Package{Manager: Gem, Name: name, Version: version})
	r.Roots = append(r.Roots, Root{Dir: path.Join(path.Dir(path.Dir(p)), "gems", full), Pkg: k})
}

// splitNameVersion splits NAME-VERSION at the first "-" followed by a
// digit (names may hold dashes, versions start with a digit).
func splitNameVersion(s string) (name, version string) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '-' && s[i+1] >= '0' && s[i+1] <= '9' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// parseMavenSHA1 reads the A-V.jar.sha1 that Maven writes beside a jar it
// downloaded into ~/.m2/repository: the jar's SHA-1 in hex.
func parseMavenSHA1(r *Records, p string, data []byte) error {
	fields := strings.Fields(string(data))
	if len(fields) == 0 || !isHex(fields[0], 40) {
		return errors.New("not a SHA-1")
	}
	jar := strings.TrimSuffix(p, ".sha1")
	pkg, ok := mavenRepoPackage(jar)
	if !ok {
		return errors.New("not in a Maven repository layout")
	}
	return r.file(File{Path: jar, Pkg: r.pkg(pkg), Algo: SHA1, Digest: strings.ToLower(fields[0])})
}

// mavenRepoPackage names the artifact of a file in a Maven repository
// layout: …/.m2/repository/GROUP/PATH/ARTIFACT/VERSION/FILE.
func mavenRepoPackage(p string) (Package, bool) {
	_, rest, ok := strings.Cut(p, "/.m2/repository/")
	if !ok {
		return Package{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 4 {
		return Package{}, false
	}
	n := len(parts)
	group := strings.Join(parts[:n-3], ".")
	return Package{Manager: Maven, Name: group + ":" + parts[n-3], Version: parts[n-2]}, true
}

// short bounds a name or version taken from an image.
func short(s string) string {
	if len(s) > 214 {
		return s[:214]
	}
	return s
}
