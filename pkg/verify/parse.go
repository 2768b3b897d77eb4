package verify

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Bounds on what the parsers read: every image is hostile input.
const (
	// MaxParseBytes is how much of one file or text the parsers read; the
	// rest is ignored.
	MaxParseBytes = 1 << 20
	// MaxCredentials is how many credentials one file or text gives at most.
	MaxCredentials = 64
	// maxLine bounds one line of a line-oriented file.
	maxLine = 64 << 10
	// maxSecret bounds one secret; longer values are not credentials.
	maxSecret = 4096
)

// collector gathers credentials without duplicates, up to MaxCredentials.
type collector struct {
	out  []Credential
	seen map[Credential]bool
}

func (c *collector) add(cr Credential) {
	if len(c.out) >= MaxCredentials || len(cr.Secret) > maxSecret || len(cr.Username) > maxSecret {
		return
	}
	if cr.Kind != KindAWS && envReference(cr.Secret) {
		return
	}
	if cr.Kind == KindAWS && (envReference(cr.KeyID) || cr.Secret != "" && envReference(cr.Secret)) {
		return
	}
	if c.seen == nil {
		c.seen = map[Credential]bool{}
	}
	if c.seen[cr] {
		return
	}
	if cr.Kind == KindHTTPBasic {
		for _, o := range c.out { // already known with its service
			if o.Secret == cr.Secret && o.Host == cr.Host && o.Username == cr.Username {
				return
			}
		}
	}
	c.seen[cr] = true
	c.out = append(c.out, cr)
}

func (c *collector) full() bool { return len(c.out) >= MaxCredentials }

// FromFile parses the credentials out of one file's content, chosen by the
// file's path: a Docker or Podman config.json/auth.json/.dockercfg (each
// auths entry: registry host, user and password or identity token), .pgpass,
// .netrc, .git-credentials, .npmrc (//host/:_authToken, _auth, _password),
// a .git/config (remote URLs with a user and password), ~/.aws/credentials
// (key id and secret pairs); and, in any file, everything FromText finds.
// It reads at most MaxParseBytes of content and returns at most
// MaxCredentials credentials, without duplicates, in file order.
func FromFile(p string, content []byte) []Credential {
	if len(content) > MaxParseBytes {
		content = content[:MaxParseBytes]
	}
	var c collector
	if parse := fileParser(p); parse != nil {
		parse(&c, content)
	}
	clean := path.Clean("/" + p)
	git := strings.HasSuffix(clean, "/.git/config") || path.Base(p) == ".git-credentials"
	fromText(&c, string(content), git)
	return c.out
}

// CredentialFile says whether FromFile knows the format of the file at p
// (a Docker config, .pgpass, .netrc, .git-credentials, .npmrc, a git
// config, AWS credentials): a scan keeps such files' content for
// verification, since the credential's context (its registry, host or
// key id) is on other lines than the secret.
func CredentialFile(p string) bool {
	return fileParser(p) != nil || strings.HasSuffix(path.Clean("/"+p), "/.git/config")
}

// fileParser is the parser of a credential file's format, by its path.
func fileParser(p string) func(*collector, []byte) {
	base := path.Base(p)
	clean := path.Clean("/" + p)
	switch {
	case base == "config.json" || base == "auth.json" || base == ".dockercfg":
		return dockerConfig
	case base == ".pgpass" || base == "pgpass.conf":
		return pgpass
	case base == ".netrc" || base == "_netrc":
		return netrc
	case base == ".git-credentials":
		return gitCredentials
	case base == ".npmrc" || base == "npmrc":
		return npmrc
	case strings.HasSuffix(clean, "/.aws/credentials") || strings.HasSuffix(clean, "/.aws/config"):
		return awsINI
	}
	return nil
}

// FromText parses the credentials out of text from an image's config or
// history (an ENV value, a RUN line, a label): URLs with a user and
// password (postgres/postgresql, mysql/mariadb, redis/rediss, http(s) git
// remotes), `docker login -u USER -p PASSWORD HOST` (and podman, buildah,
// skopeo, nerdctl; also `echo PASSWORD | docker login --password-stdin`),
// and AWS key id and secret pairs. Bounded like FromFile.
func FromText(text string) []Credential {
	var c collector
	fromText(&c, text, false)
	return c.out
}

func fromText(c *collector, text string, gitFile bool) {
	if len(text) > MaxParseBytes {
		text = text[:MaxParseBytes]
	}
	urlCredentials(c, text, gitFile)
	dockerLogins(c, text)
	awsPairs(c, text)
}

// --- URLs with userinfo ---

// userinfoURL finds scheme://user:password@host… in free text. The
// password may not hold white space, quotes or @ (a literal @ must be
// percent-encoded in a URL anyway).
var userinfoURL = regexp.MustCompile(`(?i)\b(postgres(?:ql)?|mysql|mariadb|rediss?|https?)://([^\s:@/'"<>\x60]*):([^\s@'"<>\x60]+)@([^\s/?#'"<>\x60;,)]+)([^\s'"<>\x60;,)]*)`)

func urlCredentials(c *collector, text string, gitFile bool) {
	for _, m := range userinfoURL.FindAllString(text, MaxCredentials*4) {
		if c.full() {
			return
		}
		if cr, ok := credentialFromURL(m, gitFile); ok {
			c.add(cr)
		}
	}
}

// credentialFromURL turns a URL with userinfo into a credential; git says
// that an http(s) URL is a git remote whatever its path.
func credentialFromURL(raw string, git bool) (Credential, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return Credential{}, false
	}
	pass, ok := u.User.Password()
	if !ok || pass == "" {
		return Credential{}, false
	}
	scheme := strings.ToLower(u.Scheme)
	hp, ok := urlHostPort(u)
	if !ok {
		return Credential{}, false
	}
	cr := Credential{Secret: pass, Username: u.User.Username(), Host: hp}
	clean := *u
	clean.User = nil
	clean.Fragment = ""
	switch scheme {
	case "postgres", "postgresql":
		cr.Kind = KindPostgres
	case "mysql", "mariadb":
		cr.Kind = KindMySQL
	case "redis", "rediss":
		cr.Kind = KindRedis
	case "http", "https":
		clean.RawQuery = ""
		if git || gitPath(u.Path) {
			cr.Kind = KindGitHTTP
		} else {
			cr.Kind = KindHTTPBasic
		}
	default:
		return Credential{}, false
	}
	cr.URL = clean.String()
	return cr, true
}

// gitPath reports whether an http(s) URL path looks like a git repository.
func gitPath(p string) bool {
	p = strings.TrimSuffix(p, "/")
	return strings.HasSuffix(p, ".git") || strings.Contains(p, "/_git/") || strings.Contains(p, "/scm/")
}

// --- docker config.json ---

// dockerHub are the names of Docker Hub in config.json keys; its registry
// API is served by registry-1.docker.io, as Docker itself does it.
var dockerHub = map[string]bool{
	"index.docker.io": true, "docker.io": true, "registry-1.docker.io": true, "registry.hub.docker.com": true,
}

type dockerAuth struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

func dockerConfig(c *collector, content []byte) {
	var cfg struct {
		Auths map[string]dockerAuth `json:"auths"`
	}
	if err := json.Unmarshal(content, &cfg); err != nil {
		return
	}
	auths := cfg.Auths
	if auths == nil { // legacy .dockercfg: the hosts at the top level
		if err := json.Unmarshal(content, &auths); err != nil {
			return
		}
	}
	keys := sortedKeys(auths)
	for _, key := range keys {
		a := auths[key]
		reg, ok := registryFromKey(key)
		if !ok {
			continue
		}
		user, pass := a.Username, a.Password
		if a.Auth != "" {
			if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.Auth)); err == nil {
				if u, p, ok := strings.Cut(string(dec), ":"); ok {
					user, pass = u, p
				}
			}
		}
		if pass != "" {
			c.add(Credential{Kind: KindDockerRegistry, Secret: pass, Username: user, URL: reg.url, Host: reg.host})
		}
		if a.IdentityToken != "" {
			c.add(Credential{Kind: KindDockerRegistry, Secret: a.IdentityToken, Username: identityToken, URL: reg.url, Host: reg.host})
		}
	}
}

type registryRef struct{ url, host string }

// registryFromKey reads a config.json key ("host", "host:port",
// "https://host/v1/", "http://host:5000") as a registry: URL is its base
// URL (scheme and host), host its "host:port".
func registryFromKey(key string) (registryRef, bool) {
	k := strings.TrimSpace(key)
	scheme := "https"
	if i := strings.Index(k, "://"); i >= 0 {
		scheme = strings.ToLower(k[:i])
		k = k[i+3:]
		if scheme != "http" && scheme != "https" {
			return registryRef{}, false
		}
	}
	if i := strings.IndexAny(k, "/?#"); i >= 0 {
		k = k[:i]
	}
	hp, ok := hostPort(k, defaultPorts[scheme])
	if !ok {
		return registryRef{}, false
	}
	if dockerHub[hostname(hp)] {
		scheme, hp = "https", "registry-1.docker.io:443"
	}
	u := url.URL{Scheme: scheme, Host: hp}
	if _, p, _ := net.SplitHostPort(hp); p == defaultPorts[scheme] {
		u.Host = strings.TrimSuffix(hp, ":"+p)
	}
	return registryRef{url: u.String(), host: hp}, true
}

// --- .pgpass ---

// pgpass reads hostname:port:database:username:password lines (\: and \\
// escape). Entries with a wildcard host are skipped (no host to try); a
// wildcard port is 5432, a wildcard database none.
func pgpass(c *collector, content []byte) {
	eachLine(content, func(line string) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			return
		}
		f := splitEscaped(line, ':')
		if len(f) != 5 || f[0] == "*" || f[3] == "*" || f[4] == "" {
			return
		}
		port := f[1]
		if port == "*" || port == "" {
			port = "5432"
		}
		hp, ok := hostPort(f[0]+":"+port, "5432")
		if !ok {
			return
		}
		u := url.URL{Scheme: "postgres", Host: hp}
		if f[2] != "*" && f[2] != "" {
			u.Path = "/" + f[2]
		}
		c.add(Credential{Kind: KindPostgres, Secret: f[4], Username: f[3], Host: hp, URL: u.String()})
	})
}

// splitEscaped splits s at sep, honouring backslash escapes.
func splitEscaped(s string, sep byte) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case s[i] == sep:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(out, b.String())
}

// --- .netrc ---

// netrc reads "machine HOST login USER password PASS" entries (in any
// layout of tokens). A .netrc names a host, not a service, so its entries
// are http-basic credentials for https://HOST/: never sent.
func netrc(c *collector, content []byte) {
	toks := strings.Fields(string(content))
	var machine, login, pass string
	flush := func() {
		if machine != "" && pass != "" {
			if hp, ok := hostPort(machine, "443"); ok {
				c.add(Credential{Kind: KindHTTPBasic, Secret: pass, Username: login, Host: hp, URL: "https://" + hostname(hp) + "/"})
			}
		}
		machine, login, pass = "", "", ""
	}
	for i := 0; i < len(toks) && !c.full(); i++ {
		switch toks[i] {
		case "machine", "default":
			flush()
			if toks[i] == "machine" && i+1 < len(toks) {
				i++
				machine = toks[i]
			}
		case "login", "password", "account":
			if i+1 >= len(toks) {
				break
			}
			i++
			switch toks[i-1] {
			case "login":
				login = toks[i]
			case "password":
				pass = toks[i]
			}
		case "macdef":
			flush()
			return // macro bodies follow; nothing else is credentials
		}
	}
	flush()
}

// --- .git-credentials ---

// gitCredentials reads one https://user:password@host[/path] URL a line.
func gitCredentials(c *collector, content []byte) {
	eachLine(content, func(line string) {
		line = strings.TrimSpace(line)
		if cr, ok := credentialFromURL(line, true); ok && (strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://")) {
			c.add(cr)
		}
	})
}

// --- .npmrc ---

// npmrc reads //host/path/:_authToken=TOKEN, //host/path/:_auth=BASE64,
// //host/path/:username= with :_password=BASE64, and the same keys
// without a //host prefix (for the registry= line, default npmjs).
func npmrc(c *collector, content []byte) {
	type entry struct{ token, auth, user, password string }
	entries := map[string]*entry{}
	var order []string
	defaultReg := "https://registry.npmjs.org/"
	schemes := map[string]string{} // "//host[:port]" → scheme of a registry= line
	get := func(reg string) *entry {
		if e, ok := entries[reg]; ok {
			return e
		}
		e := &entry{}
		entries[reg] = e
		order = append(order, reg)
		return e
	}
	eachLine(content, func(line string) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			return
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return
		}
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
		if k == "registry" || strings.HasSuffix(k, ":registry") {
			if u, err := url.Parse(v); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
				if k == "registry" {
					defaultReg = v
				}
				schemes["//"+strings.ToLower(u.Host)] = u.Scheme
			}
			return
		}
		reg, key := "", k
		if strings.HasPrefix(k, "//") {
			i := strings.LastIndex(k, ":")
			if i < 0 {
				return
			}
			reg, key = k[:i], k[i+1:]
		}
		switch key {
		case "_authToken":
			get(reg).token = v
		case "_auth":
			get(reg).auth = v
		case "username":
			get(reg).user = v
		case "_password":
			get(reg).password = v
		}
	})
	for _, reg := range order {
		e := entries[reg]
		switch {
		case reg == "":
			reg = defaultReg
		default:
			// A //host/path/ key is for that registry whatever its scheme:
			// the scheme of a registry= line for the same host, else https.
			host, _, _ := strings.Cut(reg[2:], "/")
			scheme := schemes["//"+strings.ToLower(host)]
			if scheme == "" {
				scheme = "https"
			}
			reg = scheme + ":" + reg
		}
		u, err := url.Parse(reg)
		if err != nil {
			continue
		}
		hp, ok := urlHostPort(u)
		if !ok {
			continue
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		base := Credential{Kind: KindNPM, URL: u.String(), Host: hp}
		if e.token != "" {
			cr := base
			cr.Secret = e.token
			c.add(cr)
		}
		if e.auth != "" {
			if dec, err := base64.StdEncoding.DecodeString(e.auth); err == nil {
				if user, pass, ok := strings.Cut(string(dec), ":"); ok {
					cr := base
					cr.Username, cr.Secret = user, pass
					c.add(cr)
				}
			}
		}
		if e.user != "" && e.password != "" {
			if dec, err := base64.StdEncoding.DecodeString(e.password); err == nil {
				cr := base
				cr.Username, cr.Secret = e.user, string(dec)
				c.add(cr)
			}
		}
	}
}

// --- docker login ---

// loginCommand finds the start of a `docker login` (and its relatives).
var loginCommand = regexp.MustCompile(`\b(?:docker|podman|buildah|skopeo|nerdctl)\s+login\b`)

func dockerLogins(c *collector, text string) {
	locs := loginCommand.FindAllStringIndex(text, MaxCredentials)
	for _, loc := range locs {
		if c.full() {
			return
		}
		args := shellWords(text[loc[1]:], 32)
		var user, pass, host string
		stdin := false
		for i := 0; i < len(args); i++ {
			a := args[i]
			if isShellOperator(a) {
				break
			}
			next := func() string {
				if i+1 < len(args) && !isShellOperator(args[i+1]) {
					i++
					return args[i]
				}
				return ""
			}
			switch {
			case a == "-u" || a == "--username":
				user = next()
			case a == "-p" || a == "--password":
				pass = next()
			case strings.HasPrefix(a, "--username="):
				user = a[len("--username="):]
			case strings.HasPrefix(a, "--password="):
				pass = a[len("--password="):]
			case strings.HasPrefix(a, "-u") && len(a) > 2 && a[2] != '-':
				user = a[2:]
			case strings.HasPrefix(a, "-p") && len(a) > 2 && a[2] != '-':
				pass = a[2:]
			case a == "--password-stdin":
				stdin = true
			case strings.HasPrefix(a, "-"):
				// other flags (--tls-verify=false, --authfile F, -e): a
				// value, if any, is never the host
				if !strings.Contains(a, "=") && (a == "--authfile" || a == "--cert-dir" || a == "--get-login" || a == "-e" || a == "--email") {
					next()
				}
			default:
				if host == "" {
					host = a
				}
			}
		}
		if pass == "" && stdin {
			pass = echoedBefore(text[:loc[0]])
		}
		if pass == "" {
			continue
		}
		if host == "" {
			host = "docker.io"
		}
		reg, ok := registryFromKey(host)
		if !ok {
			continue
		}
		c.add(Credential{Kind: KindDockerRegistry, Secret: pass, Username: user, URL: reg.url, Host: reg.host})
	}
}

// echoedBefore returns X of a `echo X |` (or printf) that pipes into the
// command starting at the end of before.
func echoedBefore(before string) string {
	before = strings.TrimRight(before, " \t")
	if !strings.HasSuffix(before, "|") || strings.HasSuffix(before, "||") {
		return ""
	}
	before = strings.TrimSuffix(before, "|")
	start := max(strings.LastIndexAny(before, ";&\n"), 0)
	words := shellWords(before[start:], 8)
	for len(words) > 0 && isShellOperator(words[0]) {
		words = words[1:]
	}
	if len(words) >= 2 && (words[0] == "echo" || words[0] == "printf") {
		w := words[len(words)-1]
		if w != "-n" && w != "%s" {
			return w
		}
	}
	return ""
}

func isShellOperator(s string) bool {
	switch s {
	case "&&", "||", ";", "|", "&", ")", "\n":
		return true
	}
	return false
}

// shellWords splits s into at most n shell words, honouring single and
// double quotes and backslashes; operators (&&, ||, ;, |) and newlines
// are words of their own.
func shellWords(s string, n int) []string {
	var out []string
	var b strings.Builder
	inWord := false
	emit := func() {
		if inWord {
			out = append(out, b.String())
			b.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s) && len(out) < n; i++ {
		ch := s[i]
		switch {
		case ch == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i+1:])
				i = len(s)
			} else {
				b.WriteString(s[i+1 : i+1+j])
				i += j + 1
			}
		case ch == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
		case ch == '\\' && i+1 < len(s):
			i++
			if s[i] != '\n' {
				inWord = true
				b.WriteByte(s[i])
			}
		case ch == ' ' || ch == '\t' || ch == '\r':
			emit()
		case ch == '\n' || ch == ';' || ch == ')':
			emit()
			out = append(out, string(ch))
		case ch == '&' || ch == '|':
			emit()
			if i+1 < len(s) && s[i+1] == ch {
				out = append(out, string([]byte{ch, ch}))
				i++
			} else {
				out = append(out, string(ch))
			}
		default:
			inWord = true
			b.WriteByte(ch)
		}
	}
	emit()
	return out
}

// --- AWS ---

// awsKeyID matches an AWS access key id (long-term AKIA, temporary ASIA
// and the other documented prefixes).
var awsKeyID = regexp.MustCompile(`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`)

// awsSecretAssign matches an assignment of a secret access key.
var awsSecretAssign = regexp.MustCompile(`(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})\b`)

// awsPairs pairs key ids and secret access keys found in text: in order,
// when the text holds as many of one as of the other.
func awsPairs(c *collector, text string) {
	ids := awsKeyID.FindAllStringSubmatch(text, MaxCredentials)
	secrets := awsSecretAssign.FindAllStringSubmatch(text, MaxCredentials)
	if len(ids) == 0 || len(ids) != len(secrets) {
		return
	}
	for i := range ids {
		c.add(Credential{Kind: KindAWS, KeyID: ids[i][1], Secret: secrets[i][1], Host: awsDefaultHost})
	}
}

// awsINI reads the [profile] sections of ~/.aws/credentials or config.
func awsINI(c *collector, content []byte) {
	var id, secret string
	flush := func() {
		if id != "" && secret != "" {
			c.add(Credential{Kind: KindAWS, KeyID: id, Secret: secret, Host: awsDefaultHost})
		}
		id, secret = "", ""
	}
	eachLine(content, func(line string) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			flush()
			return
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	})
	flush()
}

// --- helpers ---

// eachLine calls fn for each line of content, lines longer than maxLine
// skipped.
func eachLine(content []byte, fn func(string)) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		fn(strings.TrimRight(sc.Text(), "\r"))
	}
	// A too-long line stops the scanner: the rest of the file is not read.
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
