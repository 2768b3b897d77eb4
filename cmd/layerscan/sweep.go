package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
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
}

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
stderr. Exit status as for scan: 3 when an image could not be read completely.`,
		Example: `  layerscan sweep registry.example.com
  layerscan sweep registry.example.com --repo 'team-a/*' --repo '!team-a/tmp-*' --tags 'v*,latest' --since 72h
  layerscan sweep registry.example.com --db ./layerscan.db --format sarif -o sweep.sarif`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("sweep needs one REGISTRY (see layerscan sweep --help)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSweep(cmd, opts, so, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&so.db, "db", "layerscan.db", "the sweep database (SQLite file)")
	f.StringArrayVar(&so.repos, "repo", nil, "repositories to sweep: glob, or !glob to leave out; repeatable or comma-separated (default all)")
	f.StringArrayVar(&so.tags, "tags", nil, "tags to sweep: glob, or !glob to leave out; repeatable or comma-separated (default all)")
	f.DurationVar(&so.since, "since", 0, "only images whose config was created within this long (e.g. 72h)")
	f.StringVar(&so.reposFile, "repos-file", "", "file listing the repositories, one a line, for registries that disable the catalog")
	f.Float64Var(&so.qps, "registry-qps", 0, "at most this many registry requests a second (0: no limit)")
	f.DurationVar(&so.timeout, "request-timeout", 60*time.Second, "time to wait for a registry's response headers, per request")
	f.IntVar(&so.pageSize, "page-size", 0, "catalog and tag list page size (0: the registry's default)")
	return cmd
}

// openStore opens the database named by --db.
func openStore(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return nil, usageErr("--db %s: PostgreSQL is not supported yet (use a SQLite file)", "postgres://…")
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
	if err := o.out.validate(o); err != nil {
		return err
	}
	if o.showSecrets {
		return usageErr("sweep never handles plaintext secrets: --show-secrets is not available (the store keeps redacted secrets only)")
	}
	if o.jobs < 1 {
		return usageErr("--jobs must be at least 1")
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
		Jobs: o.jobs, QPS: so.qps, Timeout: so.timeout, PageSize: so.pageSize, Insecure: o.insecure,
		UserAgent: "layerscan/" + toolVersion(), Scanner: scan.New(det, sopts), Ruleset: det.RulesetFingerprint(),
		Progress: cmd.ErrOrStderr(),
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
			return &exitError{code: exitError2, msg: "sweep interrupted; the layers scanned so far are in " + so.db + " and will not be scanned again"}
		}
		return &exitError{code: exitError2, msg: oneLine(err.Error())}
	}
	rep := &report.Report{Schema: report.Schema, Tool: report.Tool{Name: "layerscan", Version: toolVersion(), Ruleset: det.RulesetFingerprint()}, Images: res.Images}
	if rep.Images == nil {
		rep.Images = []*report.Image{}
	}
	if err := writeReport(cmd.OutOrStdout(), o, rep); err != nil {
		return usageErr("writing the report: %v", err)
	}
	s := res.Stats
	fmt.Fprintf(cmd.ErrOrStderr(), "layerscan: sweep %d of %s: %d repositories, %d tags, %d images, %d layers seen, %d scanned, %d from the store, %s downloaded (%s of layers), %d findings, %d new since the last sweep, %d images with errors, %s\n",
		res.Sweep, registry, s.Repositories, s.Tags, s.Images, s.LayersSeen, s.LayersScanned, s.LayersCached,
		byteCount(s.BytesDownloaded), byteCount(s.LayerBytes), s.Findings, s.NewFindings, s.Errors,
		(time.Duration(s.DurationMS) * time.Millisecond).String())
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

func byteCount(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
