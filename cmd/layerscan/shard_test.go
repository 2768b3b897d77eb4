package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/sweep"
)

// shardRun is one shard process's outcome.
type shardRun struct {
	shard   int
	res     result
	scanned []string // digests of its "layer scanned" events
	summary map[string]any
	killed  bool
}

// runShards starts the given shards of a run at once, each its own
// layerscan process, against one database; the shard kill names is
// killed after its first layer stored.
func (f *sweepFixture) runShards(t *testing.T, dsn, run string, n int, shards []int, kill int) []shardRun {
	t.Helper()
	out := make([]shardRun, len(shards))
	var wg sync.WaitGroup
	for k, i := range shards {
		wg.Go(func() {
			// A shard killed after its first stored layer scans one layer
			// at a time: with two at once, the other one's result (scanned,
			// not stored) would be lost with the process and scanned again.
			jobs := "2"
			if i == kill {
				jobs = "1"
			}
			args := []string{"sweep", f.reg.Host, "--db", dsn, "--platform", "all", "--page-size", "7",
				"--shard", fmt.Sprintf("%d/%d", i, n), "--run", run, "--jobs", jobs}
			var r result
			sr := shardRun{shard: i}
			if i == kill {
				r, sr.killed = runCLIKilled(t, f.reg.Env(), 1, args...)
			} else {
				r = runCLI(t, f.reg.Env(), append(args, "--log-format", "json")...)
			}
			sr.res = r
			sc := bufio.NewScanner(strings.NewReader(r.stderr))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var ev map[string]any
				if json.Unmarshal(sc.Bytes(), &ev) != nil {
					continue
				}
				switch ev["msg"] {
				case "layer scanned":
					sr.scanned = append(sr.scanned, ev["digest"].(string))
				case "shard summary":
					sr.summary = ev
				}
			}
			out[k] = sr
		})
	}
	wg.Wait()
	return out
}

func pgCount(t *testing.T, dsn, query string) int {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// normalizedImages is a report's images as JSON values without timings.
func normalizedImages(t *testing.T, rep *report.Report) []any {
	t.Helper()
	b, err := json.Marshal(rep.Images)
	if err != nil {
		t.Fatal(err)
	}
	var v []any
	json.Unmarshal(b, &v)
	var strip func(x any)
	strip = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			delete(x, "duration_ms")
			delete(x, "new") // relative to the previous sweep of the database, not part of the result
			for _, e := range x {
				strip(e)
			}
		case []any:
			for _, e := range x {
				strip(e)
			}
		}
	}
	for _, e := range v {
		strip(e)
	}
	return v
}

func reportOf(t *testing.T, dsn string, extra ...string) (result, *report.Report) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	r := runCLI(t, nil, append([]string{"report", "--db", dsn, "--format", "json", "-o", out}, extra...)...)
	var rep report.Report
	if b, err := os.ReadFile(out); err == nil {
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatalf("report JSON: %v", err)
		}
	}
	return r, &rep
}

// Four shard processes at once against the real registry and one
// PostgreSQL: every unique layer scanned exactly once, the assembled
// report equal to a single process's; a shard killed midway and run again
// completes the run without rescanning the other shards' layers.
func TestSweepShardsPostgres(t *testing.T) {
	f := newSweepFixtureN(t, 12, false, false)
	pg := testenv.StartPostgres(t)
	const n = 4

	// The reference: one process, SQLite.
	single := filepath.Join(t.TempDir(), "single.db")
	r, ref := f.sweep(t, single, nil)
	if len(ref.Images) != len(f.images) {
		t.Fatalf("single sweep: %d images, want %d (exit %d)\n%s", len(ref.Images), len(f.images), r.code, r.stderr)
	}
	want := normalizedImages(t, ref)

	checkOnce := func(t *testing.T, dsn string, runs ...[]shardRun) {
		t.Helper()
		by := map[string]int{}
		for _, rs := range runs {
			for _, sr := range rs {
				for _, d := range sr.scanned {
					by[d]++
					if s := sweep.ShardOf(d, n); s != sr.shard {
						t.Errorf("shard %d scanned %s, a layer of shard %d", sr.shard, d, s)
					}
				}
			}
		}
		for d := range f.layers {
			if by[d] != 1 {
				t.Errorf("layer %s scanned %d times, want once", d, by[d])
			}
		}
		if len(by) != len(f.layers) {
			t.Errorf("%d layers scanned, want %d", len(by), len(f.layers))
		}
		if rows := pgCount(t, dsn, `SELECT COUNT(*) FROM layer_results`); rows != len(f.layers) {
			t.Errorf("%d layer rows, want %d", rows, len(f.layers))
		}
	}
	checkReport := func(t *testing.T, dsn string) {
		t.Helper()
		r, rep := reportOf(t, dsn)
		if r.code != 0 && r.code != 1 {
			t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
		}
		got := normalizedImages(t, rep)
		if !reflect.DeepEqual(got, want) {
			gb, _ := json.MarshalIndent(got, "", " ")
			wb, _ := json.MarshalIndent(want, "", " ")
			if d := os.Getenv("LAYERSCAN_DEBUG_DIR"); d != "" {
				os.WriteFile(filepath.Join(d, "got.json"), gb, 0o644)
				os.WriteFile(filepath.Join(d, "want.json"), wb, 0o644)
			}
			t.Fatalf("the sharded run's report differs from the single sweep's (%d vs %d images)\ngot  %.3000s\nwant %.3000s", len(got), len(want), gb, wb)
		}
		// A second report reads what the first assembled: the same.
		if _, rep2 := reportOf(t, dsn); !reflect.DeepEqual(normalizedImages(t, rep2), want) {
			t.Error("the second report differs")
		}
	}

	t.Run("four at once", func(t *testing.T) {
		dsn := testenv.NewPostgresDatabase(t, pg, "once")
		runs := f.runShards(t, dsn, "night-1", n, []int{0, 1, 2, 3}, -1)
		for _, sr := range runs {
			if sr.res.code != 0 {
				t.Fatalf("shard %d: exit %d\n%s", sr.shard, sr.res.code, sr.res.stderr)
			}
			if sr.summary == nil || sr.summary["layer_errors"] != 0.0 || sr.summary["shard"] != float64(sr.shard) {
				t.Errorf("shard %d: summary %v", sr.shard, sr.summary)
			}
			t.Logf("shard %d: %d layers scanned, summary %v", sr.shard, len(sr.scanned), sr.summary)
		}
		checkOnce(t, dsn, runs)
		checkReport(t, dsn)
	})

	t.Run("a shard killed and run again", func(t *testing.T) {
		dsn := testenv.NewPostgresDatabase(t, pg, "killed")
		const victim = 2
		runs := f.runShards(t, dsn, "night-2", n, []int{0, 1, 2, 3}, victim)
		for _, sr := range runs {
			switch {
			case sr.shard == victim && !sr.killed:
				t.Fatalf("the shard to kill finished first: exit %d\n%s", sr.res.code, sr.res.stderr)
			case sr.shard != victim && sr.res.code != 0:
				t.Fatalf("shard %d: exit %d\n%s", sr.shard, sr.res.code, sr.res.stderr)
			}
		}
		if r, _ := reportOf(t, dsn); r.code != exitError2 || !strings.Contains(r.stderr, fmt.Sprintf("shard(s) %d of %d have not finished", victim, n)) {
			t.Fatalf("report before the shard is run again: exit %d, want 2 naming shard %d\n%s", r.code, victim, r.stderr)
		}
		rerun := f.runShards(t, dsn, "night-2", n, []int{victim}, -1)
		if rerun[0].res.code != 0 {
			t.Fatalf("shard run again: exit %d\n%s", rerun[0].res.code, rerun[0].res.stderr)
		}
		if rerun[0].summary["layers_from_cache"] == 0.0 {
			t.Errorf("the shard run again took nothing from the store: %v", rerun[0].summary)
		}
		checkOnce(t, dsn, runs, rerun)
		checkReport(t, dsn)
	})
}

// TestBenchShards is make bench-shards: the same registry swept by 1, 2
// and 4 shard processes at once on this machine, each into a fresh
// PostgreSQL database; wall time, layers per shard, database rows.
func TestBenchShards(t *testing.T) {
	if os.Getenv("LAYERSCAN_BENCH_SHARDS") != "1" {
		t.Skip("a benchmark: make bench-shards")
	}
	start := time.Now()
	f := newSweepFixtureN(t, 40, true, false)
	pg := testenv.StartPostgres(t)
	fmt.Printf("bench-shards: fixture %d images, %d unique layers, %d KB per own layer, in %s; %d CPUs\n",
		len(f.images), len(f.layers), benchLayerKB(), time.Since(start).Round(time.Millisecond), runtime.NumCPU())
	for _, n := range []int{1, 2, 4} {
		dsn := testenv.NewPostgresDatabase(t, pg, fmt.Sprintf("bench%d", n))
		shards := make([]int, n)
		for i := range shards {
			shards[i] = i
		}
		t0 := time.Now()
		runs := f.runShards(t, dsn, fmt.Sprintf("bench-%d", n), n, shards, -1)
		wall := time.Since(t0)
		var per []string
		for _, sr := range runs {
			if sr.res.code != 0 && sr.res.code != 1 {
				t.Fatalf("%d shards: shard %d exit %d\n%s", n, sr.shard, sr.res.code, sr.res.stderr)
			}
			per = append(per, fmt.Sprint(len(sr.scanned)))
		}
		tr := time.Now()
		r, _ := reportOf(t, dsn)
		if n > 1 && r.code != 0 && r.code != 1 {
			t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
		}
		fmt.Printf("bench-shards: %d shard(s): wall %s, layers per shard [%s], report %s, rows: layer_results %d, images %d, sweeps %d\n",
			n, wall.Round(time.Millisecond), strings.Join(per, " "), time.Since(tr).Round(time.Millisecond),
			pgCount(t, dsn, `SELECT COUNT(*) FROM layer_results`), pgCount(t, dsn, `SELECT COUNT(*) FROM images`), pgCount(t, dsn, `SELECT COUNT(*) FROM sweeps`))
	}
}

func benchLayerKB() int {
	kb, _ := strconv.Atoi(os.Getenv("LAYERSCAN_BENCH_LAYER_KB"))
	return kb
}

// A shard whose share had errors (a layer blob gone from the registry)
// exits 3 naming them; the others exit 0; the report of the run is
// rendered but exits 3 naming the shard. The flags are checked too.
func TestSweepShardErrors(t *testing.T) {
	f := newSweepFixtureN(t, 3, false, true)
	pg := testenv.StartPostgres(t)
	const n = 3
	runs := f.runShards(t, pg, "night-e", n, []int{0, 1, 2}, -1)
	bad := -1
	for _, sr := range runs {
		switch sr.res.code {
		case 0:
		case exitIncomplete:
			if bad >= 0 || !strings.Contains(sr.res.stderr, fmt.Sprintf("shard %d/%d of run night-e: its share had errors", sr.shard, n)) {
				t.Errorf("shard %d: exit 3 without the message\n%s", sr.shard, sr.res.stderr)
			}
			bad = sr.shard
		default:
			t.Fatalf("shard %d: exit %d\n%s", sr.shard, sr.res.code, sr.res.stderr)
		}
	}
	if bad < 0 {
		t.Fatal("no shard reported the broken layer")
	}
	r, rep := reportOf(t, pg)
	if r.code != exitIncomplete || !strings.Contains(r.stderr, fmt.Sprintf("shard %d:", bad)) {
		t.Errorf("report: exit %d, want 3 naming shard %d\n%s", r.code, bad, r.stderr)
	}
	if len(rep.Images) != len(f.images) {
		t.Errorf("report: %d images, want %d", len(rep.Images), len(f.images))
	}
	for _, im := range rep.Images {
		if strings.Contains(im.Ref, f.broken) != (len(im.Errors) > 0) {
			t.Errorf("%s: errors %v", im.Ref, im.Errors)
		}
	}

	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--shards", "4"}, "needs $JOB_COMPLETION_INDEX"},
		{[]string{"JOB_COMPLETION_INDEX=4"}, []string{"--shards", "4"}, "want 0 ≤ index < shards"},
		{nil, []string{"--shard", "4/4"}, "--shard"},
		{nil, []string{"--shard", "1/4"}, "needs --run"},
		{nil, []string{"--log-format", "xml"}, "--log-format"},
	} {
		r := runCLI(t, append(c.env, "LAYERSCAN_RUN="), append([]string{"sweep", f.reg.Host, "--db", pg}, c.args...)...)
		if r.code != exitError2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v %v: exit %d, want 2 with %q\n%s", c.env, c.args, r.code, c.want, r.stderr)
		}
	}
	// In a Kubernetes Indexed Job: the index from the environment.
	r = runCLI(t, append(f.reg.Env(), "JOB_COMPLETION_INDEX=0", "LAYERSCAN_RUN=k8s", "LAYERSCAN_DB="+pg), "sweep", f.reg.Host, "--shards", "3", "--log-format", "json", "--platform", "all", "--shard-wait", "2s")
	if !strings.Contains(r.stderr, `"msg":"shard summary"`) || !strings.Contains(r.stderr, `"run":"k8s","shard":0,"shards":3`) {
		t.Errorf("--shards with JOB_COMPLETION_INDEX: exit %d\n%s", r.code, r.stderr)
	}
}
