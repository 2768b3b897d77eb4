package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/store"
	"github.com/layerscan/layerscan/pkg/sweep"
)

func basicAuth(user, pw string) authn.Authenticator {
	return &authn.Basic{Username: user, Password: pw}
}

type reportCmdOptions struct {
	db       string
	repos    []string
	severity string
	newSince string
	sweepID  int64
}

func newReportCmd(opts *scanOptions) *cobra.Command {
	ro := &reportCmdOptions{}
	cmd := &cobra.Command{
		Use:   "report --db FILE",
		Short: "Render the report of the last sweep from the database, without the network",
		Long: `report renders the images the latest sweep of each registry saw, from the
sweep database, in any format of scan. --repo, --severity and --new-since
filter it. Secrets are shown redacted: the database holds no plaintext.`,
		Example: `  layerscan report --db ./layerscan.db --format json
  layerscan report --db ./layerscan.db --repo 'team-a/*' --severity high --new-since 24h --format sarif -o new.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReportCmd(cmd, opts, ro) },
	}
	f := cmd.Flags()
	f.StringVar(&ro.db, "db", "layerscan.db", "the sweep database (SQLite file)")
	f.StringArrayVar(&ro.repos, "repo", nil, "repositories to report: glob, or !glob to leave out; repeatable or comma-separated")
	f.StringVar(&ro.severity, "severity", "", "only findings at or above this severity (critical, high, medium, low, info)")
	f.StringVar(&ro.newSince, "new-since", "", "only findings first seen within this long (e.g. 24h) or since this time (RFC 3339)")
	f.Int64Var(&ro.sweepID, "sweep", 0, "report this sweep's images instead of the latest sweep's")
	return cmd
}

func runReportCmd(cmd *cobra.Command, o *scanOptions, ro *reportCmdOptions) error {
	if err := o.out.validate(o); err != nil {
		return err
	}
	if o.showSecrets {
		return usageErr("the database holds no plaintext secrets: --show-secrets is not available for report")
	}
	repos, err := sweep.NewPatterns(ro.repos)
	if err != nil {
		return usageErr("--repo: %v", err)
	}
	if ro.severity != "" && !slices.Contains(report.Severities, ro.severity) {
		return usageErr("unknown --severity %q: use critical, high, medium, low or info", ro.severity)
	}
	var cutoff time.Time
	if ro.newSince != "" {
		if d, err := time.ParseDuration(ro.newSince); err == nil {
			cutoff = time.Now().Add(-d)
		} else if t, err := time.Parse(time.RFC3339, ro.newSince); err == nil {
			cutoff = t
		} else {
			return usageErr("--new-since %q: a duration (24h) or an RFC 3339 time", ro.newSince)
		}
	}
	ctx := cmd.Context()
	if _, err := os.Stat(strings.TrimPrefix(ro.db, "sqlite://")); err != nil {
		return &exitError{code: exitError2, msg: fmt.Sprintf("no sweep database at %s (run layerscan sweep REGISTRY --db %s first)", ro.db, ro.db)}
	}
	st, err := openStore(ctx, ro.db)
	if err != nil {
		return err
	}
	defer st.Close()
	sweeps, err := st.Sweeps(ctx)
	if err != nil {
		return &exitError{code: exitError2, msg: oneLine(err.Error())}
	}
	ruleset := ""
	for _, sw := range sweeps {
		if !sw.Finished.IsZero() && (ro.sweepID == 0 || sw.ID == ro.sweepID) {
			ruleset = sw.Ruleset
			break
		}
	}
	if ruleset == "" {
		return &exitError{code: exitError2, msg: fmt.Sprintf("%s holds no finished sweep yet (run layerscan sweep REGISTRY --db %s)", ro.db, ro.db)}
	}
	images, err := st.Images(ctx, store.ImageFilter{Sweep: ro.sweepID})
	if err != nil {
		return &exitError{code: exitError2, msg: oneLine(err.Error())}
	}
	var firstSeen map[string]time.Time
	if !cutoff.IsZero() {
		if firstSeen, err = st.FindingsFirstSeen(ctx); err != nil {
			return &exitError{code: exitError2, msg: oneLine(err.Error())}
		}
	}
	rep := &report.Report{Schema: report.Schema, Tool: report.Tool{Name: "layerscan", Version: toolVersion(), Ruleset: ruleset}, Images: []*report.Image{}}
	minRank := -1
	if ro.severity != "" {
		minRank = report.SeverityRank(ro.severity)
	}
	for _, rec := range images {
		if !repos.Match(rec.Repo) {
			continue
		}
		var im report.Image
		if err := json.Unmarshal(rec.Report, &im); err != nil {
			return &exitError{code: exitError2, msg: fmt.Sprintf("%s/%s:%s: stored report unreadable: %v", rec.Registry, rec.Repo, rec.Tag, err)}
		}
		kept := im.Findings[:0]
		for _, f := range im.Findings {
			if report.SeverityRank(f.Severity) < minRank {
				continue
			}
			if !cutoff.IsZero() {
				if at, ok := firstSeen[f.Fingerprint]; !ok || at.Before(cutoff) {
					continue
				}
			}
			kept = append(kept, f)
		}
		im.Findings = kept
		if im.Findings == nil {
			im.Findings = []report.Finding{}
		}
		rep.Images = append(rep.Images, &im)
	}
	if err := writeReport(cmd.OutOrStdout(), o, rep); err != nil {
		return usageErr("writing the report: %v", err)
	}
	switch {
	case rep.Incomplete():
		return &exitError{code: exitIncomplete, msg: "the sweep was incomplete: some images could not be read (see the report's errors)"}
	case o.out.failing(rep) > 0:
		return &exitError{code: o.exitCode}
	}
	return nil
}
