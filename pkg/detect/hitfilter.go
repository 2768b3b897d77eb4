package detect

import "strings"

// Keyword-hit filters (docs/benchmarks.md, "Hit filters").
//
// A windowable rule's window is opened around every hit of its keywords,
// and the windows of the rules whose keywords are common words (key,
// token, secret, auth, "s.", "ey", "://") cover most of a text. Yet every
// match of such a rule holds one particular keyword occurrence — the one
// its keyword group matched — and the rule's regex says what must follow
// (or precede) that occurrence: an assignment operator within a few
// bytes, a run of 24 alphanumerics, a "user:password@" part... A hit filter
// is that condition, checked in Go at the hit: a necessary condition for
// the hit to be a match's keyword-group occurrence, never a sufficient
// one. Windows are opened only at hits that pass. Every match still has
// its keyword-group hit, which passes, and whose window covers the match
// (the window argument in fast.go is unchanged: it needs one hit per
// match, not all of them), so the findings are the same.
//
// A filter is tied to the exact regex it was written for: a rule whose
// regex differs (another gitleaks version, a --config rule of the same
// id) gets no filter. TestHitFiltersMatchRules fails when a filter's rule
// changes; TestWindowedEqualsGitleaks and TestEngineEqualOnImages compare
// the findings with plain gitleaks'.

// hitFilter tells whether the keyword occurrence raw[a:b] may be the
// keyword-group occurrence of a match.
type hitFilter func(raw string, a, b int) bool

type ruleFilter struct {
	regex  string
	filter hitFilter
}

// filterLinesBefore: for a rule with its filter attached (its regex as
// written), how many lines before a hit's line its window must reach,
// where the regex analysis (symmetric) says more.
var filterLinesBefore = map[string]int{
	// Its newlines can only follow the keyword group: a match starts on
	// the hit's line, at most 50 bytes before it. One line before keeps
	// the window's start away from any match (the analysis gives 10 lines
	// each side).
	"generic-api-key": 1,
}

var hitFilters = map[string]ruleFilter{
	// …(?:access|auth|…|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)
	//   [\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})…
	// The keyword group matches exactly one keyword. Within 23 bytes after
	// it, over [ \t\w.-] and [\s'"] only, comes the operator (none of
	// those bytes can start one, so it starts at the first other byte),
	// then at most 5 bytes of [\x60'"\s=], then a value of 10 bytes or more.
	"generic-api-key": {
		`(?i)[\w.-]{0,50}?(?:access|auth|(?-i:[Aa]pi|API)|credential|creds|key|passw(?:or)?d|secret|token)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}([\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3})(?:[\x60'"\s;]|\\[nr]|$)`,
		func(raw string, _, b int) bool {
			for i := b; i < len(raw) && i <= b+23; i++ {
				c := raw[i]
				switch {
				case isWord(c) || c == '.' || c == '-' || c == ' ' || c == '\t' || c == '\n' ||
					c == '\f' || c == '\r' || c == '\'' || c == '"':
				default:
					for _, op := range apiKeyOps {
						if strings.HasPrefix(raw[i:], op) && apiKeyValue(raw, i+len(op)) {
							return true
						}
					}
					return false
				}
			}
			return false
		},
	},
	// \b((?:hvs\.[\w-]{90,120}|s\.(?i:[a-z0-9]{24})))… — a word boundary
	// before the keyword, then 24 alphanumerics (or 90 of [\w-]).
	"vault-service-token": {
		`\b((?:hvs\.[\w-]{90,120}|s\.(?i:[a-z0-9]{24})))(?:[\x60'"\s;]|\\[nr]|$)`,
		func(raw string, a, b int) bool {
			if a > 0 && isWord(raw[a-1]) {
				return false
			}
			if b-a == 4 { // hvs.
				return runOf(raw, b, func(c byte) bool { return isWord(c) || c == '-' }) >= 90
			}
			return runOf(raw, b, isAlnum) >= 24
		},
	},
	// \b(ey[a-zA-Z0-9]{17,}\.ey…
	"jwt": {
		`\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?)(?:[\x60'"\s;]|\\[nr]|$)`,
		func(raw string, a, b int) bool {
			if a > 0 && isWord(raw[a-1]) {
				return false
			}
			n := runOf(raw, b, isAlnum)
			return n >= 17 && b+n < len(raw) && raw[b+n] == '.'
		},
	},
	// SK[0-9a-fA-F]{32}
	"twilio-api-key": {
		`SK[0-9a-fA-F]{32}`,
		func(raw string, _, b int) bool { return runOf(raw, b, isHex) >= 32 },
	},
	// \b[a-z][a-z0-9+.-]{1,20}://[^\s:@/'"\x60<>{}$]{1,100}:([^\s:@/'"\x60<>{}$]{3,200})@…
	"url-credentials": {
		`(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:@/'"\x60<>{}$]{1,100}:([^\s:@/'"\x60<>{}$]{3,200})@[a-z0-9][a-z0-9.-]*`,
		urlUserinfo,
	},
	"git-credentials": {
		`(?i)\b[a-z][a-z0-9+.-]{1,20}://[^\s:@/'"\x60<>{}$]{1,100}:([^\s:@/'"\x60<>{}$]{3,200})@[a-z0-9][a-z0-9.-]*`,
		urlUserinfo,
	},
	// (?im)^[ \t]*(?:export[ \t]+)?([A-Z0-9_.]*(?:PASSW(?:OR)?D|…|AUTH)[A-Z0-9_.]*)[ \t]*=…
	// The keyword is in the line's first name, which is followed by =.
	"dotenv-secret": {
		`(?im)^[ \t]*(?:export[ \t]+)?([A-Z0-9_.]*(?:PASSW(?:OR)?D|PASSPHRASE|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)[A-Z0-9_.]*)[ \t]*=[ \t]*["']?([^\s"'$#\x60]{6,})["']?[ \t]*(?:#.*)?$`,
		func(raw string, a, b int) bool {
			for i := a - 1; i >= 0 && raw[i] != '\n'; i-- {
				if c := raw[i]; !isAlnum(c) && c != '_' && c != '.' && c != ' ' && c != '\t' {
					return false
				}
			}
			i := b + runOf(raw, b, func(c byte) bool { return isAlnum(c) || c == '_' || c == '.' })
			i += runOf(raw, i, func(c byte) bool { return c == ' ' || c == '\t' })
			return i < len(raw) && raw[i] == '='
		},
	},
	// (?i)([a-z0-9_.-]{0,40}(?:passw(?:or)?d|…|credentials?)[a-z0-9_.-]{0,20})["']?[ \t]{0,3}(?:=|:=|:|=>)…
	"generic-secret-assignment": {
		`(?i)([a-z0-9_.-]{0,40}(?:passw(?:or)?d|passphrase|secret|token|api[_.-]?key|apikey|access[_.-]?key|private[_.-]?key|credentials?)[a-z0-9_.-]{0,20})["']?[ \t]{0,3}(?:=|:=|:|=>)[ \t]{0,3}["'\x60]?([A-Za-z0-9+/=_.~!@#%^&*-]{8,200})(?:["'\x60\s;,]|$)`,
		func(raw string, _, b int) bool {
			i := b + runOf(raw, b, func(c byte) bool { return isAlnum(c) || c == '_' || c == '.' || c == '-' })
			if i < len(raw) && (raw[i] == '"' || raw[i] == '\'') {
				i++
			}
			i += runOf(raw, i, func(c byte) bool { return c == ' ' || c == '\t' })
			return i < len(raw) && (raw[i] == '=' || raw[i] == ':')
		},
	},
}

// apiKeyOps are generic-api-key's operators.
var apiKeyOps = []string{"=", ">", ":=", "::=", ":::=", "||", ":", "=>", "?=", ","}

// apiKeyValue: at most 5 bytes of [\x60'"\s=] from i, then 10 or more of
// [\w.=-+/] (either of generic-api-key's value forms).
func apiKeyValue(raw string, i int) bool {
	for j := 0; j <= 5 && i+j <= len(raw); j++ {
		if runOf(raw, i+j, func(c byte) bool {
			return isWord(c) || c == '.' || c == '=' || c == '-' || c == '+' || c == '/'
		}) >= 10 {
			return true
		}
		if i+j == len(raw) {
			return false
		}
		switch raw[i+j] {
		case '`', '\'', '"', ' ', '\t', '\n', '\f', '\r', '=':
		default:
			return false
		}
	}
	return false
}

// urlUserinfo: a scheme character before ://, then user, ':', password
// of three or more, '@'.
func urlUserinfo(raw string, a, b int) bool {
	if a == 0 {
		return false
	}
	if c := raw[a-1]; !isAlnum(c) && c != '+' && c != '.' && c != '-' {
		return false
	}
	user := runOf(raw, b, userinfoByte)
	i := b + user
	if user < 1 || i >= len(raw) || raw[i] != ':' {
		return false
	}
	pass := runOf(raw, i+1, userinfoByte)
	i += 1 + pass
	return pass >= 3 && i < len(raw) && raw[i] == '@'
}

func userinfoByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\f', '\r', ':', '@', '/', '\'', '"', '`', '<', '>', '{', '}', '$':
		return false
	}
	return true
}

func isWord(c byte) bool { return isAlnum(c) || c == '_' }

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isHex(c byte) bool { return hexDigit[c] }

// runOf is the length of the run of bytes in class starting at i.
func runOf(raw string, i int, class func(byte) bool) int {
	n := 0
	for i+n < len(raw) && class(raw[i+n]) {
		n++
	}
	return n
}

// Fragment filters: for rules that run over whole fragments (they are not
// windowable), a necessary condition on the fragment for the rule's regex
// to match anywhere in it, checked in Go before the regex runs. Tied to the
// exact regex like the hit filters.
type fragmentFilter struct {
	regex  string
	filter func(raw string) bool
}

var fragmentFilters = map[string]fragmentFilter{
	// \bcurl\b…[ \t\n\r](?:-u|--user)… — "-u" either way.
	"curl-auth-user": {
		`\bcurl\b(?:.*|.*(?:[\r\n]{1,2}.*){1,5})[ \t\n\r](?:-u|--user)(?:=|[ \t]{0,5})("(:[^"]{3,}|[^:"]{3,}:|[^:"]{3,}:[^"]{3,})"|'([^:']{3,}:[^']{3,})'|((?:"[^"]{3,}"|'[^']{3,}'|[\w$@.-]+):(?:"[^"]{3,}"|'[^']{3,}'|[\w${}@.-]+)))(?:\s|\z)`,
		func(raw string) bool { return strings.Contains(raw, "-u") },
	},
	// (?i)(?:\bkind:…\bdata:…|\bdata:…\bkind:…) — both alternatives hold
	// "kind:" and "data:".
	"kubernetes-secret-yaml": {
		`(?i)(?:\bkind:[ \t]*["']?\bsecret\b["']?(?s:.){0,200}?\bdata:(?s:.){0,100}?\s+([\w.-]+:(?:[ \t]*(?:\||>[-+]?)\s+)?[ \t]*(?:["']?[a-z0-9+/]{10,}={0,3}["']?|\{\{[ \t\w"|$:=,.-]+}}|""|''))|\bdata:(?s:.){0,100}?\s+([\w.-]+:(?:[ \t]*(?:\||>[-+]?)\s+)?[ \t]*(?:["']?[a-z0-9+/]{10,}={0,3}["']?|\{\{[ \t\w"|$:=,.-]+}}|""|''))(?s:.){0,200}?\bkind:[ \t]*["']?\bsecret\b["']?)`,
		func(raw string) bool { return containsFoldColon(raw, "kind") && containsFoldColon(raw, "data") },
	},
	// (?i)\b(\d{15,16}(\||%)[0-9a-z\-_]{27,40})… — 15 digits, then | or %.
	"facebook-access-token": {
		`(?i)\b(\d{15,16}(\||%)[0-9a-z\-_]{27,40})(?:[\x60'"\s;]|\\[nr]|$)`,
		func(raw string) bool {
			for i := 0; i < len(raw); {
				j := strings.IndexAny(raw[i:], "|%")
				if j < 0 {
					return false
				}
				i += j
				n := 0
				for n < 16 && i-n-1 >= 0 && '0' <= raw[i-n-1] && raw[i-n-1] <= '9' {
					n++
				}
				if n >= 15 {
					return true
				}
				i++
			}
			return false
		},
	},
}

// containsFoldColon: word followed by ':' occurs in raw, word compared
// ASCII case-insensitively (word is lower case).
func containsFoldColon(raw, word string) bool {
	for i := 0; ; {
		j := strings.IndexByte(raw[i:], ':')
		if j < 0 {
			return false
		}
		i += j
		if i >= len(word) && asciiLower(raw[i-len(word):i]) == word {
			return true
		}
		i++
	}
}
