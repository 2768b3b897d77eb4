package detect

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// The loose rules guess a secret from its context (a secret-like name
// before a value, user:password@ in a URL, the shape of a JWT). On real
// images most of their matches are documentation, examples, tests and code
// (measured in docs/accuracy.md); these checks drop those, each for a
// reason a reviewer would give, and each has a true-positive test with the
// same shape in a real config file (precise_test.go).

// looseRules are the rules precise() applies to.
var looseRules = map[string]bool{
	"generic-api-key": true, "generic-secret-assignment": true, "url-credentials": true, "jwt": true,
}

// Reasons a loose match is dropped (kept in tests and docs/rules.md).
const (
	whyDocTest     = "documentation or test file"
	whyComment     = "comment in source code"
	whyCode        = "unquoted value in source code (an expression, not a literal)"
	whyPlaceholder = "placeholder or example value"
	whyNotSecret   = "value with the shape of a version, file name, path, algorithm or identifier"
	whyWords       = "base64 of plain words"
	whyFakeJWT     = "JWT with a documentation example's claims"
)

// sourceExt are the source-code file types: in them an unquoted value is
// an expression and a comment is documentation. Config formats (.env,
// .ini, .yaml, .properties, .conf, .sh) are not here: an unquoted value
// there is a literal, and a commented-out password is still a password.
var sourceExt = map[string]bool{
	".py": true, ".rb": true, ".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".tsx": true, ".jsx": true,
	".go": true, ".java": true, ".kt": true, ".scala": true, ".groovy": true, ".c": true, ".h": true,
	".cc": true, ".cpp": true, ".hpp": true, ".cs": true, ".php": true, ".pl": true, ".pm": true, ".lua": true,
	".rs": true, ".swift": true, ".rbs": true, ".pyi": true, ".erl": true, ".ex": true, ".exs": true, ".hs": true,
	".ml": true, ".dart": true, ".r": true, ".jl": true, ".vue": true, ".svelte": true, ".map": true,
}

// isSource tells whether p (an image path, "!/" before archive members)
// is source code.
func isSource(p string) bool {
	if i := strings.LastIndex(p, "!/"); i >= 0 {
		p = p[i+2:]
	}
	return sourceExt[strings.ToLower(path.Ext(p))]
}

// precise says why a loose rule's match is not a secret a security team
// would act on, or "" to keep it. line is the text of the line(s) the
// match is on.
func precise(rule, p, line, secret string) string {
	if !looseRules[rule] {
		return ""
	}
	if DocOrTestPath(p) {
		return whyDocTest
	}
	if isSource(p) {
		if isComment(line) {
			return whyComment
		}
		if rule != "jwt" && !quoted(line, secret) {
			return whyCode
		}
	}
	if rule == "jwt" {
		if fakeJWT(secret) {
			return whyFakeJWT
		}
		return ""
	}
	if placeholder(secret) {
		return whyPlaceholder
	}
	if notSecretShape(secret) {
		return whyNotSecret
	}
	if base64Words(secret) {
		return whyWords
	}
	return ""
}

// isComment tells whether a source line is a comment.
func isComment(line string) bool {
	l := strings.TrimSpace(line)
	for _, c := range []string{"#", "//", "/*", "*", "--", ";", "%", "'''", `"""`, "<!--", "=begin", "@param", "@example"} {
		if strings.HasPrefix(l, c) {
			return !strings.HasPrefix(l, "#!") && !strings.HasPrefix(l, "#define") && !strings.HasPrefix(l, "#include")
		}
	}
	return false
}

// quoted tells whether secret stands in a string literal on line: a
// quote character right before it (or an assignment of a quoted string
// that contains it).
func quoted(line, secret string) bool {
	i := strings.Index(line, secret)
	if i < 0 {
		return true // not found as is (decoded, or split): do not judge
	}
	for j := i - 1; j >= 0; j-- {
		switch c := line[j]; c {
		case '"', '\'', '`':
			return true
		case ' ', '\t', '=', ':', '>', ',', '(', '[', '{':
			return false
		}
	}
	return false
}

// placeholderWords are value segments that mark an example, a test or a
// template, whatever the rest of the value.
var placeholderWords = map[string]bool{
	"example": true, "examples": true, "sample": true, "dummy": true, "fake": true, "mock": true, "test": true,
	"testing": true, "placeholder": true, "changeme": true, "changeit": true, "foo": true, "foobar": true,
	"bar": true, "baz": true, "xxx": true, "redacted": true, "lorem": true, "ipsum": true, "demo": true,
	"your": true, "insert": true, "replace": true, "todo": true, "fixme": true, "notreal": true,
	"anonymous": true,
}

// placeholderParts mark an example wherever they are in a value
// (AKIDPMS9RO4H3FEXAMPLE, …EXAMPLEKEY).
var placeholderParts = []string{"example", "dummy", "placeholder", "changeme", "redacted", "notasecret", "not-a-secret", "notsecret"}

// placeholderValues are whole values that are defaults or doc examples.
var placeholderValues = map[string]bool{
	"password": true, "passwd": true, "secret": true, "pass": true, "pwd": true, "admin": true, "root": true,
	"guest": true, "tiger": true, "masterkey": true, "changeme": true, "changeit": true, "default": true,
	"none": true, "null": true, "nil": true, "true": true, "false": true, "undefined": true, "hunter2": true,
	"letmein": true, "qwerty": true, "12345678": true, "123456789": true, "1234567890": true, "abcdefgh": true,
}

var (
	// templateMarker: template and shell syntax, masks and elisions.
	templateMarker = regexp.MustCompile(`\$\{|\$\(|\{\{|\}\}|<[^>]*>|%[sdv(]|\*\*\*|xxxx|XXXX|\.\.\.|…|^\[.*\]$`)
	// sequential: runs typed by hand for an example.
	sequential = regexp.MustCompile(`(?i)0123456|1234567|2345678|3456789|abcdefg|bcdefgh|1234abcd|abcd1234|a1b2c3|1a2b3c|d4e5f6|112233|aabbcc|123abc|abc123|!@#\$?|qwerty`)
	// valueSegment splits a value into words: camelCase, digits, _ - . and
	// other punctuation.
	valueSegment = regexp.MustCompile(`[A-Z]?[a-z]+|[A-Z]+(?:[a-z]+)?|[0-9]+`)
)

// placeholder tells whether a value is an example, a template or a
// default.
func placeholder(v string) bool {
	low := strings.ToLower(v)
	if placeholderValues[strings.Trim(low, "@.!")] || templateMarker.MatchString(v) || sequential.MatchString(v) {
		return true
	}
	for _, part := range placeholderParts {
		if strings.Contains(low, part) {
			return true
		}
	}
	for _, seg := range valueSegment.FindAllString(v, -1) {
		if placeholderWords[strings.ToLower(seg)] {
			return true
		}
	}
	// One character repeated, or a shorter value repeated.
	if repeated(v) {
		return true
	}
	return false
}

func repeated(v string) bool {
	run := 1
	for i := 1; i < len(v); i++ {
		if v[i] == v[i-1] {
			if run++; run >= 6 {
				return true
			}
		} else {
			run = 1
		}
	}
	for n := 4; n <= len(v)/2; n++ {
		if strings.Count(v, v[:n]) >= 2 && strings.Repeat(v[:n], len(v)/n) == v[:len(v)/n*n] {
			return true
		}
	}
	return false
}

var (
	versionShape   = regexp.MustCompile(`^[\^~<>=v]*\d+(?:\.\d+)+[-+.~_a-zA-Z0-9]*(?:\s*\|\|.*)?$`)
	fileNameShape  = regexp.MustCompile(`(?i)\.(?:deb|rpm|apk|js|mjs|cjs|ts|json|py|pyc|rb|go|so|h|c|cc|hpp|java|class|jar|whl|gz|tgz|bz2|xz|zip|xml|yml|yaml|html?|md|txt|sh|conf|cfg|ini|pem|crt|cer|key|log)$`)
	pathShape      = regexp.MustCompile(`^\.{0,2}/?[a-zA-Z_][\w.-]*(?:/[\w.-]+)+/?$`)
	algorithmShape = regexp.MustCompile(`(?i)^(?:scram-sha-\d+|md5|sha-?\d+|sha\d+-[a-z0-9-]+|hmac-[a-z0-9-]+|aes-?\d+-?[a-z]*|bcrypt|scrypt|argon2(?:id|i|d)?|pbkdf2(?:-sha\d+)?|rsa-sha\d+|ecdsa-sha2-nistp\d+|ssh-(?:rsa|ed25519|dss))$`)
	// identifierShape: a dotted or sigiled reference to code
	// (@tokens.shift, rfc5958.PrivateKeyInfo, _argon2.PASSWD_MAX).
	identifierShape = regexp.MustCompile(`^(?:!!?|\+)?[@$]?[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::|->)[A-Za-z_][A-Za-z0-9_]*)*(?:\(\))?\+?$`)
	// headerShape: an HTTP header name (X-Amz-Security-Token).
	headerShape = regexp.MustCompile(`(?i)^x-[a-z0-9]+(?:-[a-z0-9]+)+$`)
	// regexShape: a regular expression, not a value.
	regexShape = regexp.MustCompile(`\.[+*]|\\[dwsb]|\[\^?[a-z0-9]-[a-z0-9]\]|\(\?`)
)

// notSecretShape tells whether a value has the shape of something that
// is not a secret: a version (range), a file name, a path, an algorithm's
// name, a dotted reference to code, or a name made of words.
func notSecretShape(v string) bool {
	switch {
	case versionShape.MatchString(v), fileNameShape.MatchString(v), algorithmShape.MatchString(v),
		headerShape.MatchString(v), regexShape.MatchString(v),
		pathShape.MatchString(v) && !strings.ContainsAny(v, "0123456789"):
		return true
	case identifierShape.MatchString(v) && (strings.ContainsAny(v, ".:>!+@$") || strings.HasSuffix(v, "()")):
		// A reference into code: a member, a method, a negation.
		return true
	}
	return wordsOnly(v)
}

// wordsOnly tells whether v is an identifier made of words (CamelCase or
// snake_case, COPHH_KEY_UTF8, PrivateKeyAttributesV2): every letter run
// of 3 or more characters has a vowel, short runs are few, and digits
// come in short groups. Random tokens break into many short, vowel-less
// runs.
func wordsOnly(v string) bool {
	if strings.ContainsFunc(v, func(r rune) bool {
		return !(r == '_' || r == '-' || r == '.' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	}) {
		return false
	}
	segs := valueSegment.FindAllString(v, -1)
	if len(segs) < 2 {
		return false
	}
	letters, short := 0, 0
	for _, s := range segs {
		if s[0] >= '0' && s[0] <= '9' {
			if len(s) > 4 {
				return false
			}
			continue
		}
		if len(s) <= 2 {
			short++
			continue
		}
		if !strings.ContainsAny(strings.ToLower(s), "aeiouy") {
			return false
		}
		letters += len(s)
	}
	return short <= max(1, (len(segs)-short)/3) && letters*10 >= len(v)*6
}

// base64Words tells whether v is base64 of plain words ("Node Redis",
// "anotherToken!"): an example value, not a key.
func base64Words(v string) bool {
	if len(v) < 12 || len(v)%4 != 0 {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) < 8 {
		return false
	}
	for _, b := range raw {
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == ' ' || b == '!' || b == '.' || b == ',' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// fakeJWT tells whether a JWT's claims are a documentation example's
// (jwt.io's "John Doe", subject "1234567890", {"some": "payload"}, …).
func fakeJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return false
	}
	var claims map[string]any
	if json.Unmarshal(raw, &claims) != nil {
		return false
	}
	for k, v := range claims {
		s, _ := v.(string)
		low := strings.ToLower(s)
		switch {
		case k == "some" && s == "payload", s == "1234567890", low == "john doe", low == "jane doe",
			placeholder(s) && s != "":
			return true
		}
	}
	return false
}

// knownExamples are SHA-256 digests of credentials published as examples
// in vendors' documentation and test vectors of widely used libraries:
// not secrets in any image. Kept as digests so that this file does not
// trip secret scanners itself.
var knownExamples = map[string]string{
	// AWS documentation's example access key id and secret access key.
	"1a5d44a2dca19669d72edf4c4f1c27c4c1ca4b4408fbb17f6ce4ad452d78ddb3": "AWS documentation example access key id",
	"78314b11be2e581549ac1c4f616563fad3fdf0c3b71678f6e2299182080e0598": "AWS documentation example secret access key",
	// jwt.io's example token.
	"7f75367e7881255134e1375e723d1dea8ad5f6a4fdb79d938df1f1754a830606": "jwt.io example token",
	// The RSA key netty embeds in io.netty.handler.ssl.OpenSsl to probe
	// OpenSSL's key support (netty's source, every netty-handler jar).
	"039ee26bd61730d1a123a9272d1a373c1570f1932640748bd92093b0eb65fbff": "netty OpenSsl self-test key",
}

// KnownExample tells whether secret is a credential published as an
// example (vendor documentation, a library's test vector): dropped by
// every rule.
func KnownExample(secret string) bool {
	sum := sha256.Sum256([]byte(normalizeKey(secret)))
	_, ok := knownExamples[hex.EncodeToString(sum[:])]
	return ok
}

// normalizeKey drops the whitespace and escaped newlines of a PEM block so
// that one key has one digest however it is embedded.
func normalizeKey(s string) string {
	if !strings.Contains(s, "-----BEGIN") {
		return s
	}
	s = strings.ReplaceAll(s, `\n`, "")
	return strings.Join(strings.Fields(s), "")
}
