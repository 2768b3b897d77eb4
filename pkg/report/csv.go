package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/layerscan/layerscan/pkg/provenance"
)

// CSVHeader is the first row of the CSV output; one row per finding follows.
var CSVHeader = []string{
	"image", "image_digest", "platform", "severity", "rule", "description", "source",
	"path", "archive_path", "hardlink_to", "field", "history_index", "line",
	"layer", "layer_digest", "instruction", "status", "removed_by_layer", "removed_by_instruction",
	"cause", "remediation", "encoding", "note", "secret", "fingerprint", "evidence",
	"origin", "origin_manager", "origin_package", "origin_version", "origin_verified_by", "origin_modified", "vendor",
	"secret_id", "secret_kind", "verification",
}

// WriteCSV writes one row per finding (RFC 4180, header first); the last
// columns name the finding's secret (its id and kind, as the secrets view
// groups them) and its verification verdict. A cell
// that a spreadsheet would take for a formula (starting with = + - @, tab
// or carriage return) is prefixed with a single quote.
func WriteCSV(w io.Writer, r *Report) error {
	r = Sanitized(r)
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	secrets := map[string]Secret{}
	for _, s := range r.Secrets() {
		secrets[s.ID] = s
	}
	for _, im := range r.Images {
		for _, f := range im.Findings {
			hist, removedIdx, removedIns := "", "", ""
			if f.HistoryIndex != nil {
				hist = fmt.Sprint(*f.HistoryIndex)
			}
			if f.RemovedBy != nil {
				removedIdx, removedIns = fmt.Sprint(f.RemovedBy.Index), f.RemovedBy.Instruction
			}
			row := []string{
				im.Ref, im.Digest, im.Platform, f.Severity, f.Rule, f.Description, f.Source,
				f.Path, strings.Join(f.ArchivePath, "!"), f.HardlinkTo, f.Field, hist, fmt.Sprint(f.Line),
				fmt.Sprint(f.Layer.Index), f.Layer.Digest, f.Layer.Instruction, f.Status, removedIdx, removedIns,
				f.Cause, f.Remediation, f.Encoding, f.Note, f.Secret, f.Fingerprint, im.Evidence(f),
			}
			var o provenance.Origin
			if f.Origin != nil {
				o = *f.Origin
			}
			row = append(row, o.Type, o.Manager, o.Name, o.Version, o.VerifiedBy, fmt.Sprint(o.Modified), fmt.Sprint(f.Vendor))
			s := secrets[secretKey(f)]
			verdict := ""
			if s.Verification != nil {
				verdict = s.Verification.Status
			}
			row = append(row, f.SecretID, s.Kind, verdict)
			for i, c := range row {
				row[i] = csvSafe(c)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		// "-1" (a layer index) is a number, not a formula.
		if s[0] == '-' && strings.Trim(s[1:], "0123456789") == "" && len(s) > 1 {
			return s
		}
		return "'" + s
	}
	return s
}
