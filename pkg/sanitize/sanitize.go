package sanitize

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe tells whether s can be printed as it is: every rune printable
// (unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space) and the UTF-8 valid.
func Safe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !unicode.IsPrint(r) {
			return false
		}
		i += size
	}
	return true
}

// Text returns s when it is Safe, else s Go-quoted (control and format
// characters as escapes, the whole in double quotes).
func Text(s string) string {
	if Safe(s) {
		return s
	}
	return strconv.Quote(s)
}

// JSON escapes, in encoded JSON, DEL and every rune that is not printable
// and not JSON's own whitespace as \uXXXX (a surrogate pair above U+FFFF): such
// runes can only be inside strings, so the decoded value is unchanged.
// encoding/json has escaped C0 controls and replaced invalid UTF-8 already.
func JSON(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		if b[i] == 0x7f {
			clean = false
			break
		}
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || !unicode.IsPrint(r) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		if b[i] == 0x7f {
			out = append(out, `\u007f`...)
			i++
			continue
		}
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case unicode.IsPrint(r):
			out = append(out, b[i:i+size]...)
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			out = appendEscape(appendEscape(out, r1), r2)
		default:
			out = appendEscape(out, r)
		}
		i += size
	}
	return out
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func appendEscape(out []byte, r rune) []byte {
	const hexd = "0123456789abcdef"
	return append(out, '\\', 'u', hexd[r>>12&0xf], hexd[r>>8&0xf], hexd[r>>4&0xf], hexd[r&0xf])
}

// OneLine collapses every run of white space, line breaks included, to one
// space, so that a message (an error wrapping a registry's reply, say)
// stays on one line of a log or a terminal. It does not make s inert: a
// writer still passes the result through Text.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
