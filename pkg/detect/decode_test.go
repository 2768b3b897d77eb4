package detect

import (
	"encoding/base64"
	"encoding/hex"

	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect/codec"
)

// gitleaksDecode is one pass of gitleaks' own decoder: the decoded text and
// the decoded spans of its segments (read from unexported fields).
func gitleaksDecode(t string) (string, []span) {
	out, segs := codec.NewDecoder().Decode(t, nil)
	var spans []span
	for _, s := range segs {
		d := reflect.ValueOf(s).Elem().FieldByName("decoded")
		spans = append(spans, span{int(d.FieldByName("start").Int()), int(d.FieldByName("end").Int())})
	}
	return out, spans
}

// checkNativeDecode compares nativeDecode with gitleaks' decoder on t, and
// tells whether nativeDecode handled it.
func checkNativeDecode(t *testing.T, text string) bool {
	t.Helper()
	got, gotSpans, ok := nativeDecode(text, nil)
	if !ok {
		return false
	}
	want, wantSpans := gitleaksDecode(text)
	if got != want || !slices.Equal(gotSpans, wantSpans) {
		t.Fatalf("nativeDecode(%.200q):\n got  %.300q %v\n want %.300q %v", text, got, gotSpans, want, wantSpans)
	}
	return true
}

func decodeCases() []string {
	b64 := base64.StdEncoding.EncodeToString
	u64 := base64.RawURLEncoding.EncodeToString
	h := hex.EncodeToString
	return []string{
		"", "plain text without anything", "short_ident", "a_sixteen_chars_", "a_seventeen_chars",
		"auth: " + b64([]byte("user:ghp_0123456789abcdefghijABCDEFGHIJ0123")),
		"x=" + b64([]byte("0123456789ab")) + "==",
		"x=" + b64([]byte("0123456789abc")) + " y=" + b64([]byte("0123456789abcd")),
		u64([]byte("hello world, this is url-safe?>>")) + "\n",
		"token " + h([]byte("this is a hex encoded secret value!")),
		h([]byte("sixteen bytes!!!")) + b64([]byte("then base64 right after it")),
		h([]byte("odd")) + "abc",
		strings.Repeat("ab", 20) + "Z" + strings.Repeat("cd", 10),
		"0123456789abcdef0123456789abcdef0",
		"https://user:p%40ssw%3Ard@example.com/path%2Fx?q=%7Bv%7D",
		"%41", "%4", "%4G", "100% sure, 50%25 off, %zz, %00 nul",
		"%41" + b64([]byte("adjacent base64 payload")),
		"line one %41\nline two %42 and %43 end",
		"%41 caf\xc3\xa9 %42", "%41 bad\xff byte %42",
		"\\u0041\\u0042", "U+0041 U+0042", "xU+0041\n", "\\\\u0041", "\\x41 \\n",
		"ident_with_U+0041 ", "U+004", "U+00GG", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef==",
		"ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWlPaUl4TWpNME5UWTNPRGt3SW4w",
		"key-with-dashes-and/slashes+plus_and_more", "====", "abc=def=ghi",
		"\\u0074\\u006f\\u006b\\u0065\\u006e=x", "\\\\u0041\\u0042\\U0043", "\\\\\\u0041", "U+0074 U+006F U+006B U+0065 U+006E",
		"U+0041U+0042 ", "aU+0041\tU+00zz", "prefix_abcdefghijklmnopU+0041 ", "\\u00e9\\ud83d\\ude00",
	}
}

func TestNativeDecode(t *testing.T) {
	declined := 0
	for _, c := range decodeCases() {
		if !checkNativeDecode(t, c) {
			declined++
		}
		// Two passes, as at decoding depth 2.
		if d, _, ok := nativeDecode(c, nil); ok {
			checkNativeDecode(t, d)
		}
	}
	if declined != 1 {
		t.Errorf("declined %d cases, want the invalid-UTF-8 one only", declined)
	}
	// Random texts over an alphabet dense in encodings.
	rng := rand.New(rand.NewPCG(1, 2))
	alpha := "abcdefABCDEF0123456789xyzXYZ_-+/=%%% \n\t.:\"'U\\u\xc3\xa9"
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(200))
		for j := range b {
			b[j] = alpha[rng.IntN(len(alpha))]
		}
		checkNativeDecode(t, string(b))
	}
	// Real text: this machine's files, and encoded copies of them.
	var texts []string
	for _, glob := range []string{"/usr/share/doc/*/copyright", "/usr/lib/python3*/email/*.py", "/usr/lib/python3*/json/*.py", "../../pkg/*/*.go"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files[:min(len(files), 40)] {
			if b, err := os.ReadFile(f); err == nil && len(b) < 1<<20 {
				texts = append(texts, string(b))
			}
		}
	}
	handled := 0
	for _, x := range texts {
		for _, v := range []string{x, url.QueryEscape(x[:min(len(x), 300)]) + "\n" + x, b64([]byte(x[:min(len(x), 200)]))} {
			if checkNativeDecode(t, v) {
				handled++
			}
		}
	}
	t.Logf("%d of %d real texts handled natively", handled, 3*len(texts))
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func FuzzNativeDecode(f *testing.F) {
	for _, c := range decodeCases() {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkNativeDecode(t, s)
		if d, _, ok := nativeDecode(s, nil); ok {
			checkNativeDecode(t, d)
		}
	})
}

// BenchmarkNativeDecode: one decoding pass (decode.go) over the
// Debian-like text of BenchmarkDetectDebianText.
func BenchmarkNativeDecode(b *testing.B) {
	files, total := debianText(b)
	texts := make([]string, len(files))
	for i, f := range files {
		texts[i] = string(f)
	}
	b.SetBytes(int64(total))
	b.ResetTimer()
	for b.Loop() {
		for _, x := range texts {
			nativeDecode(x, nil)
		}
	}
}
