package enginetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/engine"
)

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// Path returns the path of the fakekatago binary, building it on first use. The build
// happens once per test process and is cached in the system temp directory under a hash
// of the sources, so test packages after the first reuse it.
func Path(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() { builtPath, buildErr = build() })
	if buildErr != nil {
		tb.Fatalf("enginetest: build fakekatago: %v", buildErr)
	}
	return builtPath
}

// moduleRoot finds the repository root above the working directory, as tests run inside
// their package directory.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

func build() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	// The fake is built from engine/ (protocol types) and engine/enginetest/.
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	var files []string
	for _, f := range []string{"go.mod", "go.sum"} {
		files = append(files, filepath.Join(root, f))
	}
	err = filepath.WalkDir(filepath.Join(root, "engine"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		fd, err := os.Open(f)
		if err != nil {
			continue // go.sum may be absent
		}
		fmt.Fprintln(h, f)
		io.Copy(h, fd)
		fd.Close()
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	dir := filepath.Join(os.TempDir(), "tesuji-fakekatago-"+sum)
	out := filepath.Join(dir, "fakekatago")
	if runtime.GOOS == "windows" {
		out += ".exe"
	}
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", tmp, "./engine/enginetest/fakekatago")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("%v: %s", err, msg)
	}
	// Renaming is atomic: concurrent test processes building the same sources agree.
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// Model writes a stand-in network file and returns its path; the fake only checks that
// the file exists, as KataGo fails at start when it does not.
func Model(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "fake-model.bin.gz")
	if err := os.WriteFile(path, []byte("not a real network\n"), 0o644); err != nil {
		tb.Fatalf("enginetest: %v", err)
	}
	return path
}

// Config returns an engine.Config that runs the fake with the given environment
// ("TESUJI_FAKE_SPEED=100", ...), logs into the test's temp dir, and keeps timeouts short
// enough for tests.
func Config(tb testing.TB, env ...string) engine.Config {
	tb.Helper()
	return engine.Config{
		Path:              Path(tb),
		Model:             Model(tb),
		LogDir:            tb.TempDir(),
		Env:               env,
		AnalysisThreads:   2,
		ReadyTimeout:      30 * time.Second,
		TurnTimeout:       30 * time.Second,
		RestartBackoffMin: 10 * time.Millisecond,
		RestartBackoffMax: 100 * time.Millisecond,
		KillDelay:         time.Second,
	}
}

// Start starts an engine for cfg and stops it when the test ends.
func Start(tb testing.TB, cfg engine.Config) *engine.Engine {
	tb.Helper()
	e := engine.New(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Start(ctx); err != nil {
		tb.Fatalf("enginetest: start engine: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			tb.Errorf("enginetest: stop engine: %v", err)
		}
	})
	return e
}
