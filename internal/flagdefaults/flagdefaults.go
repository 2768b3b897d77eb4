package flagdefaults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// configPath is the config file: --config-file, LAYERSCAN_CONFIG_FILE, or
// ~/.config/layerscan/config.yaml ($XDG_CONFIG_HOME respected). explicit
// tells whether the user named it (then it must exist).
func configPath(cmd *cobra.Command, prefix string) (path string, explicit bool) {
	if f := cmd.Flags().Lookup("config-file"); f != nil && f.Changed {
		return f.Value.String(), true
	}
	if p := os.Getenv(prefix + "CONFIG_FILE"); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, strings.ToLower(strings.TrimSuffix(prefix, "_")), "config.yaml"), false
}

// envName is the environment variable that sets a flag's default.
func envName(prefix, flag string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Apply fills the flags of cmd not given on the command line from the
// environment (prefix + FLAG_NAME, e.g. LAYERSCAN_FAIL_ON), then from the
// config file: flag > environment > config file.
func Apply(cmd *cobra.Command, prefix string) error {
	switch cmd.Name() {
	case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return nil
	}
	fs := cmd.Flags()
	file := map[string]any{}
	path, explicit := configPath(cmd, prefix)
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := yaml.Unmarshal(b, &file); err != nil {
				return fmt.Errorf("config file %s: %s", path, err)
			}
		case explicit || !os.IsNotExist(err):
			return fmt.Errorf("config file: %s", err)
		}
	}
	for key := range file {
		if key == "config-file" || cmd.Root().PersistentFlags().Lookup(key) == nil && fs.Lookup(key) == nil && !anyCommandHasFlag(cmd.Root(), key) {
			return fmt.Errorf("config file %s: unknown setting %q (keys are flag names, e.g. fail-on)", path, key)
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "config-file" || f.Name == "help" || f.Name == "version" {
			return
		}
		var values []string
		if v, ok := os.LookupEnv(envName(prefix, f.Name)); ok {
			values = []string{v}
			if f.Name == "format" {
				values = strings.Split(v, ",")
			}
		} else if v, ok := file[f.Name]; ok {
			switch v := v.(type) {
			case []any:
				for _, x := range v {
					values = append(values, fmt.Sprint(x))
				}
			case nil:
			default:
				values = []string{fmt.Sprint(v)}
			}
		}
		for _, v := range values {
			if e := fs.Set(f.Name, strings.TrimSpace(v)); e != nil {
				err = fmt.Errorf("%s (from %s or the config file): %s", f.Name, envName(prefix, f.Name), e)
				return
			}
		}
	})
	return err
}

func anyCommandHasFlag(c *cobra.Command, name string) bool {
	if c.Flags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil {
		return true
	}
	for _, sub := range c.Commands() {
		if anyCommandHasFlag(sub, name) {
			return true
		}
	}
	return false
}

// positive is the annotation of a flag whose value must be at least 1.
const positive = "layerscan/positive"

// Positive marks flags of fs (bounds, counts, sizes) whose value must be
// at least 1: Check refuses less.
func Positive(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, positive, []string{"true"}); err != nil {
			panic(err) // a flag name misspelt in the program itself
		}
	}
}

// Check refuses a value under 1 for a flag Positive marked.
func Check(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[positive]; !ok || err != nil {
			return
		}
		v := f.Value.String()
		if d, e := time.ParseDuration(v); e == nil && d <= 0 || strings.HasPrefix(v, "-") || v == "0" {
			err = fmt.Errorf("--%s must be at least 1", f.Name)
		}
	})
	return err
}
