package sqlite

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/layerscan/layerscan/pkg/store"
)

// The store contract, on SQLite. A PostgreSQL implementation runs the same
// checks (issue 7).
func TestStore(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(ctx, path)
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
	if err != nil || len(ims) != 1 || ims[0].Tag != "v2" || len(ims[0].Layers) != 1 {
		t.Errorf("latest sweep's images: %+v %v", ims, err)
	}
	if ims, _ := s.Images(ctx, store.ImageFilter{Sweep: id1}); len(ims) != 1 || ims[0].Tag != "v1" {
		t.Errorf("first sweep's images: %+v", ims)
	}
	first, _ := s.FindingsFirstSeen(ctx)
	if !first["f1"].Equal(time.UnixMilli(now.UnixMilli())) || first["f3"].IsZero() {
		t.Errorf("first seen: %v", first)
	}
	sw, _ := s.Sweeps(ctx)
	if len(sw) != 2 || sw[0].ID != id2 || sw[0].Finished.IsZero() || sw[1].Finished.IsZero() {
		t.Errorf("sweeps: %+v", sw)
	}
	if err := s.PutImageReport(ctx, "k", "src", []byte("r"), now); err != nil {
		t.Fatal(err)
	}
	if b, src, ok, _ := s.ImageReport(ctx, "k"); !ok || src != "src" || string(b) != "r" {
		t.Errorf("image report: %q %q %v", b, src, ok)
	}
}

func TestMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := store.NewSQLAt(ctx, db, store.SQLite, 1)
	if err != nil {
		t.Fatal(err)
	}
	old.PutLayer(ctx, "sha256:1", "r", []byte("kept"), time.Now())
	old.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(ctx); v != store.LatestVersion() {
		t.Errorf("upgraded to %d, want %d", v, store.LatestVersion())
	}
	if b, ok, _ := s.Layer(ctx, "sha256:1", "r"); !ok || string(b) != "kept" {
		t.Errorf("data lost in the upgrade: %q", b)
	}
	s.DB().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`, store.LatestVersion()+1)
	s.Close()
	if _, err := Open(ctx, path); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("newer database: %v, want ErrNewerSchema", err)
	}
}
