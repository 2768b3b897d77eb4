package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/layerscan/layerscan/internal/profile"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go exitWhenStuck(ctx)
	stopProfile := profile.Start(os.Getenv("LAYERSCAN_CPUPROFILE"), os.Stderr)
	code := run(ctx, os.Args[1:])
	stopProfile()
	stop()
	os.Exit(code)
}

// exitInterrupted is the exit status after SIGINT or SIGTERM (128+SIGINT).
const exitInterrupted = 130

// unwindGrace is how long a run may take to unwind after SIGINT or
// SIGTERM before the process exits anyway.
const unwindGrace = 5 * time.Second

// exitWhenStuck ends the process when a signal's cancellation does not
// end the run within unwindGrace, or at a second signal: a read can block
// where no context reaches it (a FIFO or device given as an image path).
// Temporary files are unlinked as soon as they are made, so nothing stays
// behind.
func exitWhenStuck(ctx context.Context) {
	again := make(chan os.Signal, 1)
	<-ctx.Done()
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	select {
	case <-time.After(unwindGrace):
	case <-again:
	}
	fmt.Fprintln(os.Stderr, "layerscan: interrupted")
	os.Exit(exitInterrupted)
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
		return exitInterrupted
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
