//go:build unix

package queue

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestLockReleasedDespiteForkedCopy: a process forked while the lock is held keeps a copy
// of its descriptor until it execs; unlocking must release the lock all the same, so that
// the store reopens at once.
func TestLockReleasedDespiteForkedCopy(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tesuji.db")
	unlock, err := lockData(path)
	if err != nil {
		t.Fatal(err)
	}
	// The copy a forked child would hold: a duplicate of the lock file's descriptor.
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		unlock()
		t.Skipf("no /proc to find the lock file's descriptor: %v", err)
	}
	want, err := os.Stat(path + ".lock")
	if err != nil {
		t.Fatal(err)
	}
	copied := -1
	for _, e := range fds {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if fi, err := os.Stat(filepath.Join("/proc/self/fd", e.Name())); err == nil && os.SameFile(fi, want) {
			if copied, err = syscall.Dup(fd); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if copied < 0 {
		unlock()
		t.Fatal("the lock file's descriptor is not open")
	}
	defer syscall.Close(copied)
	unlock()
	again, err := lockData(path)
	if err != nil {
		t.Fatalf("reopen while a forked copy of the descriptor is open: %v", err)
	}
	again()
}
