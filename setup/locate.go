// Package setup finds KataGo and its network on this machine, and installs a pinned
// official KataGo release and network into the user's cache (`tesuji katago install`).
package setup

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// ErrNotFound is returned when KataGo or a network cannot be found.
var ErrNotFound = errors.New("setup: not found")

// Dir returns the directory tesuji installs KataGo and networks into:
// $XDG_CACHE_HOME/tesuji (or the platform's user cache directory).
func Dir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("setup: user cache dir: %w", err)
	}
	return filepath.Join(d, "tesuji"), nil
}

// KataGoPath is where install puts the katago binary (katago.exe on Windows).
func KataGoPath(dir string) string { return kataGoPath(dir, runtime.GOOS) }

func kataGoPath(dir, goos string) string {
	name := "katago"
	if goos == "windows" {
		name += ".exe"
	}
	return filepath.Join(dir, "katago", name)
}

// ModelDir is where install puts networks.
func ModelDir(dir string) string { return filepath.Join(dir, "models") }

// Locate returns the katago binary and network to use: the given paths when set (they
// must exist), else katago from PATH or the user cache, and the newest network in the
// user cache. Its errors name the command or flag that fixes them.
func Locate(katago, model string) (katagoPath, modelPath string, err error) {
	dir, dirErr := Dir()
	katagoPath, err = locateKataGo(katago, dir, dirErr)
	if err != nil {
		return "", "", err
	}
	modelPath, err = locateModel(model, dir, dirErr)
	if err != nil {
		return "", "", err
	}
	return katagoPath, modelPath, nil
}

func locateKataGo(katago, dir string, dirErr error) (string, error) {
	if katago != "" {
		p, err := exec.LookPath(katago)
		if err != nil {
			return "", fmt.Errorf("%w: katago binary %q (from --katago or TESUJI_KATAGO): %v", ErrNotFound, katago, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("katago"); err == nil {
		return p, nil
	}
	if dirErr == nil {
		if p := KataGoPath(dir); isExecutable(p, runtime.GOOS) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no katago on PATH or in the user cache; run 'tesuji katago install', or pass --katago PATH (TESUJI_KATAGO)", ErrNotFound)
}

func locateModel(model, dir string, dirErr error) (string, error) {
	if model != "" {
		if _, err := os.Stat(model); err != nil {
			return "", fmt.Errorf("%w: network %q (from --model or TESUJI_MODEL): %v", ErrNotFound, model, err)
		}
		return model, nil
	}
	if dirErr == nil {
		if p := newestModel(ModelDir(dir)); p != "" {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no KataGo network in the user cache; run 'tesuji katago install', or pass --model FILE (TESUJI_MODEL)", ErrNotFound)
}

// newestModel returns the most recently modified network file in dir, or "".
func newestModel(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	type cand struct {
		path string
		mod  int64
	}
	var cs []cand
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".bin.gz") || strings.HasSuffix(n, ".txt.gz") || strings.HasSuffix(n, ".bin")) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		cs = append(cs, cand{filepath.Join(dir, n), info.ModTime().UnixNano()})
	}
	if len(cs) == 0 {
		return ""
	}
	slices.SortFunc(cs, func(a, b cand) int {
		switch {
		case a.mod > b.mod:
			return -1
		case a.mod < b.mod:
			return 1
		}
		return strings.Compare(a.path, b.path)
	})
	return cs[0].path
}

// isExecutable reports whether p is a file that goos runs: on Windows any file (a .exe
// by its name; there are no mode bits), elsewhere one with an execute bit.
func isExecutable(p, goos string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && (goos == "windows" || info.Mode()&0o111 != 0)
}
