package detect

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/regexp"
)

//go:embed allowlist.toml
var defaultAllowlistTOML string

// allowlistFile is the shape of allowlist.toml: gitleaks' [[allowlists]].
type allowlistFile struct {
	Allowlists []allowlistEntry `toml:"allowlists"`
}

type allowlistEntry struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Paths       []string `toml:"paths"`
	Regexes     []string `toml:"regexes"`
	RegexTarget string   `toml:"regexTarget"`
	StopWords   []string `toml:"stopwords"`
	TargetRules []string `toml:"targetRules"`
}

// targeted is an allowlist and the rules it applies to (none: global).
type targeted struct {
	al    *config.Allowlist
	rules []string
}

func parseDefaultAllowlist() ([]targeted, error) {
	var f allowlistFile
	dec := toml.NewDecoder(strings.NewReader(defaultAllowlistTOML))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("default allowlist: %w", err)
	}
	var out []targeted
	for i, e := range f.Allowlists {
		if strings.TrimSpace(e.Description) == "" {
			return nil, fmt.Errorf("default allowlist entry %d has no description (its reason)", i+1)
		}
		al := &config.Allowlist{Description: e.Description, StopWords: e.StopWords}
		switch strings.ToUpper(e.Condition) {
		case "", "OR":
		case "AND":
			al.MatchCondition = config.AllowlistMatchAnd
		default:
			return nil, fmt.Errorf("default allowlist entry %d: condition %q", i+1, e.Condition)
		}
		switch e.RegexTarget {
		case "", "secret":
		case "match", "line":
			al.RegexTarget = e.RegexTarget
		default:
			return nil, fmt.Errorf("default allowlist entry %d: regexTarget %q", i+1, e.RegexTarget)
		}
		var err error
		if al.Paths, err = compileAll(e.Paths); err != nil {
			return nil, fmt.Errorf("default allowlist entry %d: %w", i+1, err)
		}
		if al.Regexes, err = compileAll(e.Regexes); err != nil {
			return nil, fmt.Errorf("default allowlist entry %d: %w", i+1, err)
		}
		if err := al.Validate(); err != nil {
			return nil, fmt.Errorf("default allowlist entry %d: %w", i+1, err)
		}
		out = append(out, targeted{al: al, rules: e.TargetRules})
	}
	return out, nil
}

func compileAll(pats []string) (out []*regexp.Regexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bad regular expression: %v", r)
		}
	}()
	for _, p := range pats {
		out = append(out, regexp.MustCompile(p))
	}
	return out, nil
}

// configMu serialises gitleaks config loading: Translate reads viper's
// global state and a package-level extend counter.
var configMu sync.Mutex

var gitleaksDefault = sync.OnceValues(func() (config.Config, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		return config.Config{}, err
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return config.Config{}, err
	}
	return vc.Translate()
})

// cloneConfig copies the maps and slices of c that building a config
// changes, so that a cached config is never modified.
func cloneConfig(c config.Config) config.Config {
	out := c
	out.Rules = make(map[string]config.Rule, len(c.Rules))
	for id, r := range c.Rules {
		r.Allowlists = slices.Clip(r.Allowlists)
		r.Keywords = slices.Clip(r.Keywords)
		r.Tags = slices.Clip(r.Tags)
		out.Rules[id] = r
	}
	out.Keywords = make(map[string]struct{}, len(c.Keywords))
	for k := range c.Keywords {
		out.Keywords[k] = struct{}{}
	}
	out.OrderedRules = slices.Clone(c.OrderedRules)
	out.Allowlists = slices.Clip(c.Allowlists)
	return out
}

// buildDefault is gitleaks' default rules without gitleaks' global
// allowlist, plus layerscan's rules and layerscan's default allowlist.
func buildDefault() (config.Config, map[string]bool, error) {
	configMu.Lock()
	base, err := gitleaksDefault()
	configMu.Unlock()
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("loading gitleaks default rules: %w", err)
	}
	cfg := cloneConfig(base)
	cfg.Allowlists = nil // replaced by allowlist.toml
	yields := map[string]bool{}
	for _, d := range customRules() {
		id := d.rule.RuleID
		yields[id] = d.yields
		if d.rule.Regex == nil && d.rule.Path == nil {
			if _, ok := cfg.Rules[id]; !ok {
				return config.Config{}, nil, fmt.Errorf("rule %s: not a gitleaks rule and no pattern", id)
			}
			continue
		}
		cfg.Rules[id] = d.rule
		for _, k := range d.rule.Keywords {
			cfg.Keywords[k] = struct{}{}
		}
		if !slices.Contains(cfg.OrderedRules, id) {
			cfg.OrderedRules = append(cfg.OrderedRules, id)
		}
	}
	als, err := parseDefaultAllowlist()
	if err != nil {
		return config.Config{}, nil, err
	}
	if err := attachAllowlists(&cfg, als); err != nil {
		return config.Config{}, nil, fmt.Errorf("default allowlist: %w", err)
	}
	sort.Strings(cfg.OrderedRules)
	return cfg, yields, nil
}

func attachAllowlists(cfg *config.Config, als []targeted) error {
	for _, t := range als {
		if len(t.rules) == 0 {
			cfg.Allowlists = append(cfg.Allowlists, t.al)
			continue
		}
		for _, id := range t.rules {
			r, ok := cfg.Rules[id]
			if !ok {
				return fmt.Errorf("allowlist %q targets rule %q, which does not exist", t.al.Description, id)
			}
			r.Allowlists = append(slices.Clip(r.Allowlists), t.al)
			cfg.Rules[id] = r
		}
	}
	return nil
}

// userConfig is a --config file, loaded once per process.
type userConfig struct {
	cfg        config.Config
	useDefault bool
	disabled   []string
	targeted   []targeted
	raw        []byte
}

var (
	userConfigsMu sync.Mutex
	userConfigs   = map[string]*userConfig{}
)

// loadUserConfig reads a gitleaks-format TOML file through viper →
// config.ViperConfig → Translate. The [extend] table is taken out before
// Translate and applied by layerscan (mergeUser), onto layerscan's
// defaults rather than gitleaks' alone: this also keeps gitleaks'
// package-level extend counter at zero, which otherwise lets an extending
// config load correctly only once per process. The result is cached by
// path for the life of the process.
func loadUserConfig(path string) (uc *userConfig, err error) {
	userConfigsMu.Lock()
	defer userConfigsMu.Unlock()
	if uc, ok := userConfigs[path]; ok {
		return uc, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --config: %w", err)
	}
	defer func() {
		if r := recover(); r != nil { // gitleaks panics on a bad regex
			uc, err = nil, fmt.Errorf("--config %s: %v", path, r)
		}
	}()
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	ext := vc.Extend
	if ext.Path != "" || ext.URL != "" {
		return nil, fmt.Errorf("--config %s: [extend] path/url is not supported; use useDefault = true", path)
	}
	vc.Extend = config.Extend{}
	// Allowlists that target rules are attached after the merge (the
	// rules may be default ones): Translate sees them as global, in order.
	//lint:ignore SA1019 the [allowlist] table of configs written for gitleaks before v8.25, which --config accepts
	old := &vc.AllowList
	if *old != nil && len(vc.Allowlists) == 0 {
		vc.Allowlists = append(vc.Allowlists, *old)
		*old = nil
	}
	targets := make([][]string, len(vc.Allowlists))
	for i, a := range vc.Allowlists {
		targets[i] = a.TargetRules
		a.TargetRules = nil
	}
	cfg, err := translateLocked(&vc)
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	if len(cfg.Allowlists) != len(targets) {
		return nil, errors.New("--config: allowlists changed while loading")
	}
	uc = &userConfig{useDefault: ext.UseDefault, disabled: ext.DisabledRules, raw: raw}
	global := cfg.Allowlists
	cfg.Allowlists = nil
	for i, al := range global {
		uc.targeted = append(uc.targeted, targeted{al: al, rules: targets[i]})
	}
	uc.cfg = cfg
	userConfigs[path] = uc
	return uc, nil
}

func translateLocked(vc *config.ViperConfig) (config.Config, error) {
	configMu.Lock()
	defer configMu.Unlock()
	return vc.Translate()
}

// mergeUser applies a user config: with useDefault, its rules are added to
// (or merged into, as gitleaks' extend does) the defaults, minus
// disabledRules; without, its rules replace the defaults.
func mergeUser(def config.Config, uc *userConfig) (config.Config, error) {
	var cfg config.Config
	if !uc.useDefault {
		cfg = cloneConfig(uc.cfg)
	} else {
		cfg = def
		for _, id := range uc.disabled {
			if _, ok := cfg.Rules[id]; !ok {
				return config.Config{}, fmt.Errorf("--config: disabledRules names %q, which is not a rule", id)
			}
			delete(cfg.Rules, id)
			cfg.OrderedRules = slices.DeleteFunc(cfg.OrderedRules, func(s string) bool { return s == id })
		}
		for id, r := range uc.cfg.Rules {
			base, ok := cfg.Rules[id]
			if !ok {
				cfg.Rules[id] = r
				cfg.OrderedRules = append(cfg.OrderedRules, id)
			} else {
				if r.Description != "" {
					base.Description = r.Description
				}
				if r.Entropy != 0 {
					base.Entropy = r.Entropy
				}
				if r.SecretGroup != 0 {
					base.SecretGroup = r.SecretGroup
				}
				if r.Regex != nil {
					base.Regex = r.Regex
				}
				if r.Path != nil {
					base.Path = r.Path
				}
				base.Tags = append(slices.Clip(base.Tags), r.Tags...)
				base.Keywords = append(slices.Clip(base.Keywords), r.Keywords...)
				base.Allowlists = append(slices.Clip(base.Allowlists), r.Allowlists...)
				cfg.Rules[id] = base
			}
		}
		// Keywords: rebuild from the rules left.
		cfg.Keywords = map[string]struct{}{}
		for _, r := range cfg.Rules {
			for _, k := range r.Keywords {
				cfg.Keywords[strings.ToLower(k)] = struct{}{}
			}
		}
		sort.Strings(cfg.OrderedRules)
	}
	if err := attachAllowlists(&cfg, uc.targeted); err != nil {
		return config.Config{}, fmt.Errorf("--config: %w", err)
	}
	return cfg, nil
}
