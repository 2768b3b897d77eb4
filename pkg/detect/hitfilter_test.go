package detect

import (
	"slices"
	"testing"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
)

// TestHitFiltersMatchRules: every filter is attached to its rule in the
// default ruleset (a filter whose rule changed would silently stop
// applying, and must be rewritten for the new regex).
func TestHitFiltersMatchRules(t *testing.T) {
	d, err := New(Options{MaxDecodeDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	attached := map[string]bool{}
	for _, wr := range d.fast.win {
		if wr.filter != nil {
			attached[wr.rule.RuleID] = true
		}
	}
	for id := range hitFilters {
		if !attached[id] {
			r, ok := d.gl.Config.Rules[id]
			t.Errorf("hit filter %s not attached (rule present %v, regex %v)", id, ok, r.Regex)
		}
	}
	for _, rr := range d.fast.restRules {
		if rr.filter != nil {
			attached[rr.rule.RuleID] = true
		}
	}
	for id := range fragmentFilters {
		if !attached[id] {
			r, ok := d.gl.Config.Rules[id]
			t.Errorf("fragment filter %s not attached (rule present %v, regex %v)", id, ok, r.Regex)
		}
	}
}

// TestTrieReportsEveryOccurrence: the windows rely on the keyword trie
// reporting every occurrence of every keyword, overlapping ones and
// keywords inside longer keywords included.
func TestTrieReportsEveryOccurrence(t *testing.T) {
	trie := ahocorasick.NewTrieBuilder().AddStrings([]string{"api", "api_key", "key", "s.", "hvs.", "passw", "password"}).Build()
	var got []string
	for _, m := range trie.Match([]byte("x api_key hvs.abc password")) {
		got = append(got, m.MatchString())
	}
	slices.Sort(got)
	want := []string{"api", "api_key", "hvs.", "key", "passw", "password", "s."}
	if !slices.Equal(got, want) {
		t.Fatalf("trie hits %v, want %v", got, want)
	}
}

// TestHitFilters: each filter passes the keyword occurrence of true
// matches and rejects ordinary prose.
func TestHitFilters(t *testing.T) {
	cases := []struct {
		rule, text, kw string
		want           bool
	}{
		{"generic-api-key", `api_key = "abcdefghij0123"`, "key", true},
		{"generic-api-key", `api_key = "abc"`, "key", false},
		{"generic-api-key", "token\n\n:  abcdefghijk", "token", true},
		{"generic-api-key", "the key to success", "key", false},
		{"generic-api-key", "key = None", "key", false},
		{"generic-api-key", "token: str,", "token", false},
		{"generic-api-key", `secret ::= "0123456789"`, "secret", true},
		{"generic-api-key", "auth =\n\n  \"abcdefghij12\"", "auth", true},
		{"vault-service-token", " s.abcdefghijklmnopqrstuvwx ", "s.", true},
		{"vault-service-token", "this.abcdefghijklmnopqrstuvwx", "s.", false},
		{"vault-service-token", "os.path", "s.", false},
		{"jwt", "eyJhbGciOiJIUzI1NiIsInR5.eyJ", "ey", true},
		{"jwt", "they", "ey", false},
		{"twilio-api-key", "SK0123456789abcdef0123456789abcdef", "sk", true},
		{"twilio-api-key", "task", "sk", false},
		{"url-credentials", "https://user:secret@host", "://", true},
		{"url-credentials", "https://host/path", "://", false},
		{"url-credentials", "https://user:ab@host", "://", false},
		{"dotenv-secret", "export DB_PASSWORD=hunter22", "passw", true},
		{"dotenv-secret", "# set the PASSWORD= below", "passw", false},
		{"generic-secret-assignment", `"client_secret": "x"`, "secret", true},
		{"generic-secret-assignment", "a secret plan", "secret", false},
	}
	for _, c := range cases {
		a := indexFold(c.text, c.kw)
		if got := hitFilters[c.rule].filter(c.text, a, a+len(c.kw)); got != c.want {
			t.Errorf("%s filter on %q at %q = %v, want %v", c.rule, c.text, c.kw, got, c.want)
		}
	}
}

func indexFold(s, kw string) int {
	for i := 0; i+len(kw) <= len(s); i++ {
		if asciiLower(s[i:i+len(kw)]) == kw {
			return i
		}
	}
	return -1
}

// TestFragmentFilters: each fragment filter passes texts its rule matches
// in and rejects ones it cannot match in.
func TestFragmentFilters(t *testing.T) {
	cases := []struct {
		rule, text string
		want       bool
	}{
		{"curl-auth-user", "curl -fsSL -u deploy:Qx7tR2vLm9Wz https://x", true},
		{"curl-auth-user", "curl https://example.net | sh", false},
		{"kubernetes-secret-yaml", "Kind: Secret\nDATA:\n  pw: YWJjZGVmZ2hpams=", true},
		{"kubernetes-secret-yaml", "kind: ConfigMap\nspec:", false},
		{"facebook-access-token", "t = 123456789012345|abcdefghijklmnopqrstuvwxyz0123", true},
		{"facebook-access-token", "phone 12345|x, 50% off", false},
	}
	for _, c := range cases {
		if got := fragmentFilters[c.rule].filter(c.text); got != c.want {
			t.Errorf("%s filter on %q = %v, want %v", c.rule, c.text, got, c.want)
		}
	}
}
