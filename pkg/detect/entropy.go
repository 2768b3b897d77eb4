package detect

import (
	"math"
	"unicode"
)

// Entropy is the Shannon entropy of s in bits per character, over its
// bytes' distribution (the same measure gitleaks uses).
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h, n := 0.0, float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// Thresholds of the generic-secret-assignment rule (docs/rules.md gives
// the measurements behind them). A value assigned to a secret-like name
// is reported when it is at least minGenericLen long, mixes at least two
// character classes (lower, upper, digit, symbol other than _ . -) with at
// least one digit or symbol, and its entropy reaches
// the threshold for its length: a random string of n characters cannot
// have more than log2(n) bits per character, so short values get a lower
// bar.
const (
	minGenericLen = 8
	// entropyShort applies to 8–15 characters (log2 8 = 3, log2 15 ≈ 3.9).
	entropyShort = 2.9
	// entropyMedium applies to 16–31 characters.
	entropyMedium = 3.3
	// entropyLong applies to 32 characters and more (hex of 32+ random
	// characters is ≈ 3.8; base64 ≈ 5).
	entropyLong = 3.6
)

// GenericThreshold is the entropy a value of n characters must reach.
func GenericThreshold(n int) float64 {
	switch {
	case n < 16:
		return entropyShort
	case n < 32:
		return entropyMedium
	}
	return entropyLong
}

// keepGeneric decides a generic-secret-assignment candidate.
func keepGeneric(v string) bool {
	if len(v) < minGenericLen {
		return false
	}
	var lower, upper, digit, other bool
	for _, r := range v {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case r == '_' || r == '.' || r == '-':
			// identifier punctuation: not a class of its own
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	// A value of letters (and _ . -) only is a code identifier
	// (Name.Builtin, _RSAPrivateKey) far more often than a secret.
	if classes < 2 || !(digit || other) {
		return false
	}
	return Entropy(v) >= GenericThreshold(len(v))
}
