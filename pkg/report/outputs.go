package report

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/layerscan/layerscan/pkg/outfile"
)

// Output is one format of a report and where it goes: a file, or "" (or
// "-") for the main output.
type Output struct {
	Format, File string
}

// OutputOptions say how WriteOutputs writes.
type OutputOptions struct {
	WriteOptions
	// Secrets: the report holds plaintext secrets (--show-secrets): its
	// files are 0600, also when they existed with another mode.
	Secrets bool
	// Force replaces a symbolic link at a file's path (it is refused
	// otherwise, never written through).
	Force bool
}

// WriteOutputs writes r in every output: to stdout for the main one
// (with o.Table), to files (0644, or 0600 with secrets) for the others,
// in order, stopping at the first error.
func WriteOutputs(stdout io.Writer, r *Report, outs []Output, o OutputOptions) error {
	return WriteOutputsStream(stdout, r.Stream(), outs, o)
}

// WriteOutputsStream is WriteOutputs for a Stream: its images are read
// again for every output.
func WriteOutputsStream(stdout io.Writer, r *Stream, outs []Output, o OutputOptions) error {
	for _, out := range outs {
		if out.File == "" || out.File == "-" {
			if err := WriteStream(stdout, out.Format, r, o.WriteOptions); err != nil {
				return err
			}
			continue
		}
		if err := writeFile(out, r, o); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(out Output, r *Stream, o OutputOptions) (err error) {
	mode := os.FileMode(0o644)
	if o.Secrets {
		mode = 0o600
	}
	f, err := outfile.Create(out.File, outfile.Options{Mode: mode, Secret: o.Secrets, Overwrite: true, Force: o.Force})
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	wo := o.WriteOptions
	wo.Table = TableOptions{} // a file is no terminal
	return WriteStream(f, out.Format, r, wo)
}

// UnknownFormatError names a format that is not one of Formats.
type UnknownFormatError struct{ Name string }

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("unknown format %q: use %s", e.Name, strings.Join(Formats, ", "))
}

// ParseOutputs reads --format values, each FORMAT or FORMAT=FILE (a
// FORMAT alone goes to mainFile, "" being stdout). Every format must be
// one of Formats, and at most one may go to the main output.
func ParseOutputs(values []string, mainFile string) ([]Output, error) {
	var outs []Output
	main := 0
	for _, v := range values {
		name, file, _ := strings.Cut(v, "=")
		name = strings.TrimSpace(name)
		if !slices.Contains(Formats, name) {
			return nil, &UnknownFormatError{Name: name}
		}
		if file == "" {
			main++
			file = mainFile
		}
		outs = append(outs, Output{Format: name, File: file})
	}
	if main > 1 {
		return nil, fmt.Errorf("%d formats would go to the same output: give the others a file (FORMAT=FILE)", main)
	}
	return outs, nil
}

// TerminalTable says how to draw the table on w: coloured when color is
// "always", or "auto" on a terminal without NO_COLOR (and TERM not dumb);
// cut to the terminal's width on a terminal.
func TerminalTable(w io.Writer, color string) TableOptions {
	var opts TableOptions
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	switch color {
	case "always":
		opts.Color = true
	case "auto":
		_, noColor := os.LookupEnv("NO_COLOR")
		opts.Color = tty && !noColor && os.Getenv("TERM") != "dumb"
	}
	if tty {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			opts.Width = width
		}
	}
	return opts
}
