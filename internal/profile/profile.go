package profile

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// Start starts a CPU profile into cpuPath ("": none) and returns what
// stops it and, when memPath is set, writes a heap profile of what is
// still in use at the end of the run into memPath (after a collection):
// what a run keeps, such as a sweep's caches. A failure is reported on
// errw and the run goes on.
func Start(cpuPath, memPath string, errw io.Writer) (stop func()) {
	stopCPU := func() {}
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				f.Close()
			}
		}
		if err != nil {
			fmt.Fprintln(errw, "layerscan: cpu profile: "+err.Error())
		} else {
			stopCPU = func() {
				pprof.StopCPUProfile()
				f.Close()
			}
		}
	}
	return func() {
		stopCPU()
		if memPath == "" {
			return
		}
		f, err := os.Create(memPath)
		if err == nil {
			runtime.GC()
			err = pprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(errw, "layerscan: heap profile: "+err.Error())
		}
	}
}
