package fetch

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// dockerManifestEntry is one image of a docker save manifest.json.
type dockerManifestEntry struct {
	Config       string
	RepoTags     []string
	Layers       []string
	LayerSources map[v1.Hash]v1.Descriptor
}

func openDockerArchive(p string, o Options) (*Source, error) {
	idx, err := indexArchive(p, o.MaxArchiveEntries)
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %s: %w", p, err)
	}
	src, err := readDockerArchive(idx, o)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("reading docker archive %s: %w", p, err)
	}
	src.closer = idx
	return src, nil
}

func readDockerArchive(idx *archiveIndex, o Options) (*Source, error) {
	if !idx.has("manifest.json") {
		return nil, fmt.Errorf("%w: no manifest.json (not a docker save archive)", ErrNotImage)
	}
	raw, err := idx.readAll("manifest.json", o.MaxMetadataSize)
	if err != nil {
		return nil, err
	}
	var entries []dockerManifestEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("%w: parsing manifest.json: %v", ErrNotImage, err)
	}
	manifestDigests := dockerManifestDigests(idx, o)
	src := &Source{}
	for i, e := range entries {
		img, err := dockerImage(idx, e, o)
		if err != nil {
			return nil, fmt.Errorf("image %d of manifest.json: %w", i, err)
		}
		img.Digest = manifestDigests[img.ConfigDigest]
		src.Images = append(src.Images, img)
	}
	return src, nil
}

func dockerImage(idx *archiveIndex, e dockerManifestEntry, o Options) (*Image, error) {
	if e.Config == "" {
		return nil, fmt.Errorf("%w: no config named", ErrNotImage)
	}
	if len(e.Layers) > o.MaxLayers {
		return nil, fmt.Errorf("%d layers, more than the %d allowed", len(e.Layers), o.MaxLayers)
	}
	rawCfg, err := idx.readAll(e.Config, o.MaxMetadataSize)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(strings.NewReader(string(rawCfg)))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing config %s: %v", ErrNotImage, e.Config, err)
	}
	sum := sha256.Sum256(rawCfg)
	img := &Image{
		ConfigDigest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)},
		RawConfig:    rawCfg,
		Config:       cfg,
		Warnings:     boundHistory(cfg, o),
		Platform:     platformOf(cfg),
	}
	if len(e.RepoTags) > 0 {
		img.Ref = e.RepoTags[0]
	}
	for i, name := range e.Layers {
		name := name
		ent, err := idx.lookup(name)
		size := ent.size
		if err != nil {
			// A manifest naming a missing member fails that layer alone,
			// when it is read (as a missing OCI blob does).
			size = -1
		}
		l := Layer{Index: i, Size: size, open: func() (io.ReadCloser, error) {
			rc, _, err := idx.open(name)
			if err != nil {
				return nil, fmt.Errorf("layer %d of the archive: %w", i, err)
			}
			return rc, err
		}}
		if i < len(cfg.RootFS.DiffIDs) {
			l.DiffID = cfg.RootFS.DiffIDs[i]
		}
		if d, ok := e.LayerSources[l.DiffID]; ok {
			l.Digest, l.MediaType = d.Digest, d.MediaType
		} else if h, ok := blobPathDigest(name); ok {
			l.Digest = h
		}
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

// blobPathDigest reads the digest from a Docker 25 path blobs/sha256/HEX.
func blobPathDigest(name string) (v1.Hash, bool) {
	parts := strings.Split(cleanMember(name), "/")
	if len(parts) != 3 || parts[0] != "blobs" {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(parts[1] + ":" + parts[2])
	return h, err == nil
}

// dockerManifestDigests maps config digests to manifest digests for the
// Docker 25+ layout, whose index.json lists OCI manifests. Older archives
// have none, and an index with "manifests": null is tolerated.
func dockerManifestDigests(idx *archiveIndex, o Options) map[v1.Hash]v1.Hash {
	out := map[v1.Hash]v1.Hash{}
	if !idx.has("index.json") {
		return out
	}
	raw, err := idx.readAll("index.json", o.MaxMetadataSize)
	if err != nil {
		return out
	}
	im, err := v1.ParseIndexManifest(strings.NewReader(string(raw)))
	if err != nil || im == nil {
		return out
	}
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		b, err := idx.readAll("blobs/"+d.Digest.Algorithm+"/"+d.Digest.Hex, o.MaxMetadataSize)
		if err != nil {
			continue
		}
		m, err := v1.ParseManifest(strings.NewReader(string(b)))
		if err != nil {
			continue
		}
		out[m.Config.Digest] = d.Digest
	}
	return out
}

func platformOf(cfg *v1.ConfigFile) string {
	if cfg == nil || cfg.OS == "" {
		return ""
	}
	p := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	return p.String()
}
