package fetch

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Bounds on what a containers-storage store may make layerscan read.
const (
	// maxStoreIndex bounds images.json and layers.json.
	maxStoreIndex = 256 << 20
	// maxStoreRecords bounds the images and the layers they list.
	maxStoreRecords = 200000
)

// storageDrivers are the graph drivers whose layers layerscan reads:
// each keeps a layer's tar-split next to a directory holding the layer's
// files (overlay: only the layer's own; vfs: a full snapshot).
var storageDrivers = map[string]func(root, id string) string{
	"overlay": func(root, id string) string { return filepath.Join(root, "overlay", id, "diff") },
	"vfs":     func(root, id string) string { return filepath.Join(root, "vfs", "dir", id) },
}

// storeID is an image or layer ID of containers-storage; anything else in
// images.json or layers.json is refused before it becomes part of a path.
var (
	storeID       = regexp.MustCompile(`^[0-9a-f]{64}$`)
	storeIDPrefix = regexp.MustCompile(`^[0-9a-f]{3,63}$`)
)

// storageRef is a parsed containers-storage: reference.
type storageRef struct {
	driver, root, name string
}

// parseStorageRef splits "[DRIVER@ROOT+RUNROOT]NAME" (the store
// specifier in brackets, as skopeo writes it); without one, the store is
// the default of the user running layerscan.
func parseStorageRef(target string, getenv func(string) string) (storageRef, error) {
	var r storageRef
	if rest, ok := strings.CutPrefix(target, "["); ok {
		spec, name, ok := strings.Cut(rest, "]")
		if !ok {
			return r, fmt.Errorf("%w: containers-storage:%s: the store [DRIVER@ROOT+RUNROOT] has no closing ]", ErrBadReference, target)
		}
		spec, _, _ = strings.Cut(spec, "+") // the run root holds locks and containers only
		if d, root, ok := strings.Cut(spec, "@"); ok {
			r.driver, spec = d, root
		}
		r.root, target = spec, name
	}
	if r.root == "" {
		r.root = DefaultStorageRoot(getenv)
	}
	r.name = target
	if r.name == "" {
		return r, fmt.Errorf("%w: containers-storage: needs an image name or ID", ErrBadReference)
	}
	return r, nil
}

// DefaultStorageRoot is where podman and buildah keep images by default:
// /var/lib/containers/storage for root, else
// $XDG_DATA_HOME/containers/storage (~/.local/share/containers/storage).
// A graphroot set in storage.conf is not read: give it in the reference.
func DefaultStorageRoot(getenv func(string) string) string {
	if os.Geteuid() == 0 {
		return "/var/lib/containers/storage"
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "containers", "storage")
	}
	return filepath.Join(getenv("HOME"), ".local", "share", "containers", "storage")
}

// storeImage is one record of images.json.
type storeImage struct {
	ID      string   `json:"id"`
	Digest  string   `json:"digest"`
	Digests []string `json:"digests"`
	Names   []string `json:"names"`
	TopLyr  string   `json:"layer"`
	BigData []string `json:"big-data-names"`
}

// storeLayer is one record of layers.json.
type storeLayer struct {
	ID         string `json:"id"`
	Parent     string `json:"parent"`
	DiffDigest string `json:"diff-digest"`
	DiffSize   *int64 `json:"diff-size"`
}

// openStorage reads an image of a containers-storage store from disk:
// its manifest and config from the image's big-data files, its layers as
// tar streams rebuilt from each layer's tar-split metadata and the files
// of the layer's directory (see storageLayer). The store is not locked:
// it is read as it is, and a layer changed meanwhile fails its digest.
func openStorage(target string, o Options) (*Source, error) {
	r, err := parseStorageRef(target, o.Env)
	if err != nil {
		return nil, err
	}
	driver, err := storageDriver(r)
	if err != nil {
		return nil, err
	}
	var images []storeImage
	if err := readStoreIndex(filepath.Join(r.root, driver+"-images", "images.json"), &images); err != nil {
		return nil, err
	}
	im, err := resolveStoreImage(images, r.name)
	if err != nil {
		return nil, fmt.Errorf("containers-storage %s: %w", r.root, err)
	}
	if !storeID.MatchString(im.ID) {
		return nil, fmt.Errorf("%w: %s: image ID %q", ErrNoStore, r.root, im.ID)
	}
	var layers []storeLayer
	if err := readStoreIndex(filepath.Join(r.root, driver+"-layers", "layers.json"), &layers); err != nil {
		return nil, err
	}
	img, err := storeImageOf(r, driver, im, layers, o)
	if err != nil {
		return nil, fmt.Errorf("containers-storage %s, image %s: %w", r.root, im.ID[:12], err)
	}
	return &Source{Images: []*Image{img}}, nil
}

// storageDriver is the driver the reference names, or the one whose
// images.json the store holds (overlay first).
func storageDriver(r storageRef) (string, error) {
	if r.driver != "" {
		if _, ok := storageDrivers[r.driver]; !ok {
			return "", fmt.Errorf("%w: storage driver %q: only overlay and vfs are read", ErrNoStore, r.driver)
		}
		return r.driver, nil
	}
	for _, d := range []string{"overlay", "vfs"} {
		if _, err := os.Stat(filepath.Join(r.root, d+"-images", "images.json")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: %s holds neither overlay-images/images.json nor vfs-images/images.json (give the store as containers-storage:[DRIVER@ROOT]NAME)", ErrNoStore, r.root)
}

// readStoreIndex reads images.json or layers.json, bounded.
func readStoreIndex(p string, out any) error {
	f, _, err := openRegular(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoStore, err)
	}
	defer f.Close()
	b, err := readLimited(f, maxStoreIndex, p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoStore, err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: parsing %s: %v", ErrNoStore, p, err)
	}
	if len(raw) > maxStoreRecords {
		return fmt.Errorf("%w: %s lists %d records, more than the %d allowed", ErrNoStore, p, len(raw), maxStoreRecords)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: parsing %s: %v", ErrNoStore, p, err)
	}
	return nil
}

// resolveStoreImage finds the image name names, as podman does: a full
// image ID (with or without sha256:), then a name (localhost/app:tag in
// full, or a short name: app and app:tag match any registry's app, a
// missing tag being latest; name@sha256:… matches the manifest digest),
// then a unique ID prefix of at least 3 hex digits.
func resolveStoreImage(images []storeImage, name string) (storeImage, error) {
	id := strings.TrimPrefix(name, "sha256:")
	for _, im := range images {
		if im.ID == id {
			return im, nil
		}
	}
	var found []storeImage
	for _, im := range images {
		if slices.ContainsFunc(im.Names, func(n string) bool { return storeNameMatches(n, im, name) }) {
			found = append(found, im)
		}
	}
	if len(found) == 0 && storeIDPrefix.MatchString(id) {
		for _, im := range images {
			if strings.HasPrefix(im.ID, id) {
				found = append(found, im)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		var names []string
		for _, im := range images {
			names = append(names, im.Names...)
		}
		sort.Strings(names)
		if len(names) > 20 {
			names = append(names[:20], "…")
		}
		return storeImage{}, fmt.Errorf("%w: no image %q in the store (named images: %s)", ErrNotFound, name, strings.Join(names, ", "))
	}
	var ids []string
	for _, im := range found {
		ids = append(ids, im.ID[:min(12, len(im.ID))])
	}
	return storeImage{}, fmt.Errorf("%w: %q names %d images (%s): give the full name or ID", ErrNotFound, name, len(found), strings.Join(ids, ", "))
}

// storeNameMatches tells whether the stored name (registry/repo:tag or
// registry/repo@digest, in full) of im is what want names.
func storeNameMatches(stored string, im storeImage, want string) bool {
	if stored == want {
		return true
	}
	if repo, d, ok := strings.Cut(want, "@"); ok {
		sr := stored
		if i := strings.Index(sr, "@"); i >= 0 {
			sr = sr[:i]
		} else if i := strings.LastIndex(sr, ":"); i > strings.LastIndex(sr, "/") {
			sr = sr[:i]
		}
		return (d == im.Digest || slices.Contains(im.Digests, d)) && (sr == repo || strings.HasSuffix(sr, "/"+repo))
	}
	last := want[strings.LastIndex(want, "/")+1:]
	if !strings.Contains(last, ":") {
		want += ":latest"
	}
	return stored == want || strings.HasSuffix(stored, "/"+want)
}

// storeImageOf reads one image of the store: manifest and config from
// its big-data files, layers from the layer chain under its top layer.
func storeImageOf(r storageRef, driver string, im storeImage, layers []storeLayer, o Options) (*Image, error) {
	dir := filepath.Join(r.root, driver+"-images", im.ID)
	img := &Image{}
	cfgKey := "sha256:" + im.ID
	if raw, err := readBigData(dir, "manifest", o.MaxMetadataSize); err == nil {
		if m, err := v1.ParseManifest(strings.NewReader(string(raw))); err == nil && m.Config.Digest.Hex != "" {
			cfgKey = m.Config.Digest.String()
			img.Annotations = m.Annotations
		}
	}
	rawCfg, err := readBigData(dir, cfgKey, o.MaxMetadataSize)
	if err != nil {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	h, err := v1.NewHash(cfgKey)
	if err != nil {
		return nil, fmt.Errorf("%w: config key %q: %v", ErrNotImage, cfgKey, err)
	}
	if err := verifyDigest(h, rawCfg); err != nil {
		return nil, fmt.Errorf("%w: config: %v", ErrNotImage, err)
	}
	cfg, err := v1.ParseConfigFile(strings.NewReader(string(rawCfg)))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing the config: %v", ErrNotImage, err)
	}
	img.ConfigDigest, img.RawConfig, img.Config = h, rawCfg, cfg
	img.Warnings = boundHistory(cfg, o)
	img.Platform = platformOf(cfg)
	if d, err := v1.NewHash(im.Digest); err == nil {
		img.Digest = d
	}
	img.Ref = im.ID
	for _, n := range im.Names {
		if storeNameMatches(n, im, r.name) || img.Ref == im.ID {
			img.Ref = n
		}
	}
	chain, err := layerChain(layers, im.TopLyr, o.MaxLayers)
	if err != nil {
		return nil, err
	}
	if len(chain) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("%w: %d layers in the store, %d diff IDs in the config", ErrNotImage, len(chain), len(cfg.RootFS.DiffIDs))
	}
	for i, l := range chain {
		diffID, err := v1.NewHash(l.DiffDigest)
		if err != nil || diffID != cfg.RootFS.DiffIDs[i] {
			return nil, fmt.Errorf("%w: layer %d (%s) has diff digest %q, the config says %s", ErrNotImage, i, l.ID[:12], l.DiffDigest, cfg.RootFS.DiffIDs[i])
		}
		size := int64(-1)
		if l.DiffSize != nil {
			size = *l.DiffSize
		}
		sl := storageLayer{
			tarSplit: filepath.Join(r.root, driver+"-layers", l.ID+".tar-split.gz"),
			files:    storageDrivers[driver](r.root, l.ID),
			size:     size,
			entries:  o.MaxArchiveEntries,
		}
		// The blob served is the layer's uncompressed tar: its digest is
		// its diff ID, checked by the walker as it reads.
		img.Layers = append(img.Layers, Layer{Index: i, Digest: diffID, DiffID: diffID, Size: size,
			MediaType: types.OCIUncompressedLayer, open: sl.open})
	}
	return img, nil
}

// layerChain lists the layers from the base to top, following parents.
func layerChain(layers []storeLayer, top string, maxLayers int) ([]storeLayer, error) {
	byID := make(map[string]storeLayer, len(layers))
	for _, l := range layers {
		byID[l.ID] = l
	}
	var chain []storeLayer
	for id := top; id != ""; {
		l, ok := byID[id]
		if !ok || !storeID.MatchString(id) {
			return nil, fmt.Errorf("%w: layer %q is not in layers.json", ErrNoStore, id)
		}
		if len(chain) >= maxLayers {
			return nil, fmt.Errorf("more than the %d layers allowed (or a parent loop)", maxLayers)
		}
		chain = append(chain, l)
		id = l.Parent
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

// readBigData reads one big-data item of an image: containers-storage
// names its file after the key, or "=" and the key in base64 when the key
// holds other characters than lower-case letters, digits and dots.
func readBigData(dir, key string, limit int64) ([]byte, error) {
	name := key
	if strings.Trim(key, "abcdefghijklmnopqrstuvwxyz0123456789.") != "" || key == "" || strings.HasPrefix(key, ".") {
		name = "=" + base64.StdEncoding.EncodeToString([]byte(key))
	}
	f, _, err := openRegular(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("%w: big-data %q: %v", ErrNoStore, key, err)
	}
	defer f.Close()
	return readLimited(f, limit, "big-data "+key)
}
