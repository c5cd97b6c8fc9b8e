package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/engine/enginetest"
)

// In-process analyze logs warnings only by default, and at the level --log-level or
// TESUJI_LOG_LEVEL asks for.
func TestAnalyzeLogLevel(t *testing.T) {
	katago, model := enginetest.Path(t), fakeModel(t)
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		wantInfo bool
	}{
		{"default", nil, nil, false},
		{"flag", []string{"--log-level", "info"}, nil, true},
		{"environment", nil, map[string]string{"TESUJI_LOG_LEVEL": "info"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			game := filepath.Join(dir, "game.sgf")
			if err := os.WriteFile(game, []byte(e2eGame), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"analyze", "--katago", katago, "--model", model, "--visits", "8",
				"--log-format", "json", "-o", dir}, tc.args...)
			var stderr bytes.Buffer
			err := run(context.Background(), append(args, game), func(k string) string { return tc.env[k] },
				strings.NewReader(""), io.Discard, &stderr)
			if err != nil {
				t.Fatalf("analyze: %v\n%s", err, stderr.String())
			}
			if got := strings.Contains(stderr.String(), `"level":"INFO"`); got != tc.wantInfo {
				t.Errorf("info lines logged: %v, want %v\n%s", got, tc.wantInfo, stderr.String())
			}
		})
	}
}
