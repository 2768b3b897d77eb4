package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerscan/layerscan/internal/testenv"
	"github.com/layerscan/layerscan/pkg/report"
)

// TestSweepHonoursFetchBounds: the bounds scan applies to what it reads
// from a registry apply to sweeps too (one registry reader): an image past
// --max-layers or --max-metadata-size is an error on that image, and the
// sweep is incomplete (exit 3), never a clean report.
func TestSweepHonoursFetchBounds(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.Push(t, "oci-archive:"+fixture(t, "lifecycle.oci.tar"), "team-a/app:1")
	for _, c := range []struct {
		flag []string
		want string
	}{
		{[]string{"--max-layers", "1"}, "more than the 1 allowed"},
		{[]string{"--max-metadata-size", "100"}, "allowed"},
	} {
		t.Run(c.flag[0], func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "sweep.db")
			args := append([]string{"sweep", "--db", db, "--format", "json"}, c.flag...)
			res := runCLI(t, reg.Env(), append(args, reg.Host)...)
			if res.code != exitIncomplete {
				t.Fatalf("sweep %v: exit %d, want %d\n%s", c.flag, res.code, exitIncomplete, res.stderr)
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
				t.Fatalf("sweep JSON: %v\n%s", err, res.stdout)
			}
			if len(rep.Images) != 1 || len(rep.Images[0].Errors) == 0 || !strings.Contains(rep.Images[0].Errors[0].Message, c.want) {
				t.Fatalf("sweep %v: images %+v, want an error saying %q", c.flag, rep.Images, c.want)
			}
			if n := rep.FindingCount(); n != 0 {
				t.Errorf("sweep %v: %d findings from an image it refused to read", c.flag, n)
			}
		})
	}
}
