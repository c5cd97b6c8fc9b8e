package setup

import (
	"os"
	"path/filepath"
	"testing"
)

// The installed binary is katago.exe on Windows and katago elsewhere.
func TestKataGoPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ goos, want string }{
		{"linux", filepath.Join("cache", "katago", "katago")},
		{"darwin", filepath.Join("cache", "katago", "katago")},
		{"windows", filepath.Join("cache", "katago", "katago.exe")},
	} {
		if got := kataGoPath("cache", tc.goos); got != tc.want {
			t.Errorf("kataGoPath(%q) = %q, want %q", tc.goos, got, tc.want)
		}
	}
}

// A file without execute bits counts as a program on Windows only; a directory or a
// missing file never does.
func TestIsExecutable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain, program := filepath.Join(dir, "katago.exe"), filepath.Join(dir, "katago")
	if err := os.WriteFile(plain, []byte("MZ"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(program, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, goos string
		want             bool
	}{
		{"plain file on windows", plain, "windows", true},
		{"plain file on linux", plain, "linux", false},
		{"execute bit on linux", program, "linux", true},
		{"directory on windows", dir, "windows", false},
		{"directory on linux", dir, "linux", false},
		{"missing on windows", filepath.Join(dir, "none.exe"), "windows", false},
	} {
		if got := isExecutable(tc.path, tc.goos); got != tc.want {
			t.Errorf("%s: isExecutable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
