package history

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Manifest annotations naming the base image (OCI image spec).
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// Where a Base boundary came from.
const (
	// BaseFromAnnotation: the manifest annotations name the base, and the
	// history comment "FROM <base.name>" (written by buildah) marks the
	// first step after it.
	BaseFromAnnotation = "annotation"
	// BaseFromComment: no annotations, but a history comment
	// "FROM <name>" (buildah) marks the first step after the base; the
	// last such comment counts.
	BaseFromComment = "history-comment"
	// BaseFromTimeGap: the first history entry created more than an hour
	// after the one before starts the image's own steps.
	BaseFromTimeGap = "created-time-gap"
	// BaseFromImage: the user named the base image (--base REF) and its
	// layer diff IDs are a prefix of this image's.
	BaseFromImage = "base-image"
)

// Base is where the base image ends in an image's history.
type Base struct {
	// Name and Digest identify the base image, when known.
	Name, Digest string
	// LastHistoryIndex is the base image's last history entry, or -1
	// when the boundary is not known.
	LastHistoryIndex int
	// Layers is the number of the base image's layers: layers
	// 0..Layers-1 are the base's.
	Layers int
	// Source says how the boundary was found (BaseFrom…).
	Source string
}

// Known tells whether the boundary in the history is known.
func (b *Base) Known() bool { return b != nil && b.LastHistoryIndex >= 0 }

// HasLayer tells whether layer i belongs to the base image.
func (b *Base) HasLayer(i int) bool { return b.Known() && i >= 0 && i < b.Layers }

// HasStep tells whether history entry i belongs to the base image.
func (b *Base) HasStep(i int) bool { return b.Known() && i >= 0 && i <= b.LastHistoryIndex }

// Label names the base for people: its name, else its digest, else
// "the base image".
func (b *Base) Label() string {
	switch {
	case b == nil:
		return "the base image"
	case b.Name != "":
		return b.Name
	case b.Digest != "":
		return b.Digest
	}
	return "the base image"
}

// imageIDComment is buildah's "FROM <short image id>" comment on the steps
// after the first of a build: it names the previous step's image, not a
// base.
var imageIDComment = regexp.MustCompile(`^FROM [0-9a-f]{12}(?:[0-9a-f]{52})?$`)

// FindBase locates the base image's last history entry, in this order:
//
//  1. the manifest annotations org.opencontainers.image.base.name/.digest
//     name the base, and the base ends before the first history entry
//     commented "FROM <base.name>" (buildah writes this comment);
//  2. otherwise the base ends before the last history entry commented
//     "FROM <name>" where name is not an image ID (buildah, without
//     annotations: a docker archive of a buildah image);
//  3. otherwise the base ends at the last entry before the first one
//     created more than an hour after the entry before it.
//
// It returns nil when nothing is known of the base; a Base with
// LastHistoryIndex -1 when only the annotations name it.
func FindBase(annotations map[string]string, steps []Step) *Base {
	b := &Base{LastHistoryIndex: -1, Name: annotations[AnnotationBaseName], Digest: annotations[AnnotationBaseDigest]}
	if b.Name != "" {
		for _, st := range steps {
			if st.Comment == "FROM "+b.Name {
				b.LastHistoryIndex, b.Source = st.Index-1, BaseFromAnnotation
				break
			}
		}
	}
	if b.LastHistoryIndex < 0 && b.Name == "" {
		for i := len(steps) - 1; i > 0; i-- {
			c := steps[i].Comment
			if strings.HasPrefix(c, "FROM ") && !imageIDComment.MatchString(c) && c != "FROM scratch" {
				b.LastHistoryIndex, b.Source = i-1, BaseFromComment
				b.Name = strings.TrimPrefix(c, "FROM ")
				break
			}
		}
	}
	if b.LastHistoryIndex < 0 {
		for i := 1; i < len(steps); i++ {
			prev, cur := steps[i-1].Created, steps[i].Created
			if prev.IsZero() || cur.IsZero() {
				continue
			}
			if d := cur.Sub(prev); d > time.Hour || d < -time.Hour {
				b.LastHistoryIndex, b.Source = i-1, BaseFromTimeGap
				break
			}
		}
	}
	if b.LastHistoryIndex < 0 {
		if b.Name == "" && b.Digest == "" {
			return nil
		}
		b.Source = BaseFromAnnotation
		return b
	}
	b.Layers = layersUpTo(steps, b.LastHistoryIndex)
	return b
}

func layersUpTo(steps []Step, last int) int {
	n := 0
	for _, st := range steps[:min(last+1, len(steps))] {
		if st.Layer >= 0 {
			n++
		}
	}
	return n
}

// BaseFromDiffIDs checks that the base image's layer diff IDs are a prefix
// of the image's and returns the boundary: the base's layers, and its
// history entries (the base's history length when the image's history
// starts with it, else the entry that made the base's last layer). name
// and digest identify the base image.
func BaseFromDiffIDs(name, digest string, base, image []v1.Hash, baseHistory int, steps []Step) (*Base, error) {
	if len(base) > len(image) {
		return nil, fmt.Errorf("%s has %d layers, more than the image's %d: it is not its base", name, len(base), len(image))
	}
	for i, d := range base {
		if d.Hex == "" || d != image[i] {
			return nil, fmt.Errorf("%s is not the base of the image: its layer %d (diff ID %s) differs from the image's (%s)", name, i, d, image[i])
		}
	}
	b := &Base{Name: name, Digest: digest, Layers: len(base), LastHistoryIndex: -1, Source: BaseFromImage}
	if baseHistory > 0 && baseHistory <= len(steps) && layersUpTo(steps, baseHistory-1) == len(base) {
		b.LastHistoryIndex = baseHistory - 1
		return b, nil
	}
	for _, st := range steps {
		if st.Layer == len(base)-1 {
			b.LastHistoryIndex = st.Index
		}
	}
	if len(base) == 0 {
		b.LastHistoryIndex = -1
	}
	return b, nil
}
