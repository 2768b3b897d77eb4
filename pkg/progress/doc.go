// Package progress draws progress bars on a terminal while layerscan's
// pipeline reads an image's layers (mpb): one bar per layer in flight
// and one per image. Image names are sanitised.
package progress
