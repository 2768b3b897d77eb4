package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/layerscan/layerscan/internal/interrupt"
	"github.com/layerscan/layerscan/internal/profile"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go interrupt.ExitWhenStuck(ctx, os.Stderr, "layerscan")
	stopProfile := profile.Start(os.Getenv("LAYERSCAN_CPUPROFILE"), os.Getenv("LAYERSCAN_MEMPROFILE"), os.Stderr)
	code := run(ctx, os.Args[1:])
	stopProfile()
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ex *exitError
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		// SIGINT/SIGTERM: the context was cancelled, the run unwound and
		// its deferred clean-ups ran (temporary files are unlinked).
		fmt.Fprintln(os.Stderr, "layerscan: interrupted")
		return interrupt.Code
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(os.Stderr, "layerscan: "+ex.msg)
		}
		return ex.code
	default:
		fmt.Fprintln(os.Stderr, "layerscan: "+sanitize.OneLine(err.Error()))
		return exitError2
	}
}
