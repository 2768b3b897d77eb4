package detect_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/layerscan/layerscan/pkg/detect"
)

var fuzzConfigN atomic.Int64

// FuzzConfigFile loads arbitrary text as a gitleaks --config file: a
// clear error or a working detector, never a panic (gitleaks panics on a
// bad regex; the loader must turn that into an error).
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		"[extend]\nuseDefault = true\n\n[[rules]]\nid = \"x\"\nregex = '''secret_[a-z]{8}'''\n",
		"[[rules]]\nid = \"bad\"\nregex = '''(['''\n",
		"[[rules]]\nid = \"p\"\npath = '''\\.env$'''\n[rules.allowlist]\nregexes = ['''x''']\n",
		"[allowlist]\npaths = ['''(''']\n",
		"[extend]\npath = \"/etc/passwd\"\n",
		"title = 1\n[[rules]]\n",
		"[[rules]]\nid = \"k\"\nregex = '''k'''\nkeywords = [\"\"]\nentropy = -1\nsecretGroup = 99\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		// Loaded configs are cached by path: a fresh path each time.
		p := filepath.Join(dir, fmt.Sprintf("c%d.toml", fuzzConfigN.Add(1)))
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
		d, err := detect.New(detect.Options{ConfigFile: p})
		if err != nil {
			return
		}
		_ = d
	})
}
