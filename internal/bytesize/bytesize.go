package bytesize

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// units are the suffixes Parse takes (lower case) and what each is worth.
var units = map[string]int64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50,
}

// ErrSyntax is returned for a size that is not a number with a known unit.
var ErrSyntax = errors.New("bytesize: not a size (a number of bytes, or a number with a unit: 4096, 512MiB, 1GB)")

// Parse reads a size: a whole number of bytes, or a number (with at most
// one decimal point) and a unit. The result must be a whole number of
// bytes and fit an int64; a leading minus is kept (callers that want a
// positive size check it).
func Parse(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	mult, ok := units[unit]
	if !ok || num == "" {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
		if n > math.MaxInt64/mult || n < math.MinInt64/mult {
			return 0, fmt.Errorf("bytesize: %q is too large", s)
		}
		return n * mult, nil
	}
	r, ok := new(big.Rat).SetString(strings.TrimPrefix(num, "+"))
	if !ok || strings.Count(num, ".") != 1 {
		return 0, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("bytesize: %q is not a whole number of bytes", s)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("bytesize: %q is too large", s)
	}
	return r.Num().Int64(), nil
}

// Format writes n with the largest unit that divides it exactly, binary
// first ("512MiB", "1GB"), else as a number of bytes ("4097").
func Format(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, u := range []struct {
		name string
		size int64
	}{{"PiB", 1 << 50}, {"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
		{"PB", 1e15}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}} {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// Value is the pflag.Value of a size flag stored in an int or int64.
type Value[T ~int | ~int64] struct{ p *T }

var _ pflag.Value = Value[int64]{}

// String is the size in its shortest exact form (Format).
func (v Value[T]) String() string {
	if v.p == nil {
		return "0"
	}
	return Format(int64(*v.p))
}

// Set parses a size (Parse) into the flag's variable.
func (v Value[T]) Set(s string) error {
	n, err := Parse(s)
	if err != nil {
		return err
	}
	if int64(T(n)) != n {
		return fmt.Errorf("bytesize: %q is too large", s)
	}
	*v.p = T(n)
	return nil
}

// Type names the value in --help.
func (v Value[T]) Type() string { return "size" }

// Var defines a size flag on fs: like pflag's Int64Var, but the value may
// carry a unit ("512MiB", "1GB") and --help shows the default with one.
func Var[T ~int | ~int64](fs *pflag.FlagSet, p *T, name string, def T, usage string) {
	*p = def
	fs.Var(Value[T]{p}, name, usage)
}
