package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store/postgres"
	"github.com/layerscan/layerscan/pkg/sweep"
)

type reportCmdOptions struct {
	db       string
	repos    []string
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
		Long: `report renders the images of the latest sweep from the sweep database, without
the network, in any format of scan, filtered by --repo, --severity and
--new-since; secrets are redacted (the database holds no plaintext). For a
sharded run it checks every shard's summary (a missing shard is exit 2,
--wait polls; a shard with errors exit 3) and assembles the images other
shards' layers complete (with the sweep's detector flags).`,
		Example: `  layerscan report --db ./layerscan.db --format json
  layerscan report --db ./layerscan.db --repo 'team-a/*' --severity high --new-since 24h --format sarif -o new.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReportCmd(cmd, opts, ro) },
	}
	f := cmd.Flags()
	f.StringVar(&ro.db, "db", "layerscan.db", "the sweep database: a SQLite file, or postgres://… ($LAYERSCAN_DB)")
	f.StringArrayVar(&ro.repos, "repo", nil, "repositories to report: glob, or !glob to leave out; repeatable or comma-separated")
	f.StringVar(&ro.newSince, "new-since", "", "only findings first seen within this long (e.g. 24h) or since this time (RFC 3339)")
	f.Int64Var(&ro.sweepID, "sweep", 0, "report this sweep's images instead of the latest sweep's")
	f.StringVar(&ro.run, "run", "", "report this sharded run (default: the latest sweep's run, when it is sharded)")
	f.DurationVar(&ro.wait, "wait", 0, "wait up to this long for the run's shards to finish")
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
	var cutoff time.Time
	if ro.newSince != "" {
		if cutoff, err = sweep.ParseSince(ro.newSince, time.Now()); err != nil {
			return usageErr("--new-since %v", err)
		}
	}
	ctx := cmd.Context()
	st, err := sweep.OpenExistingStore(ctx, ro.db)
	if err != nil {
		return &exitError{code: exitError2, msg: sanitize.OneLine(err.Error())}
	}
	defer st.Close()
	res, err := sweep.Render(ctx, st, sweep.RenderOptions{Sweep: ro.sweepID, Run: ro.run, Repos: repos, MinSeverity: o.out.severity,
		NewSince: cutoff, Wait: ro.wait, Scanner: func() (*scan.Scanner, string, error) {
			p, err := o.pipeline(cmd, nil)
			if err != nil {
				return nil, "", err
			}
			return p.Scanner(), p.Ruleset(), nil
		}})
	var ex *exitError
	switch {
	case errors.As(err, &ex):
		return err
	case errors.Is(err, sweep.ErrNoSweep):
		return &exitError{code: exitError2, msg: fmt.Sprintf("%s holds no finished sweep yet (run layerscan sweep REGISTRY --db %s): %s", postgres.Redact(ro.db), postgres.Redact(ro.db), sanitize.OneLine(err.Error()))}
	case errors.Is(err, sweep.ErrRuleset):
		return usageErr("%s", sanitize.OneLine(err.Error()))
	case err != nil:
		return &exitError{code: exitError2, msg: sanitize.OneLine(err.Error())}
	}
	rep := report.New(report.Tool{Name: "layerscan", Version: toolVersion(), Ruleset: res.Ruleset}, res.Images...)
	if res.Run != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "layerscan: run %s: %d shards finished, %d images\n", res.Run, res.Shards, len(rep.Images))
	}
	err = finishReport(cmd, o, rep)
	if len(res.Failed) > 0 { // the report is written; the shards' word first
		return &exitError{code: exitIncomplete, msg: fmt.Sprintf("run %s is incomplete: %s (run those shards again)", res.Run, strings.Join(res.Failed, "; "))}
	}
	return err
}
