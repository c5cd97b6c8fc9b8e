package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tesuji/tesuji/katago"
)

// Backend is the neural net backend a katago binary was built with, as `katago version`
// names it.
type Backend string

// The backends KataGo builds with. BackendUnknown is a binary whose version output names
// none of them (or that could not be asked).
const (
	BackendUnknown  Backend = ""
	BackendEigen    Backend = "Eigen"
	BackendOpenCL   Backend = "OpenCL"
	BackendCUDA     Backend = "CUDA"
	BackendTensorRT Backend = "TensorRT"
	BackendMetal    Backend = "Metal"
	BackendDummy    Backend = "dummy"
)

// GPU reports whether the backend evaluates the network on a GPU (or Apple's neural
// engine), where batches of many positions pay.
func (b Backend) GPU() bool {
	switch b {
	case BackendOpenCL, BackendCUDA, BackendTensorRT, BackendMetal:
		return true
	}
	return false
}

// Hardware is what the thread settings are fitted to: KataGo's build and the machine.
type Hardware struct {
	// KataGoVersion is the release `katago version` names, such as "1.17.2".
	KataGoVersion string `json:"katagoVersion,omitempty"`
	// Backend is the neural net backend of the binary.
	Backend Backend `json:"backend"`
	// Cores is the number of CPU cores the process may use.
	Cores int `json:"cores"`
	// GPUs are the models of the GPUs visible on the machine (from nvidia-smi), one entry
	// per GPU; empty when none can be seen.
	GPUs []string `json:"gpus,omitempty"`
}

// Threads are the three settings that decide how KataGo spreads its work.
type Threads struct {
	// AnalysisThreads is numAnalysisThreads: positions searched at once.
	AnalysisThreads int `json:"analysisThreads"`
	// SearchThreadsPerAnalysisThread is numSearchThreadsPerAnalysisThread: MCTS threads on
	// each position.
	SearchThreadsPerAnalysisThread int `json:"searchThreadsPerAnalysisThread"`
	// MaxBatchSize is nnMaxBatchSize: the most evaluations sent to the device at once.
	MaxBatchSize int `json:"maxBatchSize"`
}

// Total is how many search threads can be working at once.
func (t Threads) Total() int { return t.AnalysisThreads * t.SearchThreadsPerAnalysisThread }

func (t Threads) String() string {
	return fmt.Sprintf("%d analysis x %d search threads, batch %d", t.AnalysisThreads, t.SearchThreadsPerAnalysisThread, t.MaxBatchSize)
}

// Work is what a KataGo process is tuned for.
type Work int

const (
	// WorkReviews is batch work, whole-game reviews: many positions known at once. It
	// gets throughput settings, many analysis threads with few search threads each, which
	// KataGo recommends for throughput and which also evaluate better per visit.
	WorkReviews Work = iota
	// WorkInteractive is a position someone waits for (the GTP bridge, the websocket,
	// single positions): latency settings, few analysis threads with many search threads
	// each, so one position's search ends soon.
	WorkInteractive
)

func (w Work) String() string {
	if w == WorkInteractive {
		return "interactive"
	}
	return "reviews"
}

// Fitted holds the settings chosen for one KataGo process: one set for each kind of work.
type Fitted struct {
	Reviews     Threads `json:"reviews"`
	Interactive Threads `json:"interactive"`
}

// For returns the settings for w.
func (f Fitted) For(w Work) Threads {
	if w == WorkInteractive {
		return f.Interactive
	}
	return f.Reviews
}

// GPU is the model of the GPU that a process on device runs on (nil: KataGo's default,
// the first); "" when none is visible.
func (h Hardware) GPU(device *int) string {
	if len(h.GPUs) == 0 {
		return ""
	}
	if device != nil && *device >= 0 && *device < len(h.GPUs) {
		return h.GPUs[*device]
	}
	return h.GPUs[0]
}

// gpuTotal is the starting point for total search threads on a GPU of the given model,
// from KataGo's analysis_example.cfg: 16 to 64 for mid-range GPUs, 32 to 256 for strong
// ones. The measurement on first start refines it.
func gpuTotal(model string) int {
	model = strings.ToUpper(model)
	for _, strong := range []string{"H100", "H200", "H800", "B100", "B200", "A100", "A800", "L40", "RTX 4090", "RTX 5090", "RTX 6000", "A6000"} {
		if strings.Contains(model, strong) {
			return 64
		}
	}
	return 32
}

// Fit chooses thread settings for one KataGo process on h, without measuring anything:
// on a CPU backend about two search threads per core in all; on a GPU KataGo's
// throughput settings (gpuTotal analysis threads of one search thread each) for reviews
// and two positions sharing the same threads for interactive work. A backend it does not
// know keeps 2 x 8, a batch of 16. On a machine of several GPUs it fits the first, where
// KataGo runs unless told otherwise; FitDevice fits another.
func Fit(h Hardware) Fitted { return FitDevice(h, nil) }

// FitDevice is Fit for a process on the given GPU (Config.Device).
func FitDevice(h Hardware, device *int) Fitted {
	switch {
	case h.Backend == BackendEigen:
		return fitCPU(max(h.Cores, 1))
	case h.Backend.GPU():
		return fitGPU(gpuTotal(h.GPU(device)))
	}
	t := Threads{defaultAnalysisThreads, defaultSearchThreads, defaultAnalysisThreads * defaultSearchThreads}
	return Fitted{Reviews: t, Interactive: t}
}

// fitCPU: reviews search two positions per core, one search thread each; interactive
// work puts as many search threads on each of at most 4 positions. KataGo's Eigen backend
// evaluates the network in batches of what the search threads ask for, so more positions
// than cores keep it busier: on 2 cores 4 x 1 reviewed 1.08x as fast as 2 x 1, and 8 x 1
// another 1.03x to 1.05x. On a CPU one KataGo serves reviews and interactive work alike
// (no second engine), and each search thread takes an equal share of the cores, so an
// interactive position on that process searches with the interactive settings' threads,
// passed with its query (Engine.InteractiveQuery), and gets about half the cores while a
// review runs. Measured on 2 cores, a 100-visit position during a review: 4 x 1 with 4
// threads per interactive position answered in 0.56 s idle and 1.0 to 1.1 s busy, against
// 1.2 to 1.5 s and 1.3 to 1.6 s for 2 x 1 with one thread per position; 8 x 1 with one
// thread took 4.8 s busy. The batch is eigenBatch, as KataGo's Eigen backend has it
// whatever its config says.
func fitCPU(cores int) Fitted {
	a := min(max(cores/8, 1), 4)
	total := 2 * cores
	return Fitted{
		Reviews:     Threads{total, 1, eigenBatch},
		Interactive: Threads{a, total / a, eigenBatch},
	}
}

// eigenBatch is nnMaxBatchSize on KataGo's Eigen (CPU) backend, which ignores the config
// key: large batches do not help a CPU as they help a GPU.
const eigenBatch = 2

// fitGPU spreads total search threads over positions: one thread each for reviews, two
// positions for interactive work. The batch holds every thread's evaluation.
func fitGPU(total int) Fitted {
	total = max(total, 2)
	return Fitted{
		Reviews:     Threads{total, 1, total},
		Interactive: Threads{2, total / 2, total},
	}
}

// resolve applies the settings a user set (zero fields are unset) over fitted ones. When
// only one of the thread counts is set, the other keeps the fitted total.
func resolve(set, fit Threads) Threads {
	out := set
	switch {
	case set.AnalysisThreads > 0 && set.SearchThreadsPerAnalysisThread == 0:
		out.SearchThreadsPerAnalysisThread = max(fit.Total()/set.AnalysisThreads, 1)
	case set.AnalysisThreads == 0 && set.SearchThreadsPerAnalysisThread > 0:
		out.AnalysisThreads = max(fit.Total()/set.SearchThreadsPerAnalysisThread, 1)
	case set.AnalysisThreads == 0:
		out.AnalysisThreads, out.SearchThreadsPerAnalysisThread = fit.AnalysisThreads, fit.SearchThreadsPerAnalysisThread
	}
	if out.MaxBatchSize <= 0 {
		out.MaxBatchSize = fit.MaxBatchSize
		if out.Total() != fit.Total() {
			out.MaxBatchSize = out.Total()
		}
	}
	return out
}

// ParseVersion reads `katago version` output: the release and the backend.
func ParseVersion(out string) (version string, backend Backend) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "KataGo v"); ok && version == "" {
			version = strings.TrimSpace(v)
		}
		name, ok := strings.CutPrefix(line, "Using ")
		if !ok {
			continue
		}
		name, ok = strings.CutSuffix(name, " backend")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(name, "Eigen"): // "Eigen(CPU)"
			backend = BackendEigen
		case name == "CUDA":
			backend = BackendCUDA
		case name == "TensorRT":
			backend = BackendTensorRT
		case name == "OpenCL":
			backend = BackendOpenCL
		case name == "Metal":
			backend = BackendMetal
		case name == "dummy":
			backend = BackendDummy
		}
	}
	return version, backend
}

// DetectHardware asks the katago binary of c (Path, Env) for its backend, counts the
// cores and, on a GPU backend where nvidia-smi is installed, lists the GPUs. An engine
// started with the result in Config.Hardware does not ask again.
func DetectHardware(ctx context.Context, c Config) (Hardware, error) {
	h := Hardware{Cores: runtime.NumCPU()}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, "version")
	cmd.Env = append(os.Environ(), c.Env...)
	out, err := cmd.Output()
	if err != nil {
		return h, fmt.Errorf("engine: %s version: %w", c.Path, err)
	}
	h.KataGoVersion, h.Backend = ParseVersion(string(out))
	if h.Backend.GPU() {
		h.GPUs = nvidiaGPUs(ctx)
	}
	return h, nil
}

// nvidiaGPUs lists the GPU models nvidia-smi sees; nil without nvidia-smi.
func nvidiaGPUs(ctx context.Context) []string {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	out, err := exec.CommandContext(ctx, path, "--query-gpu=name", "--format=csv,noheader").Output()
	if err != nil {
		return nil
	}
	var gpus []string
	for l := range strings.SplitSeq(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			gpus = append(gpus, l)
		}
	}
	return gpus
}

// Where the settings of a process came from (Tuning.Source).
const (
	SourceFitted     = "fitted"      // Fit's choice for the hardware
	SourceMeasured   = "measured"    // measured at this start, now cached
	SourceCached     = "cached"      // measured at an earlier start on this binary, network and device
	SourceSet        = "set"         // Config (flags) set them
	SourceConfigFile = "config file" // Config.ConfigFile decides
)

// Tuning says how a process's thread settings were chosen; Engine.Tuning returns it.
type Tuning struct {
	Work     Work     `json:"-"`
	Hardware Hardware `json:"hardware"`
	// GPU is the model of the GPU the process runs on (Config.Device), one of
	// Hardware.GPUs; "" on a CPU or when none is visible.
	GPU string `json:"gpu,omitempty"`
	// Threads is what the process runs with (its config file's, with Source
	// SourceConfigFile, unless Config set them too).
	Threads Threads `json:"threads"`
	// Source is where Threads came from: SourceFitted, SourceMeasured, SourceCached,
	// SourceSet or SourceConfigFile.
	Source string `json:"source"`
	// VisitsPerSecond is the measured throughput of Threads, when they were measured.
	VisitsPerSecond float64 `json:"visitsPerSecond,omitempty"`
	// InteractiveSearchThreads are the search threads of each interactive position on a
	// process tuned for reviews, passed with its query (Engine.InteractiveQuery); zero
	// when its queries keep the process's own.
	InteractiveSearchThreads int `json:"interactiveSearchThreads,omitempty"`
}

// String is the one-line summary the start-up log and the worker registry show.
func (t Tuning) String() string {
	var b strings.Builder
	backend := string(t.Hardware.Backend)
	if backend == "" {
		backend = "unknown backend"
	}
	b.WriteString(backend)
	if t.GPU != "" {
		fmt.Fprintf(&b, " on %s", t.GPU)
	} else if t.Hardware.Cores > 0 {
		fmt.Fprintf(&b, " on %d cores", t.Hardware.Cores)
	}
	if t.Source == SourceConfigFile {
		fmt.Fprintf(&b, "; %s: settings from the config file", t.Work)
		return b.String()
	}
	fmt.Fprintf(&b, "; %s: %s (%s", t.Work, t.Threads, t.Source)
	if t.VisitsPerSecond > 0 {
		fmt.Fprintf(&b, ", %.0f visits/s", t.VisitsPerSecond)
	}
	b.WriteString(")")
	if t.InteractiveSearchThreads > 0 {
		fmt.Fprintf(&b, ", interactive positions %d search threads", t.InteractiveSearchThreads)
	}
	return b.String()
}

// tune chooses the process's thread settings before its first start and writes them into
// e.cfg: Config.ConfigFile decides when set, except for the interactive process; otherwise the settings Config set win and the
// rest are fitted to the hardware and, on a GPU with a CacheDir, measured once per binary,
// network and device.
func (e *Engine) tune(ctx context.Context) {
	h := Hardware{}
	if e.cfg.Hardware != nil {
		h = *e.cfg.Hardware
	} else {
		var err error
		if h, err = DetectHardware(ctx, e.cfg); err != nil {
			e.log.Warn("engine: katago backend unknown; default thread settings", "err", err)
		}
	}
	t := Tuning{Work: e.cfg.Work, Hardware: h, GPU: h.GPU(e.cfg.Device), Source: SourceFitted}
	fit := FitDevice(h, e.cfg.Device)
	set := e.set.For(e.cfg.Work)
	unset := set == Threads{}
	switch {
	case e.cfg.ConfigFile != "" && e.cfg.Work != WorkInteractive:
		// The interactive process reads the same file, with the latency threads passed
		// over it (Config.args): the file's threads are the reviews'.
		t.Source = SourceConfigFile
	case !unset:
		t.Source = SourceSet
	case h.Backend.GPU() && e.cfg.CacheDir != "" && e.cfg.ConfigFile == "":
		// A process started from a config file (the interactive one, whose threads are
		// passed over the file) is fitted, not measured: the trials would run with the
		// file's threads, and the cache, keyed by binary, network and device, would keep
		// their result for starts without the file.
		m, source, err := e.measured(ctx, h)
		if err != nil {
			e.log.Warn("engine: measure katago thread settings; using the fitted ones", "err", err)
			break
		}
		fit = fitGPU(m.Best)
		t.Source, t.VisitsPerSecond = source, m.VisitsPerSecond
	}
	t.Threads = resolve(set, fit.For(e.cfg.Work))
	if e.cfg.Work == WorkReviews && t.Source != SourceSet && t.Source != SourceConfigFile {
		// Interactive work that this process serves too gets the latency settings' threads
		// on each of its positions, when they differ from the reviews'.
		if s := resolve(e.set.Interactive, fit.Interactive).SearchThreadsPerAnalysisThread; s != t.Threads.SearchThreadsPerAnalysisThread {
			t.InteractiveSearchThreads = s
		}
	}
	e.cfg.AnalysisThreads = t.Threads.AnalysisThreads
	e.cfg.SearchThreadsPerAnalysisThread = t.Threads.SearchThreadsPerAnalysisThread
	e.cfg.MaxBatchSize = t.Threads.MaxBatchSize
	if t.Source == SourceConfigFile {
		t.Threads = Threads{} // the file's, which tesuji does not read
	}
	e.mu.Lock()
	e.tuning = t
	e.mu.Unlock()
	e.log.Info("engine: katago settings", "work", t.Work.String(), "backend", string(h.Backend), "gpus", h.GPUs, "cores", h.Cores,
		"analysis_threads", t.Threads.AnalysisThreads, "search_threads", t.Threads.SearchThreadsPerAnalysisThread,
		"batch_size", t.Threads.MaxBatchSize, "source", t.Source, "visits_per_second", t.VisitsPerSecond)
}

// InteractiveQuery returns q as work someone waits for (a single position, a GTP or
// KaTrain search): on a process tuned for reviews, whose positions search with one thread
// each, a copy of q that asks KataGo for Tuning.InteractiveSearchThreads on each of its
// positions (overrideSettings numSearchThreads), so that it gets its share of the cores
// beside a review's positions; q itself when the process keeps its own threads or q sets
// them.
func (e *Engine) InteractiveQuery(q *katago.Query) *katago.Query {
	n := e.Tuning().InteractiveSearchThreads
	if n <= 0 {
		return q
	}
	for _, k := range []string{"numSearchThreads", "numSearchThreadsPerAnalysisThread"} {
		if _, set := q.OverrideSettings[k]; set {
			return q
		}
	}
	qq := *q
	qq.OverrideSettings = make(map[string]any, len(q.OverrideSettings)+1)
	maps.Copy(qq.OverrideSettings, q.OverrideSettings)
	qq.OverrideSettings["numSearchThreads"] = n
	return &qq
}

// Interactive returns q as interactive work for a: a's InteractiveQuery where a has one
// (an *Engine, seen through an interface of the caller's), q itself otherwise.
func Interactive(a any, q *katago.Query) *katago.Query {
	if i, ok := a.(interface {
		InteractiveQuery(*katago.Query) *katago.Query
	}); ok {
		return i.InteractiveQuery(q)
	}
	return q
}

// Tuning says which thread settings KataGo runs with and why; it is set by Start.
func (e *Engine) Tuning() Tuning {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tuning
}

// errNoMeasurement is a measurement that produced no usable figure.
var errNoMeasurement = errors.New("no candidate completed its measurement")

// Summary describes the settings of engines for a worker's registry entry: the distinct
// Tuning lines joined by "; ", and the GPU model the first of them runs on ("" when none
// is known).
func Summary(engines ...*Engine) (settings, gpu string) {
	var lines []string
	for _, e := range engines {
		t := e.Tuning()
		if s := t.String(); !slices.Contains(lines, s) {
			lines = append(lines, s)
		}
		if gpu == "" {
			gpu = t.GPU
		}
	}
	return strings.Join(lines, "; "), gpu
}
