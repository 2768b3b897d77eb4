// Package history ties layers to the build steps that made them and works
// out each file's fate across layers.
//
// Map pairs the image config's history entries with the layers: entries
// marked empty_layer made no layer, and the n-th remaining entry made the
// n-th layer. A missing, short or long history is handled and reported,
// never a crash. Normalize turns a history created_by string, as written by
// Docker's legacy builder, BuildKit, buildah, kaniko or by hand, into a
// Dockerfile-like instruction, with build arguments kept apart.
//
// Lifecycle replays the layers' tar entries in order — whiteouts, opaque
// directories, overwrites, hardlinks — to tell, for any file of any layer,
// whether it is still present in the final filesystem, or was deleted or
// overwritten, and by which layer. Deleted and overwritten files are not
// gone: their bytes stay in the layer that added them.
package history
