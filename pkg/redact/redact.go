package redact

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/history"
)

// MinSecret is the shortest secret looked for by value: shorter ones
// (4-5 characters) would hide common words; the detector still finds them
// in context.
const MinSecret = 6

// maxDepth bounds the rounds of decoding of nested encoded runs.
const maxDepth = 3

// Redactor hides secrets in text. The zero value hides only what a nil
// detector finds: nothing. It is not safe for concurrent Add and Text.
type Redactor struct {
	det     *detect.Detector
	secrets map[string]bool
	// plain replaces the secrets and their hex and percent encodings.
	plain *strings.Replacer
	// b64 are the base64 cores of the secrets: the characters that
	// encode the secret whatever bytes come before and after it.
	b64 []string
}

// New makes a Redactor that also hides what det finds (det may be nil).
func New(det *detect.Detector) *Redactor {
	return &Redactor{det: det, secrets: map[string]bool{}}
}

// Add makes the Redactor hide these secrets and their encodings.
func (r *Redactor) Add(secrets ...string) {
	changed := false
	for _, s := range secrets {
		if len(s) >= MinSecret && !r.secrets[s] {
			r.secrets[s] = true
			changed = true
		}
	}
	if changed {
		r.build()
	}
}

func (r *Redactor) build() {
	list := make([]string, 0, len(r.secrets))
	for s := range r.secrets {
		list = append(list, s)
	}
	// Longest first, so that a secret holding another is hidden whole.
	sort.Slice(list, func(i, j int) bool {
		if len(list[i]) != len(list[j]) {
			return len(list[i]) > len(list[j])
		}
		return list[i] < list[j]
	})
	var pairs []string
	seen := map[string]bool{}
	add := func(form string) {
		if form != "" && !seen[form] {
			seen[form] = true
			pairs = append(pairs, form, detect.Redact(form))
		}
	}
	r.b64 = r.b64[:0]
	for _, s := range list {
		add(s)
		h := hex.EncodeToString([]byte(s))
		add(h)
		add(strings.ToUpper(h))
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		add(unicodeEscape(s))
		r.b64 = append(r.b64, base64Cores(s)...)
	}
	r.plain = strings.NewReplacer(pairs...)
}

// unicodeEscape is s as \uXXXX escapes (JSON, JavaScript, Java).
func unicodeEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c > 0xffff {
			return ""
		}
		b.WriteString(`\u`)
		b.WriteString(hex.EncodeToString([]byte{byte(c >> 8), byte(c)}))
	}
	return b.String()
}

// base64Cores are, for the standard and URL alphabets and the three byte
// offsets a secret can start at, the base64 characters that depend on
// the secret's bytes alone.
func base64Cores(s string) []string {
	var out []string
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for off := 0; off < 3; off++ {
			padded := strings.Repeat("\x00", off) + s
			e := enc.EncodeToString([]byte(padded))
			// Characters touched by the unknown bytes before (the first
			// group when off > 0) and after (the last group) are dropped.
			start := 0
			if off > 0 {
				start = 4
			}
			end := (len(padded) / 3) * 4 // whole groups only
			if end-start >= 8 {
				out = append(out, e[start:end])
			}
		}
	}
	return out
}

// Text returns t with every secret the Redactor knows, every encoded form
// of one, every secret the detector finds (in t or in a decoded run of
// it), and the build-argument values of history text hidden.
func (r *Redactor) Text(t string) string {
	if t == "" {
		return t
	}
	t = buildArgs(t)
	if r.plain != nil {
		t = r.plain.Replace(t)
	}
	t = r.base64Runs(t)
	t = r.encoded(t, maxDepth)
	if r.det != nil {
		for _, f := range r.det.Scan("", []byte(t), 1) {
			if len(f.Secret) >= 4 {
				t = strings.ReplaceAll(t, f.Secret, detect.Redact(f.Secret))
			}
		}
	}
	return t
}

// buildArgs hides the values of the build arguments a RUN step recorded
// in its created_by (|N NAME=value … /bin/sh -c …): history keeps them in
// the clear whether or not they are secrets.
func buildArgs(t string) string {
	_, args := history.Normalize(t)
	for _, a := range args {
		if a.Value != "" {
			t = strings.Replace(t, a.Name+"="+a.Value, a.Name+"="+detect.Redact(a.Value), 1)
		}
	}
	return t
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_' || c == '='
}

// base64Runs hides the base64 runs of t that hold a known secret at any
// offset.
func (r *Redactor) base64Runs(t string) string {
	if len(r.b64) == 0 {
		return t
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(t); {
		if !isBase64Char(t[i]) {
			i++
			continue
		}
		j := i
		for j < len(t) && isBase64Char(t[j]) {
			j++
		}
		run := t[i:j]
		for _, core := range r.b64 {
			if len(run) >= len(core) && strings.Contains(run, core) {
				b.WriteString(t[last:i])
				b.WriteString(detect.Redact(run))
				last = j
				break
			}
		}
		i = j
	}
	if last == 0 {
		return t
	}
	b.WriteString(t[last:])
	return b.String()
}

// encoded hides the encoded runs of t (as gitleaks' decoder finds them)
// whose decoded value holds a secret: a known one, one the detector finds,
// or one in a run nested in it (depth rounds).
func (r *Redactor) encoded(t string, depth int) string {
	if depth == 0 {
		return t
	}
	segs := detect.EncodedSegments(t)
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		if r.holdsSecret(s.Decoded, depth-1) {
			t = t[:s.Start] + detect.Redact(t[s.Start:s.End]) + t[s.End:]
		}
	}
	return t
}

func (r *Redactor) holdsSecret(dec string, depth int) bool {
	for s := range r.secrets {
		if strings.Contains(dec, s) {
			return true
		}
	}
	if r.det != nil && len(r.det.Scan("", []byte(dec), 1)) > 0 {
		return true
	}
	return depth > 0 && r.encoded(dec, depth) != dec
}

// Forms are the encoded forms of secret the Redactor hides: the secret,
// its hex (both cases), percent and unicode escapes, and its base64 cores
// at every byte offset. Tests check that no output holds any of them.
func Forms(secret string) []string {
	h := hex.EncodeToString([]byte(secret))
	out := []string{secret, h, strings.ToUpper(h), url.QueryEscape(secret), url.PathEscape(secret)}
	if u := unicodeEscape(secret); u != "" {
		out = append(out, u)
	}
	return append(out, base64Cores(secret)...)
}
