//go:build ignore

// Command gen writes the test images under testdata/images. Run it with
//
//	go generate ./internal/testimage/
//
// which runs "go run gen/main.go -out ../../testdata/images" in
// internal/testimage. The fixtures themselves are defined in
// internal/testimage/fixtures.go, so TestGeneratedImagesUpToDate can rebuild
// them without running this command.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/layerscan/layerscan/internal/testimage"
)

func main() {
	out := flag.String("out", "", "directory to write the fixtures to (required)")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: go run gen/main.go -out DIR")
		os.Exit(2)
	}
	if err := testimage.WriteFixtures(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
