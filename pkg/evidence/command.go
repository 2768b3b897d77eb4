package evidence

import (
	"path"
	"strconv"
	"strings"
)

// Command is the shell command that extracts the file at path from layer
// number layer of the image ref into a file of the current directory named
// after it:
//
//	layerscan extract 'REF' --layer N 'PATH' -o 'FILE'
//
// Every argument taken from the image is single-quoted, an embedded quote
// closed, escaped and reopened, so it can be pasted into a POSIX shell as is:
//
//	/it's → '/it'\''s'
func Command(ref string, layer int, p string) string {
	return "layerscan extract " + ShellQuote(ref) + " --layer " + strconv.Itoa(layer) + " " +
		ShellQuote(p) + " -o " + ShellQuote(outputName(p))
}

// outputName is the file name Command suggests: the path's base name, made
// safe as an -o value ("-" would mean stdout, a leading "-" a flag).
func outputName(p string) string {
	base := path.Base("/" + p)
	if base == "/" || base == "." || base == ".." {
		return "extracted"
	}
	if strings.HasPrefix(base, "-") {
		return "./" + base
	}
	return base
}

// ShellQuote quotes s for a POSIX shell: 'it'\”s'.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
