package queue

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemoryConfig configures the in-memory queue. The zero value is ready to use.
type MemoryConfig struct {
	// LeaseTTL is the lease of a Claim or Heartbeat that passes none. Default 30s.
	LeaseTTL time.Duration
	// MaxAttempts is how many failed attempts a job gets when it names none. Default 3.
	MaxAttempts int
	// Retention is how long a final job's record, results and events stay. Default 7 days.
	Retention time.Duration
	// RegistryTTL is how long a worker's registry entry lives without a refresh. Default 30s.
	RegistryTTL time.Duration
	// Logger receives expired leases and dead letters. Default: discarded.
	Logger *slog.Logger
}

func (c *MemoryConfig) setDefaults() {
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.RegistryTTL <= 0 {
		c.RegistryTTL = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Memory is the queue of the embedded default: one process, everything in maps behind one
// mutex. Claim and Events wait on channels that are closed when something changes, never
// by polling; one sweeper goroutine expires leases and final jobs at their deadlines (every
// call also sweeps first, so what a call sees never depends on the sweeper's timing).
type Memory struct {
	cfg MemoryConfig
	log *slog.Logger

	mu      sync.Mutex
	jobs    map[string]*memJob
	dedupe  map[string]string // owner NUL key -> job id
	ready   readyHeap
	running map[string]*memJob
	finals  []finalRef // in finish order, which is expiry order since Retention is fixed
	// finished counts the jobs that reached each final state, for Stats.
	finished map[State]int64
	workers  map[string]WorkerInfo
	seq      uint64
	changed  chan struct{} // closed and replaced when a job becomes claimable
	closed   bool

	done      chan struct{} // closed by Close
	kick      chan struct{} // tells the sweeper a deadline moved
	swept     chan struct{} // closed when the sweeper has returned
	closeOnce sync.Once
}

type memJob struct {
	job      Job
	turns    map[int]bool
	results  map[int][]byte
	events   []Event       // events[i].ID is i+1 in decimal
	appended chan struct{} // closed and replaced on every append
	seq      uint64        // place in the queue, kept across requeues
	token    int64
	leaseExp time.Time
	vars     []byte // SaveVariations
}

type finalRef struct {
	id string
	at time.Time
}

var _ Queue = (*Memory)(nil)

// NewMemory returns an empty in-memory queue and starts its sweeper; Close stops it.
func NewMemory(cfg MemoryConfig) *Memory {
	cfg.setDefaults()
	m := &Memory{
		cfg:      cfg,
		log:      cfg.Logger,
		jobs:     make(map[string]*memJob),
		dedupe:   make(map[string]string),
		running:  make(map[string]*memJob),
		workers:  make(map[string]WorkerInfo),
		finished: map[State]int64{StateDone: 0, StateFailed: 0, StateCancelled: 0},
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
		swept:    make(chan struct{}),
	}
	go m.sweeper()
	return m
}

// Close stops the sweeper and ends every blocked call with ErrClosed.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		close(m.done)
		<-m.swept
	})
	return nil
}

// lock takes the mutex and sweeps what expired; it fails once the queue is closed or ctx
// has ended. Callers unlock.
func (m *Memory) lock(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return time.Time{}, ErrClosed
	}
	now := time.Now()
	m.sweepLocked(now)
	return now, nil
}

func (m *Memory) Enqueue(ctx context.Context, in *Job) (*Job, bool, error) {
	if err := validate(in); err != nil {
		return nil, false, fmt.Errorf("queue: enqueue: %w", err)
	}
	now, err := m.lock(ctx)
	if err != nil {
		return nil, false, err
	}
	defer m.mu.Unlock()
	dk := ""
	if in.DedupeKey != "" {
		dk = in.Owner + "\x00" + in.DedupeKey
		if j := m.jobs[m.dedupe[dk]]; j != nil && (!j.job.State.Final() || j.job.State == StateDone) {
			return j.job.clone(), false, nil
		}
	}
	id := in.ID
	if id == "" {
		id = newID()
	} else if m.jobs[id] != nil {
		return nil, false, fmt.Errorf("queue: enqueue: %w: job id %s is taken", ErrInvalid, id)
	}
	j := &memJob{
		job:      *in.clone(),
		turns:    make(map[int]bool, len(in.Turns)),
		results:  make(map[int][]byte),
		appended: make(chan struct{}),
	}
	j.job.ID = id
	if j.job.MaxAttempts == 0 {
		j.job.MaxAttempts = m.cfg.MaxAttempts
	}
	j.job.State, j.job.Attempts, j.job.Error, j.job.WorkerID = StateQueued, 0, "", ""
	j.job.CreatedAt, j.job.StartedAt, j.job.FinishedAt = now, time.Time{}, time.Time{}
	for _, t := range in.Turns {
		j.turns[t] = true
	}
	m.seq++
	j.seq = m.seq
	m.jobs[id] = j
	if dk != "" {
		m.dedupe[dk] = id
	}
	m.requeueLocked(j)
	return j.job.clone(), true, nil
}

func (m *Memory) Claim(ctx context.Context, workerID string, leaseTTL time.Duration, only ...Priority) (*Job, *Lease, error) {
	if leaseTTL <= 0 {
		leaseTTL = m.cfg.LeaseTTL
	}
	take, err := claimable(only)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: claim: %w", err)
	}
	for {
		now, err := m.lock(ctx)
		if err != nil {
			return nil, nil, err
		}
		if j := m.popLocked(take); j != nil {
			j.token++
			j.leaseExp = now.Add(leaseTTL)
			j.job.State = StateRunning
			j.job.WorkerID = workerID
			j.job.StartedAt = now
			m.running[j.job.ID] = j
			job := j.job.clone()
			lease := &Lease{JobID: j.job.ID, WorkerID: workerID, Token: j.token, Expires: j.leaseExp}
			m.mu.Unlock()
			m.kickSweeper()
			return job, lease, nil
		}
		changed := m.changed
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-m.done:
			return nil, nil, ErrClosed
		case <-changed:
		}
	}
}

// fenceLocked returns the job a lease still holds.
func (m *Memory) fenceLocked(l *Lease, now time.Time) (*memJob, error) {
	if l == nil {
		return nil, fmt.Errorf("%w: no lease", ErrInvalid)
	}
	j := m.jobs[l.JobID]
	switch {
	case j == nil:
		return nil, leaseLost(l.JobID)
	case j.job.State == StateCancelled:
		return nil, cancelledError{l.JobID}
	case j.job.State != StateRunning || j.token != l.Token || !j.leaseExp.After(now):
		return nil, leaseLost(l.JobID)
	}
	return j, nil
}

func (m *Memory) Heartbeat(ctx context.Context, l *Lease, leaseTTL time.Duration) error {
	if leaseTTL <= 0 {
		leaseTTL = m.cfg.LeaseTTL
	}
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	j, err := m.fenceLocked(l, now)
	if err != nil {
		m.mu.Unlock()
		return fmt.Errorf("queue: heartbeat: %w", err)
	}
	j.leaseExp = now.Add(leaseTTL)
	l.Expires = j.leaseExp
	m.mu.Unlock()
	m.kickSweeper()
	return nil
}

func (m *Memory) StoreResult(ctx context.Context, l *Lease, turn int, result []byte) (bool, error) {
	stored := false
	err := m.fenced(ctx, l, "store result", func(j *memJob, _ time.Time) error {
		if !j.turns[turn] {
			return fmt.Errorf("%w: job %s has no turn %d", ErrInvalid, j.job.ID, turn)
		}
		if _, ok := j.results[turn]; ok {
			return nil
		}
		j.results[turn] = slices.Clone(result)
		m.appendLocked(j, EventTurn, result)
		stored = true
		return nil
	})
	return stored, err
}

func (m *Memory) ReplaceResult(ctx context.Context, l *Lease, turn int, result []byte) error {
	return m.fenced(ctx, l, "replace result", func(j *memJob, _ time.Time) error {
		if !j.turns[turn] {
			return fmt.Errorf("%w: job %s has no turn %d", ErrInvalid, j.job.ID, turn)
		}
		if old, ok := j.results[turn]; ok && bytes.Equal(old, result) {
			return nil
		}
		j.results[turn] = slices.Clone(result)
		m.appendLocked(j, EventTurn, result)
		return nil
	})
}

func (m *Memory) Publish(ctx context.Context, l *Lease, typ string, data []byte) error {
	if typ == "" {
		return fmt.Errorf("queue: publish: %w: no event type", ErrInvalid)
	}
	return m.fenced(ctx, l, "publish", func(j *memJob, _ time.Time) error {
		m.appendLocked(j, typ, data)
		return nil
	})
}

func (m *Memory) Complete(ctx context.Context, l *Lease) error {
	return m.fenced(ctx, l, "complete", func(j *memJob, now time.Time) error {
		if len(j.results) < len(j.turns) {
			return fmt.Errorf("%w: job %s has %d of %d turns", ErrIncomplete, j.job.ID, len(j.results), len(j.turns))
		}
		m.finishLocked(j, StateDone, now)
		return nil
	})
}

func (m *Memory) Fail(ctx context.Context, l *Lease, msg string, retry bool) error {
	return m.fenced(ctx, l, "fail", func(j *memJob, now time.Time) error {
		m.attemptFailedLocked(j, msg, retry, now)
		return nil
	})
}

func (m *Memory) Release(ctx context.Context, l *Lease) error {
	return m.fenced(ctx, l, "release", func(j *memJob, _ time.Time) error {
		delete(m.running, j.job.ID)
		m.requeueLocked(j)
		return nil
	})
}

// fenced runs a lease holder's write under the lock, once the lease is found current;
// its errors (and the fence's) carry the operation's name.
func (m *Memory) fenced(ctx context.Context, l *Lease, op string, write func(j *memJob, now time.Time) error) error {
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	j, err := m.fenceLocked(l, now)
	if err == nil {
		err = write(j, now)
	}
	if err != nil {
		return fmt.Errorf("queue: %s: %w", op, err)
	}
	return nil
}

func (m *Memory) Cancel(ctx context.Context, jobID string) error {
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	j := m.jobs[jobID]
	if j == nil {
		return fmt.Errorf("queue: cancel: %w", notFound(jobID))
	}
	if j.job.State.Final() {
		return fmt.Errorf("queue: cancel: %w: job %s is %s", ErrFinal, jobID, j.job.State)
	}
	m.finishLocked(j, StateCancelled, now)
	return nil
}

func (m *Memory) Get(ctx context.Context, jobID string) (*Job, error) {
	if _, err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	j := m.jobs[jobID]
	if j == nil {
		return nil, fmt.Errorf("queue: get: %w", notFound(jobID))
	}
	return j.job.clone(), nil
}

func (m *Memory) Results(ctx context.Context, jobID string) (map[int][]byte, error) {
	if _, err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	j := m.jobs[jobID]
	if j == nil {
		return nil, fmt.Errorf("queue: results: %w", notFound(jobID))
	}
	out := make(map[int][]byte, len(j.results))
	for t, r := range j.results {
		out[t] = slices.Clone(r)
	}
	return out, nil
}

func (m *Memory) Events(ctx context.Context, jobID, afterID string, limit int, wait time.Duration) ([]Event, error) {
	after := 0
	if afterID != "" {
		n, err := strconv.Atoi(afterID)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("queue: events: %w: event id %q", ErrInvalid, afterID)
		}
		after = n
	}
	var timeout <-chan time.Time
	for {
		if _, err := m.lock(ctx); err != nil {
			return nil, err
		}
		j := m.jobs[jobID]
		if j == nil {
			m.mu.Unlock()
			return nil, fmt.Errorf("queue: events: %w", notFound(jobID))
		}
		if after < len(j.events) || wait <= 0 {
			evs := j.events[min(after, len(j.events)):]
			if limit > 0 && len(evs) > limit {
				evs = evs[:limit]
			}
			out := make([]Event, len(evs))
			for i, e := range evs {
				out[i] = Event{ID: e.ID, Type: e.Type, Data: slices.Clone(e.Data)}
			}
			m.mu.Unlock()
			return out, nil
		}
		appended := j.appended
		m.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-m.done:
			return nil, ErrClosed
		case <-timeout:
			return nil, nil
		case <-appended:
		}
	}
}

func (m *Memory) RegisterWorker(ctx context.Context, info WorkerInfo) error {
	if info.ID == "" {
		return fmt.Errorf("queue: register worker: %w: no worker id", ErrInvalid)
	}
	now, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	info.CurrentJobs = slices.Clone(info.CurrentJobs)
	info.LastSeen = now
	m.workers[info.ID] = info
	return nil
}

func (m *Memory) RemoveWorker(ctx context.Context, workerID string) error {
	if _, err := m.lock(ctx); err != nil {
		return err
	}
	defer m.mu.Unlock()
	delete(m.workers, workerID)
	return nil
}

func (m *Memory) Workers(ctx context.Context) ([]WorkerInfo, error) {
	if _, err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	out := make([]WorkerInfo, 0, len(m.workers))
	for _, w := range m.workers {
		w.CurrentJobs = slices.Clone(w.CurrentJobs)
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b WorkerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *Memory) Stats(ctx context.Context) (Stats, error) {
	if _, err := m.lock(ctx); err != nil {
		return Stats{}, err
	}
	defer m.mu.Unlock()
	s := Stats{Queued: map[Priority]int{PriorityReview: 0, PriorityInteractive: 0}, Finished: maps.Clone(m.finished)}
	for _, e := range m.ready {
		j := m.jobs[e.id]
		if j == nil || j.job.State != StateQueued || j.seq != e.seq {
			continue
		}
		s.Queued[j.job.Priority]++
		s.PositionsWaiting += positionsLeft(j.job.Positions, len(j.turns), len(j.results))
		if s.OldestQueued.IsZero() || j.job.CreatedAt.Before(s.OldestQueued) {
			s.OldestQueued = j.job.CreatedAt
		}
	}
	for _, j := range m.running {
		s.Running++
		s.PositionsWaiting += positionsLeft(j.job.Positions, len(j.turns), len(j.results))
	}
	return s, nil
}

// requeueLocked puts the job back in line at its original place and wakes the claimers.
func (m *Memory) requeueLocked(j *memJob) {
	j.job.State = StateQueued
	j.job.WorkerID = ""
	heap.Push(&m.ready, readyEntry{id: j.job.ID, prio: j.job.Priority, seq: j.seq})
	close(m.changed)
	m.changed = make(chan struct{})
}

// popLocked returns the next claimable job of a priority in take, dropping entries of
// jobs that left the queue since they were pushed (cancelled, expired). Entries of the
// other priority go back in line as they were.
func (m *Memory) popLocked(take [2]bool) *memJob {
	var skipped []readyEntry
	defer func() {
		for _, e := range skipped {
			heap.Push(&m.ready, e)
		}
	}()
	for m.ready.Len() > 0 {
		e := heap.Pop(&m.ready).(readyEntry)
		j := m.jobs[e.id]
		if j == nil || j.job.State != StateQueued || j.seq != e.seq {
			continue
		}
		if !take[e.prio] {
			skipped = append(skipped, e)
			continue
		}
		return j
	}
	return nil
}

// attemptFailedLocked counts a failed attempt of a running job: back in line while
// attempts remain and retry is allowed, else failed.
func (m *Memory) attemptFailedLocked(j *memJob, msg string, retry bool, now time.Time) {
	delete(m.running, j.job.ID)
	j.job.Attempts++
	j.job.Error = msg
	if retry && j.job.Attempts < j.job.MaxAttempts {
		m.appendState(j, StateQueued, EventRetry)
		m.requeueLocked(j)
		return
	}
	m.log.Warn("job dead-lettered", "job_id", j.job.ID, "attempts", j.job.Attempts, "err", msg)
	m.finishLocked(j, StateFailed, now)
}

// finishLocked moves a job to a final state and appends the matching event.
func (m *Memory) finishLocked(j *memJob, st State, now time.Time) {
	delete(m.running, j.job.ID)
	j.job.State = st
	j.job.WorkerID = ""
	j.job.FinishedAt = now
	m.finals = append(m.finals, finalRef{id: j.job.ID, at: now})
	m.finished[st]++
	typ := map[State]string{StateDone: EventDone, StateFailed: EventFailed, StateCancelled: EventCancelled}[st]
	m.appendState(j, st, typ)
	m.kickSweeper()
}

func (m *Memory) appendState(j *memJob, st State, typ string) {
	data, _ := json.Marshal(StateEvent{State: st, Attempts: j.job.Attempts, Error: errorFor(st, j.job.Error)})
	m.appendLocked(j, typ, data)
}

// errorFor is the error a state event carries: the last one, for failed and retried jobs.
func errorFor(st State, msg string) string {
	if st == StateFailed || st == StateQueued {
		return msg
	}
	return ""
}

func (m *Memory) appendLocked(j *memJob, typ string, data []byte) {
	j.events = append(j.events, Event{ID: strconv.Itoa(len(j.events) + 1), Type: typ, Data: slices.Clone(data)})
	close(j.appended)
	j.appended = make(chan struct{})
}

// sweepLocked expires leases and final jobs whose time has come and returns the next
// deadline (zero when there is none).
func (m *Memory) sweepLocked(now time.Time) time.Time {
	var next time.Time
	for _, j := range m.running {
		if !j.leaseExp.After(now) {
			m.log.Info("lease expired", "job_id", j.job.ID, "worker_id", j.job.WorkerID, "attempts", j.job.Attempts+1)
			m.attemptFailedLocked(j, "lease expired", true, now)
			continue
		}
		if next.IsZero() || j.leaseExp.Before(next) {
			next = j.leaseExp
		}
	}
	for len(m.finals) > 0 {
		f := m.finals[0]
		end := f.at.Add(m.cfg.Retention)
		if end.After(now) {
			if next.IsZero() || end.Before(next) {
				next = end
			}
			break
		}
		m.finals = m.finals[1:]
		j := m.jobs[f.id]
		if j == nil || !j.job.State.Final() || !j.job.FinishedAt.Equal(f.at) {
			continue
		}
		delete(m.jobs, f.id)
		if j.job.DedupeKey != "" {
			dk := j.job.Owner + "\x00" + j.job.DedupeKey
			if m.dedupe[dk] == f.id {
				delete(m.dedupe, dk)
			}
		}
	}
	for id, w := range m.workers {
		if !w.LastSeen.Add(m.cfg.RegistryTTL).After(now) {
			delete(m.workers, id)
		}
	}
	return next
}

func (m *Memory) kickSweeper() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// sweeper applies deadlines nobody calls in for: an expired lease while no worker claims
// (so the job's retry event reaches its watchers, and claimers wake), a retention period.
func (m *Memory) sweeper() {
	defer close(m.swept)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		m.mu.Lock()
		now := time.Now()
		next := m.sweepLocked(now)
		m.mu.Unlock()
		timer.Stop()
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
			fire = timer.C
		}
		select {
		case <-m.done:
			return
		case <-m.kick:
		case <-fire:
		}
	}
}

// readyEntry is a job's place in line: higher priority first, then lower seq.
type readyEntry struct {
	id   string
	prio Priority
	seq  uint64
}

type readyHeap []readyEntry

func (h readyHeap) Len() int { return len(h) }
func (h readyHeap) Less(i, k int) bool {
	if h[i].prio != h[k].prio {
		return h[i].prio > h[k].prio
	}
	return h[i].seq < h[k].seq
}
func (h readyHeap) Swap(i, k int) { h[i], h[k] = h[k], h[i] }
func (h *readyHeap) Push(x any)   { *h = append(*h, x.(readyEntry)) }
func (h *readyHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
