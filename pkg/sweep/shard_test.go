package sweep

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/layerscan/layerscan/pkg/detect"
	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/redact"
	"github.com/layerscan/layerscan/pkg/scan"
)

func TestShardOfCoversEveryKeyOnce(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 8} {
		count := make([]int, n)
		for i := range 4000 {
			s := ShardOf(fmt.Sprintf("sha256:%064x", i*7919), n)
			if s < 0 || s >= n {
				t.Fatalf("ShardOf(_, %d) = %d", n, s)
			}
			count[s]++
		}
		for i, c := range count { // roughly even
			if c < 4000/n*7/10 {
				t.Errorf("%d shards: shard %d got %d of 4000 keys", n, i, c)
			}
		}
	}
	if a, b := ShardOf("sha256:abc", 4), ShardOf("sha256:abc", 4); a != b {
		t.Error("not deterministic")
	}
	// Repository names that differ in a few digits (what registries hold)
	// spread too: 20 of them over 4 shards, none empty, none with half.
	count := make([]int, 4)
	for r := range 20 {
		count[ShardOf(fmt.Sprintf("team-%02d/app-%05d", r%16, r), 4)]++
	}
	for i, c := range count {
		if c == 0 || c >= 10 {
			t.Errorf("20 repositories over 4 shards: %v (shard %d)", count, i)
			break
		}
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string][2]int{"0/1": {0, 1}, "3/4": {3, 4}, "7/8": {7, 8}} {
		i, n, err := ParseShard(in)
		if err != nil || i != want[0] || n != want[1] {
			t.Errorf("ParseShard(%q) = %d, %d, %v", in, i, n, err)
		}
	}
	for _, bad := range []string{"", "4/4", "-1/4", "1", "a/b", "1/0", "2/-3"} {
		if _, _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q): no error", bad)
		}
	}
}

// An image stored unassembled by a shard comes back with what Assemble
// needs, and the stored meta holds no plaintext secret: the config's Env
// and history are redacted, the findings they held kept (redacted).
func TestShardImageMetaRoundTrip(t *testing.T) {
	img, err := random.Image(64, 3)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := img.RawConfigFile()
	cfg, _ := img.ConfigFile()
	const token = "ghp_hOf8LLFcxTQjvyiXHalVzav0epCziUzy7Q3B" // fake, made for the tests
	cfg.Config.Env = []string{"PATH=/usr/bin", "GITHUB_TOKEN=" + token}
	cfg.History = []v1.History{{CreatedBy: "/bin/sh -c echo " + base64.StdEncoding.EncodeToString([]byte("t="+token)) + " | base64 -d > /t"}}
	m, _ := img.Manifest()
	d, _ := img.Digest()
	fi := &fetch.Image{Ref: "r/a:1", Source: "r/a:1", Digest: d, ConfigDigest: m.Config.Digest, Platform: "linux/amd64",
		RawConfig: raw, Config: cfg, Annotations: map[string]string{"k": "v"}, Warnings: []string{"w"}}
	for i, l := range m.Layers {
		var diff v1.Hash
		if i < len(cfg.RootFS.DiffIDs) {
			diff = cfg.RootFS.DiffIDs[i]
		}
		fi.Layers = append(fi.Layers, fetch.NewLayer(i, l.Digest, diff, l.Size, l.MediaType, nil))
	}
	det, err := detect.New(detect.Options{MaxDecodeDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeMeta(scan.New(det, scan.Options{ShowSecrets: true}), fi)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range redact.Forms(token) {
		if strings.Contains(string(b), f) {
			t.Errorf("stored meta holds %q", f)
		}
	}
	got, sc, err := decodeMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != fi.Ref || got.Digest != fi.Digest || got.ConfigDigest != fi.ConfigDigest ||
		got.Annotations["k"] != "v" || len(got.Warnings) != 1 || len(got.Layers) != 3 || got.Config == nil {
		t.Fatalf("round trip: %+v", got)
	}
	if e := got.Config.Config.Env; len(e) != 2 || e[0] != "PATH=/usr/bin" || e[1] != "GITHUB_TOKEN=ghp_****" {
		t.Errorf("stored Env %q", e)
	}
	rules := map[string]bool{}
	for _, f := range sc.Findings {
		rules[f.Source+" "+f.Rule] = true
		if f.Secret != "ghp_****" {
			t.Errorf("stored finding with secret %q", f.Secret)
		}
	}
	if !rules["config github-pat"] || !rules["history github-pat"] {
		t.Errorf("stored findings %+v", sc.Findings)
	}
	for i, l := range got.Layers {
		if l.Digest != fi.Layers[i].Digest || l.DiffID != fi.Layers[i].DiffID || l.Size != fi.Layers[i].Size || l.MediaType != fi.Layers[i].MediaType || l.Index != i {
			t.Errorf("layer %d: %+v, want %+v", i, l, fi.Layers[i])
		}
	}
}
