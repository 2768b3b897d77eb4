package scan

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/layerscan/layerscan/pkg/fingerprint"
	"github.com/layerscan/layerscan/pkg/report"
)

// Suppressions are finding fingerprints to leave out of reports, each with
// where it came from (".layerscanignore:3", "baseline report.json").
type Suppressions map[string]string

// fingerprintLen is the length of a finding fingerprint's hex string
// (fingerprint.Key.Finding, and fingerprint.Legacy before it).
const fingerprintLen = 32

func isFingerprint(s string) bool {
	if len(s) != fingerprintLen {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// LoadIgnoreFile reads a .layerscanignore: one finding fingerprint per
// line, optionally followed by a # comment; blank lines and lines that are
// only a comment are skipped. Anything else is an error naming the line.
func LoadIgnoreFile(path string, into Suppressions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readIgnore(f, path, into)
}

func readIgnore(r io.Reader, name string, into Suppressions) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.ToLower(strings.TrimSpace(line))
		if line == "" {
			continue
		}
		if !isFingerprint(line) {
			return fmt.Errorf("%s:%d: not a finding fingerprint (%d hex characters, as in a report's \"fingerprint\")", name, n, fingerprintLen)
		}
		into[line] = fmt.Sprintf("%s:%d", name, n)
	}
	return sc.Err()
}

// LoadBaseline reads the fingerprints of every finding in an earlier
// layerscan/v1 JSON report.
func LoadBaseline(path string, into Suppressions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var rep struct {
		Schema string `json:"schema"`
		Images []struct {
			Findings []struct {
				Fingerprint string `json:"fingerprint"`
			} `json:"findings"`
		} `json:"images"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 1<<30)).Decode(&rep); err != nil {
		return fmt.Errorf("baseline %s: not a layerscan JSON report: %v", path, err)
	}
	if rep.Schema != report.Schema {
		return fmt.Errorf("baseline %s: schema %q, want %q", path, rep.Schema, report.Schema)
	}
	for _, im := range rep.Images {
		for _, fd := range im.Findings {
			if isFingerprint(fd.Fingerprint) {
				into[fd.Fingerprint] = "baseline " + path
			}
		}
	}
	return nil
}

// LoadSuppressions reads the fingerprints to leave out of reports: the
// ignore file (or defaultIgnore when it is "" and the file exists) and
// the findings of a baseline report ("" none).
func LoadSuppressions(ignore, defaultIgnore, baseline string) (Suppressions, error) {
	sup := Suppressions{}
	switch err := LoadIgnoreFile(cmp.Or(ignore, defaultIgnore), sup); {
	case err != nil && ignore == "" && errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("ignore file: %w", err)
	}
	if baseline != "" {
		if err := LoadBaseline(baseline, sup); err != nil {
			return nil, err
		}
	}
	return sup, nil
}

// matchLegacy records in legacy the (keyed) fingerprint of a finding
// whose old unkeyed fingerprint (fingerprint.Legacy) is suppressed: ignore
// files and baselines written before keyed fingerprints still match for
// one version, where the plaintext is at hand (not from a sweep's cache).
func (s *Scanner) matchLegacy(legacy map[string]bool, keyed, rule, path, secret string) {
	if legacy == nil || len(s.opts.Suppress) == 0 {
		return
	}
	if _, ok := s.opts.Suppress[fingerprint.Legacy(rule, path, secret)]; ok {
		legacy[keyed] = true
	}
}

// suppress removes the findings whose fingerprint is in sup or in legacy
// (matched by their old fingerprint), and returns the findings kept, how
// many were removed and how many of those by an old fingerprint.
func suppress(fs []report.Finding, sup Suppressions, legacy map[string]bool) ([]report.Finding, int, int) {
	if len(sup) == 0 {
		return fs, 0, 0
	}
	kept := fs[:0]
	n, old := 0, 0
	for _, f := range fs {
		_, ok := sup[f.Fingerprint]
		switch {
		case ok:
			n++
		case legacy[f.Fingerprint]:
			n++
			old++
		default:
			kept = append(kept, f)
		}
	}
	return kept, n, old
}

// applySuppressions drops suppressed findings from an image report and
// says how many in a warning.
func (s *Scanner) applySuppressions(im *report.Image, legacy map[string]bool) {
	var n, old int
	im.Findings, n, old = suppress(im.Findings, s.opts.Suppress, legacy)
	if n > 0 {
		im.Warnings = append(im.Warnings, report.Problem{
			Message: fmt.Sprintf("%d finding(s) suppressed by fingerprint (.layerscanignore / --ignore / --baseline)", n),
		})
	}
	if old > 0 {
		im.Warnings = append(im.Warnings, report.Problem{
			Message: fmt.Sprintf("%d of them by an old unkeyed fingerprint, which the next version will not read: replace them with the report's keyed \"fingerprint\" values", old),
		})
	}
}
