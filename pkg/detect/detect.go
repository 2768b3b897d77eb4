package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/config"
	gldetect "github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
	"github.com/zricethezav/gitleaks/v8/report"
)

// Hit is one secret found in a piece of text.
type Hit struct {
	RuleID      string
	Description string
	// Line and EndLine are 1-based; 0 for a rule that matched only the path.
	Line, EndLine int
	Column        int
	// Secret is the plaintext secret. Never print or store it as is.
	Secret  string
	Entropy float32
	// Severity is critical, high, medium, low or info.
	Severity string
	// Encoding names the decoding that revealed the secret, if any.
	Encoding string
	// Note adds what the rule knows about the match.
	Note string
	// Context is the line the secret is on (at most MaxContext bytes),
	// plaintext like Secret: live verification reads where a credential
	// belongs from it (a URL's host, a login command's registry).
	Context string
}

// MaxContext bounds Hit.Context.
const MaxContext = 2048

// Options configure New.
type Options struct {
	// MaxDecodeDepth is how many rounds of base64/hex/percent decoding
	// gitleaks applies to find encoded secrets (default 0: none).
	MaxDecodeDepth int
	// ConfigFile is a gitleaks-format TOML file (--config): with
	// [extend] useDefault = true its rules and allowlists are added to
	// layerscan's defaults, otherwise they replace them.
	ConfigFile string
	// NoWindows turns the keyword-window engine (fast.go) off: every rule
	// with a keyword hit runs over the whole text, as gitleaks does. The
	// findings are the same; it exists to measure and to compare.
	NoWindows bool
	// NoPrecise turns off the checks that drop the loose rules' matches
	// on documentation, tests, code and placeholders (precise.go); it
	// exists to measure what they drop (docs/accuracy.md).
	NoPrecise bool
	// KeepGitleaksLog leaves gitleaks' logger as the process has it. By
	// default New sets gitleaks' package-level logger (logging.Logger, one
	// for the whole process) to zerolog.Disabled: gitleaks logs at Info to
	// stderr, and its messages can carry an image's paths and secrets,
	// unredacted and unsanitised. A program that uses gitleaks itself and
	// wants its messages sets this and configures logging.Logger.
	KeepGitleaksLog bool
}

// Detector scans text for secrets. It is safe for concurrent use.
type Detector struct {
	gl   *gldetect.Detector
	fast *windowed // nil: plain gitleaks Detect
	// binFast runs only the rules ScanBinary reports (and the one that can
	// suppress them), windowed.
	binFast *windowed
	ruleset string
	// pathOnly are the rules that match paths only (no regex).
	pathOnly map[string]bool
	yields   map[string]bool
	// noPrecise: Options.NoPrecise.
	noPrecise bool
}

// fragment is the text gitleaks v8's Detect takes.
//
//lint:ignore SA1019 gitleaks v8's Detect takes this type; v9 replaces it with sources.Fragment
type fragment = gldetect.Fragment

var quietOnce sync.Once

// quiet turns gitleaks' own logging off, once (Options.KeepGitleaksLog).
func quiet() {
	quietOnce.Do(func() { logging.Logger = logging.Logger.Level(zerolog.Disabled) })
}

// New builds a Detector: gitleaks' default rules, layerscan's rules
// (rules.go) and default allowlist (allowlist.toml), and opts.ConfigFile,
// merged into one gitleaks config and one gitleaks detector.
//
// Unless opts.KeepGitleaksLog is set, New disables gitleaks' process-wide
// logger (see Options.KeepGitleaksLog): a side effect on package state the
// caller may share.
func New(opts Options) (*Detector, error) {
	if !opts.KeepGitleaksLog {
		quiet()
	}
	cfg, yields, err := buildDefault()
	if err != nil {
		return nil, err
	}
	var userRaw []byte
	if opts.ConfigFile != "" {
		uc, err := loadUserConfig(opts.ConfigFile)
		if err != nil {
			return nil, err
		}
		if cfg, err = mergeUser(cfg, uc); err != nil {
			return nil, err
		}
		userRaw = uc.raw
	}
	gl := gldetect.NewDetector(cfg)
	gl.MaxDecodeDepth = opts.MaxDecodeDepth
	gl.Redact = 0
	d := &Detector{gl: gl, pathOnly: map[string]bool{}, yields: yields, noPrecise: opts.NoPrecise}
	for id, r := range cfg.Rules {
		if r.Regex == nil && r.Path != nil {
			d.pathOnly[id] = true
		}
	}
	if !opts.NoWindows {
		d.fast = newWindowed(cfg, gl)
		d.binFast = newBinaryWindowed(cfg, opts.MaxDecodeDepth)
	}
	d.ruleset = rulesetFingerprint(cfg, opts, userRaw, d)
	return d, nil
}

// rulesetFingerprint hashes everything that decides findings: every rule
// (pattern, path, entropy, keywords, secret group, severity, allowlists),
// the global allowlists, the decoding depth, the --config file's bytes and
// the version of layerscan's post-processing.
func rulesetFingerprint(cfg config.Config, opts Options, userRaw []byte, d *Detector) string {
	al := func(a *config.Allowlist) string {
		var b strings.Builder
		stop := slices.Sorted(slices.Values(a.StopWords))
		fmt.Fprintf(&b, "[%s|%v|%q|%v|", a.Description, a.MatchCondition, a.RegexTarget, stop)
		for _, p := range a.Paths {
			b.WriteString("p:" + p.String() + ";")
		}
		for _, r := range a.Regexes {
			b.WriteString("r:" + r.String() + ";")
		}
		b.WriteString("]")
		return b.String()
	}
	ids := make([]string, 0, len(cfg.Rules))
	for id, r := range cfg.Rules {
		var b strings.Builder
		fmt.Fprintf(&b, "%s\x00%v\x00%v\x00%v\x00%v\x00%d\x00%v\x00%s\x00", id, r.Regex, r.Path, r.Entropy, r.Keywords, r.SecretGroup, r.Tags, d.severityOf(id, r.Tags))
		for _, a := range r.Allowlists {
			b.WriteString(al(a))
		}
		ids = append(ids, b.String()+"\n")
	}
	sort.Strings(ids)
	h := sha256.New()
	fmt.Fprintf(h, "layerscan-detect/4 decode=%d precise=%v\n", opts.MaxDecodeDepth, !opts.NoPrecise)
	for _, id := range ids {
		h.Write([]byte(id))
	}
	for _, a := range cfg.Allowlists {
		h.Write([]byte(al(a)))
	}
	fmt.Fprintf(h, "\nconfig=%x\n", sha256.Sum256(userRaw))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// RulesetFingerprint identifies the rules and options: results stored under
// one fingerprint are not valid under another.
func (d *Detector) RulesetFingerprint() string { return d.ruleset }

// RuleCount is the number of rules loaded.
func (d *Detector) RuleCount() int { return len(d.gl.Config.Rules) }

// Scan finds secrets in data, a piece of the file at path whose first byte
// is on line startLine (1-based). data may be reused once Scan returns.
// Path-only rules are left to ScanPath.
func (d *Detector) Scan(path string, data []byte, startLine int) []Hit {
	if len(data) == 0 {
		return nil
	}
	return d.scan(d.fast, path, data, startLine)
}

func (d *Detector) scan(w *windowed, path string, data []byte, startLine int) []Hit {
	raw := unsafe.String(unsafe.SliceData(data), len(data))
	frag := fragment{Raw: raw, FilePath: path, StartLine: startLine}
	if w != nil {
		return d.convert(w.detect(frag), path, raw, false)
	}
	return d.convert(d.gl.Detect(frag), path, raw, false)
}

// ScanPath runs the rules that match a file's path alone (such as
// PKCS#12 key stores), whatever its content.
func (d *Detector) ScanPath(path string) []Hit {
	if len(d.pathOnly) == 0 {
		return nil
	}
	fs := d.convert(d.gl.Detect(fragment{Raw: "", FilePath: path}), path, "", true)
	for i := range fs {
		fs[i].Line, fs[i].EndLine, fs[i].Column = 0, 0, 0
	}
	return fs
}

func (d *Detector) convert(in []report.Finding, path, data string, pathRules bool) []Hit {
	if len(in) == 0 {
		return nil
	}
	out := make([]Hit, 0, len(in))
	for _, f := range in {
		if d.pathOnly[f.RuleID] != pathRules {
			continue
		}
		tags := f.Tags
		nf := Hit{
			RuleID:      f.RuleID,
			Description: f.Description,
			Line:        f.StartLine,
			EndLine:     f.EndLine,
			Column:      f.StartColumn,
			// Clone: the secret points into a buffer the caller reuses.
			Secret:   strings.Clone(f.Secret),
			Entropy:  f.Entropy,
			Severity: d.severityOf(f.RuleID, tags),
			Encoding: encodingOf(tags),
			Context:  strings.Clone(f.Line[:min(len(f.Line), MaxContext)]),
		}
		if KnownExample(nf.Secret) || !d.noPrecise && precise(nf.RuleID, path, f.Line, nf.Secret) != "" {
			continue
		}
		if d.refine(path, data, &nf) {
			out = append(out, nf)
		}
	}
	out = d.dropYielding(out)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		if out[i].Column != out[j].Column {
			return out[i].Column < out[j].Column
		}
		return out[i].RuleID < out[j].RuleID
	})
	return out
}

// Redact shows at most the first four characters of a secret (fewer for
// short ones) followed by "****". A value already redacted is returned as
// it is, so that text redacted twice (a stored config, then the report)
// reads the same as text redacted once.
func Redact(secret string) string {
	if strings.HasSuffix(secret, "****") {
		return secret
	}
	r := []rune(secret)
	keep := min(4, len(r)/4)
	return string(r[:keep]) + "****"
}

// encodingOf reads gitleaks' "decoded:ENCODING" tag.
func encodingOf(tags []string) string {
	for _, t := range tags {
		if enc, ok := strings.CutPrefix(t, "decoded:"); ok {
			return enc
		}
	}
	return ""
}

// highConfidence are rules whose matches are distinctive enough to check
// in the printable strings of binaries: fixed-prefix tokens and keys.
var highConfidence = map[string]bool{
	"aws-access-token": true, "github-pat": true, "github-fine-grained-pat": true, "github-oauth": true,
	"github-app-token": true, "github-refresh-token": true, "gitlab-pat": true, "gitlab-ptt": true,
	"gitlab-rrt": true, "slack-bot-token": true, "slack-user-token": true, "slack-app-token": true,
	"slack-webhook-url": true, "stripe-access-token": true, "npm-access-token": true, "private-key": true,
	"gcp-api-key": true, "pypi-upload-token": true, "openai-api-key": true, "anthropic-api-key": true,
	"digitalocean-pat": true, "sendgrid-api-token": true, "twilio-api-key": true, "shopify-access-token": true,
}

// newBinaryWindowed is the windowed engine over the high-confidence rules
// and gcp-service-account-key (its finding suppresses a private-key one on
// the same line, see dropYielding): ScanBinary reports the same findings
// as when every rule runs, since no other rule can drop or change a
// high-confidence finding (none of them is generic or yields).
func newBinaryWindowed(cfg config.Config, depth int) *windowed {
	sub := cfg
	sub.Rules = map[string]config.Rule{}
	sub.Keywords = map[string]struct{}{}
	for id, r := range cfg.Rules {
		if highConfidence[id] || id == "gcp-service-account-key" {
			sub.Rules[id] = r
			for _, k := range r.Keywords {
				sub.Keywords[strings.ToLower(k)] = struct{}{}
			}
		}
	}
	sub.OrderedRules = filterOrdered(cfg.OrderedRules, sub.Rules)
	gl := gldetect.NewDetector(sub)
	gl.MaxDecodeDepth = depth
	gl.Redact = 0
	return newWindowed(sub, gl)
}

// ScanBinary checks the printable strings of a binary file (data holds
// them, one per line) against the high-confidence rules only: in compiled
// code, loose rules match noise.
func (d *Detector) ScanBinary(path string, data []byte) []Hit {
	if len(data) == 0 {
		return nil
	}
	w := d.binFast
	if w == nil {
		w = d.fast
	}
	var out []Hit
	for _, f := range d.scan(w, path, data, 1) {
		if highConfidence[f.RuleID] {
			f.Line = 0
			out = append(out, f)
		}
	}
	return out
}
