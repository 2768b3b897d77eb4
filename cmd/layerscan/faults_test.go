package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/layerscan/layerscan/internal/faultproxy"
	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
)

// A scan through a registry that fails 20% of requests finds exactly what
// a scan of the healthy registry finds; a blob that always fails costs its
// layer only (exit 3), in bounded time.
func TestScanThroughRegistryFaults(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.Push(t, "oci-archive:"+fixture(t, "lifecycle.oci.tar"), "app:1")
	direct := runCLI(t, reg.Env(), "--format", "json", "--exit-code", "1", reg.Host+"/app:1")
	if direct.code != 1 {
		t.Fatalf("direct scan: exit %d: %s", direct.code, direct.stderr)
	}
	var want report.Report
	json.Unmarshal([]byte(direct.stdout), &want)
	if len(keysOf(&want)) == 0 {
		t.Fatal("no findings in the direct scan")
	}

	// Credentials for the proxy's host, which layerscan reaches over HTTP.
	proxyEnv := func(p *faultproxy.Proxy) []string {
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
		os.WriteFile(filepath.Join(dir, "config.json"), []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, p.Host, auth)), 0o600)
		return []string{"DOCKER_CONFIG=" + dir}
	}
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("20%% transient faults, seed %d", seed), func(t *testing.T) {
			p := faultproxy.Start(t, "https://"+reg.Host, reg.Transport(), faultproxy.Config{Seed: seed, Rate: 0.2})
			res := runCLI(t, proxyEnv(p), "--format", "json", "--exit-code", "1", "--insecure", p.Host+"/app:1")
			if res.code != 1 {
				t.Fatalf("exit %d: %s\n%s", res.code, res.stderr, strings.Join(p.Log(), "\n"))
			}
			var got report.Report
			json.Unmarshal([]byte(res.stdout), &got)
			if !reflect.DeepEqual(keysOf(&got), keysOf(&want)) {
				t.Errorf("findings differ from the fault-free run:\n%v\n%v", keysOf(&got), keysOf(&want))
			}
			if reg.Password != "" && strings.Contains(res.stdout+res.stderr, reg.Password) {
				t.Error("the registry password is in the output")
			}
			t.Logf("%d requests, faults %v", p.Requests(), p.Faults())
		})
	}
	t.Run("permanent fault on one blob", func(t *testing.T) {
		src, err := fetch.Open(context.Background(), reg.Host+"/app:1", fetch.WithTransport(reg.Transport()), fetch.WithBasicAuth(reg.Username, reg.Password))
		if err != nil {
			t.Fatal(err)
		}
		bad := src.Images[0].Layers[1].Digest.String()
		src.Close()
		p := faultproxy.Start(t, "https://"+reg.Host, reg.Transport(), faultproxy.Config{Permanent: map[string]faultproxy.Fault{bad: faultproxy.ResetMidBody}})
		start := time.Now()
		res := runCLI(t, proxyEnv(p), "--format", "json", "--insecure", p.Host+"/app:1")
		if res.code != 3 {
			t.Fatalf("exit %d, want 3 (incomplete): %s", res.code, res.stderr)
		}
		var got report.Report
		json.Unmarshal([]byte(res.stdout), &got)
		for _, e := range got.Images[0].Errors {
			if e.Layer == nil || *e.Layer != 1 {
				t.Errorf("error not on layer 1: %+v", e)
			}
		}
		if len(got.Images[0].Errors) != 1 {
			t.Errorf("errors: %+v", got.Images[0].Errors)
		}
		if d := time.Since(start); d > time.Minute {
			t.Errorf("took %s", d)
		}
		t.Logf("%+v after %d requests", got.Images[0].Errors, p.Requests())
	})
}
