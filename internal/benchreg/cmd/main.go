package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/layerscan/layerscan/internal/benchreg"
)

func main() {
	dir := flag.String("dir", "", "storage root to write (docker/registry/v2/… under it)")
	images := flag.Int("images", 1000, "number of images (one tag each)")
	tags := flag.Int("tags-per-repo", 50, "tags per repository")
	secretEvery := flag.Int("secret-every", 10, "every n-th image's own layer holds a fake token (negative: none)")
	workers := flag.Int("workers", 0, "repositories written at once (0: GOMAXPROCS)")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: benchreg -dir DIR [-images N] [-tags-per-repo N] [-secret-every N] [-workers N]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	reg, err := benchreg.Generate(ctx, *dir, benchreg.Options{
		Images: *images, TagsPerRepo: *tags, SecretEvery: *secretEvery, Workers: *workers})
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreg:", err)
		os.Exit(1)
	}
	fmt.Printf("benchreg: %d images in %d repositories, %d shared base layers, %d bytes of blobs, written to %s in %s\n",
		len(reg.Images), len(reg.Repos), len(reg.BaseLayers), reg.Bytes, *dir, time.Since(start).Round(time.Millisecond))
}
