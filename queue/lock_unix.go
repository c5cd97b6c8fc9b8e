//go:build unix

package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockData takes an exclusive lock on the lock file beside the database at path, so two
// processes never run a queue on one file: the second is refused at once with an error
// that says so. The kernel drops the lock when the process ends, even by kill -9.
func lockData(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("queue: cannot create the data directory of %s: %w; give --data a writable directory", path, err)
	}
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: cannot write in the data directory of %s: %w; make it writable or give --data another directory", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("queue: %s is in use by another tesuji serve; stop that one, or give --data another directory", path)
		}
		return nil, fmt.Errorf("queue: lock %s: %w", name, err)
	}
	return func() {
		// Unlock before closing: a child process forked meanwhile (a test's redis-server,
		// a KataGo) holds a copy of the descriptor until it execs, and closing ours alone
		// would leave the lock held by that copy.
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
