// Package api owns tesuji's HTTP interface: the REST endpoints for analyses, the
// Server-Sent Events streams of their progress, health and readiness, and the one
// function that maps errors to HTTP answers. It talks to workers only through the queue.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/queue"
)

// Config configures the API. The zero value of every field means its default.
type Config struct {
	// Queue is where jobs go. Required.
	Queue queue.Queue
	// MaxUploadBytes limits an SGF upload. Default 1 MiB.
	MaxUploadBytes int64
	// DefaultVisits is the visits per position when a request names none. Default 500.
	DefaultVisits int
	// MaxVisits is the most visits per position a request may ask for. Default 100000.
	MaxVisits int
	// MaxMoves is the longest game accepted. Default 1000.
	MaxMoves int
	// KeepAlive is the interval of SSE keep-alive comments. Default 15s.
	KeepAlive time.Duration
	// Ready reports whether the service can analyze (queue reachable, an engine ready);
	// /readyz answers 503 with its error. Default: the queue answers Stats.
	Ready func(ctx context.Context) error
	// Web serves the browser UI for every path outside /api, /healthz, /readyz and
	// /metrics. Default: none (404).
	Web http.Handler
	// Logger receives request logs. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 1 << 20
	}
	if c.DefaultVisits <= 0 {
		c.DefaultVisits = 500
	}
	if c.MaxVisits <= 0 {
		c.MaxVisits = 100000
	}
	if c.MaxMoves <= 0 {
		c.MaxMoves = 1000
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// API is the HTTP interface. Handler serves it; CloseStreams ends its long-lived streams,
// which http.Server.Shutdown does not wait for.
type API struct {
	cfg    Config
	q      queue.Queue
	log    *slog.Logger
	router *gin.Engine

	closeOnce sync.Once
	closing   chan struct{}
	streams   sync.WaitGroup
}

const requestIDKey = "request_id"

// New builds the API over cfg.Queue.
func New(cfg Config) *API {
	cfg.setDefaults()
	a := &API{cfg: cfg, q: cfg.Queue, log: cfg.Logger, closing: make(chan struct{})}
	if a.cfg.Ready == nil {
		a.cfg.Ready = func(ctx context.Context) error {
			_, err := a.q.Stats(ctx)
			return err
		}
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(a.requestID, a.recoverer, a.accessLog)
	r.NoRoute(a.noRoute)
	r.NoMethod(func(c *gin.Context) {
		a.writeError(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: c.Request.Method + " is not allowed here"})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.readyz)

	v1 := r.Group("/api/v1")
	v1.POST("/analyses", a.createAnalysis)
	v1.GET("/analyses/:id", a.getAnalysis)
	v1.DELETE("/analyses/:id", a.cancelAnalysis)
	v1.GET("/analyses/:id/events", a.analysisEvents)
	v1.GET("/analyses/:id/sgf", a.analysisSGF)
	v1.POST("/positions", a.createPosition)
	v1.GET("/workers", a.listWorkers)
	a.router = r
	return a
}

// Handler returns the HTTP handler.
func (a *API) Handler() http.Handler { return a.router }

// CloseStreams ends every open event stream and waits for them, or for ctx. Call it when
// the server shuts down.
func (a *API) CloseStreams(ctx context.Context) error {
	a.closeOnce.Do(func() { close(a.closing) })
	done := make(chan struct{})
	go func() {
		a.streams.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *API) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if a.cfg.Web != nil && !isAPIPath(p) {
		a.cfg.Web.ServeHTTP(c.Writer, c.Request)
		return
	}
	a.writeError(c, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no route " + p})
}

func isAPIPath(p string) bool {
	for _, prefix := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
		if len(p) >= len(prefix) && p[:len(prefix)] == prefix {
			return true
		}
	}
	return p == "/api"
}

func (a *API) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := a.cfg.Ready(ctx); err != nil {
		a.log.Warn("not ready", "err", err)
		a.writeError(c, &Error{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

func (a *API) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// recoverer turns a panic in a handler into a 500 answer and a log line with the stack,
// so one bad request never takes the server down.
func (a *API) recoverer(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			a.log.Error("handler panic", "panic", r, "route", c.FullPath(), "request_id", c.GetString(requestIDKey))
			if !c.Writer.Written() {
				a.writeError(c, &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"})
			}
		}
	}()
	c.Next()
}

func (a *API) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	a.log.Debug("request", "method", c.Request.Method, "route", c.FullPath(), "status", c.Writer.Status(),
		"elapsed", time.Since(start), "request_id", c.GetString(requestIDKey))
}

func (a *API) listWorkers(c *gin.Context) {
	ws, err := a.q.Workers(c.Request.Context())
	if err != nil {
		a.writeError(c, err)
		return
	}
	if ws == nil {
		ws = []queue.WorkerInfo{}
	}
	c.JSON(http.StatusOK, gin.H{"workers": ws})
}
