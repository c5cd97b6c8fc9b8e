package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DataFileName is the embedded default's database inside its data directory.
const DataFileName = "tesuji.db"

// DefaultDataDir is where the embedded default keeps its database when --data names none:
// "tesuji" under the user data directory. That is $XDG_DATA_HOME, else ~/.local/share on
// Unix; ~/Library/Application Support on macOS; %LocalAppData% on Windows. getenv reads
// the environment.
func DefaultDataDir(getenv func(string) string) (string, error) {
	switch runtime.GOOS {
	case "windows":
		if dir := getenv("LocalAppData"); dir != "" {
			return filepath.Join(dir, "tesuji"), nil
		}
		return "", errors.New("no user data directory: %LocalAppData% is not set; give --data")
	case "darwin", "ios":
		if dir := getenv("XDG_DATA_HOME"); dir != "" {
			return filepath.Join(dir, "tesuji"), nil
		}
		home, err := userHome(getenv)
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", "tesuji"), nil
	}
	if dir := getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "tesuji"), nil
	}
	home, err := userHome(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "tesuji"), nil
}

func userHome(getenv func(string) string) (string, error) {
	if home := getenv("HOME"); home != "" {
		return home, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no user data directory (give --data): %w", err)
	}
	return home, nil
}
