package fetch_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/layerscan/layerscan/pkg/fetch"
)

// TestExternalImages opens the images built by Docker and BuildKit (see
// ../shared/external-images/README.md): each must give its layers, with
// the diff IDs its config lists, and every layer must read back to them.
func TestExternalImages(t *testing.T) {
	dir := externalDir(t)
	tests := []struct {
		file     string
		kind     fetch.Kind
		layers   int
		ref      string
		platform string
		// digest is the manifest digest, when the archive has one.
		digest string
		// blobDigests: the layers are named by digest in the archive.
		blobDigests bool
	}{
		// docker save, legacy layout (<id>/layer.tar, uncompressed).
		{file: "dive-test-docker-image.tar", kind: fetch.KindDockerArchive, layers: 14, ref: "dive-test:latest", platform: "linux/amd64"},
		// Legacy layout whose last layer.tar is a symlink to layer 6's.
		{file: "dockle-symbolic.tar", kind: fetch.KindDockerArchive, layers: 9, ref: "goodwithtech/dockle-test:v3", platform: "linux/amd64"},
		{file: "ggshield-docker-example.tar", kind: fetch.KindDockerArchive, layers: 3, ref: "gg/example:latest", platform: "linux/amd64"},
		// OCI archive with gzip layers.
		{file: "snyk-node-removed-oci-archive.tar", kind: fetch.KindOCIArchive, layers: 3, platform: "linux/amd64",
			digest: "sha256:d870c2f683fab526114e4575f67981caa9018c5d4515afc5d6ba7c815aafd701", blobDigests: true},
		// Docker 25 layout: manifest.json next to index.json, oci-layout
		// and blobs/sha256; a docker archive, not an OCI one.
		{file: "snyk-npm7-with-package-lock-file.tar", kind: fetch.KindDockerArchive, layers: 4, platform: "linux/amd64",
			digest: "sha256:4f66edae63db6069a82d78c453acd42396aca14b6a8a15c039d390ccfb1a4229", blobDigests: true},
		// Docker 25 layout with "manifests": null in index.json.
		{file: "ggcr-hello-world-v25.tar", kind: fetch.KindDockerArchive, layers: 1, platform: "linux/arm64", blobDigests: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := filepath.Join(dir, tt.file)
			if kind, _ := fetch.Classify(p); kind != tt.kind {
				t.Errorf("Classify: %s, want %s", kind, tt.kind)
			}
			src := open(t, p)
			if src.Kind != tt.kind {
				t.Errorf("kind %s, want %s", src.Kind, tt.kind)
			}
			img := onlyImage(t, src)
			if tt.ref != "" && img.Ref != tt.ref {
				t.Errorf("ref %q, want %q", img.Ref, tt.ref)
			}
			if img.Platform != tt.platform {
				t.Errorf("platform %q, want %q", img.Platform, tt.platform)
			}
			if img.Digest.String() != tt.digest && !(tt.digest == "" && img.Digest == (v1.Hash{})) {
				t.Errorf("manifest digest %q, want %q", img.Digest, tt.digest)
			}
			if len(img.Layers) != tt.layers {
				t.Fatalf("%d layers, want %d", len(img.Layers), tt.layers)
			}
			diffIDs := img.Config.RootFS.DiffIDs
			if len(diffIDs) != tt.layers {
				t.Fatalf("config has %d diff_ids, want %d", len(diffIDs), tt.layers)
			}
			results := walkImage(t, img)
			for i, l := range img.Layers {
				r := results[i]
				if l.DiffID != diffIDs[i] || r.DiffID != diffIDs[i] {
					t.Errorf("layer %d: diff_id %s, read as %s, config says %s", i, l.DiffID, r.DiffID, diffIDs[i])
				}
				if tt.blobDigests && l.Digest != r.Digest {
					t.Errorf("layer %d: digest %s, read as %s", i, l.Digest, r.Digest)
				}
				if l.Digest != (v1.Hash{}) && l.Digest != r.Digest {
					t.Errorf("layer %d: digest %s, read as %s", i, l.Digest, r.Digest)
				}
				if l.Size != r.StoredBytes {
					t.Errorf("layer %d: size %d, read %d bytes", i, l.Size, r.StoredBytes)
				}
				if len(r.Entries) == 0 && r.Bytes > 1024 {
					t.Errorf("layer %d: %d bytes but no entries", i, r.Bytes)
				}
			}
		})
	}
}

// TestSymlinkedLayerTar: docker save stored dockle's layer 8 as a symlink
// to layer 6's layer.tar (same content); it must be read, not skipped.
func TestSymlinkedLayerTar(t *testing.T) {
	img := onlyImage(t, open(t, filepath.Join(externalDir(t), "dockle-symbolic.tar")))
	if len(img.Layers) != 9 {
		t.Fatalf("%d layers", len(img.Layers))
	}
	l6, l8 := img.Layers[6], img.Layers[8]
	if l8.DiffID != l6.DiffID || l8.Size != l6.Size || l8.Size <= 0 {
		t.Errorf("layer 8 (diff_id %s, %d bytes) should be layer 6's (diff_id %s, %d bytes)", l8.DiffID, l8.Size, l6.DiffID, l6.Size)
	}
	res := walkImage(t, img)
	if res[8].DiffID != res[6].DiffID || res[8].DiffID != l8.DiffID {
		t.Errorf("layer 8 read as %s, layer 6 as %s", res[8].DiffID, res[6].DiffID)
	}
	found := false
	for _, e := range res[8].Entries {
		if e.Path == "/app/once-suid.txt" {
			found = true
		}
	}
	if !found {
		t.Errorf("layer 8 has no /app/once-suid.txt: %+v", res[8].Entries)
	}
}

// TestDocker25ReadAsOCIArchive: a Docker 25 save is also an OCI layout.
// Read that way it gives the same layers, unless its index.json lists no
// manifests ("manifests": null), which is then no image at all.
func TestDocker25ReadAsOCIArchive(t *testing.T) {
	dir := externalDir(t)
	p := filepath.Join(dir, "snyk-npm7-with-package-lock-file.tar")
	asDocker := onlyImage(t, open(t, p))
	asOCI := onlyImage(t, open(t, "oci-archive:"+p))
	if asOCI.Digest != asDocker.Digest || asOCI.ConfigDigest != asDocker.ConfigDigest || len(asOCI.Layers) != len(asDocker.Layers) {
		t.Fatalf("oci-archive: digest %s config %s %d layers; docker-archive: %s %s %d", asOCI.Digest, asOCI.ConfigDigest,
			len(asOCI.Layers), asDocker.Digest, asDocker.ConfigDigest, len(asDocker.Layers))
	}
	for i := range asOCI.Layers {
		if asOCI.Layers[i].Digest != asDocker.Layers[i].Digest || asOCI.Layers[i].DiffID != asDocker.Layers[i].DiffID {
			t.Errorf("layer %d: %s/%s vs %s/%s", i, asOCI.Layers[i].Digest, asOCI.Layers[i].DiffID,
				asDocker.Layers[i].Digest, asDocker.Layers[i].DiffID)
		}
	}

	_, err := fetch.Open(context.Background(), "oci-archive:"+filepath.Join(dir, "ggcr-hello-world-v25.tar"))
	if !errors.Is(err, fetch.ErrNotImage) || !strings.Contains(err.Error(), "no image") {
		t.Errorf("ggcr-hello-world-v25 as oci-archive: %v, want ErrNotImage saying no image", err)
	}
}
