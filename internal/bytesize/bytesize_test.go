package bytesize

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "0": 0, "512MiB": 512 << 20, "1GB": 1e9, "1gb": 1e9, "1 GiB": 1 << 30, "64kB": 64000,
		"64KB": 64000, "2KiB": 2048, "1.5GiB": 3 << 29, "0.5MB": 500000, "10B": 10, "-1": -1, " 8 mib ": 8 << 20,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "12XB", "1.2.3MB", "1.1B", "0.3KiB", "9223372036854775808", "9300PB", "8192PiB", "1e3", "--1", "ten"} {
		if n, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, n)
		}
	}
	if _, err := Parse("12 parsecs"); !errors.Is(err, ErrSyntax) {
		t.Errorf("unknown unit: %v, want ErrSyntax", err)
	}
}

func TestFormatRoundTrips(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 4096: "4KiB", 512 << 20: "512MiB", 1e9: "1GB", 4097: "4097", 64 << 20: "64MiB", 1500: "1500", 2000: "2kB", -1024: "-1KiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
		if back, err := Parse(Format(n)); err != nil || back != n {
			t.Errorf("Parse(Format(%d)) = %d, %v", n, back, err)
		}
	}
}

func TestFlag(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	var big int64
	var small int
	Var(fs, &big, "max-layer-size", 8<<30, "most bytes read from one layer")
	Var(fs, &small, "max-path-len", 4096, "longest path")
	if err := fs.Parse([]string{"--max-layer-size", "512MiB", "--max-path-len=1KiB"}); err != nil {
		t.Fatal(err)
	}
	if big != 512<<20 || small != 1024 {
		t.Errorf("parsed %d and %d", big, small)
	}
	if err := fs.Parse([]string{"--max-layer-size", "lots"}); err == nil || !strings.Contains(err.Error(), "512MiB") {
		t.Errorf("a bad size: %v (the error should show the forms taken)", err)
	}
	var help strings.Builder
	fs.SetOutput(&help)
	fs.PrintDefaults()
	if !strings.Contains(help.String(), "--max-layer-size size") || !strings.Contains(help.String(), "(default 8GiB)") {
		t.Errorf("help:\n%s", help.String())
	}
}
