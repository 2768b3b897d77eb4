package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/faultproxy"
	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/report"
)

// A sweep through a registry that fails 20% of requests (5xx, 429 with
// Retry-After, resets mid-body, truncated bodies) reports exactly what a
// sweep of the healthy registry reports.
func TestSweepThroughRegistryFaults(t *testing.T) {
	reg := testenv.StartRegistry(t)
	for _, f := range []struct{ src, dst string }{
		{"lifecycle.oci.tar", "team-a/app:1"},
		{"lifecycle.oci.tar", "team-a/app:2"},
		{"compression.oci.tar", "team-b/tools:latest"},
	} {
		reg.Push(t, "oci-archive:"+fixture(t, f.src), f.dst)
	}
	reg.Push(t, "oci:"+fixture(t, "clean")+":latest", "team-b/clean:v1")

	sweep := func(t *testing.T, env []string, host string, extra ...string) []findingKey {
		t.Helper()
		db := filepath.Join(t.TempDir(), "sweep.db")
		args := append([]string{"sweep", "--db", db, "--format", "json", "--exit-code", "1"}, extra...)
		res := runCLI(t, env, append(args, host)...)
		if res.code != 1 {
			t.Fatalf("sweep: exit %d\n%s", res.code, res.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("sweep JSON: %v", err)
		}
		if len(rep.Images) != 4 {
			t.Errorf("%d images reported, want 4", len(rep.Images))
		}
		for _, im := range rep.Images {
			for _, f := range im.Findings {
				if !f.New {
					t.Errorf("%s %s: the first sweep of a database must mark every finding new", im.Ref, f.Path)
				}
			}
		}
		return keysOf(&rep)
	}
	want := sweep(t, reg.Env(), reg.Host)
	if len(want) == 0 {
		t.Fatal("no findings in the fault-free sweep")
	}
	for seed := int64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			p := faultproxy.Start(t, "https://"+reg.Host, reg.Transport(), faultproxy.Config{Seed: seed, Rate: 0.2})
			dir := t.TempDir()
			auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, p.Host, auth)), 0o600)
			got := sweep(t, []string{"DOCKER_CONFIG=" + dir}, p.Host, "--insecure")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings differ from the fault-free sweep:\n got %v\nwant %v", got, want)
			}
			if p.Requests() == 0 || len(p.Faults()) == 0 {
				t.Fatalf("no faults injected (%d requests)", p.Requests())
			}
			t.Logf("%d requests, faults %v", p.Requests(), p.Faults())
			if strings.Contains(strings.Join(p.Log(), "\n"), reg.Password) {
				t.Error("the password is in the proxy log")
			}
		})
	}
}
