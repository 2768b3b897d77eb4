package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/sanitize"
	"github.com/layerscan/layerscan/pkg/store"
	"github.com/layerscan/layerscan/pkg/store/postgres"
	"github.com/layerscan/layerscan/pkg/sweep"
)

type sweepOptions struct {
	db        string
	repos     []string
	tags      []string
	since     time.Duration
	reposFile string
	qps       float64
	timeout   time.Duration
	pageSize  int
	maxNames  int
	shard     string
	shards    int
	run       string
	shardWait time.Duration
	logFormat string
}

// jobIndexEnv is the index Kubernetes gives each pod of an Indexed Job.
const jobIndexEnv = sweep.JobIndexEnv

func newSweepCmd(opts *scanOptions) *cobra.Command {
	so := &sweepOptions{}
	cmd := &cobra.Command{
		Use:   "sweep [flags] REGISTRY",
		Short: "Scan every repository and tag of a registry, each unique layer once, incrementally",
		Long: `sweep enumerates a registry (/v2/_catalog, or --repos-file), lists the tags of
the selected repositories, resolves them to platform images, and scans every
unique layer once however many images share it. Results are kept per layer
digest and ruleset in --db (SQLite, ./layerscan.db): the next sweep downloads
only new layers. The database holds fingerprints and redacted secrets only.
The report has one entry per image; exit status as for scan.

Many machines: --db postgres://… shared by N processes run with --shard I/N
--run NAME (a Kubernetes Indexed Job: --shards N); each scans its share,
writes no report and exits 3 if its share had errors; layerscan report
renders the run (docs/sweep.md).`,
		Example: `  layerscan sweep registry.example.com
  layerscan sweep registry.example.com --repo 'team-a/*' --repo '!team-a/tmp-*' --tags 'v*,latest' --since 72h
  layerscan sweep registry.example.com --db ./layerscan.db --format sarif -o sweep.sarif
  LAYERSCAN_DB=postgres://… layerscan sweep registry.example.com --shard 2/8 --run nightly-2026-11-28 --log-format json`,
		Args: nArgs(1, "one REGISTRY"),
		RunE: func(cmd *cobra.Command, args []string) error { return runSweep(cmd, opts, so, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&so.db, "db", "layerscan.db", "the sweep database: a SQLite file, or postgres://user:pass@host/db (shared by shards); $LAYERSCAN_DB")
	f.StringVar(&so.shard, "shard", "", "scan only share I of N (I/N, 0-based) of the unique layers and images; the shards of a run share --db")
	f.IntVar(&so.shards, "shards", 0, "with "+jobIndexEnv+" set (a Kubernetes Indexed Job): the number of shards, the index being the shard")
	f.StringVar(&so.run, "run", os.Getenv("LAYERSCAN_RUN"), "name of the sharded sweep the shard belongs to (the same for every shard; $LAYERSCAN_RUN)")
	f.DurationVar(&so.shardWait, "shard-wait", sweep.DefaultShardWait, "how long a shard waits for the other shards of its run to list their layers before it stops scanning those recorded for it")
	f.StringVar(&so.logFormat, "log-format", "text", "progress and summary on stderr: text, or json (log/slog, one object a line)")
	f.StringArrayVar(&so.repos, "repo", nil, "repositories to sweep: glob, or !glob to leave out; repeatable or comma-separated (default all)")
	f.StringArrayVar(&so.tags, "tags", nil, "tags to sweep: glob, or !glob to leave out; repeatable or comma-separated (default all)")
	f.DurationVar(&so.since, "since", 0, "only images whose config was created within this long (e.g. 72h)")
	f.StringVar(&so.reposFile, "repos-file", "", "file listing the repositories, one a line, for registries that disable the catalog")
	f.Float64Var(&so.qps, "registry-qps", 0, "at most this many registry requests a second (0: no limit)")
	f.DurationVar(&so.timeout, "request-timeout", 0, "--timeout, for sweep's requests (0: --timeout)")
	f.IntVar(&so.pageSize, "page-size", 0, "catalog and tag list page size (0: the registry's default)")
	f.IntVar(&so.maxNames, "max-names", fetch.DefaultMaxNames, "most repositories of the catalog, and tags of one repository, read from the registry (more is an error)")
	return cmd
}

// openStore opens the database named by --db.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	s, err := sweep.OpenStore(ctx, dsn)
	switch {
	case errors.Is(err, store.ErrNewerSchema):
		return nil, &exitError{code: exitError2, msg: sanitize.OneLine(err.Error())}
	case err != nil:
		return nil, &exitError{code: exitError2, msg: "opening the database: " + sanitize.OneLine(err.Error())}
	}
	return s, nil
}

func runSweep(cmd *cobra.Command, o *scanOptions, so *sweepOptions, registry string) error {
	if err := o.out.validate(o); err != nil {
		return err
	}
	if o.showSecrets {
		return usageErr("sweep never handles plaintext secrets: --show-secrets is not available (the store keeps redacted secrets only)")
	}
	shard, shards, err := sweep.ShardOptions(so.shard, so.shards)
	if err != nil {
		return usageErr("%v", err)
	}
	if shards > 1 && so.run == "" {
		return usageErr("a sharded sweep needs --run NAME (or $LAYERSCAN_RUN), the same for all its shards, so that layerscan report can assemble the run")
	}
	var logger *slog.Logger
	if so.logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	} else if so.logFormat != "text" {
		return usageErr("--log-format %q: text or json", so.logFormat)
	}
	repos, err := sweep.NewPatterns(so.repos)
	if err != nil {
		return usageErr("--repo: %v", err)
	}
	tags, err := sweep.NewPatterns(so.tags)
	if err != nil {
		return usageErr("--tags: %v", err)
	}
	var repoList []string
	if so.reposFile != "" {
		repoList, err = sweep.ReadRepoList(so.reposFile)
		if err != nil {
			return usageErr("--repos-file: %v", err)
		}
	}
	p, err := o.pipeline(cmd, nil)
	if err != nil {
		return err
	}
	opts := sweep.Options{
		Registry: registry, Pipeline: p, Repos: repos, Tags: tags, RepoList: repoList, Since: so.since, Jobs: o.jobs,
		Fetch:    []fetch.Option{fetch.WithQPS(so.qps), fetch.WithPageSize(so.pageSize), fetch.WithMaxNames(so.maxNames), fetch.WithTimeout(so.timeout)},
		Progress: cmd.ErrOrStderr(), Logger: logger, Shard: shard, Shards: shards, ShardWait: so.shardWait,
	}
	if shards > 1 {
		opts.Run = so.run
	}
	ctx := cmd.Context()
	st, err := openStore(ctx, so.db)
	if err != nil {
		return err
	}
	defer st.Close()
	opts.Store = st

	res, err := sweep.Run(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{code: exitError2, msg: "sweep interrupted; the layers scanned so far are in " + postgres.Redact(so.db) + " and will not be scanned again"}
		}
		return &exitError{code: exitError2, msg: sanitize.OneLine(err.Error())}
	}
	if logger != nil {
		res.Log(logger, registry)
	} else {
		fmt.Fprintln(cmd.ErrOrStderr(), "layerscan: "+res.Summary(registry))
	}
	if shards > 1 {
		// A shard writes no report: layerscan report assembles the run's.
		if msg := res.ShardFailed(); msg != "" {
			return &exitError{code: exitIncomplete, msg: msg}
		}
		return nil
	}
	r, err := sweep.Render(ctx, st, sweep.RenderOptions{Sweep: res.Sweep, NewIn: res.Sweep})
	if err != nil {
		return &exitError{code: exitError2, msg: sanitize.OneLine(err.Error())}
	}
	return finishReport(cmd, o, p.NewStream(r.Images))
}
