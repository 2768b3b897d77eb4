package detect

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// unicodeEscape writes every rune of s as \uXXXX.
func unicodeEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, "\\u%04x", r)
	}
	return b.String()
}

// TestDecodeAndHazardsEqualGitleaks: texts built to exercise the decoding
// check and the fold-hazard runes together — secrets plain, base64, hex,
// percent- and unicode-escaped; the runes ſ, K (Kelvin) and İ raw and as
// \u escapes (which decode into them), inside keywords and values and
// elsewhere — give the windowed engine's findings equal to gitleaks' own
// Detect at decoding depth 2. Some of them also must find something.
func TestDecodeAndHazardsEqualGitleaks(t *testing.T) {
	d, err := New(Options{MaxDecodeDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	alnum := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alnum[rng.IntN(len(alnum))]
		}
		return string(b)
	}
	secretLine := func() string {
		switch rng.IntN(6) {
		case 0:
			return "api_key = \"" + word(24) + "\""
		case 1:
			return "password: " + word(16)
		case 2:
			return "GITHUB_TOKEN=ghp_" + word(36)
		case 3:
			return "export DB_SECRET=" + word(20)
		case 4:
			return "https://deploy:" + word(14) + "@git.example.net/x.git"
		default:
			return "token = " + word(30)
		}
	}
	hazards := []string{"\u017f", "\u212a", "\u0130", "\\u017f", "\\u212a", "\\u0130", "\\u017Fecret_key = " + word(20), "\u212aey: " + word(22), "ſecret=" + word(18),
		// Escapes that decode into the only keyword of a match: "Key" with a
		// Kelvin sign (a keyword once lowercased), "ſecret" (not one).
		"\\u212aey = " + word(20), "\\u212aEY: \"" + word(24) + "\"", "\\u017fecret: " + word(20), "pa\\u017f\\u017fword=" + word(16)}
	pieces := func() string {
		switch rng.IntN(10) {
		case 0:
			return secretLine()
		case 1:
			return base64.StdEncoding.EncodeToString([]byte(secretLine()))
		case 2:
			return hex.EncodeToString([]byte(secretLine()))
		case 3:
			return url.QueryEscape(secretLine())
		case 4:
			return unicodeEscape(secretLine())
		case 5, 6, 7:
			return hazards[rng.IntN(len(hazards))]
		default:
			return "the key to this secret is in the " + word(rng.IntN(12)+1) + " file"
		}
	}
	n, decoded, withHazard := 0, 0, 0
	for it := 0; it < 1500; it++ {
		var lines []string
		for range 1 + rng.IntN(12) {
			line := pieces()
			if rng.IntN(3) == 0 {
				line += " " + pieces()
			}
			lines = append(lines, line)
		}
		text := strings.Join(lines, "\n") + "\n"
		frag := fragment{Raw: text, FilePath: "/app/config.txt", StartLine: 1}
		want := findingKeys(d.gl.Detect(frag), d.pathOnly)
		got := findingKeys(d.fast.detect(frag), d.pathOnly)
		if !slices.Equal(got, want) {
			t.Fatalf("text %q:\n got %d: %v\nwant %d: %v", text, len(got), got, len(want), want)
		}
		n += len(want)
		for _, k := range want {
			if strings.Contains(k, "decode-depth") {
				decoded++
				break
			}
		}
		if foldHazard(text) || strings.Contains(strings.ToLower(text), "\\u017f") || strings.Contains(strings.ToLower(text), "\\u212a") {
			withHazard++
		}
	}
	t.Logf("1500 texts, %d findings, %d texts with decoded findings, %d with hazards raw or escaped", n, decoded, withHazard)
	if decoded < 50 || withHazard < 100 {
		t.Fatalf("the texts do not exercise decoding (%d) or hazards (%d)", decoded, withHazard)
	}
}
