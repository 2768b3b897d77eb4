package scan

import (
	"fmt"
	"slices"
	"sort"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/provenance"
	"github.com/layerscan/layerscan/pkg/report"
)

// VendorMode says what a report does with findings in vendor content.
type VendorMode string

// Vendor modes (--vendor).
const (
	// VendorHide folds them into one summary line per package
	// (report.Image.Vendor); they do not count for the exit status.
	VendorHide VendorMode = "hide"
	// VendorShow lists them, marked vendor, without counting them.
	VendorShow VendorMode = "show"
	// VendorFail lists and counts them like the builder's findings.
	VendorFail VendorMode = "fail"
)

// ParseVendorMode reads a --vendor value ("" is VendorHide).
func ParseVendorMode(s string) (VendorMode, error) {
	switch m := VendorMode(s); m {
	case "":
		return VendorHide, nil
	case VendorHide, VendorShow, VendorFail:
		return m, nil
	}
	return "", fmt.Errorf("unknown vendor mode %q: use hide, show or fail", s)
}

// vendorFolded tells whether a finding is vendor noise: it is in a file a
// package installed as it shipped it, and it is not a credential no
// package would publish — a high-confidence format (a fixed-prefix token,
// a private key) outside the package's tests, examples and documentation.
// Published example values never get this far: the detector drops them
// (detect.KnownExample).
func vendorFolded(f *report.Finding) bool {
	if !f.Origin.Vendor() {
		return false
	}
	if detect.HighConfidence(f.Rule) && !detect.DocOrTestPath(memberPath(f.Path, f.ArchivePath)) {
		return false
	}
	return true
}

// applyVendor gives every finding an origin and applies the vendor mode:
// folded vendor findings are marked (show), summarised per package and
// left out (hide), or counted like any other (fail).
func (s *Scanner) applyVendor(im *report.Image) {
	type key struct{ manager, name, version, by string }
	sums := map[key]*report.VendorPackage{}
	kept := im.Findings[:0]
	for i := range im.Findings {
		f := im.Findings[i]
		if f.Origin == nil {
			f.Origin = &provenance.Origin{Type: provenance.TypeImage}
		}
		fold := s.opts.Vendor != VendorFail && vendorFolded(&f)
		if !fold {
			kept = append(kept, f)
			continue
		}
		if s.opts.Vendor == VendorShow {
			f.Vendor = true
			kept = append(kept, f)
			continue
		}
		k := key{f.Origin.Manager, f.Origin.Name, f.Origin.Version, f.Origin.VerifiedBy}
		v := sums[k]
		if v == nil {
			v = &report.VendorPackage{Manager: k.manager, Name: k.name, Version: k.version, VerifiedBy: k.by, Rules: []string{}}
			sums[k] = v
		}
		v.Findings++
		if !slices.Contains(v.Rules, f.Rule) {
			v.Rules = append(v.Rules, f.Rule)
		}
	}
	im.Findings = kept
	im.Vendor = nil
	for _, v := range sums {
		sort.Strings(v.Rules)
		im.Vendor = append(im.Vendor, *v)
	}
	sort.Slice(im.Vendor, func(i, j int) bool {
		a, b := im.Vendor[i], im.Vendor[j]
		if a.Findings != b.Findings {
			return a.Findings > b.Findings
		}
		if a.Manager != b.Manager {
			return a.Manager < b.Manager
		}
		return a.Name < b.Name
	})
}
