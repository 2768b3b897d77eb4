package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/layerscan/layerscan/pkg/fetch"
	"github.com/layerscan/layerscan/pkg/sanitize"
)

// Bars draws progress on a terminal while a pipeline reads layers: one
// bar per layer in flight (bytes read, rate, files scanned) and one per
// image (all its layers). A nil *Bars does nothing.
type Bars struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bars []*mpb.Bar
	// files counts the files scanned per layer of the image being read.
	files []atomic.Int64
}

// FileScanned counts a file of layer (scan.Options.OnFile); images are
// scanned one at a time.
func (pr *Bars) FileScanned(layer int) {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	files := pr.files
	pr.mu.Unlock()
	if layer >= 0 && layer < len(files) {
		files[layer].Add(1)
	}
}

func (pr *Bars) add(total int64, opts ...mpb.BarOption) *mpb.Bar {
	b := pr.p.AddBar(total, opts...)
	pr.mu.Lock()
	pr.bars = append(pr.bars, b)
	pr.mu.Unlock()
	return b
}

// New draws on w (a terminal).
func New(w io.Writer) *Bars {
	return &Bars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(120*time.Millisecond))}
}

// Image wraps img's layers so that reading them moves the bars
// (scan.Config.OnImage); done completes the image's bar.
func (pr *Bars) Image(img *fetch.Image) (done func()) {
	if pr == nil {
		return func() {}
	}
	var total int64
	for _, l := range img.Layers {
		if l.Size > 0 {
			total += l.Size
		}
	}
	files := make([]atomic.Int64, len(img.Layers))
	pr.mu.Lock()
	pr.files = files
	pr.mu.Unlock()
	name := sanitize.Text(img.Ref)
	if len(name) > 40 {
		name = "…" + name[len(name)-39:]
	}
	overall := pr.add(total,
		mpb.BarPriority(1<<30), // last line
		mpb.PrependDecorators(
			decor.Name(name+" ", decor.WCSyncSpaceR),
			decor.Any(func(decor.Statistics) string { return fmt.Sprintf("%d layers", len(img.Layers)) }, decor.WCSyncSpaceR),
		),
		mpb.AppendDecorators(
			decor.Counters(decor.SizeB1000(0), "% .1f / % .1f", decor.WCSyncSpace),
			rate(time.Now()),
			decor.Percentage(decor.WCSyncSpace),
		))
	for i, l := range img.Layers {
		open := l.Open
		idx := i
		size := l.Size
		img.Layers[i] = fetch.NewLayer(l.Index, l.Digest, l.DiffID, l.Size, l.MediaType, func() (io.ReadCloser, error) {
			rc, err := open()
			if err != nil {
				return nil, err
			}
			bar := pr.add(max(size, 0), mpb.BarRemoveOnComplete(),
				mpb.PrependDecorators(decor.Name(fmt.Sprintf("  layer %d ", idx), decor.WCSyncSpaceR)),
				mpb.AppendDecorators(
					decor.Counters(decor.SizeB1000(0), "% .1f / % .1f", decor.WCSyncSpace),
					rate(time.Now()),
					decor.Any(func(decor.Statistics) string { return fmt.Sprintf(" %d files", files[idx].Load()) }),
				))
			return &countingReader{rc: rc, bar: bar, overall: overall}, nil
		})
	}
	return func() { overall.SetTotal(-1, true) }
}

// Wait completes every bar, draws the last frame (the images' totals
// and rates) and stops, before the report is written.
func (pr *Bars) Wait() {
	if pr == nil {
		return
	}
	pr.mu.Lock()
	bars, p := pr.bars, pr.p
	pr.bars, pr.p = nil, nil
	pr.mu.Unlock()
	if p == nil {
		return
	}
	for _, b := range bars {
		if !b.Completed() {
			b.SetTotal(-1, true)
		}
	}
	p.Wait()
}

type countingReader struct {
	rc           io.ReadCloser
	bar, overall *mpb.Bar
	once         sync.Once
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if n > 0 {
		c.bar.IncrBy(n)
		c.overall.IncrBy(n)
	}
	return n, err
}

func (c *countingReader) Close() error {
	c.once.Do(func() { c.bar.SetTotal(-1, true) })
	return c.rc.Close()
}

// rate shows the average bytes per second since start, kept once the bar
// completes.
func rate(start time.Time) decor.Decorator {
	var mu sync.Mutex
	var final string
	return decor.Any(func(s decor.Statistics) string {
		mu.Lock()
		defer mu.Unlock()
		if final != "" {
			return final
		}
		el := time.Since(start).Seconds()
		if el <= 0 {
			return ""
		}
		r := fmt.Sprintf("% .1f/s", decor.SizeB1000(float64(s.Current)/el))
		if s.Completed {
			final = r
		}
		return r
	}, decor.WCSyncSpace)
}
