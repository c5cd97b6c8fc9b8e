package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/server"
	"github.com/tesuji/tesuji/setup"
	"github.com/tesuji/tesuji/web"
)

// engineFlags configure local KataGo processes.
type engineFlags struct {
	katago          string
	model           string
	configFile      string
	analysisThreads int
	searchThreads   int
	batchSize       int
	readyTimeout    time.Duration
	turnTimeout     time.Duration
	katagoHome      string
	// The engines and jobs of a process that runs workers.
	interactive    string
	jobsPer        int
	interactiveJob int
}

func (f *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.katago, "katago", "", "KataGo binary (default: katago on PATH, else the one 'tesuji katago install' put in the user cache)")
	fs.StringVar(&f.model, "model", "", "KataGo network file (default: the newest network in the user cache)")
	fs.StringVar(&f.configFile, "katago-config", "", "KataGo analysis config file to use instead of the one tesuji writes")
	fs.IntVar(&f.analysisThreads, "analysis-threads", 0, "positions KataGo searches in parallel (numAnalysisThreads; default: fitted to KataGo's backend and this machine)")
	fs.IntVar(&f.searchThreads, "search-threads", 0, "search threads per position (numSearchThreadsPerAnalysisThread; default: fitted to KataGo's backend and this machine)")
	fs.IntVar(&f.batchSize, "batch-size", 0, "neural net batch size (nnMaxBatchSize; default: fitted to KataGo's backend and this machine)")
	fs.StringVar(&f.katagoHome, "katago-home", "", "KataGo's homeDataDir, where it keeps its TensorRT timing cache and OpenCL tuning (default: KataGo's, ~/.katago)")
	fs.DurationVar(&f.readyTimeout, "katago-ready-timeout", 0, "how long KataGo may take to start (default: the engine's)")
	fs.DurationVar(&f.turnTimeout, "katago-turn-timeout", 0, "KataGo showing no sign of life for this long while work waits (no output, no answer to a query_version probe) is restarted; a long search is never cut short (default: the engine's, 1m)")
}

// registerWork registers the flags of a process that runs jobs for a queue others feed
// too: serve and worker.
func (f *engineFlags) registerWork(fs *flag.FlagSet) {
	fs.StringVar(&f.interactive, "interactive-engine", "auto", "beside each KataGo process run a second one with the latency settings for interactive requests (single positions, GTP, KaTrain), reviews keeping the throughput settings: auto (on a GPU backend), on, off (one process serves both, KataGo's priority putting interactive requests first and each of their positions searching with the latency settings' threads)")
	fs.IntVar(&f.jobsPer, "jobs-per-engine", 0, "reviews run at once on each KataGo process, their positions batched together (default 2)")
	fs.IntVar(&f.interactiveJob, "interactive-jobs-per-engine", 0, "interactive jobs run at once on each interactive KataGo process (default 4)")
}

// config locates KataGo and the network and returns the engine configuration.
func (f *engineFlags) config() (engine.Config, error) {
	katago, model, err := setup.Locate(f.katago, f.model)
	if err != nil {
		return engine.Config{}, err
	}
	// Measured KataGo settings live beside the installed KataGo; without a user cache
	// directory nothing is measured.
	cacheDir, _ := setup.Dir()
	var settings map[string]string
	if f.katagoHome != "" {
		settings = map[string]string{"homeDataDir": f.katagoHome}
	}
	return engine.Config{
		Settings:                       settings,
		CacheDir:                       cacheDir,
		Path:                           katago,
		Model:                          model,
		ConfigFile:                     f.configFile,
		AnalysisThreads:                f.analysisThreads,
		SearchThreadsPerAnalysisThread: f.searchThreads,
		MaxBatchSize:                   f.batchSize,
		ReadyTimeout:                   f.readyTimeout,
		TurnTimeout:                    f.turnTimeout,
	}, nil
}

// engineLogger returns the logger of lf and the engine configuration of ef, for the
// commands that start KataGo processes themselves.
func engineLogger(lf *logFlags, ef *engineFlags, stderr io.Writer) (*slog.Logger, engine.Config, error) {
	log, err := lf.logger(stderr)
	if err != nil {
		return nil, engine.Config{}, err
	}
	ecfg, err := ef.config()
	return log, ecfg, err
}

// loopback reports whether a listen address only accepts connections from this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxBlockingPool caps the blocking client's pool, which is sized from the stream limit:
// Redis serves 10,000 clients by default.
const maxBlockingPool = 1000

// blockingPool is the pool size of the Redis client for blocking reads: a connection for
// every stream the tokens that exist at start may open (one owner in open mode).
func blockingPool(streamsPerToken, tokens int) int {
	if streamsPerToken <= 0 {
		streamsPerToken = api.DefaultStreamsPerToken
	}
	return min(streamsPerToken*max(tokens, 1), maxBlockingPool)
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "serve", "[flags]")
	var (
		lf        logFlags
		ef        engineFlags
		addr      = fs.String("addr", "127.0.0.1:8080", "listen address")
		redisURL  = fs.String("redis", "", "Redis URL (redis://, rediss://, unix://; see README for Sentinel and Cluster); empty: everything in this process, reviews kept in SQLite under --data")
		dataDir   = fs.String("data", "", "directory of the SQLite database that keeps reviews, tokens and quotas when there is no --redis (default: tesuji/ under the user data directory)")
		retention = fs.Duration("retention", 0, "how long finished reviews are kept (default: until deleted with the SQLite store, 720h with --redis)")
		ownerJobs = fs.Int("max-stored-jobs", queue.DefaultMaxOwnerJobs, "most reviews one token (or the open API) may keep stored; -1: no limit")
		ownerSize = fs.Int64("max-stored-bytes", queue.DefaultMaxOwnerBytes, "most bytes of games and results one token (or the open API) may keep stored; -1: no limit")
		engines   = fs.Int("engines", 0, "local KataGo processes, one per GPU (default 1 without --redis, 0 with it)")
		visits    = fs.Int("visits", 500, "visits per position when a request names none")
		maxVisits = fs.Int("max-visits", 100000, "most visits per position a request may ask for")
		ponder    = fs.Duration("ponder-time", 0, "longest search of an open-ended interactive analysis (KaTrain's pondering, a GTP analysis) that asks for more than --max-visits (0: until the client stops it)")
		maxUpload = fs.Int64("max-upload", 1<<20, "largest SGF upload in bytes")
		maxMoves  = fs.Int("max-moves", 1000, "longest game accepted, in moves")
		grace     = fs.Duration("shutdown-grace", 10*time.Second, "how long running jobs may finish on shutdown")
		webDir    = fs.String("web-dir", "", "serve the web UI from this directory (web/dist while 'node build.mjs --watch' rebuilds it) instead of the built-in one")
		open      = fs.Bool("open", false, "serve /api/v1 without API tokens even on an address beyond loopback (by default tokens are required there)")
		tokens    = fs.Bool("tokens", false, "require API tokens even on a loopback address")
		quota     = fs.Int("positions-per-hour", 0, "with tokens: each token's quota of analyzed positions per hour (0: none)")
		jobsPer   = fs.Int("jobs-per-token", 16, "with tokens: analyses one token may have queued or running at once (0: no limit)")
		streams   = fs.Int("streams-per-token", api.DefaultStreamsPerToken, "event streams, websockets and positions one token (without tokens: all clients together) may have open at once")
	)
	lf.register(fs)
	ef.register(fs)
	ef.registerWork(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	interactive, err := server.ParseInteractive(ef.interactive)
	if err != nil {
		return err
	}
	cfg := server.Config{
		Addr:               *addr,
		Engines:            *engines,
		InteractiveEngines: interactive,
		ShutdownGrace:      *grace,
		Logger:             log,
	}
	cfg.Worker.JobsPerEngine = ef.jobsPer
	cfg.Worker.InteractiveJobsPerEngine = ef.interactiveJob
	cfg.API.Web = web.Handler()
	if *webDir != "" {
		cfg.API.Web = web.NewHandler(os.DirFS(*webDir))
	} else if !web.Built() {
		log.Warn("this binary has no web UI; build it with 'make build'")
	}
	cfg.API.DefaultVisits = *visits
	cfg.API.MaxVisits = *maxVisits
	cfg.API.PonderTime = *ponder
	cfg.API.MaxUploadBytes = *maxUpload
	cfg.API.MaxMoves = *maxMoves
	requireTokens := *tokens || (!*open && !loopback(*addr))
	if *open && *tokens {
		return fmt.Errorf("--open and --tokens contradict each other")
	}
	cfg.API.StreamsPerToken = *streams
	var client redis.UniversalClient
	if *redisURL != "" {
		if client, err = queue.OpenRedis(*redisURL); err != nil {
			return err
		}
		if requireTokens {
			cfg.API.Tokens = api.NewRedisTokens(client, "")
			cfg.API.Limits = api.NewRedisLimits(client, "")
		}
	} else {
		path, err := dataFile(*dataDir, e.getenv)
		if err != nil {
			return err
		}
		q, err := queue.OpenSQLite(ctx, queue.SQLiteConfig{Path: path, Retention: *retention,
			MaxOwnerJobs: *ownerJobs, MaxOwnerBytes: *ownerSize, Logger: log})
		if err != nil {
			return err
		}
		defer q.Close()
		log.Info("reviews kept in SQLite", "file", path)
		cfg.Queue = q
		if cfg.Engines == 0 {
			cfg.Engines = 1
		}
		cfg.API.Limits = api.NewSQLiteLimits(q.DB())
		if requireTokens {
			cfg.API.Tokens = api.NewSQLiteTokens(q.DB())
		}
	}
	live := 0
	if requireTokens {
		cfg.API.PositionsPerHour = *quota
		cfg.API.JobsPerToken = *jobsPer
		list, err := cfg.API.Tokens.List(ctx)
		if err != nil {
			return fmt.Errorf("read API tokens: %w", err)
		}
		for _, t := range list {
			if !t.Revoked() {
				live++
			}
		}
		log.Info("API tokens required", "tokens", live, "positions_per_hour", *quota, "jobs_per_token", *jobsPer)
		if live == 0 {
			log.Warn("no API token exists yet, so every /api/v1 request will be refused; create one with 'tesuji token create --name NAME'")
		}
	} else {
		log.Info("API open: no tokens required, every client may use it", "addr", *addr,
			"why", map[bool]string{true: "--open", false: "loopback address"}[*open])
	}
	if client != nil {
		// Streams block in XREAD on a pool of their own, so that token checks and queue
		// calls never wait behind them.
		blocking, err := queue.OpenRedis(*redisURL, queue.RedisPoolSize(blockingPool(*streams, live)))
		if err != nil {
			return err
		}
		defer blocking.Close()
		q := queue.NewRedis(client, queue.RedisConfig{Blocking: blocking, Retention: *retention,
			MaxOwnerJobs: *ownerJobs, MaxOwnerBytes: *ownerSize})
		defer q.Close()
		cfg.Queue = q
		if cfg.Engines == 0 {
			cfg.Engines = -1
		}
	}
	if cfg.Engines >= 0 {
		ecfg, err := ef.config()
		if err != nil {
			return err
		}
		ecfg.Logger = log
		cfg.Engine = ecfg
	}
	s := server.New(cfg)
	if err := s.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "tesuji: serving on http://%s\n", s.Addr())
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-s.Err():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), *grace+15*time.Second)
	defer cancel()
	if err := s.Stop(stopCtx); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
