package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/queue/redistest"
)

// fakeNvidiaSMI writes an nvidia-smi that lists n A10G GPUs, as the real one answers both
// --list-gpus and --query-gpu=name, into a new directory and returns it.
func fakeNvidiaSMI(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var list, names strings.Builder
	for i := range n {
		fmt.Fprintf(&list, "GPU %d: NVIDIA A10G (UUID: GPU-%d)\n", i, i)
		names.WriteString("NVIDIA A10G\n")
	}
	script := "#!/bin/sh\ncase \"$*\" in\n*query-gpu*) printf '" + names.String() + "';;\n*) printf '" + list.String() + "';;\nesac\n"
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// engineCount takes --gpus when given, else the GPUs nvidia-smi lists for a GPU build, else 1.
func TestEngineCount(t *testing.T) {
	katago := enginetest.Path(t)
	fourGPUs := fakeNvidiaSMI(t, 4)
	noGPUTool := t.TempDir()
	for _, tc := range []struct {
		name    string
		backend string
		path    string // PATH: where nvidia-smi is looked for
		katago  string
		gpus    int
		want    int
	}{
		// An explicit --gpus wins over the GPUs nvidia-smi lists.
		{"explicit", "CUDA", fourGPUs, katago, 2, 2},
		// By default a CUDA build runs one process per GPU.
		{"cuda", "CUDA", fourGPUs, katago, 0, 4},
		// By default a TensorRT build runs one process per GPU.
		{"tensorrt", "TensorRT", fourGPUs, katago, 0, 4},
		// A CPU build runs one process, whatever GPUs the machine has.
		{"cpu", "Eigen(CPU)", fourGPUs, katago, 0, 1},
		// A GPU build on a machine without nvidia-smi (OpenCL, Metal) runs one.
		{"no nvidia-smi", "OpenCL", noGPUTool, katago, 0, 1},
		// A binary that does not answer runs one, whose start then says why.
		{"no katago", "CUDA", fourGPUs, filepath.Join(noGPUTool, "katago"), 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			cfg := engine.Config{Path: tc.katago, Env: []string{enginetest.EnvBackend + "=" + tc.backend}}
			if got := engineCount(context.Background(), &cfg, tc.gpus); got != tc.want {
				t.Errorf("engineCount(--gpus %d) = %d, want %d", tc.gpus, got, tc.want)
			}
		})
	}
}

// A worker given no --gpus on a machine of four GPUs runs four KataGo processes.
func TestWorkerRunsOneEnginePerGPU(t *testing.T) {
	katago, model := enginetest.Path(t), fakeModel(t)
	rs := redistest.Start(t, redistest.Options{})
	t.Setenv("PATH", fakeNvidiaSMI(t, 4)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(enginetest.EnvBackend, "CUDA")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// A file, which the worker's goroutines may write while the test reads it.
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	log := func() string { b, _ := os.ReadFile(stderr.Name()); return string(b) }
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"worker", "--redis", rs.URL(), "--katago", katago, "--model", model,
			"--spot", "off", "--interactive-engine", "off", "--log-format", "json", "--shutdown-grace", "1s",
			// Set threads: nothing is measured on the fake GPUs.
			"--analysis-threads", "2", "--search-threads", "1", "--batch-size", "2"},
			func(string) string { return "" }, strings.NewReader(""), io.Discard, stderr)
	}()
	deadline := time.After(time.Minute)
	for !strings.Contains(log(), `"msg":"worker started"`) {
		select {
		case err := <-done:
			t.Fatalf("worker exited: %v\n%s", err, log())
		case <-deadline:
			t.Fatalf("worker did not start\n%s", log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !strings.Contains(log(), `"engines":4,`) {
		t.Errorf("worker started without 4 engines:\n%s", log())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("worker: %v", err)
	}
}
