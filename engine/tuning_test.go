package engine_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/katago"
)

// TestTuningOverrides: settings fitted to the backend and the machine reach KataGo unless
// Config (the flags) or a config file set them.
func TestTuningOverrides(t *testing.T) {
	t.Parallel()
	cpu := func(cores int) *engine.Hardware { return &engine.Hardware{Backend: engine.BackendEigen, Cores: cores} }
	tests := []struct {
		name       string
		env        []string
		cfg        func(t *testing.T, c *engine.Config)
		wantSource string
		want       engine.Threads
		wantBatch  int // the nnMaxBatchSize KataGo reports
		// wantInteractive is Tuning.InteractiveSearchThreads: the threads an interactive
		// position asks for on a process tuned for reviews.
		wantInteractive int
		wantGPU         string // Tuning.GPU, when set
	}{
		{
			name:       "fitted to a CPU",
			cfg:        func(t *testing.T, c *engine.Config) { c.Hardware = cpu(6) },
			wantSource: engine.SourceFitted, want: engine.Threads{12, 1, 2}, wantBatch: 2, wantInteractive: 12,
		},
		{
			name: "interactive flags on the shared process",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = cpu(6)
				c.InteractiveThreads = engine.Threads{AnalysisThreads: 2, SearchThreadsPerAnalysisThread: 3}
			},
			wantSource: engine.SourceFitted, want: engine.Threads{12, 1, 2}, wantBatch: 2, wantInteractive: 3,
		},
		{
			name: "flags win",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = cpu(6)
				c.AnalysisThreads, c.SearchThreadsPerAnalysisThread, c.MaxBatchSize = 3, 2, 5
			},
			wantSource: engine.SourceSet, want: engine.Threads{3, 2, 5}, wantBatch: 5,
		},
		{
			name: "one flag keeps the fitted total",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = cpu(6)
				c.AnalysisThreads = 3
			},
			wantSource: engine.SourceSet, want: engine.Threads{3, 4, 2}, wantBatch: 2,
		},
		{
			name: "interactive work on a CPU",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = cpu(16)
				*c = c.ForInteractive()
			},
			wantSource: engine.SourceFitted, want: engine.Threads{2, 16, 2}, wantBatch: 2,
		},
		{
			name: "interactive flags",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = cpu(16)
				c.AnalysisThreads = 9 // the review settings do not apply
				c.InteractiveThreads = engine.Threads{MaxBatchSize: 4}
				*c = c.ForInteractive()
			},
			wantSource: engine.SourceSet, want: engine.Threads{2, 16, 4}, wantBatch: 4,
		},
		{
			name: "a config file decides",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = cpu(6)
				c.ConfigFile = configFile(t)
			},
			wantSource: engine.SourceConfigFile, want: engine.Threads{}, wantBatch: 7,
		},
		{
			name: "the interactive process keeps its latency threads over a config file",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = cpu(16)
				c.ConfigFile = configFile(t)
				*c = c.ForInteractive()
			},
			wantSource: engine.SourceFitted, want: engine.Threads{2, 16, 2}, wantBatch: 2,
		},
		{
			name: "on a GPU a process started from a config file is fitted and not measured",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = &engine.Hardware{Backend: engine.BackendCUDA, Cores: 8, GPUs: []string{"Tesla T4"}}
				c.CacheDir = t.TempDir()
				c.ConfigFile = configFile(t)
				*c = c.ForInteractive()
			},
			wantSource: engine.SourceFitted, want: engine.Threads{2, 16, 32}, wantBatch: 32,
		},
		{
			name: "the GPU the process runs on decides",
			cfg: func(t *testing.T, c *engine.Config) {
				c.Hardware = &engine.Hardware{Backend: engine.BackendCUDA, Cores: 8, GPUs: []string{"Tesla T4", "NVIDIA H100 80GB HBM3"}}
				device := 1
				c.Device = &device
			},
			wantSource: engine.SourceFitted, want: engine.Threads{64, 1, 64}, wantBatch: 64,
			wantInteractive: 32, wantGPU: "NVIDIA H100 80GB HBM3",
		},
		{
			name:       "backend read from katago version",
			env:        []string{enginetest.EnvBackend + "=Eigen(CPU)"},
			cfg:        func(t *testing.T, c *engine.Config) {},
			wantSource: engine.SourceFitted,
			want:       engine.Threads{2 * runtime.NumCPU(), 1, 2}, wantBatch: 2,
			wantInteractive: engine.Fit(engine.Hardware{Backend: engine.BackendEigen, Cores: runtime.NumCPU()}).Interactive.SearchThreadsPerAnalysisThread,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := enginetest.Config(t, tt.env...)
			cfg.AnalysisThreads = 0
			tt.cfg(t, &cfg)
			e := start(t, cfg)
			got := e.Tuning()
			if got.Source != tt.wantSource {
				t.Errorf("source %q, want %q", got.Source, tt.wantSource)
			}
			if diff := cmp.Diff(tt.want, got.Threads); diff != "" {
				t.Errorf("threads (-want +got):\n%s", diff)
			}
			if got.InteractiveSearchThreads != tt.wantInteractive {
				t.Errorf("interactive positions get %d search threads, want %d", got.InteractiveSearchThreads, tt.wantInteractive)
			}
			if tt.wantGPU != "" && (got.GPU != tt.wantGPU || !strings.Contains(got.String(), " on "+tt.wantGPU+";")) {
				t.Errorf("GPU %q, summary %q; want %q", got.GPU, got.String(), tt.wantGPU)
			}
			models, err := e.Models(ctxTimeout(t, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if len(models) != 1 || models[0].MaxBatchSize != tt.wantBatch {
				t.Errorf("KataGo reports %+v, want nnMaxBatchSize %d", models, tt.wantBatch)
			}
		})
	}
}

// configFile writes a KataGo config of 3 analysis threads and a batch of 7.
func configFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mine.cfg")
	if err := os.WriteFile(path, []byte("numAnalysisThreads = 3\nnnMaxBatchSize = 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTuningCache: on a GPU backend the first start measures, later starts on the same
// binary, network and device reuse the result, and another device or network is measured
// again.
func TestTuningCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := enginetest.Config(t, enginetest.EnvBackend+"=CUDA")
	cfg.AnalysisThreads = 0
	cfg.CacheDir = dir

	first := start(t, cfg).Tuning()
	if first.Source != engine.SourceMeasured || first.VisitsPerSecond <= 0 {
		t.Fatalf("first start: %+v, want a measurement", first)
	}
	if first.Hardware.Backend != engine.BackendCUDA {
		t.Errorf("backend %q, want CUDA from katago version", first.Hardware.Backend)
	}
	best := first.Threads.AnalysisThreads
	if diff := cmp.Diff(engine.Threads{best, 1, best}, first.Threads); diff != "" || (best != 16 && best != 32 && best != 64) {
		t.Errorf("measured threads %v, want one of the candidates 16, 32, 64 x 1", first.Threads)
	}
	entries := readCache(t, dir)
	if len(entries) != 1 {
		t.Fatalf("%d cache entries, want 1", len(entries))
	}
	for _, m := range entries {
		if len(m.Trials) != 3 {
			t.Errorf("cached %d trials, want 3: %+v", len(m.Trials), m)
		}
	}

	again := start(t, cfg).Tuning()
	if again.Source != engine.SourceCached || again.Threads != first.Threads || again.VisitsPerSecond != first.VisitsPerSecond {
		t.Errorf("second start: %+v, want the cached %+v", again, first)
	}
	interactive := start(t, cfg.ForInteractive()).Tuning()
	if want := (engine.Threads{2, best / 2, best}); interactive.Source != engine.SourceCached || interactive.Threads != want {
		t.Errorf("interactive: %+v, want %v from the cache", interactive, want)
	}
	set := cfg
	set.SearchThreadsPerAnalysisThread = 2
	if got := start(t, set).Tuning(); got.Source != engine.SourceSet || got.Threads.SearchThreadsPerAnalysisThread != 2 {
		t.Errorf("with a flag: %+v, want the flag's setting and no measurement", got)
	}

	dev := 1
	other := cfg
	other.Device = &dev
	if got := start(t, other).Tuning(); got.Source != engine.SourceMeasured {
		t.Errorf("another device: source %q, want a new measurement", got.Source)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(cfg.Model, later, later); err != nil {
		t.Fatal(err)
	}
	if got := start(t, cfg).Tuning(); got.Source != engine.SourceMeasured {
		t.Errorf("a changed network: source %q, want a new measurement", got.Source)
	}
	if n := len(readCache(t, dir)); n != 3 {
		t.Errorf("%d cache entries, want 3", n)
	}

	// A damaged cache is measured over, not fatal.
	if err := os.WriteFile(filepath.Join(dir, engine.TuningCacheFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := start(t, cfg).Tuning(); got.Source != engine.SourceMeasured {
		t.Errorf("damaged cache: source %q, want a new measurement", got.Source)
	}
	if n := len(readCache(t, dir)); n != 1 {
		t.Errorf("%d cache entries after the damaged cache, want 1", n)
	}
}

// TestInteractiveQuery: on a process tuned for reviews an interactive query asks for the
// interactive threads in a copy, keeping the caller's settings and a thread count the
// caller set; an interactive process and a process whose threads were set leave it as it
// is. KataGo takes the setting without a warning.
func TestInteractiveQuery(t *testing.T) {
	t.Parallel()
	cpu := &engine.Hardware{Backend: engine.BackendEigen, Cores: 2}
	cfg := enginetest.Config(t)
	cfg.AnalysisThreads, cfg.Hardware = 0, cpu
	reviews := start(t, cfg)
	n := reviews.Tuning().InteractiveSearchThreads
	if want := engine.Fit(*cpu).Interactive.SearchThreadsPerAnalysisThread; n != want || n <= 1 {
		t.Fatalf("interactive positions get %d search threads, want the fitted %d", n, want)
	}

	q := &katago.Query{Moves: []katago.Move{}, Rules: json.RawMessage(`"chinese"`), Komi: new(7.5),
		BoardXSize: 9, BoardYSize: 9, MaxVisits: new(5), OverrideSettings: map[string]any{"wideRootNoise": 0.04}}
	got := engine.Interactive(reviews, q)
	if got == q {
		t.Fatal("the query was not copied")
	}
	if engine.Interactive(struct{}{}, q) != q {
		t.Error("an analyzer without InteractiveQuery changed the query")
	}
	if diff := cmp.Diff(map[string]any{"wideRootNoise": 0.04, "numSearchThreads": n}, got.OverrideSettings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"wideRootNoise": 0.04}, q.OverrideSettings); diff != "" {
		t.Errorf("the caller's settings changed (-want +got):\n%s", diff)
	}
	var warnings []string
	if err := reviews.Analyze(ctxTimeout(t, time.Minute), got, func(r *katago.Response) error {
		if r.Warning != "" {
			warnings = append(warnings, r.Field+": "+r.Warning)
		}
		return nil
	}); err != nil || len(warnings) > 0 {
		t.Errorf("KataGo: %v, warnings %q", err, warnings)
	}

	for _, k := range []string{"numSearchThreads", "numSearchThreadsPerAnalysisThread"} {
		own := &katago.Query{OverrideSettings: map[string]any{k: 1}}
		if reviews.InteractiveQuery(own) != own {
			t.Errorf("a query that sets %s was changed", k)
		}
	}
	interactive := start(t, cfg.ForInteractive())
	set := cfg
	set.AnalysisThreads = 3
	for name, e := range map[string]*engine.Engine{"interactive": interactive, "threads set": start(t, set)} {
		if e.InteractiveQuery(q) != q {
			t.Errorf("%s: the query was changed", name)
		}
	}
}

type cachedMeasurement struct {
	Best   int `json:"bestTotalThreads"`
	Trials []struct {
		Total int `json:"totalThreads"`
	} `json:"trials"`
}

func readCache(t *testing.T, dir string) map[string]cachedMeasurement {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, engine.TuningCacheFile))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Entries map[string]cachedMeasurement `json:"entries"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c.Entries
}

// TestTuningRealKataGo reads the real binary's version output and fits its settings.
func TestTuningRealKataGo(t *testing.T) {
	t.Parallel()
	bin, model := os.Getenv(envKataGo), os.Getenv(envModel)
	if bin == "" || model == "" {
		t.Skipf("set %s and %s to run this against the real KataGo", envKataGo, envModel)
	}
	e := start(t, engine.Config{Path: bin, Model: model, LogDir: t.TempDir(), ReadyTimeout: 5 * time.Minute})
	got := e.Tuning()
	if got.Hardware.Backend == engine.BackendUnknown || got.Hardware.KataGoVersion == "" {
		t.Fatalf("katago version not understood: %+v", got.Hardware)
	}
	if want := engine.Fit(got.Hardware).Reviews; got.Source != engine.SourceFitted || got.Threads != want {
		t.Errorf("%+v, want the fitted %v", got, want)
	}
	models, err := e.Models(ctxTimeout(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 1 || models[0].MaxBatchSize != got.Threads.MaxBatchSize {
		t.Errorf("KataGo reports %+v, want nnMaxBatchSize %d", models, got.Threads.MaxBatchSize)
	}
	q := e.InteractiveQuery(&katago.Query{Moves: []katago.Move{}, Rules: json.RawMessage(`"chinese"`), Komi: new(7.5),
		BoardXSize: 9, BoardYSize: 9, MaxVisits: new(20)})
	if err := e.Analyze(ctxTimeout(t, time.Minute), q, func(r *katago.Response) error {
		if r.Warning != "" {
			t.Errorf("interactive query %v: %s: %s", q.OverrideSettings, r.Field, r.Warning)
		}
		return nil
	}); err != nil {
		t.Errorf("interactive query %v: %v", q.OverrideSettings, err)
	}
	t.Logf("%s", got)
}
