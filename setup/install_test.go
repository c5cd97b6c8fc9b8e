package setup

import (
	"os"
	"path/filepath"
	"testing"
)

// A file is an AppImage when it is ELF and has "AI" 0x02 at offset 8, as KataGo's Linux
// releases are; a plain binary, a script or a short file is not.
func TestIsAppImage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		head string
		want bool
	}{
		{"type 2 AppImage", "\x7fELF\x02\x01\x01\x00AI\x02\x00\x00\x00\x00\x00", true},
		{"plain ELF binary", "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00", false},
		{"type 1 AppImage", "\x7fELF\x02\x01\x01\x00AI\x01\x00\x00\x00\x00\x00", false},
		{"marker without ELF", "#!/bin/sAI\x02\necho katago\n", false},
		{"Windows binary", "MZ\x90\x00\x03\x00\x00\x00AI\x02\x00", false},
		{"shorter than the marker", "\x7fELF\x02\x01\x01\x00AI", false},
		{"empty", "", false},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.head), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err := isAppImage(p)
		if err != nil || got != tc.want {
			t.Errorf("%s: isAppImage = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := isAppImage(filepath.Join(dir, "missing")); err == nil {
		t.Error("isAppImage of a missing file: no error")
	}
}
