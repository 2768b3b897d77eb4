package redact

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/layerscan/layerscan/pkg/detect"
)

// Fake secrets made for these tests.
const (
	gh  = "ghp_hOf8LLFcxTQjvyiXHalVzav0epCziUzy7Q3B"
	aws = "AKIABIFLBN7MOEEOV42R"
)

var (
	detOnce sync.Once
	det     *detect.Detector
)

func detector(t testing.TB) *detect.Detector {
	detOnce.Do(func() {
		var err error
		if det, err = detect.New(detect.Options{MaxDecodeDepth: 2}); err != nil {
			t.Fatal(err)
		}
	})
	return det
}

// leaked lists the forms of secret still in s.
func leaked(s, secret string) []string {
	var out []string
	for _, f := range Forms(secret) {
		if len(f) >= 8 && strings.Contains(s, f) {
			out = append(out, f)
		}
	}
	return out
}

func TestText(t *testing.T) {
	known := New(nil)
	known.Add(gh, aws)
	found := New(detector(t)) // knows nothing: the detector finds them
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		name, text string
	}{
		{"plain in a path", "/app/" + aws + ".txt"},
		{"base64 at offset 0", "echo " + b64(gh) + " | base64 -d"},
		{"base64 at offset 1", "echo " + b64("x"+gh) + " | base64 -d"},
		{"base64 at offset 2", "echo " + b64("token="+gh+"\n") + " | base64 -d"},
		{"url-safe base64", "X=" + base64.RawURLEncoding.EncodeToString([]byte("k:"+gh))},
		{"hex", "echo " + hex.EncodeToString([]byte(aws)) + " | xxd -r -p"},
		{"HEX", "echo " + strings.ToUpper(hex.EncodeToString([]byte(aws)))},
		{"percent", "curl 'https://h/?t=" + url.QueryEscape("a b "+gh) + "'"},
		{"unicode escapes", `{"t": "\u0067\u0068\u0070\u005f` + strings.Join(strings.Split(hex.EncodeToString([]byte(gh[4:])), ""), "") + `"}`},
		{"base64 of base64", b64(b64("token=" + gh))},
	} {
		for name, r := range map[string]*Redactor{"known": known, "detector": found} {
			out := r.Text(c.text)
			secret := gh
			if strings.Contains(c.name, "hex") || strings.Contains(c.name, "HEX") || strings.Contains(c.name, "path") {
				secret = aws
			}
			if name == "detector" && c.name == "unicode escapes" {
				continue // not an encoding gitleaks decodes as a run
			}
			if l := leaked(out, secret); len(l) > 0 {
				t.Errorf("%s (%s): %q still holds %q", c.name, name, out, l)
			}
		}
	}
}

func TestTextKeepsTheRest(t *testing.T) {
	r := New(detector(t))
	r.Add(gh)
	for _, s := range []string{
		"/bin/sh -c apt-get install -y curl",
		"COPY file:2f2c3ae0b5f9b2a0c1e1d3c0a0b0f0e0d0c0b0a09080706050403020100ff in /app/",
		"/usr/share/doc/libssl3/changelog.Debian.gz",
	} {
		if got := r.Text(s); got != s {
			t.Errorf("Text(%q) = %q: changed text with no secret", s, got)
		}
	}
	if got := r.Text("|1 TOKEN=notasecretvalue /bin/sh -c make"); got != "|1 TOKEN=not****"+" /bin/sh -c make" {
		t.Errorf("build argument value: %q", got)
	}
}

// FuzzRedact: a known secret, put into text plain or encoded (base64 at
// any offset, hex, percent) between any bytes, leaves none of its forms
// in the redacted text.
func FuzzRedact(f *testing.F) {
	f.Add("Kx8Wq2Lm7Zt4Vr9P", "echo ", " | base64 -d", uint8(1))
	f.Add("s3cr3t-V4lue_9", "/app/", ".txt", uint8(0))
	f.Add("AbCdEf123456", "X=", "", uint8(3))
	f.Fuzz(func(t *testing.T, secret, before, after string, enc uint8) {
		if len(secret) < MinSecret || len(secret) > 64 || strings.Trim(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
			return
		}
		var body string
		switch enc % 5 {
		case 0:
			body = secret
		case 1:
			body = base64.StdEncoding.EncodeToString([]byte(before + secret + after))
		case 2:
			body = base64.URLEncoding.EncodeToString([]byte(after + secret))
		case 3:
			body = hex.EncodeToString([]byte(secret))
		case 4:
			body = url.QueryEscape(before + secret)
		}
		r := New(nil)
		r.Add(secret)
		out := r.Text(before + body + after)
		if l := leaked(out, secret); len(l) > 0 {
			t.Fatalf("secret %q in %q: redacted %q still holds %q", secret, before+body+after, out, l)
		}
	})
}
