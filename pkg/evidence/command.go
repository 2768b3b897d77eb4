package evidence

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Command is the shell command that extracts the file at path from layer
// number layer of the image ref into a file of the current directory named
// after it, for the platform image named (none when platform is "" or
// linux/amd64, extract's default):
//
//	layerscan extract 'REF' --layer N 'PATH' -o 'FILE' [--platform 'OS/ARCH']
//
// Every argument taken from the image is single-quoted, an embedded quote
// closed, escaped and reopened, so it can be pasted into a POSIX shell as is:
//
//	/it's → '/it'\''s'
func Command(ref, platform string, layer int, p string) string {
	cmd := "layerscan extract " + ShellQuote(ref) + " --layer " + strconv.Itoa(layer) + " " +
		ShellQuote(p) + " -o " + ShellQuote(outputName(p))
	if platform != "" && platform != "linux/amd64" {
		cmd += " --platform " + ShellQuote(platform)
	}
	return cmd
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

// ShellQuote quotes s for a POSIX shell: 'it'\”s'. A string holding a
// character that is not printable (a control character, a line break, a
// bidirectional override, invalid UTF-8) is written in ANSI-C quoting
// instead ($'a\x1bb', bash, zsh, ksh and busybox sh): the command stays
// one line of printable characters, to be pasted as is.
func ShellQuote(s string) string {
	if !sanitize.Safe(s) {
		return ansiCQuote(s)
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ansiCQuote writes s as $'…' with every byte that is not printable ASCII
// as \xHH (and \\, \' escaped): the exact bytes, inert on a terminal.
func ansiCQuote(s string) string {
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\x%02x", c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
