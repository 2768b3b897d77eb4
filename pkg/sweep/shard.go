package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
	"github.com/layerscan/layerscan/pkg/store"
)

// ShardOf is the shard (0 … shards-1) that owns key: a layer digest (the
// shard scans it) or a repository name (the shard enumerates it and
// assembles its images). FNV-1a-64, then a 64-bit finalizer (MurmurHash3's
// fmix64) so that the low bits the modulo keeps depend on every byte:
// FNV-1a alone puts 16 of 20 names like team-04/app-00004 in one of 4
// shards. Every process computes the same share.
func ShardOf(key string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New64a()
	io.WriteString(h, key)
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return int(x % uint64(shards))
}

// ParseShard reads "I/N" (0 ≤ I < N).
func ParseShard(s string) (shard, shards int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		shard, err = strconv.Atoi(a)
		if err == nil {
			shards, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || shards < 1 || shard < 0 || shard >= shards {
		return 0, 0, fmt.Errorf("%q: want I/N with 0 ≤ I < N (e.g. 2/8)", s)
	}
	return shard, shards, nil
}

// imageMeta is what assembling an image's report needs besides its layer
// results: stored with every image, so that it is assembled once its
// layers are stored (by this sweep, or by `layerscan report` when other
// shards scan them), and again under other report options without the
// registry.
//
// The config is kept redacted (scan.StoredConfig: its Env, Labels and
// history hold secrets in the clear), with the findings it held.
type imageMeta struct {
	Ref          string             `json:"ref"`
	Source       string             `json:"source"`
	Digest       string             `json:"digest"`
	ConfigDigest string             `json:"config_digest"`
	Platform     string             `json:"platform"`
	Config       *scan.StoredConfig `json:"stored_config"`
	Annotations  map[string]string  `json:"annotations,omitempty"`
	Warnings     []string           `json:"warnings,omitempty"`
	Layers       []layerMeta        `json:"layers"`
}

type layerMeta struct {
	Digest    string `json:"digest"`
	DiffID    string `json:"diff_id,omitempty"`
	Size      int64  `json:"size"`
	MediaType string `json:"media_type"`
}

func encodeMeta(scanner *scan.Scanner, img *fetch.Image) ([]byte, error) {
	sc, err := scanner.StoreConfig(img)
	if err != nil {
		return nil, err
	}
	m := imageMeta{Ref: img.Ref, Source: img.Source, Digest: img.Digest.String(), ConfigDigest: img.ConfigDigest.String(),
		Platform: img.Platform, Config: sc, Annotations: img.Annotations, Warnings: img.Warnings}
	for _, l := range img.Layers {
		lm := layerMeta{Digest: l.Digest.String(), Size: l.Size, MediaType: string(l.MediaType)}
		if l.DiffID.Hex != "" {
			lm.DiffID = l.DiffID.String()
		}
		m.Layers = append(m.Layers, lm)
	}
	return json.Marshal(m)
}

var errOffline = errors.New("layer content is not read when assembling from the store")

func decodeMeta(b []byte) (*fetch.Image, *scan.StoredConfig, error) {
	var m imageMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, err
	}
	if m.Config == nil {
		return nil, nil, errors.New("no stored config (stored by an older layerscan: sweep again)")
	}
	img := &fetch.Image{Ref: m.Ref, Source: m.Source, Platform: m.Platform, RawConfig: m.Config.Config, Annotations: m.Annotations, Warnings: m.Warnings}
	var err error
	if img.Digest, err = v1.NewHash(m.Digest); err != nil {
		return nil, nil, err
	}
	if img.ConfigDigest, err = v1.NewHash(m.ConfigDigest); err != nil {
		return nil, nil, err
	}
	if img.Config, err = v1.ParseConfigFile(strings.NewReader(string(m.Config.Config))); err != nil {
		return nil, nil, err
	}
	for i, lm := range m.Layers {
		d, err := v1.NewHash(lm.Digest)
		if err != nil {
			return nil, nil, err
		}
		var diffID v1.Hash
		if lm.DiffID != "" {
			if diffID, err = v1.NewHash(lm.DiffID); err != nil {
				return nil, nil, err
			}
		}
		img.Layers = append(img.Layers, fetch.NewLayer(i, d, diffID, lm.Size, types.MediaType(lm.MediaType),
			func() (io.ReadCloser, error) { return nil, errOffline }))
	}
	return img, m.Config, nil
}

// MissingLayersError says an image cannot be assembled yet: the shards
// owning these layers have not stored them.
type MissingLayersError struct {
	Image  string
	Layers []string
}

func (e *MissingLayersError) Error() string {
	return fmt.Sprintf("%s: %d layer result(s) not in the store yet (%s): a shard of the run has not finished", e.Image, len(e.Layers), strings.Join(e.Layers, ", "))
}

// AssembleStored assembles the report of an image a sharded sweep stored
// without one (its Meta set, its Report nil) from the layer results in
// the store, as the sweep would have: scanner must use the sweep's
// ruleset. A *MissingLayersError says which layers are still missing,
// unless allowMissing: then they are reported as layers not scanned (the
// shard owning them finished without being able to read them).
func AssembleStored(ctx context.Context, st store.Store, scanner *scan.Scanner, ruleset string, rec store.Image, allowMissing bool) (*report.Image, error) {
	img, sc, err := decodeMeta(rec.Meta)
	if err != nil {
		return nil, fmt.Errorf("%s/%s:%s: stored image unreadable: %w", rec.Registry, rec.Repo, rec.Tag, err)
	}
	results := make([]*scan.LayerResult, len(img.Layers))
	var missing []string
	for i, l := range img.Layers {
		b, ok, err := st.Layer(ctx, l.Digest.String(), ruleset)
		if err != nil {
			return nil, err
		}
		if ok {
			results[i], err = DecodeLayer(b)
		}
		if !ok || err != nil {
			results[i] = nil
			missing = append(missing, l.Digest.String())
		}
	}
	if len(missing) > 0 && !allowMissing {
		return nil, &MissingLayersError{Image: img.Ref, Layers: missing}
	}
	im := scanner.AssembleStored(img, results, sc)
	im.Stats.DurationMS = 0
	return im, nil
}
