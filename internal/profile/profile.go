package profile

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// Start starts a CPU profile into path ("": none) and returns what stops
// it; a failure is reported on errw and the run goes on.
func Start(path string, errw io.Writer) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(errw, "layerscan: cpu profile: "+err.Error())
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
