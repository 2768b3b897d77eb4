package sanitize

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// inert checks what a terminal or a reader could be tricked by: no C0 or
// C1 control, DEL, format character (bidi overrides, zero-width), line or
// paragraph separator, or invalid UTF-8.
func inert(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"/app/config.json":         "/app/config.json",
		"/app/naïve café.txt":      "/app/naïve café.txt",
		"/app/日本語/設定.yaml":         "/app/日本語/設定.yaml",
		"a\x1b]52;c;ZXZpbA==\x07b": `"a\x1b]52;c;ZXZpbA==\ab"`,
		"x\x1b[2J\ry\nz":           `"x\x1b[2J\ry\nz"`,
		"gnp.\u202etxt":            `"gnp.\u202etxt"`,
		"tab\there":                `"tab\there"`,
		"bad\xffutf8":              `"bad\xffutf8"`,
		"c1\u009bcsi":              `"c1\u009bcsi"`,
		"zero\u200bwidth":          `"zero\u200bwidth"`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	in := map[string]string{"p": "a\x1b[2Jb\u202ec\u0085d\U0001F600e\U000E0001f"}
	b, _ := json.Marshal(in)
	out := JSON(b)
	if !inert(string(out)) {
		t.Errorf("JSON left non-printable runes: %q", out)
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["p"] != in["p"] {
		t.Errorf("JSON changed the data: %q (%v)", back["p"], err)
	}
}

// FuzzText: whatever an image puts in a string, Text's output is inert,
// and Go-unquotes back to the input when it was quoted.
func FuzzText(f *testing.F) {
	for _, s := range []string{"/app/x", "a\x1b[2Jb", "\u202e", "\xff\xfe", "x\r\ny", "\u0085", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !inert(out) {
			t.Fatalf("Text(%q) = %q is not inert", s, out)
		}
		if out != s {
			back, err := strconv.Unquote(out)
			if err != nil || back != s && utf8.ValidString(s) {
				t.Fatalf("Text(%q) = %q does not unquote back (%v)", s, out, err)
			}
		}
		b, _ := json.Marshal(s)
		js := JSON(b)
		if !inert(strings.ReplaceAll(string(js), "\n", "")) {
			t.Fatalf("JSON(%q) = %q is not inert", b, js)
		}
		var back string
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatalf("JSON(%q) is not JSON: %v", b, err)
		}
		var want string
		json.Unmarshal(b, &want)
		if back != want {
			t.Fatalf("JSON changed %q to %q", want, back)
		}
	})
}
