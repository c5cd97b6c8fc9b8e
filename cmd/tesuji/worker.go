package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/fleet"
	"github.com/tesuji/tesuji/fleet/envfile"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/server"
	"github.com/tesuji/tesuji/spot"
	"github.com/tesuji/tesuji/worker"
)

func runWorker(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "worker", "--redis URL [flags]")
	var (
		lf       logFlags
		ef       engineFlags
		redisURL = fs.String("redis", "", "Redis URL the API server uses (required)")
		gpus     = fs.Int("gpus", 0, "KataGo processes to run, one per GPU (default: on a GPU backend, one per GPU nvidia-smi lists; else 1)")
		lease    = fs.Duration("lease", 0, "job lease; a worker silent this long loses its jobs (default 15s)")
		grace    = fs.Duration("shutdown-grace", 30*time.Second, "on SIGTERM, how long running jobs may finish before they are handed back")
		id       = fs.String("id", "", "worker id in the registry (default: host name, pid and a random suffix)")
		ssmParam = fs.String("ssm-parameter", "", "read secret settings (TESUJI_REDIS=...) from this SSM SecureString parameter, as env-file lines under the real environment and flags")
		spotMode = fs.String("spot", "auto", "watch for EC2 spot interruption notices: auto (when the instance metadata service answers), on, off")
		spotIvl  = fs.Duration("spot-interval", spot.DefaultInterval, "how often to poll the instance metadata service")
		rebal    = fs.Bool("rebalance", false, "treat EC2 rebalance recommendations like interruption notices")
	)
	lf.register(fs)
	ef.register(fs)
	ef.registerWork(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	if *ssmParam != "" {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("worker: aws config for --ssm-parameter: %w", err)
		}
		settings, err := fleet.LoadSettings(ctx, awsCfg, *ssmParam)
		if err != nil {
			return err
		}
		if err := e.applyEnv(fs, envfile.Getenv(e.getenv, settings)); err != nil {
			return fmt.Errorf("worker: settings from %s: %w", *ssmParam, err)
		}
	}
	if *redisURL == "" {
		return errors.New("worker: --redis (TESUJI_REDIS) is required: the Redis URL the API server uses")
	}
	if *gpus < 0 {
		return fmt.Errorf("worker: --gpus %d: want 0 (one per GPU) or more", *gpus)
	}
	log, ecfg, err := engineLogger(&lf, &ef, e.stderr)
	if err != nil {
		return err
	}
	n := engineCount(ctx, &ecfg, *gpus)
	client, err := queue.OpenRedis(*redisURL)
	if err != nil {
		return err
	}
	q := queue.NewRedis(client, queue.RedisConfig{})
	defer q.Close()

	wcfg := worker.Config{ID: *id, JobsPerEngine: ef.jobsPer, InteractiveJobsPerEngine: ef.interactiveJob,
		LeaseTTL: *lease, ShutdownGrace: *grace, Logger: log}
	mode, err := server.ParseInteractive(ef.interactive)
	if err != nil {
		return err
	}
	reviews, interactive, err := server.StartEngines(ctx, ecfg, n, mode, log)
	engines := append(reviews, interactive...)
	defer func() {
		for _, en := range engines {
			_ = en.Stop(context.Background())
		}
	}()
	if err != nil {
		return err
	}
	for _, en := range reviews {
		wcfg.Engines = append(wcfg.Engines, en)
	}
	for _, en := range interactive {
		wcfg.InteractiveEngines = append(wcfg.InteractiveEngines, en)
	}
	if v, err := engines[0].Version(ctx); err == nil {
		wcfg.Info.KataGoVersion = v.Version
	}
	var gpu string
	wcfg.Info.KataGoSettings, gpu = engine.Summary(engines...)
	if wcfg.Info.GPU == "" {
		wcfg.Info.GPU = gpu
	}
	wcfg.Info.Model = ecfg.Model

	var watcher *spot.Watcher
	if *spotMode != "off" {
		if *spotMode != "on" && *spotMode != "auto" {
			return fmt.Errorf("worker: --spot %q: want auto, on or off", *spotMode)
		}
		watcher = spot.New(spot.Config{Interval: *spotIvl, Rebalance: *rebal}, log)
		ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
		instance, err := watcher.InstanceID(ictx)
		cancel()
		switch {
		case err == nil:
			wcfg.Info.InstanceID = instance
		case *spotMode == "on":
			return fmt.Errorf("worker: --spot on, but the instance metadata service does not answer: %w", err)
		default:
			log.Info("not on EC2: spot notices are not watched", "err", err)
			watcher = nil
		}
	}

	w := worker.New(q, wcfg)
	if err := w.Start(ctx); err != nil {
		return err
	}
	var notices <-chan struct{}
	if watcher != nil {
		if err := watcher.Start(ctx); err != nil {
			_ = w.Stop(context.Background())
			return err
		}
		defer watcher.Stop(context.Background())
		notices = watcher.Done()
	}
	select {
	case <-ctx.Done():
	case <-notices:
		// The instance is going away (an interruption notice) or may soon (a rebalance
		// recommendation, with --rebalance): hand every job back now, finished turns
		// kept, no attempt counted, and exit 0 so systemd does not restart the worker.
		// EC2 terminates the instance after an interruption notice; after a rebalance
		// recommendation `tesuji fleet` replaces it once its worker has been gone for the
		// fleet's restart grace.
		n, _ := watcher.Notice()
		log.Warn("spot notice: handing jobs back", "kind", n.Kind, "action", n.Action, "at", n.Time)
		ictx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return w.Interrupt(ictx, fmt.Errorf("%w: %w", worker.ErrSpotInterruption, n))
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), *grace+15*time.Second)
	defer cancel()
	return w.Stop(stopCtx)
}

// engineCount is how many KataGo processes a worker runs: gpus when given (above 0), else
// one per GPU that nvidia-smi lists when KataGo's backend runs on a GPU, else 1. It keeps
// what it learned of the machine in cfg.Hardware, so the engines do not ask again.
func engineCount(ctx context.Context, cfg *engine.Config, gpus int) int {
	if gpus > 0 {
		return gpus
	}
	h, err := engine.DetectHardware(ctx, *cfg)
	if err != nil {
		// The engine's start says what is wrong with the binary.
		return 1
	}
	cfg.Hardware = &h
	if h.Backend.GPU() && len(h.GPUs) > 0 {
		return len(h.GPUs)
	}
	return 1
}
