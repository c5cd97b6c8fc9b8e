// Package api owns tesuji's HTTP interface: the REST endpoints for analyses and single
// positions, the Server-Sent Events streams of their progress, the KataGo-protocol
// websocket that KaTrain uses as a remote engine, API tokens and per-token limits, the
// OpenAPI document, Prometheus metrics, health and readiness, and the one function that
// maps errors to HTTP answers. It talks to workers through the queue; only the websocket
// may also use this process's own engines directly (see katago.go).
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

	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
)

// Config configures the API. The zero value of every field means its default.
type Config struct {
	// Queue is where jobs go. Required.
	Queue queue.Queue
	// MaxUploadBytes limits an SGF upload, a position request and a websocket message.
	// Default 1 MiB.
	MaxUploadBytes int64
	// MaxBatchBytes limits an upload of several games (multipart with several files, or a
	// zip) and what a zip unpacks to. Default 16 MiB.
	MaxBatchBytes int64
	// MaxBatchGames is the most games one batch may hold. Default 100.
	MaxBatchGames int
	// DefaultVisits is the visits per position when a request names none. Default 500.
	DefaultVisits int
	// MaxVisits is the most visits per position a review or a single result may ask for;
	// more is a 400 (the websocket caps the query instead, with a warning). It does not
	// hold an interactive pondering request, which runs until its client stops it: a
	// streamed position or a websocket query with reportDuringSearchEvery asking for more
	// (KaTrain ponders with ten million visits). Default 100000.
	MaxVisits int
	// PonderTime caps the search time of a pondering request. Default 0: none, the search
	// runs until its client stops it.
	PonderTime time.Duration
	// MaxMoves is the longest game accepted. Default 1000.
	MaxMoves int
	// KeepAlive is the interval of SSE keep-alive comments and websocket pings. Default 15s.
	KeepAlive time.Duration
	// Ready reports whether the service can analyze (queue reachable, an engine ready);
	// /readyz answers 503 with its error. Default: the queue answers Stats.
	Ready func(ctx context.Context) error
	// Web serves the browser UI for every path outside /api, /healthz, /readyz and
	// /metrics. Default: none (404).
	Web http.Handler
	// Logger receives request logs. Default slog.Default().
	Logger *slog.Logger

	// Tokens checks the API tokens of /api/v1 requests, and a job belongs to the token
	// that made it. Default nil: open mode, every request is served and every job belongs
	// to the empty owner.
	Tokens TokenStore
	// Loopback says the server listens on loopback addresses only. In open mode it then
	// refuses what a web page of another site could send through the user's browser: a
	// Host that does not name this machine (DNS rebinding), and a request that changes
	// state or opens the websocket from another origin (see guardOpenMode). Default false;
	// server.Server sets it from its listener.
	Loopback bool
	// PositionsPerHour is each token's quota of positions over any hour (a review charges
	// one per turn, a single position one, a websocket query one per turn it analyzes).
	// Over it a request gets 429 with Retry-After. Default 0: no quota.
	PositionsPerHour int
	// JobsPerToken is how many jobs a token may have queued or running at once, counting
	// the jobs of websocket turns on a server without engines; over it a submission gets
	// 429 and websocket turns wait their turn. Default 0: no limit.
	JobsPerToken int
	// Limits keeps the usage behind PositionsPerHour and JobsPerToken. Default: the
	// database of the queue when it is the SQLite store (NewSQLiteLimits); with Redis use
	// NewRedisLimits so that several API servers agree. Another queue with either limit
	// set needs one.
	Limits LimitStore
	// Engines are KataGo engines running in this process. When there are any, the
	// websocket sends its queries to them directly (to those with the latency settings,
	// whose Work method says engine.WorkInteractive, while one is ready): every KataGo
	// query field works and a terminate stops the search at once. Without, queries go
	// through the queue as interactive jobs. Default none.
	Engines []Engine
	// StreamWriteTimeout is how long one write of a stream (an event, a keep-alive, a
	// position's answer) may take. A client that reads nothing for so long is taken as
	// stalled and dropped, rather than buffered for. Default 30s.
	StreamWriteTimeout time.Duration
	// StreamsPerToken is how many long-lived requests one token (in open mode, everyone
	// together) may have open in this process at once: event streams, KataGo websockets,
	// and positions, streamed or waited for. One more is answered 429 too_many_streams.
	// Each holds a blocking read of the queue, so with Redis give the queue a blocking
	// client of its own sized from this (see queue.RedisConfig.Blocking). Default 32.
	StreamsPerToken int
	// SocketQueries is, on a server without engines, how many turns of one websocket
	// connection are in the queue at once; the others wait, highest priority first. With
	// engines every turn goes to KataGo at once, which orders them itself. Default 64.
	SocketQueries int
	// PositionsAnalyzed reports how many positions this process's workers have analyzed,
	// for /metrics. Default: none counted but the websocket's own.
	PositionsAnalyzed func() int64
}

// DefaultStreamsPerToken is Config.StreamsPerToken's default.
const DefaultStreamsPerToken = 32

// Engine is one KataGo analysis process of this process; *engine.Engine implements it.
type Engine interface {
	Analyze(ctx context.Context, q *katago.Query, fn func(*katago.Response) error) error
	Version(ctx context.Context) (katago.Version, error)
	Models(ctx context.Context) ([]katago.ModelInfo, error)
	Ready() bool
	InFlight() int
	Restarts() int64
}

func (c *Config) setDefaults() {
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 1 << 20
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = 16 << 20
	}
	if c.MaxBatchGames <= 0 {
		c.MaxBatchGames = 100
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
	if sq, ok := c.Queue.(*queue.SQLite); ok && c.Limits == nil {
		c.Limits = NewSQLiteLimits(sq.DB())
	}
	if c.Limits == nil && (c.PositionsPerHour > 0 || c.JobsPerToken > 0) {
		panic("api: PositionsPerHour or JobsPerToken without a LimitStore")
	}
	if c.SocketQueries <= 0 {
		c.SocketQueries = 64
	}
	if c.StreamWriteTimeout <= 0 {
		c.StreamWriteTimeout = 30 * time.Second
	}
	if c.StreamsPerToken <= 0 {
		c.StreamsPerToken = DefaultStreamsPerToken
	}
}

// API is the HTTP interface. Handler serves it; CloseStreams ends its long-lived streams
// (SSE and websockets), which http.Server.Shutdown does not wait for.
type API struct {
	cfg     Config
	q       queue.Queue
	log     *slog.Logger
	router  *gin.Engine
	limits  LimitStore
	metrics *metrics

	streamSlots *streamSlots

	streamMu sync.Mutex // orders beginStream against CloseStreams
	closed   bool
	closing  chan struct{}
	streams  sync.WaitGroup
}

// Keys of values handlers share through the gin context.
const (
	requestIDKey = "request_id"
	loggerKey    = "logger"
	streamKey    = "stream" // set by handlers that stream, so their time is not a latency
)

// New builds the API over cfg.Queue.
func New(cfg Config) *API {
	cfg.setDefaults()
	a := &API{cfg: cfg, q: cfg.Queue, log: cfg.Logger, limits: cfg.Limits, closing: make(chan struct{}),
		streamSlots: newStreamSlots(cfg.StreamsPerToken)}
	if a.cfg.Ready == nil {
		a.cfg.Ready = func(ctx context.Context) error {
			_, err := a.q.Stats(ctx)
			return err
		}
	}
	a.metrics = newMetrics(a)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(a.requestID, a.metrics.observe, a.recoverer, a.accessLog, a.guardOpenMode)
	r.NoRoute(a.noRoute)
	r.NoMethod(func(c *gin.Context) {
		a.writeError(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
			Message: c.Request.Method + " is not allowed here"})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.readyz)
	r.GET("/metrics", a.metrics.handler())

	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", a.openAPI)
	v1.GET("/info", a.info)
	authed := v1.Group("", a.authenticate)
	authed.POST("/analyses", a.createAnalysis)
	authed.GET("/analyses/:id", a.getAnalysis)
	authed.GET("/analyses", a.listAnalyses)
	authed.DELETE("/analyses/:id", a.deleteAnalysis)
	authed.GET("/analyses/:id/events", a.analysisEvents)
	authed.GET("/analyses/:id/sgf", a.analysisSGF)
	authed.GET("/analyses/:id/variations", a.getVariations)
	authed.PUT("/analyses/:id/variations", a.putVariations)
	authed.POST("/positions", a.createPosition)
	authed.GET("/katago", a.katagoSocket)
	authed.GET("/workers", a.requireScope(ScopeOperator), a.listWorkers)
	authed.GET("/models", a.listModels)
	// The name is the rest of the path: a pair's names joined by a slash ("Cho U/Iyama
	// Yuta", sent as %2F) are one name.
	authed.GET("/players/*name", a.getPlayer)
	a.router = r
	return a
}

// Handler returns the HTTP handler.
func (a *API) Handler() http.Handler { return a.router }

// CloseStreams ends every open event stream and websocket and waits for them, or for
// ctx. Call it when the server shuts down, before http.Server.Shutdown. It is idempotent.
func (a *API) CloseStreams(ctx context.Context) error {
	a.streamMu.Lock()
	if !a.closed {
		a.closed = true
		close(a.closing)
	}
	a.streamMu.Unlock()
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

// beginStream registers a long-lived stream with CloseStreams; false once the API is
// shutting down. The caller calls a.streams.Done when the stream ends.
func (a *API) beginStream() bool {
	a.streamMu.Lock()
	defer a.streamMu.Unlock()
	if a.closed {
		return false
	}
	a.streams.Add(1)
	return true
}

var errShuttingDown = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
	Message: "the server is shutting down; try again shortly", RetryAfter: 5 * time.Second}

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
		a.reqLog(c).Warn("not ready", "err", err)
		a.writeError(c, &Error{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// requestID gives every request an id: the client's X-Request-Id when it sent a
// reasonable one, else a fresh one. The answer carries it, and so does every log line
// of the request, through the logger reqLog returns.
func (a *API) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 || !printable(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Set(loggerKey, a.log.With("request_id", id))
	c.Header("X-Request-Id", id)
	c.Next()
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// reqLog returns the logger of the request: the API's, with its request id (and token id).
func (a *API) reqLog(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(loggerKey); ok {
		return l.(*slog.Logger)
	}
	return a.log
}

// recoverer turns a panic in a handler into a 500 answer and a log line with the stack,
// so one bad request never takes the server down.
func (a *API) recoverer(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			a.reqLog(c).Error("handler panic", "panic", r, "route", c.FullPath())
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
	a.reqLog(c).Debug("request", "method", c.Request.Method, "route", c.FullPath(), "status", c.Writer.Status(),
		"elapsed", time.Since(start))
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
