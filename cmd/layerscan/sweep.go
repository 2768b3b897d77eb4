package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
	"github.com/layerscan/layerscan/pkg/store/postgres"
	"github.com/layerscan/layerscan/pkg/store/sqlite"
	"github.com/layerscan/layerscan/pkg/sweep"
)

// exitAfterLayersEnv makes a sweep exit (status 75) right after it stored
// that many layer results: tests use it to interrupt a sweep midway.
const exitAfterLayersEnv = "LAYERSCAN_TEST_EXIT_AFTER_LAYERS"

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
	logFormat string
}

// jobIndexEnv is the index Kubernetes gives each pod of an Indexed Job.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

func newSweepCmd(opts *scanOptions) *cobra.Command {
	so := &sweepOptions{}
	cmd := &cobra.Command{
		Use:   "sweep [flags] REGISTRY",
		Short: "Scan every repository and tag of a registry, each unique layer once, incrementally",
		Long: `sweep enumerates a registry (the /v2/_catalog, or --repos-file), lists the tags
of every selected repository, resolves them to platform images, and scans every
unique layer once, however many images share it. Results are kept per layer
digest and ruleset in a database (--db, SQLite, ./layerscan.db by default): the
next sweep downloads only the layers it has not seen. The database holds finding
fingerprints and redacted secrets, never a plaintext secret.

The report has one entry per image (every format of scan); the counters go to
stderr. Exit status as for scan: 3 when an image could not be read completely.

Many machines: --db postgres://… (or $LAYERSCAN_DB) shared by N processes, each
run with --shard I/N --run NAME (in a Kubernetes Indexed Job: --shards N, the
index from $JOB_COMPLETION_INDEX). Each scans only its share of the unique
layers and images, writes no report, ends with a summary and exits 3 if its
share had errors; layerscan report --db … renders the run once all are done.
--log-format json writes progress and the summary as JSON lines (log/slog).`,
		Example: `  layerscan sweep registry.example.com
  layerscan sweep registry.example.com --repo 'team-a/*' --repo '!team-a/tmp-*' --tags 'v*,latest' --since 72h
  layerscan sweep registry.example.com --db ./layerscan.db --format sarif -o sweep.sarif
  LAYERSCAN_DB=postgres://… layerscan sweep registry.example.com --shard 2/8 --run nightly-2026-11-28 --log-format json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("sweep needs one REGISTRY (see layerscan sweep --help)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSweep(cmd, opts, so, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&so.db, "db", "layerscan.db", "the sweep database: a SQLite file, or postgres://user:pass@host/db (shared by shards); $LAYERSCAN_DB")
	f.StringVar(&so.shard, "shard", "", "scan only share I of N (I/N, 0-based) of the unique layers and images; the shards of a run share --db")
	f.IntVar(&so.shards, "shards", 0, "with "+jobIndexEnv+" set (a Kubernetes Indexed Job): the number of shards, the index being the shard")
	f.StringVar(&so.run, "run", os.Getenv("LAYERSCAN_RUN"), "name of the sharded sweep the shard belongs to (the same for every shard; $LAYERSCAN_RUN)")
	f.StringVar(&so.logFormat, "log-format", "text", "progress and summary on stderr: text, or json (log/slog, one object a line)")
	f.StringArrayVar(&so.repos, "repo", nil, "repositories to sweep: glob, or !glob to leave out; repeatable or comma-separated (default all)")
	f.StringArrayVar(&so.tags, "tags", nil, "tags to sweep: glob, or !glob to leave out; repeatable or comma-separated (default all)")
	f.DurationVar(&so.since, "since", 0, "only images whose config was created within this long (e.g. 72h)")
	f.StringVar(&so.reposFile, "repos-file", "", "file listing the repositories, one a line, for registries that disable the catalog")
	f.Float64Var(&so.qps, "registry-qps", 0, "at most this many registry requests a second (0: no limit)")
	f.DurationVar(&so.timeout, "request-timeout", 60*time.Second, "time to wait for a registry's response headers, per request")
	f.IntVar(&so.pageSize, "page-size", 0, "catalog and tag list page size (0: the registry's default)")
	f.IntVar(&so.maxNames, "max-names", sweep.DefaultMaxNames, "most repositories of the catalog, and tags of one repository, read from the registry (more is an error)")
	return cmd
}

// openStore opens the database named by --db.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case postgres.IsURL(dsn):
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			if errors.Is(err, store.ErrNewerSchema) {
				return nil, &exitError{code: exitError2, msg: oneLine(err.Error())}
			}
			return nil, &exitError{code: exitError2, msg: "opening the database: " + oneLine(err.Error())}
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite://"))
	if err != nil {
		if errors.Is(err, store.ErrNewerSchema) {
			return nil, &exitError{code: exitError2, msg: oneLine(err.Error())}
		}
		return nil, &exitError{code: exitError2, msg: "opening the database: " + oneLine(err.Error())}
	}
	return s, nil
}

func runSweep(cmd *cobra.Command, o *scanOptions, so *sweepOptions, registry string) error {
	if v := os.Getenv("LAYERSCAN_DB"); v != "" && !cmd.Flags().Changed("db") {
		so.db = v // not the flag default: --help would show it
	}
	if err := o.out.validate(o); err != nil {
		return err
	}
	if o.showSecrets {
		return usageErr("sweep never handles plaintext secrets: --show-secrets is not available (the store keeps redacted secrets only)")
	}
	if o.jobs < 1 {
		return usageErr("--jobs must be at least 1")
	}
	shard, shards, err := shardFlags(so)
	if err != nil {
		return err
	}
	if shards > 1 && so.run == "" {
		return usageErr("a sharded sweep needs --run NAME (or $LAYERSCAN_RUN), the same for all its shards, so that layerscan report can assemble the run")
	}
	var logger *slog.Logger
	switch so.logFormat {
	case "text":
	case "json":
		logger = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	default:
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
		repoList, err = readLines(so.reposFile)
		if err != nil {
			return usageErr("--repos-file: %v", err)
		}
	}
	det, err := detect.New(o.det.options(o.decodeDepth))
	if err != nil {
		return usageErr("%v", err)
	}
	sopts := scan.Options{Jobs: 1, MaxFileSize: o.maxFileSize}
	if err := o.wlk.apply(&sopts); err != nil {
		return err
	}
	if err := o.det.apply(&sopts); err != nil {
		return err
	}
	opts := sweep.Options{
		Registry: registry, Repos: repos, Tags: tags, RepoList: repoList, Since: so.since, Platform: o.platform,
		Jobs: o.jobs, QPS: so.qps, Timeout: so.timeout, PageSize: so.pageSize, MaxNames: so.maxNames, Insecure: o.insecure,
		UserAgent: "layerscan/" + toolVersion(), Scanner: scan.New(det, sopts), Ruleset: det.RulesetFingerprint(),
		Progress: cmd.ErrOrStderr(), Logger: logger, Shard: shard, Shards: shards,
	}
	if shards > 1 {
		opts.Run = so.run
	}
	switch {
	case o.passwordStdin && o.username == "":
		return usageErr("--password-stdin needs --username")
	case o.passwordStdin:
		pw, err := readPassword(cmd.InOrStdin())
		if err != nil {
			return usageErr("reading the password from stdin: %v", err)
		}
		opts.Auth = basicAuth(o.username, pw)
	case o.username != "":
		return usageErr("--username needs --password-stdin")
	}
	if v := os.Getenv(exitAfterLayersEnv); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			opts.LayerStored = func(k int) {
				if k >= n {
					os.Exit(75)
				}
			}
		}
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
		return &exitError{code: exitError2, msg: oneLine(err.Error())}
	}
	s := res.Stats
	if shards > 1 {
		return shardSummary(cmd, logger, registry, res)
	}
	rep := &report.Report{Schema: report.Schema, Tool: report.Tool{Name: "layerscan", Version: toolVersion(), Ruleset: det.RulesetFingerprint()}, Images: res.Images}
	if rep.Images == nil {
		rep.Images = []*report.Image{}
	}
	if err := writeReport(cmd.OutOrStdout(), o, rep); err != nil {
		return usageErr("writing the report: %v", err)
	}
	if logger != nil {
		logger.Info("sweep summary", "sweep", res.Sweep, "registry", registry, "stats", s)
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "layerscan: sweep %d of %s: %d repositories, %d tags, %d images, %d layers seen, %d scanned, %d from the store, %s downloaded (%s of layers), %d findings, %d new since the last sweep, %d images with errors, %s\n",
			res.Sweep, registry, s.Repositories, s.Tags, s.Images, s.LayersSeen, s.LayersScanned, s.LayersCached,
			report.HumanBytes(s.BytesDownloaded), report.HumanBytes(s.LayerBytes), s.Findings, s.NewFindings, s.Errors,
			(time.Duration(s.DurationMS) * time.Millisecond).String())
	}
	switch {
	case rep.Incomplete():
		return &exitError{code: exitIncomplete, msg: "sweep incomplete: some images could not be read (see the report's errors)"}
	case o.out.failing(rep) > 0:
		return &exitError{code: o.exitCode}
	}
	return nil
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

// shardFlags reads --shard I/N, or --shards N with the index from
// $JOB_COMPLETION_INDEX; (0, 1) without either.
func shardFlags(so *sweepOptions) (shard, shards int, err error) {
	switch {
	case so.shard != "" && so.shards != 0:
		return 0, 0, usageErr("--shard I/N and --shards N: give one")
	case so.shard != "":
		shard, shards, err = sweep.ParseShard(so.shard)
		if err != nil {
			return 0, 0, usageErr("--shard %v", err)
		}
		return shard, shards, nil
	case so.shards != 0:
		v, ok := os.LookupEnv(jobIndexEnv)
		if !ok {
			return 0, 0, usageErr("--shards %d needs $%s (set by a Kubernetes Indexed Job); elsewhere use --shard I/N", so.shards, jobIndexEnv)
		}
		i, err := strconv.Atoi(v)
		if err != nil || so.shards < 1 || i < 0 || i >= so.shards {
			return 0, 0, usageErr("$%s=%q with --shards %d: want 0 ≤ index < shards", jobIndexEnv, v, so.shards)
		}
		return i, so.shards, nil
	}
	return 0, 1, nil
}

// shardSummary ends a shard: its summary line (the stored stats are what
// layerscan report checks), and a non-zero status when its share had
// errors. A shard writes no report: layerscan report assembles the run's.
func shardSummary(cmd *cobra.Command, logger *slog.Logger, registry string, res *sweep.Result) error {
	s := res.Stats
	if logger != nil {
		logger.Info("shard summary", "run", s.Run, "shard", s.Shard, "shards", s.Shards, "sweep", res.Sweep, "registry", registry,
			"layers_seen", s.LayersSeen, "layers_in_share", s.LayersInShare, "layers_scanned", s.LayersScanned, "layers_from_cache", s.LayersCached,
			"images_in_share", s.ImagesInShare, "images_assembled", s.Images, "images_pending", s.ImagesPending,
			"findings", s.Findings, "layer_errors", s.LayerErrors, "image_errors", s.Errors,
			"layer_bytes", s.LayerBytes, "bytes", s.BytesDownloaded, "duration_ms", s.DurationMS)
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "layerscan: shard %d/%d of run %s (sweep %d of %s): %d layers seen, %d in its share, %d scanned, %d from the store, %d images in its share (%d assembled, %d left for the report), %d findings, %d layer errors, %d images with errors, %s downloaded, %s\n",
			s.Shard, s.Shards, s.Run, res.Sweep, registry, s.LayersSeen, s.LayersInShare, s.LayersScanned, s.LayersCached,
			s.ImagesInShare, s.Images, s.ImagesPending, s.Findings, s.LayerErrors, s.Errors, report.HumanBytes(s.BytesDownloaded),
			(time.Duration(s.DurationMS) * time.Millisecond).String())
	}
	if s.LayerErrors > 0 || s.Errors > 0 {
		return &exitError{code: exitIncomplete, msg: fmt.Sprintf("shard %d/%d of run %s: its share had errors (%d layers not scanned, %d images with errors; e.g. %s); run this shard again to retry them",
			s.Shard, s.Shards, s.Run, s.LayerErrors, s.Errors, strings.Join(s.ImageErrorsMsgs, "; "))}
	}
	return nil
}
