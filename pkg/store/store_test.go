package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/store"
	"github.com/layerscan/layerscan/pkg/store/postgres"
	"github.com/layerscan/layerscan/pkg/store/sqlite"
)

// backend is one database the store runs on. Every test below runs on
// each: the embedded SQLite file and a real PostgreSQL server.
type backend struct {
	name    string
	dialect store.Dialect
	// newDB makes an empty database and returns its --db name.
	newDB func(t *testing.T) string
	// rawDB opens it without migrating.
	rawDB func(t *testing.T, dsn string) *sql.DB
	open  func(ctx context.Context, dsn string) (*store.SQL, error)
}

var (
	pgOnce sync.Once
	pgDSN  string
	pgN    atomic.Int64
)

func backends() []backend {
	return []backend{
		{
			name: "sqlite", dialect: store.SQLite,
			newDB: func(t *testing.T) string { return filepath.Join(t.TempDir(), "s.db") },
			rawDB: func(t *testing.T, dsn string) *sql.DB {
				db, err := sqlite.OpenDB(dsn)
				if err != nil {
					t.Fatal(err)
				}
				return db
			},
			open: sqlite.Open,
		},
		{
			name: "postgres", dialect: store.Postgres,
			newDB: func(t *testing.T) string {
				// One server for the package's tests (started by the first
				// test that needs it, stopped by TestMain), a database each.
				pgOnce.Do(func() { pgDSN = startSharedPostgres(t) })
				if pgDSN == "" {
					t.Skip("no PostgreSQL")
				}
				return testenv.NewPostgresDatabase(t, pgDSN, fmt.Sprintf("t%d", pgN.Add(1)))
			},
			rawDB: func(t *testing.T, dsn string) *sql.DB {
				db, err := postgres.OpenDB(t.Context(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				return db
			},
			open: postgres.Open,
		},
	}
}

func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// The store contract.
func TestStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, err := b.open(ctx, b.newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, _ := s.SchemaVersion(ctx); v != store.LatestVersion() {
			t.Errorf("schema version %d, want %d", v, store.LatestVersion())
		}
		if _, ok, err := s.Layer(ctx, "sha256:1", "r1"); ok || err != nil {
			t.Fatalf("empty store: %v %v", ok, err)
		}
		now := time.Now()
		for range 2 { // an upsert, not a duplicate
			if err := s.PutLayer(ctx, "sha256:1", "r1", []byte("one"), now); err != nil {
				t.Fatal(err)
			}
		}
		if b, ok, _ := s.Layer(ctx, "sha256:1", "r1"); !ok || string(b) != "one" {
			t.Errorf("layer: %q %v", b, ok)
		}
		if _, ok, _ := s.Layer(ctx, "sha256:1", "r2"); ok {
			t.Error("a result under another ruleset was returned")
		}
		if n, _ := s.LayerCount(ctx, "r1"); n != 1 {
			t.Errorf("layer count %d, want 1", n)
		}
		id1, _ := s.BeginSweep(ctx, "reg", "r1", now)
		im := store.Image{Registry: "reg", Repo: "a", Tag: "v1", Platform: "linux/amd64", Digest: "sha256:m", Layers: []string{"sha256:1"}, Report: []byte("{}"), Sweep: id1, LastSeen: now}
		if err := s.PutImage(ctx, im); err != nil {
			t.Fatal(err)
		}
		n, err := s.SeeFindings(ctx, id1, now, []string{"f1", "f2", "f1"})
		if err != nil || n != 2 {
			t.Fatalf("new findings %d %v, want 2", n, err)
		}
		s.FinishSweep(ctx, id1, now, []byte(`{}`))
		id2, _ := s.BeginSweep(ctx, "reg", "r1", now.Add(time.Hour))
		im.Sweep, im.LastSeen, im.Tag = id2, now.Add(time.Hour), "v2"
		s.PutImage(ctx, im)
		if n, _ := s.SeeFindings(ctx, id2, now.Add(time.Hour), []string{"f1", "f3"}); n != 1 {
			t.Errorf("second sweep: %d new findings, want 1", n)
		}
		if ims, _ := s.Images(ctx, store.ImageFilter{}); len(ims) != 1 || ims[0].Tag != "v1" {
			t.Errorf("while sweep 2 runs, the latest finished sweep's images: %+v", ims)
		}
		s.FinishSweep(ctx, id2, now.Add(time.Hour), []byte(`{}`))
		ims, err := s.Images(ctx, store.ImageFilter{})
		if err != nil || len(ims) != 1 || ims[0].Tag != "v2" || len(ims[0].Layers) != 1 || ims[0].Meta != nil {
			t.Errorf("latest sweep's images: %+v %v", ims, err)
		}
		if ims, _ := s.Images(ctx, store.ImageFilter{Sweep: id1}); len(ims) != 1 || ims[0].Tag != "v1" {
			t.Errorf("first sweep's images: %+v", ims)
		}
		first, _ := s.FindingsFirstSeen(ctx, []string{"f1", "f3", "never"})
		if !first["f1"].At.Equal(time.UnixMilli(now.UnixMilli())) || first["f1"].Sweep != id1 || first["f3"].Sweep != id2 || len(first) != 2 {
			t.Errorf("first seen: %v", first)
		}
		sw, _ := s.Sweeps(ctx)
		if len(sw) != 2 || sw[0].ID != id2 || sw[0].Finished.IsZero() || sw[1].Finished.IsZero() || sw[0].Shards != 1 || sw[0].Run != "" {
			t.Errorf("sweeps: %+v", sw)
		}
		if err := s.PutImageReport(ctx, "k", "src", []byte("r"), now); err != nil {
			t.Fatal(err)
		}
		if b, src, ok, _ := s.ImageReport(ctx, "k"); !ok || src != "src" || string(b) != "r" {
			t.Errorf("image report: %q %q %v", b, src, ok)
		}
	})
}

// What incremental and split sweeps keep: an image's tag digest, keys,
// creation time and counts, read back per repository without the report;
// images seen again unchanged; pages of a sweep's images in key order;
// pending images; layers looked up in bulk; the layers recorded for other
// shards of a run, offered to their owner until tried, and a shard's
// steps.
func TestStoreIncremental(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, err := b.open(ctx, b.newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		now := time.UnixMilli(time.Now().UnixMilli())
		id1, _ := s.BeginSweep(ctx, "reg", "r", now)
		created := now.Add(-time.Hour)
		for i := range 5 {
			im := store.Image{Registry: "reg", Repo: "a", Tag: fmt.Sprint("v", i), Platform: "linux/amd64", Digest: "sha256:m", Layers: []string{"sha256:1"},
				Report: []byte(`{}`), Meta: []byte(`{"m":1}`), Sweep: id1, LastSeen: now, TagDigest: "sha256:t", ResolveKey: "rk", ReportKey: "pk",
				Created: created, Findings: i, Errors: i % 2}
			if i == 4 {
				im.Report = nil
			}
			if err := s.PutImage(ctx, im); err != nil {
				t.Fatal(err)
			}
		}
		s.PutImage(ctx, store.Image{Registry: "reg", Repo: "b", Tag: "x", Layers: []string{}, Report: []byte(`{}`), Sweep: id1, LastSeen: now})
		rows, err := s.RepoImages(ctx, "reg", "a")
		if err != nil || len(rows) != 5 {
			t.Fatalf("repo images: %d %v", len(rows), err)
		}
		r0 := rows[0]
		if r0.TagDigest != "sha256:t" || r0.ResolveKey != "rk" || r0.ReportKey != "pk" || !r0.Created.Equal(created) || r0.Report != nil || r0.Meta != nil ||
			rows[3].Findings != 3 || rows[3].Errors != 1 || rows[4].ReportKey != "" {
			t.Errorf("repo images: %+v", rows)
		}
		if m, err := s.ImageMeta(ctx, r0.Key()); err != nil || string(m) != `{"m":1}` {
			t.Errorf("meta %q %v", m, err)
		}
		s.FinishSweep(ctx, id1, now, []byte(`{}`))
		id2, _ := s.BeginSweep(ctx, "reg", "r", now)
		if err := s.SeeImages(ctx, id2, now.Add(time.Minute), []store.ImageKey{rows[1].Key(), rows[2].Key()}); err != nil {
			t.Fatal(err)
		}
		var got []string
		after := store.ImageKey{}
		for {
			page, err := s.Images(ctx, store.ImageFilter{Sweep: id1, After: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, im := range page {
				got = append(got, im.Repo+":"+im.Tag)
			}
			after = page[len(page)-1].Key()
		}
		if strings.Join(got, " ") != "a:v0 a:v3 a:v4 b:x" {
			t.Errorf("pages of sweep 1: %v", got)
		}
		if p, _ := s.Images(ctx, store.ImageFilter{Sweep: id1, Pending: true}); len(p) != 1 || p[0].Tag != "v4" || string(p[0].Meta) != `{"m":1}` {
			t.Errorf("pending: %+v", p)
		}
		if p, _ := s.Images(ctx, store.ImageFilter{Sweep: id2}); len(p) != 2 || !p[0].LastSeen.Equal(now.Add(time.Minute)) {
			t.Errorf("seen again: %+v", p)
		}

		s.PutLayer(ctx, "sha256:1", "r", []byte("x"), now)
		s.PutLayer(ctx, "sha256:2", "other", []byte("x"), now)
		if m, err := s.StoredLayers(ctx, "r", []string{"sha256:1", "sha256:2", "sha256:3"}); err != nil || len(m) != 1 || !m["sha256:1"] {
			t.Errorf("stored layers %v %v", m, err)
		}

		run, _ := s.BeginShard(ctx, "reg", "r", "night", 1, 2, now)
		want := []store.WantedLayer{{Digest: "sha256:1", Owner: 0, Repo: "a"}, {Digest: "sha256:4", Owner: 0, Repo: "a", Size: 7, MediaType: "mt"},
			{Digest: "sha256:5", Owner: 1, Repo: "b"}}
		if err := s.WantLayers(ctx, "night", want); err != nil {
			t.Fatal(err)
		}
		s.WantLayers(ctx, "night", []store.WantedLayer{{Digest: "sha256:4", Owner: 1, Repo: "c"}}) // kept as first recorded
		ls, err := s.WantedLayers(ctx, store.WantedQuery{Run: "night", Ruleset: "r", Owners: []int{0}})
		if err != nil || len(ls) != 1 || ls[0].Digest != "sha256:4" || ls[0].Repo != "a" || ls[0].Size != 7 || ls[0].MediaType != "mt" {
			t.Errorf("wanted by shard 0 (sha256:1 is stored): %+v %v", ls, err)
		}
		if err := s.TriedLayer(ctx, "night", ls[0], run); err != nil {
			t.Fatal(err)
		}
		if ls, _ := s.WantedLayers(ctx, store.WantedQuery{Run: "night", Ruleset: "r", Owners: []int{0}, NotTriedBy: run}); len(ls) != 0 {
			t.Errorf("a layer tried by this sweep offered again: %+v", ls)
		}
		if ls, _ := s.WantedLayers(ctx, store.WantedQuery{Run: "night", Ruleset: "r", Untried: true}); len(ls) != 1 || ls[0].Digest != "sha256:5" {
			t.Errorf("untried: %+v", ls)
		}
		if ls, _ := s.WantedLayers(ctx, store.WantedQuery{Run: "night", Ruleset: "r", After: "sha256:4", Limit: 1}); len(ls) != 1 || ls[0].Digest != "sha256:5" {
			t.Errorf("page after sha256:4: %+v", ls)
		}
		for _, st := range []store.Step{store.StepEnumerated, store.StepDrained} {
			if err := s.MarkSweep(ctx, run, st, now); err != nil {
				t.Fatal(err)
			}
		}
		sw, _ := s.Sweeps(ctx)
		if sw[0].ID != run || sw[0].Enumerated.IsZero() || sw[0].Drained.IsZero() || !sw[0].Scanned.IsZero() {
			t.Errorf("steps: %+v", sw[0])
		}
		if err := s.ForgetWantedLayers(ctx, "night", now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ls, _ := s.WantedLayers(ctx, store.WantedQuery{Run: "night", Ruleset: "r"}); len(ls) != 0 {
			t.Errorf("forgotten layers still listed: %+v", ls)
		}
	})
}

// Shards of one run: each its sweep row; a pending image (no report yet,
// its assembly input in Meta) round-trips; the run's images are those
// of all its shards.
func TestStoreShards(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, err := b.open(ctx, b.newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		now := time.Now()
		for i := range 3 {
			id, err := s.BeginShard(ctx, "reg", "r", "night-1", i, 3, now)
			if err != nil {
				t.Fatal(err)
			}
			im := store.Image{Registry: "reg", Repo: "a", Tag: fmt.Sprint("v", i), Platform: "linux/amd64", Digest: "sha256:m", Layers: []string{}, Sweep: id, LastSeen: now}
			if i == 1 {
				im.Meta = []byte(`{"pending":true}`)
			} else {
				im.Report = []byte(`{}`)
			}
			if err := s.PutImage(ctx, im); err != nil {
				t.Fatal(err)
			}
		}
		old, _ := s.BeginShard(ctx, "reg", "r", "night-0", 0, 1, now)
		s.PutImage(ctx, store.Image{Registry: "reg", Repo: "old", Tag: "x", Layers: []string{}, Report: []byte(`{}`), Sweep: old, LastSeen: now})
		ims, err := s.Images(ctx, store.ImageFilter{Run: "night-1"})
		if err != nil || len(ims) != 3 {
			t.Fatalf("run images: %+v %v", ims, err)
		}
		if ims[1].Report != nil || string(ims[1].Meta) != `{"pending":true}` || ims[0].Meta != nil || string(ims[0].Report) != "{}" {
			t.Errorf("pending image: report %q meta %q", ims[1].Report, ims[1].Meta)
		}
		sw, _ := s.Sweeps(ctx)
		if len(sw) != 4 || sw[1].Run != "night-1" || sw[1].Shard != 2 || sw[1].Shards != 3 {
			t.Errorf("sweeps: %+v", sw)
		}
	})
}

// Two processes (two stores, each its own connections) and many
// goroutines finishing the same layers at once: one row per layer and
// ruleset, no error.
func TestStoreConcurrentWriters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		dsn := b.newDB(t)
		var stores []*store.SQL
		var wg sync.WaitGroup
		var mu sync.Mutex
		var openErr error
		for range 2 { // concurrent migrations too
			wg.Go(func() {
				s, err := b.open(ctx, dsn)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					openErr = err
					return
				}
				stores = append(stores, s)
			})
		}
		wg.Wait()
		if openErr != nil {
			t.Fatal(openErr)
		}
		for _, s := range stores {
			defer s.Close()
		}
		errs := make(chan error, 200)
		for i := range 8 {
			s := stores[i%2]
			wg.Go(func() {
				for k := range 20 {
					d := fmt.Sprintf("sha256:%d", k)
					if err := s.PutLayer(ctx, d, "r", []byte(fmt.Sprint("result ", k)), time.Now()); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n, err := stores[0].LayerCount(ctx, ""); n != 20 || err != nil {
			t.Errorf("%d layer rows (%v), want 20", n, err)
		}
		if b, ok, _ := stores[1].Layer(ctx, "sha256:7", "r"); !ok || string(b) != "result 7" {
			t.Errorf("layer 7: %q", b)
		}
	})
}

func TestStoreMigrationsBothDialects(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		dsn := b.newDB(t)
		old, err := store.NewSQLAt(ctx, b.rawDB(t, dsn), b.dialect, 4)
		if err != nil {
			t.Fatal(err)
		}
		old.PutLayer(ctx, "sha256:1", "r", []byte("unkeyed"), time.Now())
		id, _ := old.BeginSweep(ctx, "reg", "r", time.Now())
		// An image row as a schema 4 build wrote it (PutImage writes the
		// columns of the latest schema).
		mark := b.dialect.Placeholder
		if _, err := old.DB().ExecContext(ctx, `INSERT INTO images (registry, repo, tag, platform, digest, config_digest, layers, report, error, sweep_id, first_seen, last_seen)
			VALUES ('reg', 'a', '1', 'linux/amd64', 'sha256:m', 'sha256:c', '["sha256:1"]', `+mark(1)+`, '', `+mark(2)+`, 0, 0)`, []byte(`{}`), id); err != nil {
			t.Fatal(err)
		}
		old.Close()

		s, err := b.open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := s.SchemaVersion(ctx); v != store.LatestVersion() {
			t.Errorf("upgraded to %d, want %d", v, store.LatestVersion())
		}
		// Layer results from before keyed fingerprints are dropped; the
		// images a sweep saw are kept.
		if b, ok, _ := s.Layer(ctx, "sha256:1", "r"); ok {
			t.Errorf("an unkeyed layer result survived the upgrade: %q", b)
		}
		var n int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM images`).Scan(&n); err != nil || n != 1 {
			t.Errorf("images after the upgrade: %d %v", n, err)
		}
		if _, err := s.DB().Exec(fmt.Sprintf(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'future', 0)`, store.LatestVersion()+1)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := b.open(ctx, dsn); !errors.Is(err, store.ErrNewerSchema) {
			t.Errorf("newer database: %v, want ErrNewerSchema", err)
		}
	})
}

// TestSQLiteFileIsPrivate: the database and its WAL files are 0600, also
// when the file existed with a wider mode (findings stay the
// user's).
func TestSQLiteFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	old := filepath.Join(dir, "old.db")
	os.WriteFile(old, nil, 0o644)
	os.Chmod(old, 0o666)
	for _, p := range []string{fresh, old} {
		s, err := sqlite.Open(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PutLayer(context.Background(), "sha256:00", "r", []byte("{}"), time.Now()); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{p, p + "-wal"} {
			if st, err := os.Stat(f); err == nil && st.Mode().Perm() != 0o600 {
				t.Errorf("%s is %v, want 0600", filepath.Base(f), st.Mode().Perm())
			}
		}
		s.Close()
	}
}

// TestStoreKeyAndVerdicts: a store keeps the fingerprint key id it was
// first written with and refuses another; verdicts are kept per secret id.
func TestStoreKeyAndVerdicts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		s, err := b.open(ctx, b.newDB(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.ClaimKey(ctx, "k111"); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimKey(ctx, "k111"); err != nil {
			t.Errorf("the same key again: %v", err)
		}
		if err := s.ClaimKey(ctx, "k222"); !errors.Is(err, store.ErrOtherKey) || !strings.Contains(err.Error(), "k111") {
			t.Errorf("another key: %v, want ErrOtherKey naming k111", err)
		}
		if _, _, ok, _ := s.Verdict(ctx, "s1"); ok {
			t.Error("a verdict before any was stored")
		}
		at := time.UnixMilli(time.Now().UnixMilli())
		s.PutVerdict(ctx, "s1", []byte(`{"status":"invalid"}`), at)
		s.PutVerdict(ctx, "s1", []byte(`{"status":"verified"}`), at.Add(time.Hour))
		v, when, ok, err := s.Verdict(ctx, "s1")
		if err != nil || !ok || string(v) != `{"status":"verified"}` || !when.Equal(at.Add(time.Hour)) {
			t.Errorf("verdict %q at %v ok %v err %v", v, when, ok, err)
		}
	})
}
