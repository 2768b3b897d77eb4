package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
	"github.com/layerscan/layerscan/pkg/store/postgres"
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
	run      string
	wait     time.Duration
}

func newReportCmd(opts *scanOptions) *cobra.Command {
	ro := &reportCmdOptions{}
	cmd := &cobra.Command{
		Use:   "report --db FILE",
		Short: "Render the report of the last sweep from the database, without the network",
		Long: `report renders the images the latest sweep of each registry saw, from the
sweep database, in any format of scan. --repo, --severity and --new-since
filter it. Secrets are shown redacted: the database holds no plaintext.

For a sharded sweep (sweep --shard I/N --run NAME, one database shared by all
shards, usually postgres://…) report renders the whole run once every shard
has finished: it checks each shard's stored summary, and assembles the images
whose layers were scanned by other shards than the one owning the image (with
the detector flags of the sweep). A shard missing is an error (exit 2; --wait
polls for it); a shard that finished with errors makes the exit status 3.`,
		Example: `  layerscan report --db ./layerscan.db --format json
  layerscan report --db ./layerscan.db --repo 'team-a/*' --severity high --new-since 24h --format sarif -o new.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReportCmd(cmd, opts, ro) },
	}
	f := cmd.Flags()
	f.StringVar(&ro.db, "db", "layerscan.db", "the sweep database: a SQLite file, or postgres://… ($LAYERSCAN_DB)")
	f.StringArrayVar(&ro.repos, "repo", nil, "repositories to report: glob, or !glob to leave out; repeatable or comma-separated")
	f.StringVar(&ro.severity, "severity", "", "only findings at or above this severity (critical, high, medium, low, info)")
	f.StringVar(&ro.newSince, "new-since", "", "only findings first seen within this long (e.g. 24h) or since this time (RFC 3339)")
	f.Int64Var(&ro.sweepID, "sweep", 0, "report this sweep's images instead of the latest sweep's")
	f.StringVar(&ro.run, "run", "", "report this sharded run (default: the latest sweep's run, when it is sharded)")
	f.DurationVar(&ro.wait, "wait", 0, "wait up to this long for the run's shards to finish")
	return cmd
}

func runReportCmd(cmd *cobra.Command, o *scanOptions, ro *reportCmdOptions) error {
	if v := os.Getenv("LAYERSCAN_DB"); v != "" && !cmd.Flags().Changed("db") {
		ro.db = v // not the flag default: --help would show it
	}
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
	if !postgres.IsURL(ro.db) {
		if _, err := os.Stat(strings.TrimPrefix(ro.db, "sqlite://")); err != nil {
			return &exitError{code: exitError2, msg: fmt.Sprintf("no sweep database at %s (run layerscan sweep REGISTRY --db %s first)", ro.db, ro.db)}
		}
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
	run := ro.run
	if run == "" && ro.sweepID == 0 && len(sweeps) > 0 {
		run = sweeps[0].Run
	}
	if run != "" {
		return reportRun(cmd, o, ro, st, run, repos, minSeverity(ro.severity), cutoff)
	}
	ruleset := ""
	for _, sw := range sweeps {
		if !sw.Finished.IsZero() && (ro.sweepID == 0 || sw.ID == ro.sweepID) {
			ruleset = sw.Ruleset
			break
		}
	}
	if ruleset == "" {
		return &exitError{code: exitError2, msg: fmt.Sprintf("%s holds no finished sweep yet (run layerscan sweep REGISTRY --db %s)", postgres.Redact(ro.db), postgres.Redact(ro.db))}
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
	if err := addImages(rep, images, repos, minSeverity(ro.severity), cutoff, firstSeen); err != nil {
		return err
	}
	return finishReport(cmd, o, rep)
}

func minSeverity(sev string) int {
	if sev == "" {
		return -1
	}
	return report.SeverityRank(sev)
}

// addImages adds the stored image reports, filtered.
func addImages(rep *report.Report, images []store.Image, repos sweep.Patterns, minRank int, cutoff time.Time, firstSeen map[string]time.Time) error {
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
				f.New = true // first seen within --new-since
			}
			kept = append(kept, f)
		}
		im.Findings = kept
		if im.Findings == nil {
			im.Findings = []report.Finding{}
		}
		rep.Images = append(rep.Images, &im)
	}
	return nil
}

func finishReport(cmd *cobra.Command, o *scanOptions, rep *report.Report) error {
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

// reportRun renders a sharded run: every shard must have finished; images
// a shard stored unassembled are assembled from the stored layer results
// (and written back, so the next report is quick).
func reportRun(cmd *cobra.Command, o *scanOptions, ro *reportCmdOptions, st store.Store, run string, repos sweep.Patterns, minRank int, cutoff time.Time) error {
	ctx := cmd.Context()
	deadline := time.Now().Add(ro.wait)
	var finished map[int]store.Sweep
	var shards int
	var ruleset string
	for {
		sweeps, err := st.Sweeps(ctx)
		if err != nil {
			return &exitError{code: exitError2, msg: oneLine(err.Error())}
		}
		finished, shards, ruleset = map[int]store.Sweep{}, 0, ""
		for _, sw := range sweeps { // newest first
			if sw.Run != run {
				continue
			}
			shards = max(shards, sw.Shards)
			if ruleset == "" {
				ruleset = sw.Ruleset
			}
			if _, ok := finished[sw.Shard]; !ok && !sw.Finished.IsZero() {
				finished[sw.Shard] = sw
			}
		}
		if shards == 0 {
			return &exitError{code: exitError2, msg: fmt.Sprintf("no sweep of run %q in the database", run)}
		}
		var missing []string
		for i := range shards {
			if _, ok := finished[i]; !ok {
				missing = append(missing, fmt.Sprint(i))
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return &exitError{code: exitError2, msg: fmt.Sprintf("run %s: shard(s) %s of %d have not finished (no summary in the database); run them (again) before the report, or wait with --wait", run, strings.Join(missing, ", "), shards)}
		}
		select {
		case <-ctx.Done():
			return &exitError{code: exitError2, msg: "interrupted"}
		case <-time.After(min(10*time.Second, time.Until(deadline)+time.Millisecond)):
		}
	}
	// The shards' summaries: a shard whose share had errors makes the
	// report incomplete.
	var failed []string
	idx := make([]int, 0, len(finished))
	for i := range finished {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		var s sweep.Stats
		if err := json.Unmarshal(finished[i].Stats, &s); err != nil {
			failed = append(failed, fmt.Sprintf("shard %d: summary unreadable", i))
			continue
		}
		if s.LayerErrors > 0 || s.Errors > 0 {
			failed = append(failed, fmt.Sprintf("shard %d: %d layer errors, %d images with errors", i, s.LayerErrors, s.Errors))
		}
	}
	images, err := st.Images(ctx, store.ImageFilter{Run: run})
	if err != nil {
		return &exitError{code: exitError2, msg: oneLine(err.Error())}
	}
	var scanner *scan.Scanner
	for i, rec := range images {
		if rec.Report != nil || rec.Meta == nil {
			continue
		}
		if scanner == nil {
			det, err := detect.New(o.det.options(o.decodeDepth))
			if err != nil {
				return usageErr("%v", err)
			}
			if det.RulesetFingerprint() != ruleset {
				return usageErr("run %s was swept with ruleset %s, these detector flags give %s: give report the sweep's detector flags (--config, --rules …) to assemble its images", run, ruleset, det.RulesetFingerprint())
			}
			sopts := scan.Options{Jobs: 1, MaxFileSize: o.maxFileSize}
			if err := o.wlk.apply(&sopts); err != nil {
				return err
			}
			if err := o.det.apply(&sopts); err != nil {
				return err
			}
			scanner = scan.New(det, sopts)
		}
		im, err := sweep.AssembleStored(ctx, st, scanner, ruleset, rec, true)
		if err != nil {
			return &exitError{code: exitError2, msg: oneLine(err.Error())}
		}
		b, err := json.Marshal(im)
		if err != nil {
			return err
		}
		rec.Report, rec.Meta = b, nil
		if err := st.PutImage(ctx, rec); err != nil {
			return &exitError{code: exitError2, msg: oneLine(err.Error())}
		}
		fps := make([]string, 0, len(im.Findings))
		for _, f := range im.Findings {
			fps = append(fps, f.Fingerprint)
		}
		if _, err := st.SeeFindings(ctx, rec.Sweep, time.Now(), fps); err != nil {
			return &exitError{code: exitError2, msg: oneLine(err.Error())}
		}
		images[i] = rec
	}
	var firstSeen map[string]time.Time
	if !cutoff.IsZero() {
		if firstSeen, err = st.FindingsFirstSeen(ctx); err != nil {
			return &exitError{code: exitError2, msg: oneLine(err.Error())}
		}
	}
	rep := &report.Report{Schema: report.Schema, Tool: report.Tool{Name: "layerscan", Version: toolVersion(), Ruleset: ruleset}, Images: []*report.Image{}}
	if err := addImages(rep, images, repos, minRank, cutoff, firstSeen); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "layerscan: run %s: %d shards finished, %d images\n", run, shards, len(rep.Images))
	err = finishReport(cmd, o, rep)
	if len(failed) > 0 { // the report is written; the shards' word first
		return &exitError{code: exitIncomplete, msg: fmt.Sprintf("run %s is incomplete: %s (run those shards again)", run, strings.Join(failed, "; "))}
	}
	return err
}
