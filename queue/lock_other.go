//go:build !unix

package queue

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockData, where flock is missing, takes the lock by creating the lock file beside the
// database at path; a crashed process leaves it behind, and the error says to remove it.
func lockData(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("queue: cannot create the data directory of %s: %w; give --data a writable directory", path, err)
	}
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: %s is in use by another tesuji serve, or one that crashed left %s; stop it or remove that file: %w", path, name, err)
	}
	return func() { f.Close(); os.Remove(name) }, nil
}
