// Package scan runs layerscan's pipeline over one image, in the order the
// data flows: the layers from package fetch are read by package walk, whose
// file contents go through package detect; package history ties each
// finding to the build step that made its layer and to its fate in the
// final filesystem; the result is a report.Image.
package scan
