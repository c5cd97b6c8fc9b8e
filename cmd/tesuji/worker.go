package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/worker"
)

func runWorker(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "worker", "--redis URL [flags]")
	var (
		lf       logFlags
		ef       engineFlags
		redisURL = fs.String("redis", "", "Redis URL the API server uses (required)")
		gpus     = fs.Int("gpus", 1, "KataGo processes to run, one per GPU")
		perEng   = fs.Int("jobs-per-engine", 0, "jobs run at once on each KataGo process (default 2)")
		lease    = fs.Duration("lease", 0, "job lease; a worker silent this long loses its jobs (default 15s)")
		grace    = fs.Duration("shutdown-grace", 30*time.Second, "on SIGTERM, how long running jobs may finish before they are handed back")
		id       = fs.String("id", "", "worker id in the registry (default: host name, pid and a random suffix)")
	)
	lf.register(fs)
	ef.register(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	if *redisURL == "" {
		return errors.New("worker: --redis (TESUJI_REDIS) is required: the Redis URL the API server uses")
	}
	if *gpus < 1 {
		return fmt.Errorf("worker: --gpus must be at least 1, not %d", *gpus)
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	ecfg, err := ef.config()
	if err != nil {
		return err
	}
	client, err := queue.OpenRedis(*redisURL)
	if err != nil {
		return err
	}
	q := queue.NewRedis(client, queue.RedisConfig{})
	defer q.Close()

	var engines []*engine.Engine
	defer func() {
		for _, en := range engines {
			_ = en.Stop(context.Background())
		}
	}()
	wcfg := worker.Config{ID: *id, JobsPerEngine: *perEng, LeaseTTL: *lease, ShutdownGrace: *grace, Logger: log}
	for i := range *gpus {
		c := ecfg
		c.Logger = log.With("engine", i)
		if *gpus > 1 {
			dev := i
			c.Device = &dev
		}
		en := engine.New(c)
		if err := en.Start(ctx); err != nil {
			return err
		}
		engines = append(engines, en)
		wcfg.Engines = append(wcfg.Engines, en)
	}
	if v, err := engines[0].Version(ctx); err == nil {
		wcfg.Info.KataGoVersion = v.Version
	}
	wcfg.Info.Model = ecfg.Model
	w := worker.New(q, wcfg)
	if err := w.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), *grace+15*time.Second)
	defer cancel()
	return w.Stop(stopCtx)
}
