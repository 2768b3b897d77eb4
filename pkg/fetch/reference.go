package fetch

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// More kinds of source (see Kind).
const (
	// KindDaemon is the Docker Engine API ($DOCKER_HOST).
	KindDaemon Kind = "docker-daemon"
	// KindPodman is podman's service, through its Docker-compatible API.
	KindPodman Kind = "podman"
	// KindStorage is a containers-storage store (podman, buildah, CRI-O),
	// read directly from disk.
	KindStorage Kind = "containers-storage"
	// KindDir is a directory read as a single layer (a root filesystem).
	KindDir Kind = "dir"
	// KindStdin is a docker-save or OCI archive read from standard input.
	KindStdin Kind = "stdin"
)

// Scheme is one prefix of the reference grammar Open understands.
type Scheme struct {
	// Prefix is what a reference starts with ("docker-archive:").
	Prefix string
	// Kind is the source it names.
	Kind Kind
	// Syntax shows the rest of the reference; Doc says what is read.
	Syntax, Doc string
}

// Schemes are the prefixes Open understands, in the order they are
// tried ("docker://" before "docker:").
var Schemes = []Scheme{
	{"docker://", KindRegistry, "REF", "a registry image (tag or digest), as skopeo writes it"},
	{"registry:", KindRegistry, "REF", "a registry image, as syft writes it"},
	{"docker-archive:", KindDockerArchive, "PATH[:REF|:@N]", "a docker save / podman save tar; REF (a RepoTag) or @N (0-based) picks one image of a multi-image archive"},
	{"oci-archive:", KindOCIArchive, "PATH[:NAME]", "a tar of an OCI layout; NAME picks an org.opencontainers.image.ref.name"},
	{"oci:", KindOCILayout, "DIR[:NAME]", "an OCI image layout directory; NAME as for oci-archive:"},
	{"docker-daemon:", KindDaemon, "NAME|ID", "an image of the Docker daemon ($DOCKER_HOST, default unix:///var/run/docker.sock)"},
	{"docker:", KindDaemon, "NAME|ID", "the same as docker-daemon: (syft's spelling); not Docker Hub"},
	{"podman:", KindPodman, "NAME|ID", "an image of podman's service ($CONTAINER_HOST, default /run/podman/podman.sock, or $XDG_RUNTIME_DIR/podman/podman.sock for other users)"},
	{"containers-storage:", KindStorage, "[[DRIVER@]ROOT[+RUNROOT]]NAME|ID", "an image of a podman/buildah/CRI-O store read from disk (overlay or vfs; default /var/lib/containers/storage, or ~/.local/share/containers/storage for other users)"},
	{"dir:", KindDir, "PATH", "a directory (an unpacked root filesystem) read as one layer with no history"},
	{"rootfs:", KindDir, "PATH", "the same as dir:"},
}

// foreignSchemes are prefixes of other tools that layerscan does not
// read, with what to use instead: such a reference is an error, never a
// Docker Hub image of that name.
var foreignSchemes = map[string]string{
	"containerd":   "export the image first (ctr -n NAMESPACE image export app.tar NAME, or nerdctl save -o app.tar NAME) and scan app.tar",
	"nerdctl":      "export the image first (nerdctl save -o app.tar NAME) and scan app.tar",
	"cri-o":        "CRI-O keeps its images in containers-storage: use containers-storage:NAME",
	"crio":         "CRI-O keeps its images in containers-storage: use containers-storage:NAME",
	"oci-registry": "use registry:REF",
	"oci-dir":      "use oci:DIR",
	"tarball":      "use docker-archive:PATH",
	"file":         "give the path itself, or docker-archive:PATH or oci-archive:PATH",
	"singularity":  "Singularity/Apptainer images (SIF) are not read",
	"sif":          "Singularity/Apptainer images (SIF) are not read",
	"ostree":       "OSTree repositories are not read",
	"sbom":         "layerscan reads images, not SBOMs",
	"purl":         "layerscan reads images, not package URLs",
	"http":         "give the registry reference without a URL scheme (host/repo:tag)",
	"https":        "give the registry reference without a URL scheme (host/repo:tag)",
}

// UnknownSchemeError is the error of a reference with an unknown scheme.
type UnknownSchemeError struct {
	// Scheme is the prefix without its colon ("containerd").
	Scheme string
	// Hint says what to do instead, when known.
	Hint string
}

func (e *UnknownSchemeError) Error() string {
	msg := fmt.Sprintf("%s %q", ErrUnknownScheme, e.Scheme+":")
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg + "; layerscan reads " + SchemeList() + ", a registry reference or a path"
}

func (e *UnknownSchemeError) Unwrap() error { return ErrUnknownScheme }

// SchemeList names the prefixes of Schemes, for messages.
func SchemeList() string {
	var out []string
	for _, s := range Schemes {
		out = append(out, s.Prefix)
	}
	return strings.Join(append(out, "-"), " ")
}

// Reference is a reference parsed by the grammar (see ParseReference).
type Reference struct {
	// Kind is the source it names.
	Kind Kind
	// Target is the reference without its scheme: a path, a registry
	// reference or an image name, still carrying any :REF/:NAME suffix
	// of an archive or layout (the opener splits it, looking at the disk).
	Target string
	// Scheme is the prefix given, "" when the kind was worked out.
	Scheme string
}

var (
	// schemeWord is what may be a URI-like scheme: lower case, no dot
	// (a dot makes a registry host), no underscore (a repository name).
	schemeWord = regexp.MustCompile(`^([a-z][a-z0-9+-]*):(.*)$`)
	// tagLike is a Docker tag, optionally followed by a digest.
	tagLike = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@.*)?$`)
	// portLike is a registry port: host:5000/repo.
	portLike = regexp.MustCompile(`^[0-9]+(/|$)`)
)

// ParseReference applies layerscan's reference grammar to ref. In order:
//
//  1. A known scheme (Schemes) wins: "docker:x" is the daemon's image x,
//     "registry:2" the image "2" (Docker Hub's official images of those
//     names are written in full: docker.io/library/registry:2).
//  2. "-" is standard input.
//  3. Something that exists on disk is read as what it is: a directory
//     holding oci-layout is an OCI layout, a tar is a docker or OCI
//     archive (looking at its members), so a file named "app:v1" is that
//     file, not a registry image.
//  4. "WORD:REST" where WORD is lower-case letters, digits, + and - (no
//     dot): an unknown scheme (an error naming the schemes) when WORD is
//     another tool's prefix (containerd:, oci-dir:, singularity:, …) or
//     when REST cannot be a tag (foo:bar/baz, dir2:/x, ftp://x); a
//     registry host with a port when REST starts with digits and a slash
//     (localhost:5000/app); otherwise NAME:TAG, on to the next rules.
//  5. What looks like a path (starts with /, ./ or ../, or ends in .tar,
//     .tar.gz or .tgz) is a missing archive, reported as such.
//  6. Anything else is a registry reference (alpine:3.19 on Docker Hub).
func ParseReference(ref string) (Reference, error) {
	for _, s := range Schemes {
		if strings.HasPrefix(ref, s.Prefix) {
			r := Reference{Kind: s.Kind, Target: strings.TrimPrefix(ref, s.Prefix), Scheme: s.Prefix}
			if r.Target == "" {
				return r, fmt.Errorf("%w: %s needs %s after it", ErrBadReference, s.Prefix, s.Syntax)
			}
			return r, nil
		}
	}
	if ref == "-" {
		return Reference{Kind: KindStdin, Target: ref}, nil
	}
	if ref == "" {
		return Reference{}, fmt.Errorf("%w: empty reference", ErrBadReference)
	}
	fi, err := os.Stat(ref)
	switch {
	case err == nil && fi.IsDir():
		return Reference{Kind: KindOCILayout, Target: ref}, nil
	case err == nil:
		return Reference{Kind: sniffArchive(ref), Target: ref}, nil
	}
	if m := schemeWord.FindStringSubmatch(ref); m != nil {
		word, rest := m[1], m[2]
		if hint, ok := foreignSchemes[word]; ok {
			return Reference{}, &UnknownSchemeError{Scheme: word, Hint: hint}
		}
		if !portLike.MatchString(rest) && !tagLike.MatchString(rest) {
			return Reference{}, &UnknownSchemeError{Scheme: word}
		}
	}
	if looksLikePath(ref) {
		// A path that does not exist: let the archive reader report it.
		return Reference{Kind: KindDockerArchive, Target: ref}, nil
	}
	return Reference{Kind: KindRegistry, Target: ref}, nil
}

// Classify tells which kind of source ref names and the part of ref that
// the source reads (a path, or a registry reference); a reference that
// ParseReference refuses is classified as a registry reference.
func Classify(ref string) (Kind, string) {
	r, err := ParseReference(ref)
	if err != nil {
		return KindRegistry, ref
	}
	return r.Kind, r.Target
}

// ReferenceHelp is the reference grammar as a table, for --help.
func ReferenceHelp() string {
	var b strings.Builder
	w := 0
	for _, s := range Schemes {
		w = max(w, len(s.Prefix+s.Syntax))
	}
	row := func(left, doc string) { fmt.Fprintf(&b, "  %-*s  %s\n", w, left, doc) }
	row("REF", "a registry image: host/repo:tag, repo@sha256:…, localhost:5000/app")
	row("PATH", "a file or directory: docker archive, OCI archive or OCI layout, by its content")
	for _, s := range Schemes {
		row(s.Prefix+s.Syntax, s.Doc)
	}
	row("-", "a docker save or OCI archive on standard input")
	var foreign []string
	for k := range foreignSchemes {
		foreign = append(foreign, k+":")
	}
	sort.Strings(foreign)
	fmt.Fprintf(&b, "Other prefixes (%s, WORD:x/y) are errors, never Docker Hub names;\n"+
		"an existing path wins over a registry name of the same spelling.", strings.Join(foreign, " "))
	return b.String()
}
