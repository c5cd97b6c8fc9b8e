package engine

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config says how to run KataGo. The zero value of every field means its default.
//
// tesuji writes KataGo's analysis config file itself from these fields; ConfigFile replaces
// that file for those who tune KataGo by hand.
type Config struct {
	// Path is the katago binary. Default: "katago", looked up in PATH.
	Path string
	// Model is the network file (.bin.gz). Required.
	Model string
	// ConfigFile is an analysis config file to use instead of the generated one. The typed
	// fields below that map to config keys are then ignored, except that
	// reportAnalysisWinratesAs = BLACK, Device, LogDir (when set) and Settings are passed as
	// -override-config, and so are the latency thread settings of an interactive process
	// (WorkInteractive), which reads the same file. Default: none, the file is generated.
	ConfigFile string

	// Work is what this process serves: WorkReviews (throughput settings) or
	// WorkInteractive (latency settings). A server that keeps interactive requests fast
	// while reviews run starts a second engine with ForInteractive. Default WorkReviews.
	Work Work
	// AnalysisThreads is numAnalysisThreads, how many positions KataGo searches at once,
	// for WorkReviews. Default: fitted at Start to the backend and the machine (see Fit):
	// two per core on a CPU, KataGo's throughput settings on a GPU (32 or 64
	// positions of one search thread each, measured once when CacheDir is set). When only
	// one of AnalysisThreads and SearchThreadsPerAnalysisThread is set, the other keeps the
	// fitted total.
	AnalysisThreads int
	// SearchThreadsPerAnalysisThread is numSearchThreadsPerAnalysisThread, the MCTS threads
	// on each position, for WorkReviews. Default: fitted, like AnalysisThreads.
	SearchThreadsPerAnalysisThread int
	// MaxBatchSize is nnMaxBatchSize, for WorkReviews. Default: the fitted batch when the
	// threads are fitted, else AnalysisThreads * SearchThreadsPerAnalysisThread, the most
	// evaluations that can be waiting at once.
	MaxBatchSize int
	// InteractiveThreads are the three settings for WorkInteractive; a zero field is
	// fitted (a few positions, many search threads each), as for reviews. Default: fitted.
	InteractiveThreads Threads
	// CacheDir is where measured thread settings are kept (TuningCacheFile), per katago
	// binary (path, size, modification time), network and device: on a GPU backend the
	// first Start measures a few thread counts with a short search, as `katago benchmark`
	// does, and later starts reuse the result. Default: none, nothing is measured and the
	// fitted settings are used as they are.
	CacheDir string
	// Hardware is the backend and machine the settings are fitted to. Default: detected at
	// Start from `katago version`, the CPU count and, on a GPU backend, nvidia-smi.
	Hardware *Hardware
	// CacheSizePowerOfTwo is nnCacheSizePowerOfTwo, the log2 of the neural net cache
	// entries. Default 20, as in KataGo's analysis example config.
	CacheSizePowerOfTwo int
	// MaxVisits is maxVisits for queries that do not set their own. Default 500. Without
	// it KataGo would search such a query until it is terminated.
	MaxVisits int
	// Device is the GPU this process uses (cudaDeviceToUse, trtDeviceToUse and
	// openclDeviceToUse). Default: nil, KataGo's own choice.
	Device *int
	// Settings are extra config lines, key = value, written after (and overriding) the
	// generated ones. Default: none.
	Settings map[string]string
	// LogDir is KataGo's logDir. Default: tesuji-katago-logs in the system temp directory.
	LogDir string
	// Env is extra environment for the child, "KEY=value", on top of this process's.
	// Default: none.
	Env []string

	// ReadyTimeout bounds the wait for KataGo's ready line. Default 10 minutes: a TensorRT
	// build tunes itself on its first start.
	ReadyTimeout time.Duration
	// TurnTimeout guards against a hung engine: it is how long KataGo may show no sign of
	// life while queries or actions wait. Any output line is a sign of life; after a quarter
	// of TurnTimeout of silence (a long search without reportDuringSearchEvery) the engine
	// sends a query_version, which a live KataGo answers at once whatever it is searching.
	// So a search of any length is never cut short, and a KataGo that neither writes nor
	// answers for TurnTimeout is killed, its in-flight queries fail with ErrTimeout, and it
	// is restarted. Default 1 minute.
	TurnTimeout time.Duration
	// RestartBackoffMin and RestartBackoffMax bound the wait before restarting KataGo after
	// it died; the wait doubles after each failed restart and starts over once a process
	// has run for a minute. Defaults 500ms and 30s.
	RestartBackoffMin time.Duration
	RestartBackoffMax time.Duration
	// KillDelay is how long KataGo gets to exit after SIGTERM before it is killed: Stop
	// sends SIGTERM once its context is done. Default 5s.
	KillDelay time.Duration
	// MaxLineBytes bounds one response line; a longer one fails its query with ErrProtocol.
	// Default 64 MiB: a 19x19 result with ownership for every move is a few MB.
	MaxLineBytes int

	// Logger receives the engine's logs and KataGo's stderr (at debug level). Default:
	// discard.
	Logger *slog.Logger
}

const (
	defaultAnalysisThreads   = 2
	defaultSearchThreads     = 8
	defaultCacheSizePowerOf2 = 20
	defaultMaxVisits         = 500
	defaultReadyTimeout      = 10 * time.Minute
	defaultTurnTimeout       = time.Minute
	defaultBackoffMin        = 500 * time.Millisecond
	defaultBackoffMax        = 30 * time.Second
	defaultKillDelay         = 5 * time.Second
	defaultMaxLineBytes      = 64 << 20
	// stableAfter is how long a process must run before the restart backoff starts over.
	stableAfter = time.Minute
)

// ForInteractive returns c for a process that serves interactive work: the same binary,
// network and device with the latency settings.
func (c Config) ForInteractive() Config {
	c.Work = WorkInteractive
	return c
}

// setThreads returns the thread settings c sets itself, unset fields zero.
func (c Config) setThreads() Fitted {
	return Fitted{
		Reviews:     Threads{max(c.AnalysisThreads, 0), max(c.SearchThreadsPerAnalysisThread, 0), max(c.MaxBatchSize, 0)},
		Interactive: Threads{max(c.InteractiveThreads.AnalysisThreads, 0), max(c.InteractiveThreads.SearchThreadsPerAnalysisThread, 0), max(c.InteractiveThreads.MaxBatchSize, 0)},
	}
}

// withDefaults fills every unset field. The thread settings it fills are the fallback for
// a KataGo whose backend is unknown; Start replaces them with the fitted ones.
func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = "katago"
	}
	if c.AnalysisThreads <= 0 {
		c.AnalysisThreads = defaultAnalysisThreads
	}
	if c.SearchThreadsPerAnalysisThread <= 0 {
		c.SearchThreadsPerAnalysisThread = defaultSearchThreads
	}
	if c.MaxBatchSize <= 0 {
		c.MaxBatchSize = c.AnalysisThreads * c.SearchThreadsPerAnalysisThread
	}
	if c.CacheSizePowerOfTwo <= 0 {
		c.CacheSizePowerOfTwo = defaultCacheSizePowerOf2
	}
	if c.MaxVisits <= 0 {
		c.MaxVisits = defaultMaxVisits
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = defaultReadyTimeout
	}
	if c.TurnTimeout <= 0 {
		c.TurnTimeout = defaultTurnTimeout
	}
	if c.RestartBackoffMin <= 0 {
		c.RestartBackoffMin = defaultBackoffMin
	}
	if c.RestartBackoffMax <= 0 {
		c.RestartBackoffMax = defaultBackoffMax
	}
	if c.RestartBackoffMax < c.RestartBackoffMin {
		c.RestartBackoffMax = c.RestartBackoffMin
	}
	if c.KillDelay <= 0 {
		c.KillDelay = defaultKillDelay
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = defaultMaxLineBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) logDir() string {
	if c.LogDir != "" {
		return c.LogDir
	}
	return filepath.Join(os.TempDir(), "tesuji-katago-logs")
}

// setting is one key = value line of KataGo's config.
type setting struct{ key, value string }

// settings returns what tesuji puts in KataGo's config, Settings last and winning.
func (c Config) settings() ([]setting, error) {
	s := []setting{
		{"logDir", c.logDir()},
		{"logAllRequests", "false"},
		{"logAllResponses", "false"},
		{"logSearchInfo", "false"},
		// Every consumer reads winrates and scores from Black's side.
		{"reportAnalysisWinratesAs", "BLACK"},
		{"maxVisits", strconv.Itoa(c.MaxVisits)},
		{"numAnalysisThreads", strconv.Itoa(c.AnalysisThreads)},
		{"numSearchThreadsPerAnalysisThread", strconv.Itoa(c.SearchThreadsPerAnalysisThread)},
		{"nnMaxBatchSize", strconv.Itoa(c.MaxBatchSize)},
		{"nnCacheSizePowerOfTwo", strconv.Itoa(c.CacheSizePowerOfTwo)},
	}
	if c.Device != nil {
		d := strconv.Itoa(*c.Device)
		s = append(s, setting{"cudaDeviceToUse", d}, setting{"trtDeviceToUse", d}, setting{"openclDeviceToUse", d})
	}
	return mergeSettings(s, c.Settings)
}

func mergeSettings(s []setting, extra map[string]string) ([]setting, error) {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := extra[k]
		if k == "" || strings.ContainsAny(k, "=#\n\r \t") || strings.ContainsAny(v, "#\n\r") {
			return nil, fmt.Errorf("engine: invalid katago setting %q = %q", k, v)
		}
		i := slices.IndexFunc(s, func(x setting) bool { return x.key == k })
		if i >= 0 {
			s[i].value = v
		} else {
			s = append(s, setting{k, v})
		}
	}
	return s, nil
}

// configText renders the generated config file.
func configText(s []setting) string {
	var b strings.Builder
	b.WriteString("# KataGo analysis config written by tesuji from engine.Config.\n")
	for _, x := range s {
		fmt.Fprintf(&b, "%s = %s\n", x.key, x.value)
	}
	return b.String()
}

// args returns katago's command line, given the config file it reads.
func (c Config) args(configPath string) ([]string, error) {
	args := []string{"analysis", "-config", configPath, "-model", c.Model}
	if c.ConfigFile == "" {
		return args, nil
	}
	over := []setting{{"reportAnalysisWinratesAs", "BLACK"}}
	if c.Work == WorkInteractive {
		over = append(over, setting{"numAnalysisThreads", strconv.Itoa(c.AnalysisThreads)},
			setting{"numSearchThreadsPerAnalysisThread", strconv.Itoa(c.SearchThreadsPerAnalysisThread)},
			setting{"nnMaxBatchSize", strconv.Itoa(c.MaxBatchSize)})
	}
	if c.LogDir != "" {
		over = append(over, setting{"logDir", c.LogDir})
	}
	if c.Device != nil {
		d := strconv.Itoa(*c.Device)
		over = append(over, setting{"cudaDeviceToUse", d}, setting{"trtDeviceToUse", d}, setting{"openclDeviceToUse", d})
	}
	over, err := mergeSettings(over, c.Settings)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(over))
	for i, x := range over {
		if strings.Contains(x.value, ",") {
			return nil, fmt.Errorf("engine: katago setting %s = %q cannot be passed with -override-config: it holds a comma", x.key, x.value)
		}
		parts[i] = x.key + "=" + x.value
	}
	return append(args, "-override-config", strings.Join(parts, ",")), nil
}
