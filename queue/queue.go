// Package queue owns tesuji's job queue and review library: the contract every
// implementation keeps (this file), the SQLite implementation used by the embedded default
// (sqlite.go, with its schema in sqlite_schema.go), and the Redis implementation used when
// API and workers run on several machines (redis.go, with its data layout in keys.go). One
// conformance suite (queue/queuetest) runs against both; queue/redistest starts the real
// redis-server that tests use.
//
// A job moves through these states:
//
//	queued ──claim──► running ──complete──► done
//	  ▲                 │ ├──fail(retry, attempts left)──► queued
//	  │                 │ ├──fail(permanent, or attempts used up)──► failed (the dead-letter state)
//	  └──release/lease──┘ ├──lease expiry with attempts used up──► failed
//	     expiry           └──cancel──► cancelled
//
// A release (shutdown, spot interruption) counts no attempt; a lease that expires counts
// one, so a job that kills every worker that takes it ends in failed after MaxAttempts.
// A queued job can also be cancelled. done, failed and cancelled are final; a final job's
// record, results and events expire after the retention period. A job that goes back to
// queued keeps its place: it is claimed before the jobs of its priority enqueued after it.
// A final job can be deleted (Delete) with all its data; one that is not final cannot.
//
// Bounds. A job's payload is stored once. Partial reports (EventPartial) reach the
// listeners that wait when they are published but do not accumulate: a job keeps at most
// the latest partial event of each turn, none for a turn once it has a result, and none
// once the job is final. Each owner may store at most a number of jobs and of bytes
// (payload, meta, results and events); Enqueue over either refuses with an
// *OwnerLimitError, and nothing stored is dropped to make room.
//
// Fencing: every write a worker makes carries its Lease, and the queue rejects it with
// ErrLeaseLost unless the job is running under that lease's token and the lease has not
// expired (by the queue's clock, not the worker's). A write on a cancelled job fails with an
// error that matches both ErrCancelled and ErrLeaseLost.
//
// Delivery is at least once (a job can be claimed again after a crash), results are exactly
// once: StoreResult keeps the first result of a turn, so a resumed job re-runs only the turns
// that Results does not hold yet. ReplaceResult is the one way to change a stored result (an
// adaptive review deepening a turn); a retried replace with the same result changes nothing.
//
// A call is one change, even when its transport sends it twice: the Redis client resends a
// command whose reply it lost, and the Redis queue answers such a resend with the first
// answer instead of making the change again (see luaOnce in redis_scripts.go).
package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is where a job is in its life.
type State string

const (
	StateQueued    State = "queued"
	StateRunning   State = "running"
	StateDone      State = "done"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// Final reports whether no further transition can happen.
func (s State) Final() bool {
	return s == StateDone || s == StateFailed || s == StateCancelled
}

// Priority orders claims: every queued interactive job is claimed before any review.
type Priority int

const (
	PriorityReview      Priority = 0 // a whole game
	PriorityInteractive Priority = 1 // a single position, the GTP bridge, the KaTrain websocket
)

// claimable reports which priorities a Claim with the given filter takes: a job of
// priority p is taken when take[p]. It returns ErrInvalid for an unknown priority.
func claimable(only []Priority) (take [2]bool, err error) {
	if len(only) == 0 {
		return [2]bool{true, true}, nil
	}
	for _, p := range only {
		if p != PriorityReview && p != PriorityInteractive {
			return take, fmt.Errorf("%w: claim priority %d", ErrInvalid, p)
		}
		take[p] = true
	}
	return take, nil
}

// Job is one unit of analysis: a game (or a position) and the turns to analyze in it.
type Job struct {
	ID       string   // unguessable; set by Enqueue when empty (an ID already in use is ErrInvalid)
	Owner    string   // the token (or "" in open mode) that made the job
	Priority Priority // claim order: PriorityReview or PriorityInteractive, anything else is ErrInvalid
	// DedupeKey, when set, collapses identical submissions by the same owner: Enqueue
	// returns the existing job while it is not final, or while it is done and still
	// retained. A failed or cancelled job does not absorb a new submission.
	DedupeKey string
	// Payload is opaque to the queue: the worker's description of the work (JSON).
	Payload []byte
	// Turns lists the turn numbers to analyze (distinct, not negative); the job can
	// complete once each has a result.
	Turns []int
	// Positions is the work the job represents (turns times visits), for backlog estimates.
	Positions int64
	// MaxAttempts is how many failed attempts move the job to failed. 0 means the
	// queue's default.
	MaxAttempts int
	// Black and White are the players' names as the game record gives them (SGF PB and
	// PW), for the review library: List filters on them. Empty when unknown.
	Black, White string
	// Meta is a small JSON object the enqueuer sets for the review library to show
	// (ranks, date, result, board size, moves); opaque to the queue. Counted in the
	// owner's stored bytes.
	Meta []byte

	// The fields below are the queue's; Enqueue ignores what the caller puts in them.
	State      State
	Attempts   int    // attempts counted so far (a release or shutdown counts none)
	Error      string // the last error, for failed jobs and retried attempts ("lease expired" for a lost worker)
	WorkerID   string // the worker holding the lease, while running
	CreatedAt  time.Time
	StartedAt  time.Time // the latest claim
	FinishedAt time.Time // when it became final
}

// Lease is a worker's claim on a running job. Every write a worker makes carries it, and
// a write with a lease that is no longer current fails with ErrLeaseLost (fencing).
type Lease struct {
	JobID    string
	WorkerID string
	Token    int64 // increases with every claim of the job
	// Expires is when the lease ends by the queue's clock (Redis's clock for the Redis
	// queue). Workers pace heartbeats by their own clock, a fraction of the lease TTL.
	Expires time.Time
}

// Event is one entry of a job's event stream. IDs increase and are opaque strings
// (Redis stream ids for the Redis queue); "" means the beginning of the stream.
type Event struct {
	ID   string
	Type string // EventTurn, EventPartial, EventProgress, EventDone, EventFailed, EventCancelled, EventRetry
	// Data is JSON: the stored result for a turn event, what the worker published for
	// partial and progress events, a StateEvent for the events the queue writes itself.
	Data []byte
}

// Event types written by the queue itself (turn, done, failed, cancelled, retry) and by
// workers through Publish (partial, progress).
const (
	EventTurn      = "turn"
	EventPartial   = "partial"
	EventProgress  = "progress"
	EventDone      = "done"
	EventFailed    = "failed"
	EventCancelled = "cancelled"
	EventRetry     = "retry"
)

// StateEvent is the Data of the done, failed, cancelled and retry events: the state the
// job moved to, the attempts counted so far and, for failed and retry, the error.
type StateEvent struct {
	State    State  `json:"state"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// WorkerInfo is one worker's entry in the registry, refreshed by its heartbeats.
type WorkerInfo struct {
	ID            string `json:"id"`
	Host          string `json:"host"`
	InstanceID    string `json:"instanceId,omitempty"`
	GPU           string `json:"gpu,omitempty"`
	KataGoVersion string `json:"katagoVersion,omitempty"`
	// KataGoSettings says how KataGo's threads and batch size were chosen for this
	// machine: backend, device, settings and their source (fitted, measured, cached, set
	// by flags, config file), one line per distinct engine.
	KataGoSettings  string    `json:"katagoSettings,omitempty"`
	Model           string    `json:"model,omitempty"`
	Engines         int       `json:"engines"`
	CurrentJobs     []string  `json:"currentJobs,omitempty"`
	IdleSince       time.Time `json:"idleSince,omitzero"`
	StartedAt       time.Time `json:"startedAt"`
	LastSeen        time.Time `json:"lastSeen"`                  // set by RegisterWorker
	PositionsPerSec float64   `json:"positionsPerSec,omitempty"` // measured
}

// Stats is a snapshot of the queue for metrics and the autoscaler.
type Stats struct {
	Queued           map[Priority]int // jobs waiting, by priority; both priorities are always present
	Running          int
	PositionsWaiting int64     // sum of Positions over queued jobs and the unfinished turns of running ones
	OldestQueued     time.Time // CreatedAt of the oldest queued job; zero when none waits
	// Finished counts the jobs that reached each final state (done, failed, cancelled; all
	// three always present) over the life of the queue's data: retention, which deletes
	// final jobs, does not lower it.
	Finished map[State]int64
}

// Errors of the contract. Implementations wrap them; check with errors.Is.
var (
	ErrNotFound  = errors.New("queue: job not found")
	ErrLeaseLost = errors.New("queue: lease lost")    // the job was reclaimed, cancelled or finished, or the lease expired
	ErrCancelled = errors.New("queue: job cancelled") // Heartbeat (and every fenced write) once the job is cancelled
	ErrFinal     = errors.New("queue: job already final")
	ErrClosed    = errors.New("queue: closed")
	// ErrInvalid is a request the queue cannot take: a bad job, a turn the job does not
	// have, a malformed event id.
	ErrInvalid = errors.New("queue: invalid request")
	// ErrIncomplete is Complete on a job with turns that have no stored result.
	ErrIncomplete = errors.New("queue: job has turns without a result")
	// ErrNotFinal is Delete of a job that is queued or running: cancel it first.
	ErrNotFinal = errors.New("queue: job not final")
	// ErrOwnerLimit is Enqueue over one of the owner's caps; the error is an
	// *OwnerLimitError that names the cap.
	ErrOwnerLimit = errors.New("queue: owner limit reached")
	// ErrUnavailable is a store that cannot serve now: a full or read-only disk, an I/O
	// error, a Redis that cannot be reached, is loading its data, has no master or no
	// memory left. It is the store's state, not the call's: the same call may succeed
	// once the store is back, and what was stored before is intact.
	ErrUnavailable = errors.New("queue: store unavailable")
)

// Owner caps, as OwnerLimitError.Limit names them.
const (
	LimitJobs  = "jobs"  // jobs stored, in any state
	LimitBytes = "bytes" // bytes stored: payloads, meta, results and events
)

// OwnerLimitError is Enqueue refused because the owner holds as much as a cap allows.
type OwnerLimitError struct {
	Owner string
	Limit string // LimitJobs or LimitBytes
	Max   int64  // the cap
	Used  int64  // what the owner holds now
	Need  int64  // what the refused job would add
}

func (e *OwnerLimitError) Error() string {
	return fmt.Sprintf("queue: owner limit reached: %d %s stored of at most %d, the job needs %d more", e.Used, e.Limit, e.Max, e.Need)
}

func (e *OwnerLimitError) Is(target error) bool { return target == ErrOwnerLimit }

// ListFilter selects jobs of the review library. Owner is always applied ("" is the
// owner of jobs made in open mode).
type ListFilter struct {
	Owner string
	// Player keeps jobs whose Black or White contains it, ignoring case. Empty: any.
	Player string
	// States keeps jobs in one of these states. Empty: any.
	States []State
	// Since and Until keep jobs created at or after Since and before Until (zero: no
	// bound).
	Since, Until time.Time
	// Cursor continues a listing where the page that returned it ended; "" starts at the
	// newest job. A cursor not made by this queue is ErrInvalid.
	Cursor string
	// Limit is the most jobs one page holds. 0 means DefaultListLimit; more than
	// MaxListLimit means MaxListLimit.
	Limit int
}

// Page sizes of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// Queue is the contract between the API, the workers and the autoscaler. Implementations
// are safe for concurrent use.
type Queue interface {
	// Enqueue stores the job and makes it claimable, atomically. With a DedupeKey that
	// matches a live job of the same owner it returns that job and created=false. The
	// argument is not modified; the returned job is the stored record.
	Enqueue(ctx context.Context, job *Job) (j *Job, created bool, err error)
	// Duplicate returns the job that a submission of owner's with dedupeKey would join
	// (see Job.DedupeKey), or ErrNotFound, so that a caller can answer a repeated
	// submission before it spends the owner's limits on a job it would not make.
	Duplicate(ctx context.Context, owner, dedupeKey string) (*Job, error)
	// Claim blocks until a job is available (interactive first, then oldest first),
	// reclaiming jobs whose lease expired, or until ctx ends (ctx.Err()). leaseTTL <= 0
	// means the queue's default. only, when given, limits the claim to jobs of those
	// priorities (a worker whose engine keeps the latency settings claims only
	// PriorityInteractive); a job of another priority stays in line, in its place, for
	// other claimers, and a claimer blocked for one priority wakes for that priority's
	// jobs alone. No argument, or every priority, takes any job. A priority the contract
	// does not know is ErrInvalid. Errors from the store (a Redis restart) come back as
	// they are; callers retry with a backoff.
	Claim(ctx context.Context, workerID string, leaseTTL time.Duration, only ...Priority) (*Job, *Lease, error)
	// Heartbeat extends the lease to leaseTTL from now (<= 0: the default) and updates
	// lease.Expires. ErrLeaseLost when it is no longer current; ErrCancelled (which also
	// matches ErrLeaseLost) when the job was cancelled: the worker stops and calls nothing else.
	Heartbeat(ctx context.Context, lease *Lease, leaseTTL time.Duration) error
	// StoreResult stores one turn's final result and appends a turn event, atomically and
	// fenced by the lease. A turn that already has a result is kept as it is (exactly once):
	// stored=false then, and no event is appended. A turn not in Job.Turns is ErrInvalid.
	StoreResult(ctx context.Context, lease *Lease, turn int, result []byte) (stored bool, err error)
	// ReplaceResult makes result the turn's stored result, whether or not the turn had one,
	// and appends a turn event with it, atomically and fenced by the lease: a review that
	// searches a turn again (deeper) replaces what it stored first, and watchers see the
	// turn a second time. When the stored result is already byte for byte result (a
	// retried call), nothing changes and no event is appended. A turn not in Job.Turns is
	// ErrInvalid.
	ReplaceResult(ctx context.Context, lease *Lease, turn int, result []byte) error
	// Publish appends a transient event (partial, progress) to the job's stream, fenced.
	Publish(ctx context.Context, lease *Lease, typ string, data []byte) error
	// Complete marks the job done and appends the done event, fenced. ErrIncomplete when
	// a turn has no result yet.
	Complete(ctx context.Context, lease *Lease) error
	// Fail records an attempt's error. retry=true requeues the job while attempts remain;
	// otherwise, or when they are used up, the job becomes failed.
	Fail(ctx context.Context, lease *Lease, msg string, retry bool) error
	// Release hands the job back without counting an attempt (shutdown, spot interruption).
	Release(ctx context.Context, lease *Lease) error
	// Cancel ends a job that is not final; a running job's worker learns it at its next
	// heartbeat. ErrFinal when the job was already final.
	Cancel(ctx context.Context, jobID string) error

	// Get returns the job record.
	Get(ctx context.Context, jobID string) (*Job, error)
	// Results returns the stored results by turn.
	Results(ctx context.Context, jobID string) (map[int][]byte, error)
	// Events returns up to limit events after afterID (limit 0: all). When there are none
	// and wait > 0 it blocks until one arrives or wait passes (then it returns no events
	// and no error), or ctx ends (ctx.Err()). ErrInvalid for an afterID that is not an
	// event id of this queue.
	Events(ctx context.Context, jobID, afterID string, limit int, wait time.Duration) ([]Event, error)

	// SaveVariations replaces what the job keeps beside its analysis for its owner (the
	// review page's own variations): opaque bytes the queue stores as they are, in any
	// state of the job, and lets expire with the job's record. The caller limits their
	// size. ErrNotFound when the job does not exist (or expired).
	SaveVariations(ctx context.Context, jobID string, data []byte) error
	// Variations returns what SaveVariations last stored; nil, and no error, when nothing
	// was saved. ErrNotFound when the job does not exist.
	Variations(ctx context.Context, jobID string) ([]byte, error)

	// RegisterWorker creates or refreshes a worker's registry entry; entries not refreshed
	// within the registry TTL disappear. RemoveWorker deletes one at once. Workers lists
	// the live entries by ID.
	RegisterWorker(ctx context.Context, info WorkerInfo) error
	RemoveWorker(ctx context.Context, workerID string) error
	Workers(ctx context.Context) ([]WorkerInfo, error)

	// Stats returns queue depth and backlog.
	Stats(ctx context.Context) (Stats, error)

	// List returns a page of the owner's jobs matching f, newest first, without their
	// Payload, and the cursor of the next page ("" after the last).
	List(ctx context.Context, f ListFilter) (jobs []*Job, next string, err error)
	// Delete removes a final job with its results and events, and frees what it held of
	// its owner's caps. ErrNotFinal when the job is queued or running; ErrNotFound when
	// there is no such job.
	Delete(ctx context.Context, jobID string) error

	// Close releases the implementation's resources; blocked calls return ErrClosed, and
	// so does every later call. Close is idempotent. The Redis queue does not close the
	// client it was given.
	Close() error
}

// unavailableError is a call the store could not serve; it matches ErrUnavailable.
type unavailableError struct{ err error }

func (e unavailableError) Error() string        { return "queue: store unavailable: " + e.err.Error() }
func (e unavailableError) Unwrap() error        { return e.err }
func (e unavailableError) Is(target error) bool { return target == ErrUnavailable }
