package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Errors of Create.
var (
	ErrSymlink = errors.New("outfile: the path is a symbolic link")
	ErrExist   = errors.New("outfile: the file already exists")
)

// Options say how Create treats the path.
type Options struct {
	// Mode is the permission bits of the file (0600 for secrets). An
	// existing regular file is given this mode when it is narrower than
	// the file's, or when Secret is set.
	Mode fs.FileMode
	// Secret: the file holds secrets; an existing file is chmod-ed to
	// Mode whatever its mode was.
	Secret bool
	// Overwrite truncates an existing file; otherwise it is ErrExist.
	Overwrite bool
	// Force replaces a symbolic link at the path (the link, not its
	// target) and allows overwriting; otherwise a link is ErrSymlink.
	Force bool
}

// Create opens path for writing as Options say. Devices and pipes
// (-o /dev/stdout) are opened as they are, without chmod.
func Create(path string, o Options) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		if !o.Force {
			return nil, fmt.Errorf("%w: %s (use --force to replace the link)", ErrSymlink, path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	flags := os.O_WRONLY | os.O_CREATE | syscall.O_NOFOLLOW
	if o.Overwrite || o.Force {
		flags |= os.O_TRUNC
	} else {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, o.Mode)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("%w: %s: not overwritten (use --force)", ErrExist, path)
	case errors.Is(err, syscall.ELOOP):
		// A link appeared between the Lstat and the open.
		return nil, fmt.Errorf("%w: %s", ErrSymlink, path)
	case err != nil:
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode().IsRegular() {
		perm := st.Mode().Perm()
		if want := o.Mode.Perm(); perm != want && (o.Secret || perm&^want != 0) {
			if err := f.Chmod(want); err != nil {
				f.Close()
				return nil, fmt.Errorf("chmod %s: %w", path, err)
			}
		}
	}
	return f, nil
}
