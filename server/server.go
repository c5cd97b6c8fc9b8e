// Package server assembles one tesuji process: the HTTP API and web UI, the queue (a
// SQLite file, or Redis when a URL is given), and local workers over local KataGo
// processes. With no Redis URL it is the whole system in one process, the embedded default.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/internal/startstop"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/worker"
)

// Config configures a server. The zero value of every field means its default.
type Config struct {
	// Addr is the listen address. Default "127.0.0.1:8080"; port 0 picks a free one.
	Addr string
	// Queue is the job queue. Default: the SQLite store in DataFile, which Start opens and
	// Stop closes (the embedded default).
	Queue queue.Queue
	// DataFile is the SQLite database of the embedded default, used when Queue is nil;
	// required then.
	DataFile string
	// Engines is how many local KataGo processes (one per GPU) run local workers. Default
	// 1 with the embedded store; with a shared queue set it to run workers beside the API.
	// -1 means none.
	Engines int
	// Engine configures each local KataGo process; Device is set per process when
	// Engines > 1.
	Engine engine.Config
	// InteractiveEngines says whether beside each local engine runs a second KataGo
	// process on the same device with the latency settings (Engine.ForInteractive) that
	// serves interactive requests (single positions, the GTP bridge, the KaTrain
	// websocket) alone, while the review engines keep the throughput settings and take
	// reviews alone. Default InteractiveAuto.
	InteractiveEngines Interactive
	// Worker configures the local worker; Engines is filled in.
	Worker worker.Config
	// API configures the HTTP API; Queue, Ready, Engines (the local engines, which the
	// KaTrain websocket uses directly) and PositionsAnalyzed are filled in.
	API api.Config
	// ShutdownGrace is how long running jobs may finish when the server stops. Default 10s.
	ShutdownGrace time.Duration
	// ReadTimeout is how long a client may take to send a request, body included (its
	// headers get 10s of it at most). Default 1 minute.
	ReadTimeout time.Duration
	// WriteTimeout is how long an answer may take to write, from the end of its request's
	// headers. Streams (events, websockets, positions waited for) lift it and give each
	// of their writes API.StreamWriteTimeout instead. Default 1 minute.
	WriteTimeout time.Duration
	// Logger receives the server's logs. Default slog.Default().
	Logger *slog.Logger
}

// Server is a running tesuji process.
type Server struct {
	cfg     Config
	log     *slog.Logger
	q       queue.Queue
	ownQ    bool
	engines []*engine.Engine // reviews, then interactive ones
	w       *worker.Worker
	api     *api.API
	http    *http.Server
	ln      net.Listener
	served  chan error

	life startstop.Lifecycle
}

// New returns a server for cfg. Start starts it.
func New(cfg Config) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = time.Minute
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, q: cfg.Queue}
	if cfg.Queue == nil && cfg.Engines == 0 {
		s.cfg.Engines = 1
	}
	return s
}

// Queue returns the server's queue (nil before Start when the server opens its own).
func (s *Server) Queue() queue.Queue { return s.q }

// Addr returns the address the server listens on, once started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Start starts the engines (waiting until each is ready), the workers and the HTTP
// server. On error everything started is stopped again.
func (s *Server) Start(ctx context.Context) (err error) {
	if _, err := s.life.Begin(ctx); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	defer func() {
		if err != nil {
			s.life.Failed()
			_ = s.Stop(context.WithoutCancel(ctx))
			return
		}
		s.life.Started()
	}()
	if s.q == nil {
		if s.cfg.DataFile == "" {
			return errors.New("server: no queue and no data file")
		}
		q, err := queue.OpenSQLite(ctx, queue.SQLiteConfig{Path: s.cfg.DataFile, Logger: s.log})
		if err != nil {
			return err
		}
		s.q, s.ownQ = q, true
		s.log.Info("reviews kept in SQLite", "file", s.cfg.DataFile)
	}
	reviews, interactive, err := StartEngines(ctx, s.cfg.Engine, max(s.cfg.Engines, 0), s.cfg.InteractiveEngines, s.log)
	s.engines = append(reviews, interactive...)
	if err != nil {
		return err
	}
	if len(s.engines) > 0 {
		wcfg := s.cfg.Worker
		wcfg.Engines, wcfg.InteractiveEngines = nil, nil
		for _, e := range reviews {
			wcfg.Engines = append(wcfg.Engines, e)
		}
		for _, e := range interactive {
			wcfg.InteractiveEngines = append(wcfg.InteractiveEngines, e)
		}
		if wcfg.Logger == nil {
			wcfg.Logger = s.log
		}
		if wcfg.ShutdownGrace == 0 {
			wcfg.ShutdownGrace = s.cfg.ShutdownGrace
		}
		if v, err := s.engines[0].Version(ctx); err == nil {
			wcfg.Info.KataGoVersion = v.Version
		}
		var gpu string
		wcfg.Info.KataGoSettings, gpu = engine.Summary(s.engines...)
		if wcfg.Info.GPU == "" {
			wcfg.Info.GPU = gpu
		}
		s.w = worker.New(s.q, wcfg)
		if err := s.w.Start(ctx); err != nil {
			return err
		}
	}

	acfg := s.cfg.API
	acfg.Queue = s.q
	if acfg.Logger == nil {
		acfg.Logger = s.log
	}
	acfg.Ready = s.ready
	for _, e := range s.engines {
		acfg.Engines = append(acfg.Engines, e)
	}
	if s.w != nil && acfg.PositionsAnalyzed == nil {
		acfg.PositionsAnalyzed = s.w.Positions
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		acfg.Loopback = true
	}
	s.api = api.New(acfg)
	s.http = &http.Server{
		Handler:           s.api.Handler(),
		ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.served = make(chan error, 1)
	s.life.Go(func() { s.served <- s.http.Serve(ln) })
	s.log.Info("tesuji listening", "addr", "http://"+ln.Addr().String(), "engines", len(reviews), "interactive_engines", len(interactive))
	return nil
}

// Interactive says when a local engine gets a second KataGo process for interactive
// requests (Config.InteractiveEngines).
type Interactive int

const (
	// InteractiveAuto runs the second process on a GPU backend, where a position searched
	// with many threads in a batch of its own ends far sooner than one thread's search
	// among a review's positions. On a CPU the two processes would only split the same
	// cores (measured: a 100-visit position while a review ran took longer than with one
	// process), so interactive requests share the engine there, KataGo's priority putting
	// them before the review's positions.
	InteractiveAuto Interactive = iota
	// InteractiveOn always runs the second process.
	InteractiveOn
	// InteractiveOff never does: one process per device serves both kinds of work.
	InteractiveOff
)

// ParseInteractive reads auto, on or off.
func ParseInteractive(s string) (Interactive, error) {
	switch s {
	case "auto", "":
		return InteractiveAuto, nil
	case "on", "true":
		return InteractiveOn, nil
	case "off", "false":
		return InteractiveOff, nil
	}
	return 0, fmt.Errorf("server: interactive engine %q: want auto, on or off", s)
}

// StartEngines starts n KataGo processes of cfg, one per device when n > 1, and, as
// interactive says, beside each one a second process on the same device with the latency
// settings (cfg.ForInteractive). It returns the engines started even on error, for the
// caller to stop. A Logger left unset in cfg logs to log with the engine's number and work.
func StartEngines(ctx context.Context, cfg engine.Config, n int, interactive Interactive, log *slog.Logger) (reviews, inter []*engine.Engine, err error) {
	start := func(c engine.Config, i int) (*engine.Engine, error) {
		if c.Logger == nil {
			c.Logger = log.With("engine", i, "work", c.Work.String())
		}
		e := engine.New(c)
		return e, e.Start(ctx)
	}
	for i := range n {
		ecfg := cfg
		if n > 1 {
			dev := i
			ecfg.Device = &dev
		}
		e, err := start(ecfg, i)
		reviews = append(reviews, e)
		if err != nil {
			return reviews, inter, err
		}
		if interactive == InteractiveOff || (interactive == InteractiveAuto && !e.Tuning().Hardware.Backend.GPU()) {
			continue
		}
		e, err = start(ecfg.ForInteractive(), i)
		inter = append(inter, e)
		if err != nil {
			return reviews, inter, err
		}
	}
	return reviews, inter, nil
}

// Err returns a channel that yields an error if the HTTP server fails after Start.
func (s *Server) Err() <-chan error { return s.served }

// ready reports whether analyses can run: the queue answers, and a local engine is ready
// (or, with no local engines, some worker is registered).
func (s *Server) ready(ctx context.Context) error {
	if _, err := s.q.Stats(ctx); err != nil {
		return fmt.Errorf("queue unreachable: %w", err)
	}
	for _, e := range s.engines {
		if e.Ready() {
			return nil
		}
	}
	if len(s.engines) > 0 {
		return errors.New("no engine is ready")
	}
	ws, err := s.q.Workers(ctx)
	if err != nil {
		return fmt.Errorf("queue unreachable: %w", err)
	}
	if len(ws) == 0 {
		return errors.New("no worker is registered")
	}
	return nil
}

// Stop stops taking requests and work, lets running jobs finish within the grace
// period, closes event streams, then stops workers, engines and the queue, in that order.
// It is idempotent and safe before Start; during a Start it waits for the Start to end.
func (s *Server) Stop(ctx context.Context) error {
	return s.life.Stop(ctx, func() error { return s.stop(ctx) })
}

func (s *Server) stop(ctx context.Context) error {
	var errs []error
	if s.w != nil {
		errs = append(errs, s.w.Stop(ctx))
	}
	if s.api != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		errs = append(errs, s.api.CloseStreams(sctx))
		cancel()
	}
	if s.http != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := s.http.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("server: http shutdown: %w", err))
			_ = s.http.Close()
		}
		cancel()
	}
	for _, e := range s.engines {
		errs = append(errs, e.Stop(ctx))
	}
	if s.ownQ {
		errs = append(errs, s.q.Close())
	}
	return errors.Join(errs...)
}
