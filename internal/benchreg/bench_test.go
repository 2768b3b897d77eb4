//go:build linux

package benchreg

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/layerscan/layerscan/internal/testenv"
)

// TestBenchSweepScale is make bench-sweep-scale (scripts/bench-sweep-scale.sh),
// run only when LAYERSCAN_BENCH_SWEEP_SCALE=1: for each number of images in
// $SIZES (default "1000 10000 100000") a generated registry served by a real
// docker-registry (TLS, anonymous), swept by the layerscan binary $LAYERSCAN
// into a real PostgreSQL: a first sweep, a second sweep of the unchanged
// registry, then 4 shards of a new run into a fresh database, one after
// another, and the report of that run ($RUNS: "sweeps shards", the default,
// or one of them). One markdown table row per run: wall,
// CPU, peak RSS (the child's rusage, as /usr/bin/time -v prints it) and the
// registry requests of the run by kind, from the registry's access log.
func TestBenchSweepScale(t *testing.T) {
	if os.Getenv("LAYERSCAN_BENCH_SWEEP_SCALE") != "1" {
		t.Skip("a benchmark: make bench-sweep-scale")
	}
	bin := os.Getenv("LAYERSCAN")
	if bin == "" || !filepath.IsAbs(bin) {
		t.Fatalf("LAYERSCAN=%q: want the absolute path of the layerscan binary to measure", bin)
	}
	sizes := strings.Fields(os.Getenv("SIZES"))
	if len(sizes) == 0 {
		sizes = []string{"1000", "10000", "100000"}
	}
	tagsPerRepo, _ := strconv.Atoi(os.Getenv("TAGS_PER_REPO"))
	runs := map[string]bool{}
	for _, r := range strings.Fields(cmp.Or(os.Getenv("RUNS"), "sweeps shards")) {
		if r != "sweeps" && r != "shards" {
			t.Fatalf("RUNS: %q is neither sweeps nor shards", r)
		}
		runs[r] = true
	}
	version, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, version)
	}
	pg := testenv.StartPostgres(t)
	fmt.Printf("bench-sweep-scale: %s; %d CPUs; docker-registry (TLS, no auth) and PostgreSQL on 127.0.0.1; shards run one after another\n",
		strings.Join(strings.Fields(string(version)), " "), runtime.NumCPU())
	fmt.Println("| images | run | wall | CPU (user+sys) | peak RSS | exit | catalog | tag lists | manifest GET | manifest HEAD | config GET | layer GET | /v2/ pings | other | non-2xx | bytes sent |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sizes {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxImages {
			t.Fatalf("SIZES: %q is not a number of images", s)
		}
		t.Run(s, func(t *testing.T) { benchSize(t, bin, pg, n, tagsPerRepo, runs) })
	}
}

// benchSize generates a registry of n images and measures the runs on it.
func benchSize(t *testing.T, bin, pg string, n, tagsPerRepo int, runs map[string]bool) {
	reg := testenv.StartRegistry(t, testenv.Anonymous())
	t0 := time.Now()
	g, err := Generate(t.Context(), reg.StorageDir, Options{Images: n, TagsPerRepo: tagsPerRepo})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("bench-sweep-scale: %d images: %d repositories, %d unique layers, %s of blobs, generated in %s\n",
		n, len(g.Repos), n+len(g.BaseLayers), mib(g.Bytes), time.Since(t0).Round(100*time.Millisecond))

	b := &bench{t: t, bin: bin, reg: reg, g: g, n: n, home: t.TempDir()}
	full := testenv.NewPostgresDatabase(t, pg, fmt.Sprintf("full_%d", n))
	sharded := testenv.NewPostgresDatabase(t, pg, fmt.Sprintf("shards_%d", n))
	report := filepath.Join(b.home, "report.json")
	if runs["sweeps"] {
		b.run("first sweep", "sweep", reg.Host, "--db", full, "-q", "-f", "json", "-o", report)
		b.checkReport("first sweep", report)
		b.run("second sweep", "sweep", reg.Host, "--db", full, "-q", "-f", "json", "-o", report)
		b.checkReport("second sweep", report)
	}
	if runs["shards"] {
		const shards = 4
		for i := range shards {
			b.run(fmt.Sprintf("shard %d/%d", i, shards), "sweep", reg.Host, "--db", sharded, "-q",
				"--shard", fmt.Sprintf("%d/%d", i, shards), "--run", fmt.Sprintf("scale-%d", n),
				// One after another, a shard cannot wait for the others to
				// list their layers: the layers recorded for a finished
				// shard are scanned by the shards after it.
				"--shard-wait", "1s")
		}
		b.run("report of the shards", "report", "--db", sharded, "-q", "-f", "json", "-o", report)
		b.checkReport("report of the shards", report)
	}
}

// checkReport checks that the JSON report (layerscan/v1, docs/json-schema.md)
// of a run holds every image, none with errors: a run that measured less
// than the whole registry is no measurement.
func (b *bench) checkReport(label, path string) {
	t := b.t
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("%s: %v", label, err)
		return
	}
	defer f.Close()
	var rep struct {
		Images []struct {
			Errors []json.RawMessage `json:"errors"`
		} `json:"images"`
	}
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&rep); err != nil {
		t.Errorf("%s: reading the report: %v", label, err)
		return
	}
	bad := 0
	for _, im := range rep.Images {
		if len(im.Errors) > 0 {
			bad++
		}
	}
	if len(rep.Images) != b.n || bad > 0 {
		t.Errorf("%s: the report has %d images, %d with errors; want %d, none", label, len(rep.Images), bad, b.n)
	}
	os.Remove(path)
}

type bench struct {
	t    *testing.T
	bin  string
	reg  *testenv.Registry
	g    *Registry
	n    int
	home string // HOME of the runs: their fingerprint key, no config file
}

// run runs layerscan with args, prints its table row and the last lines of
// its stderr. Exit status 0 and 1 (findings) are expected.
func (b *bench) run(label string, args ...string) {
	t := b.t
	t.Helper()
	b.reg.SyncLog(t)
	st, err := os.Stat(b.reg.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	from := st.Size()

	var stderr bytes.Buffer
	cmd := exec.Command(b.bin, args...)
	cmd.Env = append(childEnv(), b.reg.Env()...)
	cmd.Env = append(cmd.Env, "HOME="+b.home, "XDG_CONFIG_HOME="+filepath.Join(b.home, ".config"))
	if d := os.Getenv("BENCH_PROFILE_DIR"); d != "" {
		// What each run keeps in use at its end (go tool pprof).
		name := strings.NewReplacer("/", "-", " ", "-").Replace(fmt.Sprintf("%d-%s", b.n, label))
		cmd.Env = append(cmd.Env, "LAYERSCAN_MEMPROFILE="+filepath.Join(d, name+".heap"))
	}
	cmd.Dir = b.home
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	// Peak RSS is the child's VmHWM, polled: the rusage of a child started
	// by vfork and exec (what os/exec does) counts the parent's resident
	// set at the exec, so it reports this test's own peak — the generator
	// and the access log — once that is larger than layerscan's.
	var hwm atomic.Int64
	err = cmd.Start()
	if err == nil {
		stop := make(chan struct{})
		polled := make(chan struct{})
		go func() {
			defer close(polled)
			status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
			for {
				if kb := vmHWM(status); kb > hwm.Load() {
					hwm.Store(kb)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		err = cmd.Wait()
		close(stop)
		<-polled
	}
	wall := time.Since(start)
	code := 0
	if err != nil {
		code = -1
		if cmd.ProcessState != nil {
			code = cmd.ProcessState.ExitCode()
		}
	}
	var cpu time.Duration
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			rss = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	if kb := hwm.Load(); kb > 0 {
		rss = kb * 1024
	}

	b.reg.SyncLog(t)
	c := b.count(from)
	fmt.Printf("| %d | %s | %.1f s | %.1f s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s |\n",
		b.n, label, wall.Seconds(), cpu.Seconds(), mib(rss), code,
		c.catalog, c.tags, c.manifestGET, c.manifestHEAD, c.configGET, c.layerGET, c.pings, c.other, c.failed, mib(c.bytes))
	for _, o := range c.others[:min(len(c.others), 3)] {
		fmt.Printf("bench-sweep-scale:   other request: %s\n", o)
	}
	for _, l := range lastLines(stderr.String(), 3) {
		fmt.Printf("bench-sweep-scale:   %s\n", l)
	}
	if code != 0 && code != 1 {
		t.Errorf("%d images, %s: layerscan %s: exit %d\n%s", b.n, label, strings.Join(args, " "), code, tail(stderr.String(), 4000))
	}
}

// childEnv is the environment minus LAYERSCAN_* (a database, run name,
// config file or fingerprint key of the caller's).
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LAYERSCAN_") {
			env = append(env, kv)
		}
	}
	return env
}

func lastLines(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// accessLine matches a distribution access-log line (combined log format),
// capturing the method, the request target, the status and the bytes sent:
//
//	127.0.0.1 - - [28/Nov/2026:04:35:20 +0000] "GET /v2/x/y/blobs/sha256:bc… HTTP/2.0" 200 4345 "" "go-containerregistry"
var accessLine = regexp.MustCompile(`^\S+ \S+ \S+ \[[^\]]*\] "([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3}) (\d+|-) `)

// requests counts a run's registry requests by kind.
type requests struct {
	catalog, tags, manifestGET, manifestHEAD, configGET, layerGET int
	pings                                                         int      // GET /v2/
	other                                                         int      // blob HEADs, anything else
	others                                                        []string // the first few of them
	failed                                                        int      // status 400 and above (also counted by kind)
	bytes                                                         int64    // response bytes
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// count classifies the access-log lines written since offset from. Blob
// GETs are told apart by digest: the generator knows which are configs.
// SyncLog's marker requests are not counted.
func (b *bench) count(from int64) requests {
	t := b.t
	t.Helper()
	f, err := os.Open(b.reg.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var c requests
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := accessLine.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		method, target, status := string(m[1]), string(m[2]), string(m[3])
		if strings.Contains(target, "layerscan-log-sync=") {
			continue
		}
		path, _, _ := strings.Cut(target, "?")
		if status >= "400" {
			c.failed++
		}
		if sz, err := strconv.ParseInt(string(m[4]), 10, 64); err == nil {
			c.bytes += sz
		}
		switch {
		case path == "/v2/" || path == "/v2":
			c.pings++
		case path == "/v2/_catalog":
			c.catalog++
		case strings.HasSuffix(path, "/tags/list"):
			c.tags++
		case strings.Contains(path, "/manifests/") && method == "GET":
			c.manifestGET++
		case strings.Contains(path, "/manifests/") && method == "HEAD":
			c.manifestHEAD++
		case strings.Contains(path, "/blobs/") && method == "GET":
			_, d, _ := strings.Cut(path, "/blobs/")
			switch b.g.Kind(d) {
			case KindConfig:
				c.configGET++
			case KindLayer:
				c.layerGET++
			default:
				c.other++
				c.others = append(c.others, method+" "+target)
			}
		default:
			c.other++
			c.others = append(c.others, method+" "+target)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

// vmHWM is the VmHWM line of a /proc/PID/status file, in KiB (0 when it
// cannot be read: the process is gone).
func vmHWM(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
