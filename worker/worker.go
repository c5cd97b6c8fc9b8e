// Package worker owns the life of a job on a GPU machine: it claims jobs from the queue,
// turns each into one KataGo query covering every turn still missing, stores and
// publishes each turn's final result the moment it arrives, keeps its lease alive with
// heartbeats, and hands work back on shutdown or spot interruption without losing a
// finished turn.
package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/internal/startstop"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
)

// Analyzer is one KataGo analysis process; *engine.Engine implements it.
type Analyzer interface {
	Analyze(ctx context.Context, q *katago.Query, fn func(*katago.Response) error) error
}

// Causes of a job's cancellation. They decide what the worker tells the queue.
var (
	// ErrShutdown: the worker is stopping; unfinished jobs are released, no attempt counted.
	ErrShutdown = errors.New("worker: shutting down")
	// ErrSpotInterruption: the instance is being reclaimed; jobs are released at once.
	ErrSpotInterruption = errors.New("worker: spot interruption")

	errJobCancelled = errors.New("worker: job cancelled")
	errLeaseLost    = errors.New("worker: lease lost")
	// errPonderStopped ends an open-ended search (analysis.Spec.Ponder) when the worker stops:
	// its latest report becomes its result, as nobody would resume it.
	errPonderStopped = errors.New("worker: open-ended analysis stopped by shutdown")
)

// KataGo priorities: interactive positions are searched before the turns of a review
// that is already under way on the same engine. katagoPriorityInteractive is the base of
// the API's websocket turns (api/katago.go), whose client priorities, within ±2^40, lie
// around it: KaTrain's turns at its priority 0 are level with single positions.
const (
	katagoPriorityReview      = 0
	katagoPriorityInteractive = 1 << 41
)

// Config configures a Worker. The zero value of every field means its default.
type Config struct {
	// ID names the worker in the registry and in leases. Default: host name, process id
	// and a random suffix.
	ID string
	// Engines are the KataGo processes, one per GPU. Required.
	Engines []Analyzer
	// JobsPerEngine is how many jobs run at once on each engine. KataGo batches the
	// positions of concurrent queries on the GPU, so more than one keeps it busy while a
	// job starts or ends. Default 2.
	JobsPerEngine int
	// InteractiveEngines are KataGo processes with the latency settings
	// (engine.Config.ForInteractive), beside Engines on the same GPUs: their slots claim
	// interactive jobs alone. While there are any, the slots of Engines claim reviews
	// alone, so a position someone waits for is never searched with the throughput
	// settings (one search thread per position) and a long review never delays it.
	// Default: none; Engines then take every job, interactive first.
	InteractiveEngines []Analyzer
	// InteractiveJobsPerEngine is how many interactive jobs run at once on each of
	// InteractiveEngines; KataGo searches as many at once as its analysis threads and
	// queues the rest by priority. Default 4.
	InteractiveJobsPerEngine int
	// LeaseTTL is how long a claim lasts without a heartbeat. Default 15s.
	LeaseTTL time.Duration
	// HeartbeatInterval is how often a running job's lease is renewed and its
	// cancellation checked. Default 500ms, so a cancellation reaches KataGo within a second.
	HeartbeatInterval time.Duration
	// ShutdownGrace is how long Stop lets running jobs finish before it releases them.
	// Default 30s.
	ShutdownGrace time.Duration
	// RegistryInterval is how often the worker refreshes its registry entry. Default 5s.
	RegistryInterval time.Duration
	// Info holds the static parts of the registry entry (GPU, KataGo version, model,
	// instance id). ID, Host, Engines, CurrentJobs, IdleSince and LastSeen are filled in.
	Info queue.WorkerInfo
	// Logger receives the worker's logs. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomSuffix())
	}
	if c.JobsPerEngine <= 0 {
		c.JobsPerEngine = 2
	}
	if c.InteractiveJobsPerEngine <= 0 {
		c.InteractiveJobsPerEngine = 4
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 15 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 500 * time.Millisecond
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 30 * time.Second
	}
	if c.RegistryInterval <= 0 {
		c.RegistryInterval = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Worker runs jobs from a queue on a set of engines.
type Worker struct {
	q   queue.Queue
	cfg Config
	log *slog.Logger

	life startstop.Lifecycle // Start, Stop and the worker's goroutines

	mu        sync.Mutex
	running   map[string]*runningJob // by job id
	idleSince time.Time

	claimCtx    context.Context // ends when the worker stops claiming (Stop cancels it)
	jobCtx      context.Context // ends when running jobs must stop
	stopJobs    context.CancelCauseFunc
	slots       sync.WaitGroup
	kick        chan struct{} // asks for a registry refresh now (a job started or ended)
	positions   atomic.Int64  // final results stored
	work        atomic.Int64  // their share of job Positions (visits), for the rate the fleet reads
	rateSince   time.Time
	rateCount   int64
	lastRate    float64
	startedAt   time.Time
	registryCtx context.Context
	stopReg     context.CancelFunc
}

// New returns a worker over q. Start begins claiming.
func New(q queue.Queue, cfg Config) *Worker {
	cfg.setDefaults()
	return &Worker{
		q:       q,
		cfg:     cfg,
		log:     cfg.Logger.With("worker_id", cfg.ID),
		running: make(map[string]*runningJob),
		kick:    make(chan struct{}, 1),
	}
}

// ID returns the worker's id.
func (w *Worker) ID() string { return w.cfg.ID }

// Positions returns how many turns this worker has analyzed and stored.
func (w *Worker) Positions() int64 { return w.positions.Load() }

// Start registers the worker and starts claiming jobs. ctx bounds only the start.
func (w *Worker) Start(ctx context.Context) error {
	if len(w.cfg.Engines) == 0 {
		return errors.New("worker: no engines")
	}
	w.mu.Lock()
	claimCtx, err := w.life.Begin(context.Background())
	if err != nil {
		w.mu.Unlock()
		return fmt.Errorf("worker: %w", err)
	}
	now := time.Now()
	w.startedAt, w.idleSince, w.rateSince = now, now, now
	w.claimCtx = claimCtx
	w.jobCtx, w.stopJobs = context.WithCancelCause(context.Background())
	w.registryCtx, w.stopReg = context.WithCancel(context.Background())
	w.mu.Unlock()
	if err := w.q.RegisterWorker(ctx, w.info()); err != nil {
		w.stopJobs(ErrShutdown)
		w.stopReg()
		w.life.Failed()
		return fmt.Errorf("worker: register: %w", err)
	}
	var reviews []queue.Priority // any job
	if len(w.cfg.InteractiveEngines) > 0 {
		reviews = []queue.Priority{queue.PriorityReview}
	}
	for _, eng := range w.cfg.Engines {
		for range w.cfg.JobsPerEngine {
			w.slots.Add(1)
			w.life.Go(func() { w.slot(eng, reviews) })
		}
	}
	for _, eng := range w.cfg.InteractiveEngines {
		for range w.cfg.InteractiveJobsPerEngine {
			w.slots.Add(1)
			w.life.Go(func() { w.slot(eng, []queue.Priority{queue.PriorityInteractive}) })
		}
	}
	w.life.Go(w.registry)
	w.life.Go(func() {
		w.slots.Wait()
		w.stopReg()
	})
	w.life.Started()
	w.log.Info("worker started", "engines", len(w.cfg.Engines), "jobs_per_engine", w.cfg.JobsPerEngine,
		"interactive_engines", len(w.cfg.InteractiveEngines), "interactive_jobs_per_engine", w.cfg.InteractiveJobsPerEngine)
	return nil
}

// Done is closed once the worker has stopped and handed back all its jobs.
func (w *Worker) Done() <-chan struct{} { return w.life.Done() }

// Stop stops claiming, lets running jobs finish within the shutdown grace (or until ctx
// ends), then releases what is left to other workers without counting an attempt, and
// leaves the registry. It is idempotent and safe before Start.
func (w *Worker) Stop(ctx context.Context) error {
	return w.stop(ctx, ErrShutdown, w.cfg.ShutdownGrace)
}

// Interrupt is Stop without the grace period: running searches are terminated at once
// and their jobs released, finished turns kept. cause is usually ErrSpotInterruption.
func (w *Worker) Interrupt(ctx context.Context, cause error) error {
	return w.stop(ctx, cause, 0)
}

func (w *Worker) stop(ctx context.Context, cause error, grace time.Duration) error {
	w.mu.Lock() // Start sets the contexts under w.mu in the same step as Begin
	first, began := w.life.StopInit()
	w.mu.Unlock()
	if !began {
		return nil
	}
	if first {
		w.log.Info("worker stopping", "cause", cause.Error(), "grace", grace)
	}
	w.stopPondering()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-w.life.Done():
	case <-timer.C:
	case <-ctx.Done():
	}
	w.stopJobs(cause)
	select {
	case <-w.life.Done():
	case <-ctx.Done():
		return fmt.Errorf("worker: stop: %w", ctx.Err())
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.q.RemoveWorker(rctx, w.cfg.ID); err != nil {
		return fmt.Errorf("worker: leave registry: %w", err)
	}
	return nil
}

// slot runs one job at a time on eng, claiming jobs of the priorities only (nil: any).
func (w *Worker) slot(eng Analyzer, only []queue.Priority) {
	defer w.slots.Done()
	backoff := 100 * time.Millisecond
	storeWait := time.Second
	for {
		job, lease, err := w.q.Claim(w.claimCtx, w.cfg.ID, w.cfg.LeaseTTL, only...)
		if err != nil {
			if w.claimCtx.Err() != nil || errors.Is(err, queue.ErrClosed) {
				return
			}
			w.log.Warn("claim failed", "err", err, "retry_in", backoff)
			if !w.pause(backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		switch w.run(job, lease, eng) {
		case engineDown:
			w.waitReady(eng)
		case queueDown:
			// A store that fails some writes and takes others (a disk almost full) would
			// otherwise have the job claimed, searched and handed back in a loop.
			w.pause(storeWait)
			storeWait = min(2*storeWait, 30*time.Second)
		default:
			storeWait = time.Second
		}
	}
}

// pause waits for d and reports true, or reports false as soon as the worker stops
// claiming.
func (w *Worker) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.claimCtx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handedBack is why run handed a job back to the queue, no attempt counted, when it was
// neither the job's doing nor the worker's stopping.
type handedBack int

const (
	notHandedBack handedBack = iota
	engineDown               // KataGo was not running
	queueDown                // the queue could not store the job's results (ErrUnavailable)
)

// waitReady waits, until the worker stops claiming, for an engine that could not run a
// job to be ready again (when it tells: Ready), and at least a moment, so that a slot
// whose KataGo cannot restart does not claim and hand back the queue's jobs in a loop.
func (w *Worker) waitReady(eng Analyzer) {
	r, tells := eng.(interface{ Ready() bool })
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		if !w.pause(wait) {
			return
		}
		if !tells || r.Ready() {
			return
		}
	}
}

// run drives one claimed job to its end and tells the queue how it ended. It reports
// whether the job ended because the engine was not running or the queue could not store
// its results: the job is then handed back, no attempt counted, for a worker whose KataGo
// runs or for when the queue is back.
func (w *Worker) run(job *queue.Job, lease *queue.Lease, eng Analyzer) (back handedBack) {
	log := w.log.With("job_id", job.ID)
	ctx, cancel := context.WithCancelCause(w.jobCtx)
	rj := &runningJob{cancel: cancel}
	w.track(job.ID, rj)
	defer w.untrack(job.ID, rj)

	var hb sync.WaitGroup
	hb.Add(1)
	go func() {
		defer hb.Done()
		w.heartbeat(ctx, cancel, lease, log)
	}()

	start := time.Now()
	stored, err := w.analyze(ctx, job, lease, eng, rj)
	cause := context.Cause(ctx)
	cancel(nil)
	hb.Wait()

	// The outcome is written even when the job's context has ended.
	attrs := []any{"turns_stored", stored, "elapsed", time.Since(start).Round(time.Millisecond)}
	switch {
	case err == nil:
		if err := w.settle(log, "complete", func(ctx context.Context) error { return w.q.Complete(ctx, lease) }); err != nil {
			log.Warn("complete failed", append(attrs, "err", err)...)
			return
		}
		log.Info("job done", attrs...)
	// A cancelled job's errors match ErrLeaseLost too, so cancellation is checked first.
	case errors.Is(err, queue.ErrCancelled) || errors.Is(cause, errJobCancelled):
		log.Info("job cancelled", attrs...)
	case errors.Is(err, queue.ErrLeaseLost) || errors.Is(cause, errLeaseLost):
		log.Warn("lease lost; job left to its new owner", attrs...)
	case errors.Is(cause, errPonderStopped):
		w.endPonder(job, lease, rj, log, attrs)
	case errors.Is(cause, ErrShutdown) || errors.Is(cause, ErrSpotInterruption) || errors.Is(err, engine.ErrNotRunning) ||
		errors.Is(err, queue.ErrUnavailable):
		// Neither the worker stopping, nor a KataGo that is not running, nor a queue that
		// cannot store results now (Redis restarting, a full disk) is the job's doing. The
		// release waits for the queue to be back, up to the lease's time (settle).
		why := err
		switch {
		case cause != nil:
			why = cause
		case errors.Is(err, engine.ErrNotRunning):
			back = engineDown
		default:
			back = queueDown
		}
		if err := w.settle(log, "release", func(ctx context.Context) error { return w.q.Release(ctx, lease) }); err != nil {
			log.Warn("release failed", append(attrs, "err", err)...)
			return
		}
		log.Info("job released", append(attrs, "cause", why.Error())...)
	default:
		retry := !errors.Is(err, engine.ErrPermanent) && !errors.Is(err, errPermanent)
		if ferr := w.settle(log, "fail", func(ctx context.Context) error { return w.q.Fail(ctx, lease, failureOf(err).Encode(), retry) }); ferr != nil {
			log.Warn("fail failed", append(attrs, "err", ferr)...)
			return
		}
		log.Warn("job attempt failed", append(attrs, "err", err, "retry", retry)...)
	}
	return back
}

// settle writes a job's outcome (complete, fail, release), retrying with backoff while
// the queue answers with a transient error (Redis restarting, a broken connection): a job
// whose outcome is not written waits for its lease to expire, and that counts an attempt
// against it, so a finished job could end up failed. It stops at success, at an answer of
// the queue's contract (the lease lost, the job cancelled), or once a lease's time has
// passed without success, since by then the job is no longer the worker's to write.
func (w *Worker) settle(log *slog.Logger, op string, write func(ctx context.Context) error) error {
	deadline := time.Now().Add(w.cfg.LeaseTTL)
	backoff := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), w.cfg.LeaseTTL)
		err := write(ctx)
		cancel()
		if err == nil || !transient(err) || time.Now().Add(backoff).After(deadline) {
			return err
		}
		log.Warn("queue write failed; retrying", "op", op, "err", err, "retry_in", backoff)
		time.Sleep(backoff)
		backoff = min(backoff*2, 2*time.Second)
	}
}

// transient reports an error that another try may not meet: anything but the queue's
// answers of its contract.
func transient(err error) bool {
	for _, final := range []error{queue.ErrLeaseLost, queue.ErrIncomplete, queue.ErrInvalid,
		queue.ErrNotFound, queue.ErrFinal, queue.ErrClosed} {
		if errors.Is(err, final) {
			return false
		}
	}
	return true
}

func (w *Worker) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, lease *queue.Lease, log *slog.Logger) {
	t := time.NewTicker(w.cfg.HeartbeatInterval)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hctx, hcancel := context.WithTimeout(ctx, w.cfg.LeaseTTL/2)
		err := w.q.Heartbeat(hctx, lease, w.cfg.LeaseTTL)
		hcancel()
		switch {
		case err == nil:
			lastOK = time.Now()
		case errors.Is(err, queue.ErrCancelled):
			cancel(errJobCancelled)
			return
		case errors.Is(err, queue.ErrLeaseLost):
			cancel(errLeaseLost)
			return
		case ctx.Err() != nil:
			return
		default:
			// The queue may be restarting; the lease is ours until it expires.
			if time.Since(lastOK) >= w.cfg.LeaseTTL {
				log.Warn("heartbeats failing past the lease", "err", err)
				cancel(errLeaseLost)
				return
			}
			log.Warn("heartbeat failed", "err", err)
		}
	}
}

// errPermanent marks failures that another attempt cannot fix (a payload that does not
// decode, a panic in the handler).
var errPermanent = errors.New("permanent")

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{e.err, errPermanent} }
func permanent(err error) error           { return &permanentError{err} }

// runningJob is a job a slot runs: how to stop it and, for an open-ended search, its
// latest report.
type runningJob struct {
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	ponder bool
	turn   int
	last   []byte // the latest partial report of an open-ended search
}

func (rj *runningJob) setPonder(turn int) {
	rj.mu.Lock()
	rj.ponder, rj.turn = true, turn
	rj.mu.Unlock()
}

func (rj *runningJob) keep(data []byte) {
	rj.mu.Lock()
	rj.last = data
	rj.mu.Unlock()
}

// stopPondering ends the open-ended searches at once: waiting for them would use the
// whole shutdown grace for nothing, as they run until their client stops them.
func (w *Worker) stopPondering() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, rj := range w.running {
		rj.mu.Lock()
		ponder := rj.ponder
		rj.mu.Unlock()
		if ponder {
			rj.cancel(errPonderStopped)
		}
	}
}

// endPonder finishes an open-ended search that the shutdown stopped: its latest report
// is stored as its result and the job completes, so its client gets what it would get
// from a terminate. A search stopped before its first report fails without a retry, as
// analysis.FailureInterrupted, which tells its client to ask again: the queue does not
// run it again itself, since an open-ended search whose client has gone would then run
// on another worker until that worker stops.
func (w *Worker) endPonder(job *queue.Job, lease *queue.Lease, rj *runningJob, log *slog.Logger, attrs []any) {
	rj.mu.Lock()
	turn, last := rj.turn, rj.last
	rj.mu.Unlock()
	if last == nil {
		if err := w.settle(log, "fail", func(ctx context.Context) error {
			return w.q.Fail(ctx, lease, analysis.Failure{Code: analysis.FailureInterrupted,
				Message: "the worker shut down before the analysis reported"}.Encode(), false)
		}); err != nil {
			log.Warn("fail failed", append(attrs, "err", err)...)
			return
		}
		log.Info("open-ended analysis stopped by shutdown before its first report", attrs...)
		return
	}
	var t game.Turn
	if err := json.Unmarshal(last, &t); err != nil {
		log.Warn("decode the last report failed", append(attrs, "err", err)...)
		return
	}
	t.Interrupted = true
	data, err := json.Marshal(t)
	if err != nil {
		log.Warn("encode the last report failed", append(attrs, "err", err)...)
		return
	}
	if err := w.settle(log, "store", func(ctx context.Context) error {
		_, err := w.q.StoreResult(ctx, lease, turn, data)
		return err
	}); err != nil {
		log.Warn("store the last report failed", append(attrs, "err", err)...)
		return
	}
	if err := w.settle(log, "complete", func(ctx context.Context) error { return w.q.Complete(ctx, lease) }); err != nil {
		log.Warn("complete failed", append(attrs, "err", err)...)
		return
	}
	w.positions.Add(1)
	log.Info("open-ended analysis stopped by shutdown", append(attrs, "job_id", job.ID)...)
}

func (w *Worker) track(id string, rj *runningJob) {
	w.mu.Lock()
	w.running[id] = rj
	w.mu.Unlock()
	w.refresh()
}

// refresh asks the registry loop to publish the worker's entry now, so operators and the
// autoscaler see a job's holder at once.
func (w *Worker) refresh() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// untrack forgets rj, the run of job id that ends. The job may already run again on
// another of the worker's slots (handed back, then claimed at once): that run stays.
func (w *Worker) untrack(id string, rj *runningJob) {
	w.mu.Lock()
	if w.running[id] == rj {
		delete(w.running, id)
	}
	if len(w.running) == 0 {
		w.idleSince = time.Now()
	}
	w.mu.Unlock()
	w.refresh()
}

// analyze sends one query for every turn of the job without a stored result and stores
// each final result as it arrives. It returns how many turns it stored.
func (w *Worker) analyze(ctx context.Context, job *queue.Job, lease *queue.Lease, eng Analyzer, rj *runningJob) (stored int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = permanent(fmt.Errorf("worker: panic: %v at %s", r, panicSite()))
		}
	}()
	spec, err := analysis.Decode(job.Payload)
	if err != nil {
		return 0, permanent(err)
	}
	done, err := w.q.Results(ctx, job.ID)
	if err != nil {
		return 0, fmt.Errorf("worker: read stored results: %w", err)
	}
	if spec.IsAdaptive() {
		return w.analyzeAdaptive(ctx, job, lease, eng, spec, done)
	}
	missing := missingTurns(job.Turns, done)
	if len(missing) == 0 {
		return 0, nil
	}
	var keep func([]byte)
	if spec.Ponder && len(missing) == 1 {
		rj.setPonder(missing[0])
		if w.claimCtx.Err() != nil {
			// The worker began stopping while this job was being claimed.
			rj.cancel(errPonderStopped)
		}
		keep = rj.keep
	}
	perTurn := job.Positions / int64(max(len(job.Turns), 1))
	err = w.search(ctx, job, lease, eng, spec, missing, spec.MaxVisits, nil, keep, func(turn *game.Turn, data []byte) error {
		ok, err := w.store(ctx, lease, turn.Turn, data, perTurn)
		if ok {
			stored++
		}
		return err
	})
	return stored, err
}

// store stores a turn's first result and counts it, as work (visits) for the rate the
// registry shows.
func (w *Worker) store(ctx context.Context, lease *queue.Lease, turn int, data []byte, work int64) (bool, error) {
	ok, err := w.q.StoreResult(ctx, lease, turn, data)
	if ok {
		w.positions.Add(1)
		w.work.Add(work)
	}
	return ok, err
}

// missingTurns lists, in order, the turns of the job without a stored result.
func missingTurns(turns []int, done map[int][]byte) []int {
	var missing []int
	for _, t := range turns {
		if _, ok := done[t]; !ok {
			missing = append(missing, t)
		}
	}
	slices.Sort(missing)
	return missing
}

// search sends one query for turns, each searched at visits (0: the spec's own), publishes
// its partial reports (each also handed to keep, when it is not nil) and hands each turn's
// final result to final, encoded, with VisitsSpent counting spent[turn] (what earlier
// searches of the turn cost) and this search's visits.
func (w *Worker) search(ctx context.Context, job *queue.Job, lease *queue.Lease, eng Analyzer, spec *analysis.Spec,
	turns []int, visits int, spent map[int]int, keep func([]byte), final func(turn *game.Turn, data []byte) error) error {
	q := spec.Query(turns)
	if visits > 0 {
		q.MaxVisits = &visits
	}
	prio := katagoPriorityReview
	if job.Priority == queue.PriorityInteractive {
		prio = katagoPriorityInteractive
	}
	q.Priority = &prio
	qp := &q
	if job.Priority == queue.PriorityInteractive {
		qp = engine.Interactive(eng, qp)
	}

	return eng.Analyze(ctx, qp, func(r *katago.Response) error {
		if r.Warning != "" {
			w.log.Warn("katago warning", "job_id", job.ID, "field", r.Field, "warning", r.Warning)
			return nil
		}
		if r.TurnNumber == nil || r.NoResults {
			return nil
		}
		turn, err := game.NewTurn(spec.Game, r)
		if err != nil {
			return permanent(fmt.Errorf("worker: turn %d: %w", *r.TurnNumber, err))
		}
		during := r.IsDuringSearch != nil && *r.IsDuringSearch
		if !during {
			turn.VisitsSpent = spent[turn.Turn] + turn.Visits
		}
		data, err := json.Marshal(turn)
		if err != nil {
			return permanent(fmt.Errorf("worker: encode turn %d: %w", turn.Turn, err))
		}
		if during {
			if keep != nil {
				keep(data)
			}
			err := w.q.Publish(ctx, lease, queue.EventPartial, data)
			if errors.Is(err, queue.ErrUnavailable) {
				// The next report replaces this one: the search goes on, and the
				// queue's outage ends the job only if it lasts until a final result.
				w.log.Debug("partial report not published", "job_id", job.ID, "err", err)
				return nil
			}
			return err
		}
		return final(&turn, data)
	})
}

// panicSite names the file and line that panicked, skipping the runtime's frames.
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

func (w *Worker) registry() {
	t := time.NewTicker(w.cfg.RegistryInterval)
	defer t.Stop()
	for {
		select {
		case <-w.registryCtx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
		ctx, cancel := context.WithTimeout(w.registryCtx, w.cfg.RegistryInterval)
		if err := w.q.RegisterWorker(ctx, w.info()); err != nil && ctx.Err() == nil {
			w.log.Warn("registry refresh failed", "err", err)
		}
		cancel()
	}
}

func (w *Worker) info() queue.WorkerInfo {
	info := w.cfg.Info
	info.ID = w.cfg.ID
	if info.Host == "" {
		info.Host, _ = os.Hostname()
	}
	info.Engines = len(w.cfg.Engines)
	info.StartedAt = w.startedAt
	info.LastSeen = time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	info.CurrentJobs = nil
	for id := range w.running {
		info.CurrentJobs = append(info.CurrentJobs, id)
	}
	slices.Sort(info.CurrentJobs)
	if len(w.running) == 0 {
		info.IdleSince = w.idleSince
	}
	// The rate (in job Positions, that is visits, per second: what the autoscaler divides
	// the backlog by) is measured over the interval since the last refresh, counting only
	// intervals with work, so an idle worker keeps its last measurement.
	now := time.Now()
	count := w.work.Load()
	if n := count - w.rateCount; n > 0 {
		if secs := now.Sub(w.rateSince).Seconds(); secs > 0 {
			w.lastRate = float64(n) / secs
		}
	}
	w.rateCount, w.rateSince = count, now
	info.PositionsPerSec = w.lastRate
	return info
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
