package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tesuji/tesuji/internal/startstop"
	"github.com/tesuji/tesuji/katago"
)

// Engine drives one katago analysis process (one per GPU) for many concurrent callers.
// It is safe for concurrent use. Create it with New, then Start; Stop ends it.
type Engine struct {
	cfg Config
	set Fitted // the thread settings Config set itself; zero fields are fitted
	log *slog.Logger

	ids      atomic.Uint64
	restarts atomic.Int64

	life startstop.Lifecycle // Start, Stop and the supervisor

	mu         sync.Mutex
	proc       *process      // the ready process; nil while none is
	startErr   error         // why the last restart failed; nil once a process is ready
	changed    chan struct{} // closed and replaced whenever proc, a failed Start or startErr changes
	tmpDir     string
	configPath string
	tuning     Tuning
}

// New returns an engine for cfg; nothing runs until Start.
func New(cfg Config) *Engine {
	set := cfg.setThreads()
	cfg = cfg.withDefaults()
	return &Engine{
		cfg:     cfg,
		set:     set,
		log:     cfg.Logger,
		changed: make(chan struct{}),
	}
}

// broadcast wakes everyone waiting for a change. Callers hold e.mu.
func (e *Engine) broadcast() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *Engine) isStopping() bool {
	select {
	case <-e.life.Stopping():
		return true
	default:
		return false
	}
}

// Start writes KataGo's config, starts katago analysis and waits for its ready line. After
// Start returns nil, the engine restarts KataGo by itself whenever it dies, until Stop.
// A failed Start may be retried.
func (e *Engine) Start(ctx context.Context) error {
	if _, err := e.life.Begin(context.Background()); err != nil {
		if errors.Is(err, startstop.ErrStopped) {
			return fmt.Errorf("%w: start after stop", ErrNotRunning)
		}
		return fmt.Errorf("engine: %w", err)
	}

	// A Stop while KataGo starts, or while its settings are measured on first start,
	// ends the start rather than waiting for it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-e.life.Stopping():
			cancel()
		case <-ctx.Done():
		}
	}()
	p, err := e.firstStart(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.isStopping() {
		if err == nil {
			p.kill()
			<-p.done
		}
		err = fmt.Errorf("%w: stopped while starting", ErrNotRunning)
	}
	if err != nil {
		e.removeTmp()
		e.life.Failed()
		e.broadcast()
		return err
	}
	e.proc = p
	e.broadcast()
	e.life.Go(func() { e.supervise(p) })
	e.life.Started()
	return nil
}

func (e *Engine) firstStart(ctx context.Context) (*process, error) {
	if e.cfg.Model == "" {
		return nil, errors.New("engine: start katago: Config.Model is required")
	}
	e.tune(ctx)
	if err := e.writeConfig(); err != nil {
		return nil, err
	}
	return e.launch(ctx)
}

// writeConfig writes the generated KataGo config, or points at Config.ConfigFile.
func (e *Engine) writeConfig() error {
	if e.cfg.ConfigFile != "" {
		e.configPath = e.cfg.ConfigFile
		return nil
	}
	s, err := e.cfg.settings()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(e.cfg.logDir(), 0o755); err != nil {
		return fmt.Errorf("engine: katago log dir: %w", err)
	}
	dir, err := os.MkdirTemp("", "tesuji-katago-*")
	if err != nil {
		return fmt.Errorf("engine: katago config: %w", err)
	}
	path := filepath.Join(dir, "analysis.cfg")
	if err := os.WriteFile(path, []byte(configText(s)), 0o644); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("engine: katago config: %w", err)
	}
	e.tmpDir, e.configPath = dir, path
	return nil
}

// removeTmp deletes the generated config. Callers hold e.mu or own the engine.
func (e *Engine) removeTmp() {
	if e.tmpDir != "" {
		os.RemoveAll(e.tmpDir)
		e.tmpDir = ""
	}
}

// supervise restarts KataGo whenever it dies, with backoff, until Stop.
func (e *Engine) supervise(p *process) {
	stopping := e.life.Stopping()
	backoff := e.cfg.RestartBackoffMin
	for {
		select {
		case <-p.done:
		case <-stopping:
			return // Stop shuts the process down
		}
		p.mu.Lock()
		ran := time.Since(p.readyAt)
		p.mu.Unlock()
		if ran >= stableAfter {
			backoff = e.cfg.RestartBackoffMin
		}
		for {
			e.log.Warn("engine: restarting katago", "after", backoff, "restarts", e.restarts.Load())
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-stopping:
				t.Stop()
				return
			}
			backoff = min(backoff*2, e.cfg.RestartBackoffMax)
			np, err := e.launch(context.Background())
			e.mu.Lock()
			if err != nil {
				e.startErr = err
				e.broadcast()
				e.mu.Unlock()
				e.log.Error("engine: restart katago", "err", err)
				continue
			}
			if e.isStopping() {
				e.mu.Unlock()
				np.kill()
				<-np.done
				return
			}
			e.restarts.Add(1)
			e.proc, e.startErr, p = np, nil, np
			e.broadcast()
			e.mu.Unlock()
			break
		}
	}
}

// processGone takes p out of service so new queries wait for its successor.
func (e *Engine) processGone(p *process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.proc == p {
		e.proc = nil
		e.broadcast()
	}
}

// Stop closes KataGo's stdin, so it finishes the queries it has and exits, and waits for
// that until ctx is done; then it signals KataGo and kills it after Config.KillDelay.
// Queries still in flight then fail with ErrNotRunning. Stop is idempotent and safe
// before Start.
func (e *Engine) Stop(ctx context.Context) error {
	return e.life.Stop(ctx, func() error {
		e.mu.Lock()
		p := e.proc
		e.proc = nil
		e.broadcast()
		e.mu.Unlock()

		var err error
		if p != nil {
			err = p.shutdown(ctx)
		}
		<-e.life.Done()
		e.mu.Lock()
		e.removeTmp()
		e.mu.Unlock()
		return err
	})
}

// Ready reports whether a KataGo process is running and ready for queries.
func (e *Engine) Ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.proc != nil
}

// Restarts returns how many times KataGo has been started again after dying or hanging.
func (e *Engine) Restarts() int64 { return e.restarts.Load() }

// Work returns the kind of work the engine's settings are for (Config.Work).
func (e *Engine) Work() Work { return e.cfg.Work }

// InFlight returns how many queries the running process still owes responses, including
// queries whose callers gave up and that KataGo is winding down after a terminate.
func (e *Engine) InFlight() int {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p == nil {
		return 0
	}
	return p.inFlight()
}

// waitProcess returns the ready process, waiting through a restart.
func (e *Engine) waitProcess(ctx context.Context) (*process, error) {
	for {
		e.mu.Lock()
		switch st := e.life.State(); {
		case st == startstop.Stopped:
			e.mu.Unlock()
			return nil, fmt.Errorf("%w: the engine is stopped", ErrNotRunning)
		case st == startstop.Idle:
			e.mu.Unlock()
			return nil, fmt.Errorf("%w: the engine is not started", ErrNotRunning)
		case e.proc != nil:
			p := e.proc
			e.mu.Unlock()
			return p, nil
		case e.startErr != nil:
			err := e.startErr
			e.mu.Unlock()
			return nil, fmt.Errorf("%w: restarting katago failed: %w", ErrNotRunning, err)
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

func (e *Engine) newID(prefix byte) string {
	return string(strconv.AppendUint([]byte{prefix}, e.ids.Add(1), 10))
}

// Analyze sends q to KataGo (under an id the engine assigns; q itself is not modified)
// and calls fn, in the caller's goroutine, for every response line of that query in
// arrival order: partial reports (Response.Partial), warnings (Response.Warning set), and
// exactly one final result per requested turn (Response.Final; NoResults set for a turn
// terminated before its search began). Finals arrive in KataGo's order, not turn order.
//
// Analyze returns nil once every requested turn has its final result; fn's error or
// ctx's cause, after sending KataGo a terminate for the query; a *QueryError (permanent)
// when KataGo rejects the query; or an error matching ErrTransient when KataGo died, hung
// or is not running. A caller that falls behind gets only the latest partial report of
// a turn; a slow fn never blocks other queries. A ctx from Stoppable lets the caller end
// the query's search and still receive its finals.
func (e *Engine) Analyze(ctx context.Context, q *katago.Query, fn func(*katago.Response) error) error {
	if q == nil {
		return &QueryError{Message: "nil query"}
	}
	if q.Action != "" {
		return &QueryError{Field: "action", Message: "Analyze takes analysis queries; actions are Version, Models and ClearCache"}
	}
	if fn == nil {
		fn = func(*katago.Response) error { return nil }
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	p, err := e.waitProcess(ctx)
	if err != nil {
		return err
	}
	qq := *q
	qq.ID = e.newID('q')
	line, err := json.Marshal(qq)
	if err != nil {
		return &QueryError{Message: err.Error()}
	}
	line = append(line, '\n')
	c := newCall(qq.ID, qq.Turns(), false)
	lines := [][]byte{line}
	if c.remaining == 0 {
		// KataGo answers a query without turns with nothing, unless it rejects it. Lines
		// are handled in order, so the answer to an action sent next means it accepted.
		c.barrier = e.newID('q')
		b, _ := json.Marshal(katago.Query{ID: c.barrier, Action: "query_version"})
		lines = append(lines, append(b, '\n'))
	}
	if err := p.register(c); err != nil {
		return err
	}
	p.send(lines...)
	if st, _ := ctx.Value(stopKey{}).(*Stop); st != nil {
		st.attach(e, p, c)
	}
	return e.await(ctx, p, c, fn)
}

type stopKey struct{}

// Stoppable returns ctx for one Analyze call, with a Stop that ends the call's search the
// way KataGo's terminate action does while Analyze goes on delivering the query's lines:
// KataGo answers each turn it has not started with noResults, and ends a started search
// with its final result so far.
func Stoppable(ctx context.Context) (context.Context, *Stop) {
	st := &Stop{}
	return context.WithValue(ctx, stopKey{}, st), st
}

// Stop ends the search of the Analyze call whose context Stoppable made.
type Stop struct {
	mu      sync.Mutex
	e       *Engine
	p       *process
	c       *call // the query Analyze sent last; nil before it is sent
	stopped bool
}

func (st *Stop) attach(e *Engine, p *process, c *call) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.e, st.p, st.c = e, p, c
}

// Stopped reports whether Stop was called: a caller that tries a failed query again
// should not.
func (st *Stop) Stopped() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.stopped
}

// Stop sends KataGo a terminate for the query and waits for KataGo's acknowledgement,
// before which KataGo has answered every turn it had not started. It reports whether
// KataGo still owed a final result then: a turn whose search had begun, whose final
// comes after the acknowledgement. ok is false when Stop could not tell, having sent
// nothing or had no acknowledgement: the query was not sent yet, it failed, KataGo died,
// or ctx ended; the caller ends Analyze through its context then.
func (st *Stop) Stop(ctx context.Context) (searching, ok bool) {
	st.mu.Lock()
	e, p, c := st.e, st.p, st.c
	st.stopped = true
	st.mu.Unlock()
	if c == nil {
		return false, false
	}
	if finished, failed := c.state(); finished || failed {
		return false, !failed
	}
	// KataGo's lines are routed in order: when the acknowledgement is, the call has every
	// line KataGo wrote before it, and none after.
	var finished, failed bool
	q := katago.Query{ID: e.newID('q'), Action: "terminate", TerminateID: c.id}
	if _, err := e.ask(ctx, p, q, func() { finished, failed = c.state() }); err != nil {
		return false, false
	}
	return !finished && !failed, !failed
}

// await delivers c's responses to fn until the call ends.
func (e *Engine) await(ctx context.Context, p *process, c *call, fn func(*katago.Response) error) error {
	for {
		items, err, finished := c.take()
		for _, r := range items {
			// A caller that gave up gets nothing more, even what already arrived.
			if ctx.Err() != nil {
				e.giveUp(p, c)
				return context.Cause(ctx)
			}
			if ferr := fn(r); ferr != nil {
				e.giveUp(p, c)
				return ferr
			}
		}
		if err != nil {
			return err
		}
		if finished {
			return nil
		}
		select {
		case <-c.signal:
		case <-ctx.Done():
			e.giveUp(p, c)
			return context.Cause(ctx)
		}
	}
}

// giveUp stops delivering c's responses and, if KataGo still works on it, terminates it.
// The call stays routed until KataGo's last response for it, so late lines are expected.
func (e *Engine) giveUp(p *process, c *call) {
	active := c.abandon()
	p.released(c)
	if !active || c.action {
		return
	}
	e.terminate(p, c.id)
}

// terminate tells KataGo to stop the query with the given id.
func (e *Engine) terminate(p *process, id string) {
	line, _ := json.Marshal(katago.Query{ID: e.newID('k'), Action: "terminate", TerminateID: id})
	p.send(append(line, '\n'))
}

// Version asks KataGo for its version.
func (e *Engine) Version(ctx context.Context) (katago.Version, error) {
	r, err := e.action(ctx, "query_version")
	if err != nil {
		return katago.Version{}, err
	}
	return katago.Version{Version: r.Version, GitHash: r.GitHash}, nil
}

// Models asks KataGo which networks it has loaded.
func (e *Engine) Models(ctx context.Context) ([]katago.ModelInfo, error) {
	r, err := e.action(ctx, "query_models")
	if err != nil {
		return nil, err
	}
	return r.Models, nil
}

// ClearCache empties KataGo's neural net cache; it returns once KataGo has.
func (e *Engine) ClearCache(ctx context.Context) error {
	_, err := e.action(ctx, "clear_cache")
	return err
}

func (e *Engine) action(ctx context.Context, action string) (*katago.Response, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	p, err := e.waitProcess(ctx)
	if err != nil {
		return nil, err
	}
	return e.ask(ctx, p, katago.Query{ID: e.newID('q'), Action: action}, nil)
}

// ask sends p the action q and returns KataGo's answer; routed is called (unless nil) as
// the answer is routed, before any later line.
func (e *Engine) ask(ctx context.Context, p *process, q katago.Query, routed func()) (*katago.Response, error) {
	line, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	c := newCall(q.ID, nil, true)
	c.routed = routed
	if err := p.register(c); err != nil {
		return nil, err
	}
	p.send(append(line, '\n'))
	var answer *katago.Response
	err = e.await(ctx, p, c, func(r *katago.Response) error {
		if r.Action != "" {
			answer = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return answer, nil
}
