package report

import "github.com/layerscan/layerscan/pkg/detect"

// KeepAtLeast removes from every image of r the findings below severity
// min (detect.SeverityRank; "" keeps every finding) and returns how many
// it removed: --severity of scan, sweep and report. The vendor summary
// (Image.Vendor) is left as it is: it counts no severities.
func (r *Report) KeepAtLeast(min string) int {
	if min == "" {
		return 0
	}
	rank, n := detect.SeverityRank(min), 0
	for _, im := range r.Images {
		kept := im.Findings[:0:0]
		for _, f := range im.Findings {
			if detect.SeverityRank(f.Severity) >= rank {
				kept = append(kept, f)
			}
		}
		n += len(im.Findings) - len(kept)
		im.Findings = kept
	}
	return n
}
