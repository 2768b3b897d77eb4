package fetch

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// dockerManifestEntry is one image of a docker save manifest.json.
type dockerManifestEntry struct {
	Config       string
	RepoTags     []string
	Layers       []string
	LayerSources map[v1.Hash]v1.Descriptor
}

func openDockerArchive(target string, o Options) (*Source, error) {
	p, pick := splitRefSuffix(target)
	idx, err := indexArchive(p, o.MaxArchiveEntries)
	if err != nil {
		return nil, fmt.Errorf("reading docker archive %s: %w", p, err)
	}
	src, err := readDockerArchive(idx, pick, o)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("reading docker archive %s: %w", p, err)
	}
	src.closer = idx
	return src, nil
}

// readDockerArchive reads the images of a docker save archive: all of
// them, or the one pick names (a RepoTag, or @N for the N-th, 0-based).
func readDockerArchive(idx *archiveIndex, pick string, o Options) (*Source, error) {
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
	chosen, err := pickDockerEntries(entries, pick)
	if err != nil {
		return nil, err
	}
	manifestDigests := dockerManifestDigests(idx, o)
	src := &Source{}
	for _, i := range chosen {
		img, err := dockerImage(idx, entries[i], o)
		if err != nil {
			return nil, fmt.Errorf("image %d of manifest.json: %w", i, err)
		}
		img.Digest = manifestDigests[img.ConfigDigest]
		if pick != "" && !strings.HasPrefix(pick, "@") {
			img.Ref = pick
		}
		src.Images = append(src.Images, img)
	}
	return src, nil
}

// pickDockerEntries gives the indexes of manifest.json's entries that
// pick selects: all when pick is empty, the N-th for "@N", else those
// with a RepoTag naming the same image as pick once both are normalised
// (busybox = docker.io/library/busybox:latest).
func pickDockerEntries(entries []dockerManifestEntry, pick string) ([]int, error) {
	var out []int
	if pick == "" {
		for i := range entries {
			out = append(out, i)
		}
		return out, nil
	}
	if n, ok := strings.CutPrefix(pick, "@"); ok {
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i >= len(entries) {
			return nil, fmt.Errorf("%w: no image @%s: the archive holds %d (@0 to @%d)", ErrNotFound, n, len(entries), len(entries)-1)
		}
		return []int{i}, nil
	}
	want := normalRef(pick)
	var tags []string
	for i, e := range entries {
		for _, t := range e.RepoTags {
			tags = append(tags, t)
			if normalRef(t) == want {
				out = append(out, i)
				break
			}
		}
	}
	if len(out) == 0 {
		sort.Strings(tags)
		return nil, fmt.Errorf("%w: no image tagged %q in the archive (tags: %s; or @0 to @%d)", ErrNotFound, pick, strings.Join(tags, ", "), len(entries)-1)
	}
	return out[:1], nil
}

// normalRef is ref in full (docker.io/library/busybox:latest), or ref
// itself when it does not parse.
func normalRef(ref string) string {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return ref
	}
	return r.Name()
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
