package interrupt

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Code is the exit status after SIGINT or SIGTERM (128+SIGINT).
const Code = 130

// Grace is how long a run may take to unwind after SIGINT or SIGTERM
// before the process exits anyway.
const Grace = 5 * time.Second

// ExitWhenStuck waits for ctx (cancelled by the first SIGINT or SIGTERM)
// and then ends the process with Code when the run has not ended within
// Grace, or at a second signal, saying so on stderr. Temporary files are
// unlinked as soon as they are made, so nothing stays behind. Run it in
// its own goroutine from main.
func ExitWhenStuck(ctx context.Context, stderr io.Writer, name string) {
	again := make(chan os.Signal, 1)
	<-ctx.Done()
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	select {
	case <-time.After(Grace):
	case <-again:
	}
	fmt.Fprintln(stderr, name+": interrupted")
	os.Exit(Code)
}
