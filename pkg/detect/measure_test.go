package detect

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	stdregexp "regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestMeasureEntropy prints the numbers behind docs/rules.md: how many
// values pass the generic entropy thresholds with and without the
// secret-like name in front of them, over real text. Run it with
//
//	LAYERSCAN_MEASURE=/usr/share:/usr/lib/python3:/usr/lib/python3.11:../../testdata go test -run TestMeasureEntropy -v ./pkg/detect/
func TestMeasureEntropy(t *testing.T) {
	dirs := os.Getenv("LAYERSCAN_MEASURE")
	if dirs == "" {
		t.Skip("set LAYERSCAN_MEASURE to a list of directories")
	}
	d := newDetector(t)
	token := stdregexp.MustCompile(`[A-Za-z0-9+/=_.~!@#%^&*-]{8,200}`)
	named := stdregexp.MustCompile(genericSecretAssignment().rule.Regex.String())
	var files, bytesRead, tokens, pure, pure20, pure45, namedCand, namedKept, detGeneric, detGenericAPI, detAll atomic.Int64
	paths := make(chan string, 256)
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range paths {
				data, err := os.ReadFile(p)
				if err != nil || len(data) == 0 || bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
					continue
				}
				files.Add(1)
				bytesRead.Add(int64(len(data)))
				for _, tok := range token.FindAll(data, -1) {
					tokens.Add(1)
					s := string(tok)
					if keepGeneric(s) {
						pure.Add(1)
						if len(s) >= 20 && Entropy(s) >= 4.0 {
							pure20.Add(1)
						}
						if Entropy(s) >= 4.5 {
							pure45.Add(1)
						}
					}
				}
				for _, m := range named.FindAllSubmatch(data, -1) {
					namedCand.Add(1)
					if keepGeneric(string(m[2])) {
						namedKept.Add(1)
					}
				}
				for _, f := range d.Scan(p, data, 1) {
					detAll.Add(1)
					switch f.RuleID {
					case "generic-secret-assignment":
						if detGeneric.Add(1) <= 60 && os.Getenv("LAYERSCAN_MEASURE_SHOW") != "" {
							t.Logf("generic-secret-assignment %s:%d %s", p, f.Line, Redact(f.Secret))
						}
					case "generic-api-key":
						detGenericAPI.Add(1)
					}
				}
			}
		}()
	}
	for _, dir := range strings.Split(dirs, ":") {
		filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				if info, err := e.Info(); err == nil && info.Size() < 4<<20 {
					paths <- p
				}
			}
			return nil
		})
	}
	close(paths)
	wg.Wait()
	t.Logf("dirs %s", dirs)
	t.Logf("text files %d, MB %.1f, candidate tokens (8-200 chars) %d", files.Load(), float64(bytesRead.Load())/1e6, tokens.Load())
	t.Logf("pure entropy, generic thresholds (len-dependent 2.9/3.3/3.6, 2 classes incl. a digit or symbol): %d", pure.Load())
	t.Logf("pure entropy, >=20 chars and >=4.0 bits: %d; >=4.5 bits: %d", pure20.Load(), pure45.Load())
	t.Logf("with name context: regex candidates %d, kept by thresholds %d", namedCand.Load(), namedKept.Load())
	t.Logf("full detector (allowlists, yielding): generic-secret-assignment %d, generic-api-key %d, all rules %d", detGeneric.Load(), detGenericAPI.Load(), detAll.Load())
}
