package scan_test

import (
	"context"
	"fmt"
	"log"

	"github.com/layerscan/layerscan/pkg/report"
	"github.com/layerscan/layerscan/pkg/scan"
)

// Scan one image with layerscan's default configuration (the command
// line's) and list what it leaks: the rule, where, the layer that added
// the file, and its fate in the final filesystem.
func ExampleRef() {
	rep, err := scan.Ref(context.Background(), "oci-archive:../../testdata/images/lifecycle.oci.tar", scan.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	for _, im := range rep.Images {
		for _, f := range im.Findings {
			fmt.Printf("%s %s layer %d %s\n", f.Rule, report.Location(f), f.Layer.Index, f.Status)
		}
	}
	// Output:
	// github-pat /app/deleted.env layer 0 deleted
	// slack-bot-token /app/dir/inner.env layer 0 deleted
	// stripe-access-token /app/hard.env (hardlink to /app/present.env) layer 0 present
	// npm-access-token /app/opaque/a.env layer 0 deleted
	// gitlab-pat /app/overwritten.env layer 0 overwritten
	// stripe-access-token /app/present.env layer 0 present
}

// A Pipeline is built once and reused: here it scans an image, and the
// writers render the evidence command of a deleted file from the report.
func ExamplePipeline() {
	p, err := scan.NewPipeline(scan.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	images, err := p.ScanRef(context.Background(), "oci-archive:../../testdata/images/lifecycle.oci.tar")
	if err != nil {
		log.Fatal(err)
	}
	im := images[0]
	f := im.Findings[0]
	fmt.Println(f.Rule, f.Status, "by", f.RemovedBy.Instruction)
	fmt.Println(im.Evidence(f))
	// Output:
	// github-pat deleted by RUN rm -r /app/deleted.env /app/dir
	// layerscan extract 'oci-archive:../../testdata/images/lifecycle.oci.tar' --layer 0 '/app/deleted.env' -o 'deleted.env'
}
