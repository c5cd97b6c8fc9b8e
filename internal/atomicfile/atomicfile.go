// Package atomicfile writes a file whole or not at all: through a temporary file beside
// it, renamed over it, so that a reader, or a run cut short, never meets half of it.
// (github.com/google/renameio does the same but does not build on Windows, where the
// installer and the batch command run too.)
package atomicfile

import (
	"crypto/rand"
	"os"
	"path/filepath"
)

// WriteFile writes data to path with the mode perm (before the umask), as os.WriteFile
// does, but atomically.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+rand.Text())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // after the rename there is nothing left to remove
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}
