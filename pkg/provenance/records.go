package provenance

import (
	"path"
	"strings"
)

// Package managers and ecosystems an Origin names.
const (
	Dpkg   = "dpkg"
	Apk    = "apk"
	RPM    = "rpm"
	Python = "python"
	Npm    = "npm"
	Gem    = "gem"
	GoMod  = "go"
	Maven  = "maven"
)

// Digest algorithms of File.Algo, as the walk computes them.
const (
	MD5    = "md5"
	SHA1   = "sha1"
	SHA256 = "sha256"
)

// Package is one installed package.
type Package struct {
	Manager string `json:"m"`
	Name    string `json:"n"`
	// Version is "" when the record naming the package does not say it
	// (a dpkg md5sums file): NewIndex fills it from another record.
	Version string `json:"v,omitempty"`
}

// File is a file a package database records.
type File struct {
	// Path is absolute and cleaned, as walk.CleanPath makes entry paths.
	Path string `json:"p"`
	// Pkg is the package's index in Records.Packages.
	Pkg int `json:"k"`
	// Algo and Digest (lower-case hex) are the recorded digest of the
	// file's bytes; both "" when the database records none.
	Algo   string `json:"a,omitempty"`
	Digest string `json:"d,omitempty"`
}

// Root is a directory whose files belong to a package (an npm package's
// directory, a gem's): a file under several roots belongs to the deepest.
type Root struct {
	Dir string `json:"r"`
	Pkg int    `json:"k"`
}

// Records is what the package databases of one layer say.
type Records struct {
	Packages []Package `json:"packages,omitempty"`
	Files    []File    `json:"files,omitempty"`
	Roots    []Root    `json:"roots,omitempty"`
	// Warnings are databases that could not be read, or were cut.
	Warnings []string `json:"warnings,omitempty"`
}

// Empty tells whether r records nothing.
func (r *Records) Empty() bool {
	return r == nil || len(r.Packages) == 0 && len(r.Warnings) == 0
}

// pkg adds p (once) and returns its index.
func (r *Records) pkg(p Package) int {
	for i := len(r.Packages) - 1; i >= 0 && i >= len(r.Packages)-4; i-- {
		if r.Packages[i] == p {
			return i
		}
	}
	r.Packages = append(r.Packages, p)
	return len(r.Packages) - 1
}

// Merge adds o's records to r.
func (r *Records) Merge(o *Records) {
	if o == nil {
		return
	}
	base := len(r.Packages)
	r.Packages = append(r.Packages, o.Packages...)
	for _, f := range o.Files {
		f.Pkg += base
		r.Files = append(r.Files, f)
	}
	for _, rt := range o.Roots {
		rt.Pkg += base
		r.Roots = append(r.Roots, rt)
	}
	r.Warnings = append(r.Warnings, o.Warnings...)
}

// Kind is which parser reads a package-database file.
type Kind uint8

// Kinds of package-database files.
const (
	None Kind = iota
	DpkgStatus
	DpkgMD5Sums
	ApkInstalled
	RPMSQLite
	PythonRecord
	NpmPackageJSON
	Gemspec
	MavenSHA1
)

// Classify tells whether the file at p (absolute, cleaned) is a package
// database Parse reads, and which kind.
func Classify(p string) Kind {
	base := path.Base(p)
	dir := path.Dir(p)
	switch {
	case p == "/var/lib/dpkg/status":
		return DpkgStatus
	case dir == "/var/lib/dpkg/info" && strings.HasSuffix(base, ".md5sums"):
		return DpkgMD5Sums
	case dir == "/var/lib/dpkg/status.d":
		// distroless: one status stanza per package, and NAME.md5sums.
		if strings.HasSuffix(base, ".md5sums") {
			return DpkgMD5Sums
		}
		return DpkgStatus
	case p == "/lib/apk/db/installed":
		return ApkInstalled
	case base == "rpmdb.sqlite" && (dir == "/var/lib/rpm" || dir == "/usr/lib/sysimage/rpm"):
		return RPMSQLite
	case base == "RECORD" && strings.HasSuffix(dir, ".dist-info"):
		return PythonRecord
	case base == "package.json" && npmPackageDir(dir):
		return NpmPackageJSON
	case strings.HasSuffix(base, ".gemspec") && path.Base(dir) == "specifications":
		return Gemspec
	case strings.HasSuffix(base, ".jar.sha1") && strings.Contains(p, "/.m2/repository/"):
		return MavenSHA1
	}
	return None
}

// npmPackageDir tells whether dir is a package's directory right under a
// node_modules: node_modules/NAME or node_modules/@SCOPE/NAME.
func npmPackageDir(dir string) bool {
	parent := path.Dir(dir)
	if path.Base(parent) == "node_modules" {
		return !strings.HasPrefix(path.Base(dir), "@") && !strings.HasPrefix(path.Base(dir), ".")
	}
	return strings.HasPrefix(path.Base(parent), "@") && path.Base(path.Dir(parent)) == "node_modules"
}
