package profile

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// Start starts a CPU profile into cpuPath ("": none) and, when memPath is
// set, keeps in memPath a heap profile taken when the heap in use was at
// its largest (checked every second): what a run holds at its peak, such
// as a sweep's caches. It returns what stops both. A failure is reported
// on errw and the run goes on.
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
	if memPath == "" {
		return stopCPU
	}
	// The heap profile is written when the heap in use is the largest
	// seen (checked every second), and at the end if nothing was: the
	// profile of the run's peak.
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var peak uint64
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if peak == 0 {
					writeHeap(memPath, errw)
				}
				return
			case <-tick.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak+peak/20 {
					peak = m.HeapInuse
					writeHeap(memPath, errw)
				}
			}
		}
	}()
	return func() {
		stopCPU()
		close(done)
		<-finished
	}
}

func writeHeap(path string, errw io.Writer) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(errw, "layerscan: heap profile: "+err.Error())
	}
}
