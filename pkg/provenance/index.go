package provenance

import (
	"path"
	"regexp"
	"strings"

	"github.com/layerscan/layerscan/pkg/walk"
)

// Origin types.
const (
	// TypeImage is content put into the image by whoever built it.
	TypeImage = "image"
	// TypePackage is vendor content: a file a package installed, as the
	// package shipped it.
	TypePackage = "package"
)

// How a package origin was established.
const (
	// ByDigest: the file's bytes match the digest the package database
	// recorded for that path.
	ByDigest = "digest"
	// ByLocation: the file is where the package keeps its files and the
	// package manager records no digest to compare (npm, gems, the Go
	// module cache, jars by name), or its bytes were not hashed (binaries
	// are read as strings).
	ByLocation = "location"
)

// Origin says whose content a file is.
type Origin struct {
	// Type is TypeImage or TypePackage.
	Type string `json:"type"`
	// Manager, Name and Version name the package: the owner of a package
	// origin, or, for a Modified image origin, the package whose file the
	// builder changed.
	Manager string `json:"manager,omitempty"`
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// VerifiedBy is ByDigest or ByLocation for a package origin.
	VerifiedBy string `json:"verified_by,omitempty"`
	// Modified marks a package's file whose bytes differ from the digest
	// the package recorded (an edited config): the builder's content.
	Modified bool `json:"modified,omitempty"`
}

// Vendor tells whether o is vendor content.
func (o *Origin) Vendor() bool { return o != nil && o.Type == TypePackage }

// Label names the package of o for people: "aws-sdk 2.1693.0 (npm)".
func (o *Origin) Label() string {
	if o == nil || o.Name == "" {
		return ""
	}
	s := o.Name
	if o.Version != "" {
		s += " " + o.Version
	}
	return s + " (" + o.Manager + ")"
}

type pkgKey struct{ manager, name string }

type fileRec struct {
	pkg          Package
	algo, digest string
}

// Index answers whose a file of one image is, from the Records of all of
// its layers.
type Index struct {
	files    map[string][]fileRec
	roots    map[string]Package
	versions map[pkgKey]string
	// Warnings are the databases that could not be read.
	Warnings []string
}

// NewIndex joins the package records of an image's layers, in any order:
// a package database may sit in a layer before or after the files it
// describes, and every version of it counts (a file of a package removed
// later was still that package's).
func NewIndex(layers []*Records) *Index {
	versions := map[pkgKey]string{}
	ix := &Index{files: map[string][]fileRec{}, roots: map[string]Package{}, versions: versions}
	for _, r := range layers {
		if r == nil {
			continue
		}
		for _, p := range r.Packages {
			if p.Version != "" {
				versions[pkgKey{p.Manager, p.Name}] = p.Version
			}
		}
		ix.Warnings = append(ix.Warnings, r.Warnings...)
	}
	resolve := func(p Package) Package {
		if p.Version == "" {
			p.Version = versions[pkgKey{p.Manager, p.Name}]
		}
		return p
	}
	for _, r := range layers {
		if r == nil {
			continue
		}
		for _, f := range r.Files {
			if f.Pkg < 0 || f.Pkg >= len(r.Packages) {
				continue
			}
			rec := fileRec{pkg: resolve(r.Packages[f.Pkg]), algo: f.Algo, digest: f.Digest}
			recs := ix.files[f.Path]
			dup := false
			for _, o := range recs {
				if o == rec {
					dup = true
					break
				}
			}
			if !dup {
				ix.files[f.Path] = append(recs, rec)
			}
		}
		for _, rt := range r.Roots {
			if rt.Pkg >= 0 && rt.Pkg < len(r.Packages) {
				ix.roots[rt.Dir] = resolve(r.Packages[rt.Pkg])
			}
		}
	}
	return ix
}

// Lookup says whose content the file at p is (absolute, cleaned), given
// the digests of its bytes (nil or empty fields: not computed) and, for
// content inside archives nested in the file, the chain of members.
func (ix *Index) Lookup(p string, archivePath []string, d *walk.Digests) Origin {
	if o, ok := ix.lookupFile(p, d); ok {
		return o
	}
	if o, ok := ix.metadataOf(p); ok {
		return o
	}
	if o, ok := locationOf(p, archivePath, d); ok {
		return o
	}
	for dir := path.Dir(p); dir != "/" && dir != "."; dir = path.Dir(dir) {
		if pkg, ok := ix.roots[dir]; ok {
			return packageOrigin(pkg, ByLocation)
		}
		if path.Base(dir) == "node_modules" {
			break // a package's own node_modules is not the package
		}
	}
	return Origin{Type: TypeImage}
}

func packageOrigin(p Package, by string) Origin {
	return Origin{Type: TypePackage, Manager: p.Manager, Name: p.Name, Version: p.Version, VerifiedBy: by}
}

// pycSource matches the bytecode Python compiles a module to:
// DIR/__pycache__/NAME.TAG.pyc for DIR/NAME.py.
var pycSource = regexp.MustCompile(`^(.*)/__pycache__/([^/.]+)\.[^/]+\.pyc$`)

// metadataOf places the files package managers write about packages
// rather than from them: apt's package lists (the archive's index), dpkg's
// own database and maintainer scripts, and the bytecode that installing a
// Python package compiles from its modules (Debian's py3compile, pip).
func (ix *Index) metadataOf(p string) (Origin, bool) {
	switch {
	case strings.HasPrefix(p, "/var/lib/apt/lists/") || strings.HasPrefix(p, "/var/cache/apt/"):
		return packageOrigin(Package{Manager: "apt", Name: "package-lists"}, ByLocation), true
	case p == "/var/lib/dpkg/status" || p == "/var/lib/dpkg/status-old" || p == "/var/lib/dpkg/available":
		return packageOrigin(Package{Manager: Dpkg, Name: "dpkg-database"}, ByLocation), true
	case path.Dir(p) == "/var/lib/dpkg/info":
		name := dpkgName(p, path.Ext(p))
		for _, recs := range ix.files[p] {
			return packageOrigin(recs.pkg, ByLocation), true
		}
		return packageOrigin(Package{Manager: Dpkg, Name: name, Version: ix.versions[pkgKey{Dpkg, name}]}, ByLocation), true
	}
	if m := pycSource.FindStringSubmatch(p); m != nil {
		if recs := ix.files[m[1]+"/"+m[2]+".py"]; len(recs) > 0 {
			return packageOrigin(recs[0].pkg, ByLocation), true
		}
	}
	return Origin{}, false
}

// lookupFile checks the file records for p: a digest that matches makes
// it the package's; digests that all differ make it modified; a record
// without a digest to compare places it by location.
func (ix *Index) lookupFile(p string, d *walk.Digests) (Origin, bool) {
	recs := ix.files[p]
	if len(recs) == 0 {
		return Origin{}, false
	}
	var located, modified *fileRec
	for i := range recs {
		r := &recs[i]
		have := d.Get(r.algo)
		switch {
		case r.digest != "" && have != "" && have == r.digest:
			return packageOrigin(r.pkg, ByDigest), true
		case r.digest != "" && have != "":
			if modified == nil {
				modified = r
			}
		default:
			if located == nil {
				located = r
			}
		}
	}
	if modified != nil {
		return Origin{Type: TypeImage, Manager: modified.pkg.Manager, Name: modified.pkg.Name, Version: modified.pkg.Version, Modified: true}, true
	}
	return packageOrigin(located.pkg, ByLocation), true
}

var (
	// goModPath: the Go module cache, MODULE@VERSION (upper case escaped
	// as !x in MODULE).
	goModPath = regexp.MustCompile(`/pkg/mod/((?:[^/@]+/)*[^/@]+)@(v[^/]+)/`)
	// gradlePath: Gradle's cache names each file's directory by its SHA-1.
	gradlePath = regexp.MustCompile(`/caches/modules-2/files-2\.1/([^/]+)/([^/]+)/([^/]+)/([0-9a-f]{40})/[^/]+$`)
	// libJar: a library jar nested in a Spring Boot or web archive.
	libJar = regexp.MustCompile(`^(?:BOOT-INF|WEB-INF)/lib/([^/]+?)-(\d[^/]*)\.jar$`)
)

// locationOf names the package of a file by where package managers keep
// their files, with no database: the Go module cache, a Maven or Gradle
// repository, and library jars nested in an application archive.
func locationOf(p string, archivePath []string, d *walk.Digests) (Origin, bool) {
	if m := goModPath.FindStringSubmatch(p); m != nil {
		return packageOrigin(Package{Manager: GoMod, Name: unescapeModule(m[1]), Version: m[2]}, ByLocation), true
	}
	if m := gradlePath.FindStringSubmatch(p); m != nil {
		pkg := Package{Manager: Maven, Name: m[1] + ":" + m[2], Version: m[3]}
		switch have := d.Get(SHA1); {
		case have == m[4]:
			return packageOrigin(pkg, ByDigest), true
		case have != "":
			return Origin{Type: TypeImage, Manager: pkg.Manager, Name: pkg.Name, Version: pkg.Version, Modified: true}, true
		}
		return packageOrigin(pkg, ByLocation), true
	}
	if strings.HasSuffix(p, ".jar") {
		if pkg, ok := mavenRepoPackage(p); ok {
			return packageOrigin(pkg, ByLocation), true
		}
	}
	if len(archivePath) > 0 {
		if m := libJar.FindStringSubmatch(archivePath[0]); m != nil {
			return packageOrigin(Package{Manager: Maven, Name: m[1], Version: m[2]}, ByLocation), true
		}
	}
	return Origin{}, false
}

// unescapeModule undoes the module cache's case escaping (!a → A).
func unescapeModule(s string) string {
	if !strings.Contains(s, "!") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '!' && i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z' {
			b.WriteByte(s[i+1] - 'a' + 'A')
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
