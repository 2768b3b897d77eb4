package detect

import (
	"encoding/base64"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// A Go-native replica of one pass of gitleaks' decoder (detect/codec,
// v8.30): the same encoded segments, decoded to the same values, giving the
// same decoded text. gitleaks finds the segments with one RE2 regex
//
//	(?P<percent>%[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})?)
//	|(?P<unicode>(?:(?:U\+[a-fA-F0-9]{4}(?:\s|$))+|(?i)(?:\\{1,2}u[a-fA-F0-9]{4})+))
//	|(?P<hex>[0-9A-Fa-f]{32,})
//	|(?P<base64>[\w\/+-]{16,}={0,2})
//
// run over the whole text (in WebAssembly, under the gore2regex build): it
// matches every identifier of 16 characters or more, so it costs as much
// as the windowed rules themselves, for segments that nearly all decode to
// nothing. nativeDecode scans for the same leftmost-first matches in plain
// Go, and decodes them as gitleaks does. It declines (ok false) where it
// would have to second-guess gitleaks: a percent match whose `.*` would
// cross invalid UTF-8 (where regex engines differ); the caller then uses
// gitleaks' decoder for the whole text.
// TestNativeDecode and FuzzNativeDecode compare the two.

// Encoding kinds, in gitleaks' precedence order (higher wins an overlap).
const (
	encBase64 = 1 + iota
	encHex
	encUnicode
	encPercent
)

type encMatch struct {
	a, b int
	prec int
}

var (
	hexDigit  [256]bool // [0-9A-Fa-f]
	b64Class  [256]bool // [\w/+-]
	decDigit  [256]bool // gitleaks' likelyHexChars: [0-9]
	b64Likely [256]bool // gitleaks' likelyBase64Chars: [0-9+/_-]
	printASCI [256]bool // gitleaks' printableASCII: 0x09..0x7e
	hexVal    [256]byte
	plainByte [256]bool // starts no match: not in b64Class, not % or \\
)

func init() {
	for c := 0; c < 256; c++ {
		switch {
		case '0' <= c && c <= '9':
			hexDigit[c], b64Class[c], decDigit[c], b64Likely[c] = true, true, true, true
			hexVal[c] = byte(c - '0')
		case 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
			hexDigit[c], b64Class[c] = true, true
			hexVal[c] = byte(c|0x20-'a') + 10
		case 'g' <= c && c <= 'z', 'G' <= c && c <= 'Z':
			b64Class[c] = true
		case c == '_' || c == '/' || c == '+' || c == '-':
			b64Class[c], b64Likely[c] = true, true
		}
		printASCI[c] = 0x08 < c && c < 0x7f
	}
	for c := 0; c < 256; c++ {
		plainByte[c] = !b64Class[c] && c != '%' && c != '\\'
	}
}

// findEncodings returns the matches of gitleaks' encoding regex in t, in
// order; ok is false when a percent match crosses invalid UTF-8.
func findEncodings(t string, out []encMatch) ([]encMatch, bool) {
	n := len(t)
	for p := 0; p < n; {
		c := t[p]
		switch {
		case c == '%':
			if p+2 < n && hexDigit[t[p+1]] && hexDigit[t[p+2]] {
				end := p + 3
				line := n
				if i := strings.IndexByte(t[end:], '\n'); i >= 0 {
					line = end + i
				}
				// The greedy (?:.*%XX)? ends at the last %XX of the line.
				for i := line - 3; i >= end; i-- {
					if t[i] == '%' && hexDigit[t[i+1]] && hexDigit[t[i+2]] {
						if !utf8.ValidString(t[end:i]) {
							return out, false
						}
						end = i + 3
						break
					}
				}
				out = append(out, encMatch{p, end, encPercent})
				p = end
				continue
			}
			p++
			continue
		case c == '\\':
			if e := unicodeEscapes(t, p); e > p {
				out = append(out, encMatch{p, e, encUnicode})
				p = e
				continue
			}
			p++
			continue
		case !b64Class[c]:
			p++
			for p < n && plainByte[t[p]] {
				p++
			}
			continue
		}
		if c == 'U' {
			if e := unicodePoints(t, p); e > p {
				out = append(out, encMatch{p, e, encUnicode})
				p = e
				continue
			}
		}
		r, u := p+1, -1
		for r < n && b64Class[t[r]] {
			if t[r] == 'U' && u < 0 {
				u = r
			}
			r++
		}
		if r-p < 16 {
			// No match starts in t[p:r] (every suffix is shorter), except
			// a unicode code point at a later 'U'.
			if u < 0 {
				u = r
			}
			p = u
			continue
		}
		h := p
		for h < r && hexDigit[t[h]] {
			h++
		}
		if h-p >= 32 {
			out = append(out, encMatch{p, h, encHex})
			p = h
			continue
		}
		e := r
		for e < n && e < r+2 && t[e] == '=' {
			e++
		}
		out = append(out, encMatch{p, e, encBase64})
		p = e
	}
	return out, true
}

// unicodePoints is the end of (?:U\+[a-fA-F0-9]{4}(?:\s|$))+ matched at p,
// or p.
func unicodePoints(t string, p int) int {
	e := p
	for q := p; q+6 <= len(t) && t[q] == 'U' && t[q+1] == '+' && hex4(t, q+2); {
		if q+6 == len(t) {
			return q + 6
		}
		switch t[q+6] {
		case ' ', '\t', '\n', '\f', '\r':
			q += 7
			e = q
			continue
		}
		break
	}
	return e
}

// unicodeEscapes is the end of (?i)(?:\\{1,2}u[a-fA-F0-9]{4})+ matched at
// p, or p. Two backslashes are tried first; one or the other can match,
// never both.
func unicodeEscapes(t string, p int) int {
	e := p
	for q := p; q < len(t) && t[q] == '\\'; {
		switch {
		case q+1 < len(t) && t[q+1] == '\\' && escapeBody(t, q+2):
			q += 7
		case escapeBody(t, q+1):
			q += 6
		default:
			return e
		}
		e = q
	}
	return e
}

func hex4(t string, q int) bool {
	return q+4 <= len(t) && hexDigit[t[q]] && hexDigit[t[q+1]] && hexDigit[t[q+2]] && hexDigit[t[q+3]]
}

func escapeBody(t string, q int) bool {
	return q+5 <= len(t) && (t[q] == 'u' || t[q] == 'U') && hex4(t, q+1)
}

// decodeUnicode is what gitleaks' decodeUnicode makes of a whole unicode
// match: the code points of its U+XXXX or \uXXXX parts, as UTF-8 (a
// surrogate becomes U+FFFD, as with string([]rune)).
func decodeUnicode(m string) string {
	var rs []rune
	for i := 0; i+4 <= len(m); i++ {
		if (m[i] == '+' && i > 0 && m[i-1] == 'U') || m[i] == 'u' || (m[i] == 'U' && i > 0 && m[i-1] == '\\') {
			if hex4(m, i+1) {
				rs = append(rs, rune(hexVal[m[i+1]])<<12|rune(hexVal[m[i+2]])<<8|rune(hexVal[m[i+3]])<<4|rune(hexVal[m[i+4]]))
				i += 4
			}
		}
	}
	return string(rs)
}

// filterPrecedence is gitleaks' filter: a match touching or overlapping a
// neighbour of higher precedence is dropped.
func filterPrecedence(all []encMatch) []encMatch {
	if len(all) == 1 {
		return all
	}
	overlaps := func(x, y encMatch) bool { return y.a <= x.b && y.b >= x.a }
	out := make([]encMatch, 0, len(all))
	for i, m := range all {
		if i > 0 && overlaps(m, all[i-1]) && all[i-1].prec > m.prec {
			continue
		}
		if i+1 < len(all) && overlaps(m, all[i+1]) && all[i+1].prec > m.prec {
			continue
		}
		out = append(out, m)
	}
	return out
}

// nativeDecode is gitleaks' codec Decoder.Decode for one pass over t: the
// decoded text and, in order, the spans the decoded values occupy in it
// (appended to spans). ok is false when gitleaks' own decoder must be
// used (see findEncodings).
func nativeDecode(t string, spans []span) (string, []span, bool) {
	mp := encPool.Get().(*[]encMatch)
	defer encPool.Put(mp)
	all, ok := findEncodings(t, (*mp)[:0])
	*mp = all
	if !ok || len(all) == 0 {
		return t, spans, ok
	}
	var b strings.Builder
	prev, shift := 0, 0
	var buf []byte
	for _, m := range filterPrecedence(all) {
		enc := t[m.a:m.b]
		var dec string
		switch m.prec {
		case encPercent:
			dec = decodePercent(enc)
		case encHex:
			dec = decodeHex(enc)
		case encBase64:
			dec, buf = decodeBase64(enc, buf)
		case encUnicode:
			dec = decodeUnicode(enc)
		}
		if dec == "" {
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(t))
		}
		b.WriteString(t[prev:m.a])
		b.WriteString(dec)
		prev = m.b
		spans = append(spans, span{m.a + shift, m.a + shift + len(dec)})
		shift += len(dec) - len(enc)
	}
	if prev == 0 {
		return t, spans, true
	}
	b.WriteString(t[prev:])
	return b.String(), spans, true
}

func hasAny(s string, set *[256]bool) bool {
	for i := 0; i < len(s); i++ {
		if set[s[i]] {
			return true
		}
	}
	return false
}

func printable(b []byte) bool {
	for _, c := range b {
		if !printASCI[c] {
			return false
		}
	}
	return true
}

// decodeBase64 is gitleaks' decodeBase64: standard then URL-safe raw
// decoding, kept only when every decoded byte is printable.
func decodeBase64(s string, buf []byte) (string, []byte) {
	if !hasAny(s, &b64Likely) {
		return "", buf
	}
	src := unsafe.Slice(unsafe.StringData(s), len(s))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
		if n := enc.DecodedLen(len(s)); cap(buf) < n {
			buf = make([]byte, n)
		}
		n, err := enc.Decode(buf[:cap(buf)], src)
		if err == nil && printable(buf[:n]) {
			return string(buf[:n]), buf
		}
	}
	return "", buf
}

// decodeHex is gitleaks' decodeHex.
func decodeHex(s string) string {
	if len(s)%2 != 0 || !hasAny(s, &decDigit) {
		return ""
	}
	out := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		c := hexVal[s[i]]<<4 | hexVal[s[i+1]]
		if !printASCI[c] {
			return ""
		}
		out[i/2] = c
	}
	return string(out)
}

// decodePercent is gitleaks' decodePercent.
func decodePercent(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] == '%' && i+2 < len(s) && hexDigit[s[i+1]] && hexDigit[s[i+2]] {
			c := hexVal[s[i+1]]<<4 | hexVal[s[i+2]]
			if !printASCI[c] {
				return ""
			}
			out = append(out, c)
			i += 3
			continue
		}
		out = append(out, s[i])
		i++
	}
	return string(out)
}

var encPool = sync.Pool{New: func() any { return new([]encMatch) }}

// Segment is an encoded run of text and what it decodes to.
type Segment struct {
	// Start and End delimit the encoded run in the text.
	Start, End int
	// Decoded is its value; Encoding names the encoding (base64, hex,
	// percent, unicode).
	Decoded, Encoding string
}

var encodingNames = [...]string{encBase64: "base64", encHex: "hex", encUnicode: "unicode", encPercent: "percent"}

// EncodedSegments finds the runs of t that gitleaks' decoder would decode
// (base64 of 16+ characters, hex of 32+, percent and unicode escapes) and
// decodes them, in order. A run that decodes to nothing printable is left
// out. The redactor uses them to hide every encoded form of a secret.
func EncodedSegments(t string) []Segment {
	all, _ := findEncodings(t, nil)
	var out []Segment
	var buf []byte
	for _, m := range filterPrecedence(all) {
		enc := t[m.a:m.b]
		var dec string
		switch m.prec {
		case encPercent:
			dec = decodePercent(enc)
		case encHex:
			dec = decodeHex(enc)
		case encBase64:
			dec, buf = decodeBase64(enc, buf)
		case encUnicode:
			dec = decodeUnicode(enc)
		}
		if dec != "" {
			out = append(out, Segment{Start: m.a, End: m.b, Decoded: dec, Encoding: encodingNames[m.prec]})
		}
	}
	return out
}
