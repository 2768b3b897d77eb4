package main

import (
	"github.com/spf13/pflag"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/verify"
)

// defaultIgnoreFile is read from the current directory when --ignore is
// not given.
const defaultIgnoreFile = ".layerscanignore"

// detectOptions are the flags about what counts as a finding.
type detectOptions struct {
	configFile string
	ignoreFile string
	baseline   string
	vendor     string
	verify     bool     // --verify and its options
	allowHosts []string // --verify-allow-host
	verifiers  []string // --verifier KIND=URL
}

func (o *detectOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.configFile, "config", "", "gitleaks-format TOML rules and allowlists; with [extend] useDefault = true they add to the defaults (docs/rules.md)")
	f.StringVar(&o.ignoreFile, "ignore", "", "file of finding fingerprints to suppress, one per line with a # comment (default: "+defaultIgnoreFile+" in the current directory, if present)")
	f.StringVar(&o.baseline, "baseline", "", "earlier layerscan JSON report: its findings (by fingerprint) are suppressed")
	f.BoolVar(&o.verify, "verify", false, "try each secret once against the service it belongs to (sends credentials over the network; docs/verification.md)")
	f.StringArrayVar(&o.allowHosts, "verify-allow-host", nil, "with --verify: allow this host (name or name:port) although it resolves to a loopback or private address")
	f.StringArrayVar(&o.verifiers, "verifier", nil, "with --verify: send a SaaS kind's tokens to KIND=URL (GitHub Enterprise, self-managed GitLab, …)")
	f.StringVar(&o.vendor, "vendor", string(scan.VendorHide), "findings in vendor content (package files as shipped): hide (one summary line per package, not counted), show (listed, not counted) or fail (listed and counted)")
}

// options are the detector's options from the flags.
func (o *detectOptions) options(decodeDepth int) detect.Options {
	return detect.Options{MaxDecodeDepth: decodeDepth, ConfigFile: o.configFile}
}

// apply loads the ignore file and the baseline into the scan options.
func (o *detectOptions) apply(sopts *scan.Options) (err error) {
	if sopts.Suppress, err = scan.LoadSuppressions(o.ignoreFile, defaultIgnoreFile, o.baseline); err != nil {
		return usageErr("%v", err)
	}
	if sopts.Vendor, err = scan.ParseVendorMode(o.vendor); err != nil {
		return usageErr("--vendor: %v", err)
	}
	eps, err := verify.ParseEndpoints(o.verifiers)
	switch {
	case err != nil:
		return usageErr("%v", err)
	case o.verify:
		sopts.Verify = &scan.VerifyOptions{Verifier: verify.New(verify.Options{AllowHosts: o.allowHosts, Endpoints: eps})}
	case len(o.allowHosts)+len(o.verifiers) > 0:
		return usageErr("--verify-allow-host and --verifier need --verify")
	}
	return nil
}
