package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures the Redis queue. The zero value is ready to use.
type RedisConfig struct {
	// Prefix starts every key, so several queues can share a Redis. Default "tesuji"; no
	// braces.
	Prefix string
	// LeaseTTL is the lease of a Claim or Heartbeat that passes none. Default 30s.
	LeaseTTL time.Duration
	// MaxAttempts is how many failed attempts a job gets when it names none. Default 3.
	MaxAttempts int
	// Retention is how long a final job's record, results and events stay. Default 30 days.
	// A job keeps the retention of the queue that enqueued it, whichever process (a
	// worker, a fleet's reaper) finishes it.
	Retention time.Duration
	// RegistryTTL is how long a worker's registry entry lives without a refresh. Default 30s.
	RegistryTTL time.Duration
	// MaxOwnerJobs caps the jobs one owner stores, in any state. Default 10,000; negative:
	// no cap.
	MaxOwnerJobs int
	// MaxOwnerBytes caps the bytes one owner stores. The Redis queue counts what each job
	// brings when it is submitted (payload and meta). Default 1 GiB; negative: no cap.
	MaxOwnerBytes int64
	// BlockTimeout is the longest one blocking command (BLPOP for Claim, XREAD BLOCK for
	// Events) waits before the call looks at its context and at Close again: go-redis
	// cannot interrupt a blocking command, so this bounds how late a blocked call notices
	// either. Keep it below the client's read timeout (go-redis's default is 3s). Default 1s.
	BlockTimeout time.Duration
	// Blocking is the client for Events' blocking reads (XREAD BLOCK), each of which holds
	// a connection for up to BlockTimeout: an API server following many streams gives
	// them a pool of their own, so that its other commands never wait behind them.
	// Default: the queue's client.
	Blocking redis.UniversalClient
	// ReapInterval is how often the queue looks for expired leases on its own, so a dead
	// worker's job is requeued (or dead-lettered) even while no Claim runs. Negative: never.
	// Default 1s.
	ReapInterval time.Duration
	// Logger receives expired leases, dead letters and index repairs that failed. Default:
	// discarded.
	Logger *slog.Logger
}

func (c *RedisConfig) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.MaxOwnerJobs == 0 {
		c.MaxOwnerJobs = DefaultMaxOwnerJobs
	}
	if c.MaxOwnerBytes == 0 {
		c.MaxOwnerBytes = DefaultMaxOwnerBytes
	}
	if c.RegistryTTL <= 0 {
		c.RegistryTTL = 30 * time.Second
	}
	if c.BlockTimeout <= 0 {
		c.BlockTimeout = time.Second
	}
	if c.ReapInterval == 0 {
		c.ReapInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// orphanTTL is the least time a created record waits for its commit before it expires.
const orphanTTL = 10 * time.Minute

// replyTTL is how long the reply of a script call that changed something is kept for a
// resend of the call (see luaOnce): longer than a client goes on resending a command
// (go-redis: its retries, each up to a read timeout; about 15s with the defaults).
const replyTTL = 2 * time.Minute

// reapBatch is how many expired leases one script hands over at a time.
const reapBatch = 32

// settleTimeout bounds the commands that finish a change already begun (the index update
// after a job's script, the second half of a claim), which run even when the caller's
// context has ended: a change left half done is repaired, but later and at a cost.
const settleTimeout = 5 * time.Second

func settleCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// Redis is the queue shared by API servers and workers on many machines: job records,
// results and event streams on each job's slot, the line of queued jobs and the leases on
// one slot of their own (see keys.go for the layout and how the two stay consistent).
//
// Claim blocks in BLPOP on a wake-up list that every enqueue and requeue pushes a token to,
// with a timeout of BlockTimeout or the next lease expiry, whichever is sooner: a claimer
// wakes at once for new work and on time for an expired lease, and an idle worker costs one
// command per BlockTimeout instead of a poll loop. Pub/sub would wake every claimer for
// each job and lose wake-ups across reconnects; a token left in the list is never lost.
//
// A blocked Claim or Events holds one of the client's pooled connections while it waits:
// an API server that streams events to many watchers gives Events a client of its own
// (RedisConfig.Blocking) with a pool that large, so that they never starve its other
// commands.
type Redis struct {
	c   redis.UniversalClient
	cfg RedisConfig
	k   keys
	log *slog.Logger

	done      chan struct{} // closed by Close
	reaped    chan struct{} // closed when the reaper has returned
	closeOnce sync.Once
}

var _ Queue = (*Redis)(nil)

// NewRedis returns the queue over client and starts its reaper; Close stops it. The
// client stays the caller's to close; NewRedis adds a hook to it (and to cfg.Blocking)
// that marks the errors of a Redis that cannot serve now as ErrUnavailable. A prefix with
// braces panics: it is a programming error that would scatter a job's keys over slots.
func NewRedis(client redis.UniversalClient, cfg RedisConfig) *Redis {
	cfg.setDefaults()
	if strings.ContainsAny(cfg.Prefix, "{}") {
		panic(fmt.Sprintf("queue: redis prefix %q has braces", cfg.Prefix))
	}
	client.AddHook(unavailableHook{})
	if cfg.Blocking != nil && cfg.Blocking != client {
		cfg.Blocking.AddHook(unavailableHook{})
	}
	r := &Redis{c: client, cfg: cfg, k: newKeys(cfg.Prefix), log: cfg.Logger,
		done: make(chan struct{}), reaped: make(chan struct{})}
	if cfg.ReapInterval > 0 {
		go r.reaper()
	} else {
		close(r.reaped)
	}
	return r
}

// Close stops the reaper; blocked Claim and Events calls return ErrClosed within
// BlockTimeout.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		close(r.done)
		<-r.reaped
	})
	return nil
}

func (r *Redis) check(ctx context.Context) error {
	select {
	case <-r.done:
		return ErrClosed
	default:
	}
	return ctx.Err()
}

// run runs a script and returns its reply as a list.
func (r *Redis) run(ctx context.Context, s *redis.Script, keys []string, args ...any) ([]any, error) {
	res, err := s.Run(ctx, r.c, keys, args...).Slice()
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, errors.New("empty script reply")
	}
	return res, nil
}

func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// transition is what a script on a job's slot reports after a change of state: what the
// index must now reflect.
type transition struct {
	state  string
	ver    int64
	lexp   int64
	dedupe string
	left   int64 // positions the job adds to the backlog
}

func parseTransition(res []any) transition {
	t := transition{state: str(res[0])}
	if len(res) > 1 {
		t.ver = num(res[1])
	}
	if len(res) > 2 {
		t.lexp = num(res[2])
	}
	if len(res) > 3 {
		t.dedupe = str(res[3])
	}
	if len(res) > 4 {
		t.left = num(res[4])
	}
	return t
}

// index applies a transition to the global slot.
func (r *Redis) index(ctx context.Context, id string, t transition) error {
	ks := r.k.indexKeys()
	if t.dedupe != "" {
		ks = append(ks, t.dedupe)
	}
	_, err := r.run(ctx, indexScript, ks, id, t.ver, t.state, t.lexp, ms(r.cfg.Retention), t.left)
	return err
}

// reindex applies a transition after a change the caller has already made: a failure is
// logged, not returned, since the record holds the change and whoever meets the stale
// index entry next repairs it (see keys.go).
func (r *Redis) reindex(ctx context.Context, id string, t transition) {
	ctx, cancel := settleCtx(ctx)
	defer cancel()
	if err := r.index(ctx, id, t); err != nil {
		r.log.Warn("queue index update failed; the next reader repairs it", "job_id", id, "state", t.state, "err", err)
	}
}

// fenced maps the refusals of the fenced scripts to the contract's errors.
func fenced(op, jobID string, res []any) error {
	switch str(res[0]) {
	case "lost":
		return fmt.Errorf("queue: %s: %w", op, leaseLost(jobID))
	case "cancelled":
		return fmt.Errorf("queue: %s: %w", op, cancelledError{jobID})
	}
	return nil
}

func (r *Redis) Enqueue(ctx context.Context, in *Job) (*Job, bool, error) {
	if err := validate(in); err != nil {
		return nil, false, fmt.Errorf("queue: enqueue: %w", err)
	}
	if err := r.check(ctx); err != nil {
		return nil, false, err
	}
	id := in.ID
	if id == "" {
		id = newID()
	}
	maxAttempts := in.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = r.cfg.MaxAttempts
	}
	dedupe := ""
	if in.DedupeKey != "" {
		dedupe = r.k.dedupe(in.Owner, in.DedupeKey)
	}
	fields := map[string]string{
		"id": id, "owner": in.Owner, "prio": strconv.Itoa(int(in.Priority)), "dkey": in.DedupeKey,
		"dedupe": dedupe, "payload": string(in.Payload), "turns": encodeTurns(in.Turns),
		"nturns": strconv.Itoa(len(in.Turns)), "pos": strconv.FormatInt(in.Positions, 10),
		"max": strconv.Itoa(maxAttempts), "black": in.Black, "white": in.White, "meta": string(in.Meta),
		// The submitter's retention, which whoever finishes the job applies.
		"ret": strconv.FormatInt(ms(r.cfg.Retention), 10),
	}
	// The record comes first, expiring and not yet claimable, then its place in the owner's
	// library: a List that finds a library entry without its record forgets the entry as
	// expired, so the entry must never come before the record.
	args := []any{ms(max(r.cfg.Retention, orphanTTL))}
	for k, v := range fields {
		args = append(args, k, v)
	}
	call := newID()
	res, err := r.run(ctx, createScript, r.k.callKeys(id, call), args...)
	if err != nil {
		return nil, false, fmt.Errorf("queue: enqueue: %w", err)
	}
	if str(res[0]) == "exists" {
		return nil, false, fmt.Errorf("queue: enqueue: %w: job id %s is taken", ErrInvalid, id)
	}
	size := int64(len(in.Payload) + len(in.Meta))
	if err := r.admit(ctx, in.Owner, id, size); err != nil {
		sctx, cancel := settleCtx(ctx)
		defer cancel()
		if _, derr := r.run(sctx, dropScript, r.k.jobKeys(id)); derr != nil {
			r.log.Warn("drop a submission its owner's library refused", "job_id", id, "err", derr)
		}
		return nil, false, fmt.Errorf("queue: enqueue: %w", err)
	}
	// Until the job is committed, the library entry is a reservation that goes if it fails.
	created := false
	defer func() {
		if !created {
			sctx, cancel := settleCtx(ctx)
			defer cancel()
			if err := r.forget(sctx, in.Owner, id); err != nil {
				r.log.Warn("forget a submission that made no job", "job_id", id, "err", err)
			}
		}
	}()
	fields["state"], fields["att"], fields["created"] = string(StateQueued), "0", strconv.FormatInt(num(res[1]), 10)

	commitKeys := append(r.k.indexKeys(), r.k.globalReply(call), r.k.seq())
	if dedupe != "" {
		commitKeys = append(commitKeys, dedupe)
	}
	replace := ""
	for {
		res, err := r.run(ctx, commitScript, commitKeys, id, int(in.Priority), ms(r.cfg.Retention), replace,
			in.Positions, fields["created"])
		if err != nil {
			return nil, false, fmt.Errorf("queue: enqueue: %w", err)
		}
		if str(res[0]) == "ok" {
			break
		}
		// Another submission holds the dedupe key: join its job while it lives.
		other := str(res[1])
		j, err := r.Get(ctx, other)
		if err == nil && joinable(j) {
			sctx, cancel := settleCtx(ctx)
			defer cancel()
			if _, err := r.run(sctx, dropScript, r.k.jobKeys(id)); err != nil {
				r.log.Warn("drop a duplicate submission", "job_id", id, "err", err)
			}
			return j, false, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, false, fmt.Errorf("queue: enqueue: %w", err)
		}
		replace = other
	}
	sctx, cancel := settleCtx(ctx)
	defer cancel()
	if _, err := r.run(sctx, persistScript, r.k.jobKeys(id)); err != nil {
		// The job is in line; the claim persists the record too.
		r.log.Warn("persist a new job", "job_id", id, "err", err)
	}
	j, err := decodeJob(fields)
	if err != nil {
		return nil, false, fmt.Errorf("queue: enqueue: %w", err)
	}
	created = true
	return j, true, nil
}

// joinable reports whether a submission with j's dedupe key joins j: while it is live,
// or done and still kept.
func joinable(j *Job) bool { return !j.State.Final() || j.State == StateDone }

func (r *Redis) Duplicate(ctx context.Context, owner, dedupeKey string) (*Job, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	id, err := r.c.Get(ctx, r.k.dedupe(owner, dedupeKey)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: no job of %q with that dedupe key", ErrNotFound, owner)
	}
	if err != nil {
		return nil, fmt.Errorf("queue: duplicate: %w", err)
	}
	j, err := r.Get(ctx, id)
	if err == nil && !joinable(j) {
		err = fmt.Errorf("%w: job %s with that dedupe key has %s", ErrNotFound, id, j.State)
	}
	if err != nil {
		return nil, err
	}
	return j, nil
}

func (r *Redis) Claim(ctx context.Context, workerID string, leaseTTL time.Duration, only ...Priority) (*Job, *Lease, error) {
	if leaseTTL <= 0 {
		leaseTTL = r.cfg.LeaseTTL
	}
	take, err := claimable(only)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: claim: %w", err)
	}
	// The scores of ready this claimer takes from, and the wake-up lists it blocks on
	// (keys.go): interactive jobs score below 2^52, reviews from it on.
	const band = "4503599627370496"
	lo, hi := "-inf", "+inf"
	var wake []string
	if take[PriorityInteractive] {
		wake = append(wake, r.k.wakeFor(PriorityInteractive))
	} else {
		lo = band
	}
	if take[PriorityReview] {
		wake = append(wake, r.k.wakeFor(PriorityReview))
	} else {
		hi = "(" + band
	}
	for {
		if err := r.check(ctx); err != nil {
			return nil, nil, err
		}
		call := newID()
		res, err := r.run(ctx, claimNextScript, append(r.k.indexKeys(), r.k.globalReply(call)), ms(leaseTTL), reapBatch, lo, hi)
		if err != nil {
			return nil, nil, fmt.Errorf("queue: claim: %w", err)
		}
		switch str(res[0]) {
		case "expired":
			for _, id := range res[1].([]any) {
				if err := r.expire(ctx, str(id)); err != nil {
					return nil, nil, fmt.Errorf("queue: claim: %w", err)
				}
			}
		case "claim":
			// The job left the line: finish the claim whatever ctx does, then hand it
			// back at once (no attempt counted) if the caller has gone meanwhile.
			sctx, cancel := settleCtx(ctx)
			j, l, err := r.claim(sctx, str(res[1]), call, workerID, leaseTTL)
			if err == nil && j != nil && ctx.Err() != nil {
				if rerr := r.Release(sctx, l); rerr != nil {
					r.log.Warn("hand back a job claimed after the caller left", "job_id", j.ID, "err", rerr)
				}
				j, l, err = nil, nil, ctx.Err()
			}
			cancel()
			if err != nil || j != nil {
				return j, l, err
			}
		default: // none
			wait := r.cfg.BlockTimeout
			if next := str(res[2]); next != "" {
				n, _ := strconv.ParseInt(next, 10, 64)
				wait = min(wait, time.Duration(n-num(res[1]))*time.Millisecond)
			}
			if err := r.block(ctx, wait, wake); err != nil {
				return nil, nil, fmt.Errorf("queue: claim: %w", err)
			}
		}
	}
}

// block waits in BLPOP on the wake-up lists for at most wait (and no later than ctx's
// deadline). A wake-up token, a timeout and a cancelled ctx all return nil: the caller
// looks again.
func (r *Redis) block(ctx context.Context, wait time.Duration, lists []string) error {
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	wait = max(wait, time.Millisecond)
	// The typed BLPop rounds to whole seconds; BLPOP takes a decimal timeout.
	args := []any{"BLPOP"}
	for _, l := range lists {
		args = append(args, l)
	}
	args = append(args, strconv.FormatFloat(wait.Seconds(), 'f', 3, 64))
	err := r.c.Do(ctx, args...).Err()
	if err != nil && !errors.Is(err, redis.Nil) && ctx.Err() == nil {
		return err
	}
	return nil
}

// claim completes a claim the global slot handed over. A nil job with no error means the
// job was not claimable after all (cancelled, claimed by another); the index is repaired.
func (r *Redis) claim(ctx context.Context, id, call, workerID string, ttl time.Duration) (*Job, *Lease, error) {
	res, err := r.run(ctx, claimScript, r.k.callKeys(id, call), workerID, ms(ttl))
	if err != nil {
		return nil, nil, fmt.Errorf("queue: claim: %w", err)
	}
	t := parseTransition(res)
	if t.state != string(StateRunning) || len(res) < 7 {
		// Not claimable after all: repair the index, or fail the Claim so that the
		// caller backs off instead of meeting the same stale entry again at once.
		if err := r.index(ctx, id, t); err != nil {
			return nil, nil, fmt.Errorf("queue: claim: %w", err)
		}
		return nil, nil, nil
	}
	r.reindex(ctx, id, t)
	j, err := decodeJob(flatMap(res[6]))
	if err != nil {
		return nil, nil, fmt.Errorf("queue: claim: %w", err)
	}
	return j, &Lease{JobID: id, WorkerID: workerID, Token: num(res[5]), Expires: time.UnixMilli(t.lexp)}, nil
}

// expire settles one job found past its lease entry's score.
func (r *Redis) expire(ctx context.Context, id string) error {
	res, err := r.run(ctx, expireScript, r.k.jobKeys(id), ms(r.cfg.Retention))
	if err != nil {
		return err
	}
	t := parseTransition(res)
	if len(res) > 5 && num(res[5]) == 1 {
		if t.state == string(StateFailed) {
			r.log.Warn("job dead-lettered", "job_id", id, "err", "lease expired")
		} else {
			r.log.Info("lease expired", "job_id", id)
		}
	}
	return r.index(ctx, id, t)
}

// reaper settles expired leases while no Claim does.
func (r *Redis) reaper() {
	defer close(r.reaped)
	tick := time.NewTicker(r.cfg.ReapInterval)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-tick.C:
		}
		if err := r.reap(); err != nil {
			r.log.Warn("reap expired leases", "err", err)
		}
	}
}

func (r *Redis) reap() error {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.ReapInterval+5*time.Second)
	defer cancel()
	for {
		ids, err := expiredScript.Run(ctx, r.c, r.k.indexKeys(), reapBatch).StringSlice()
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := r.expire(ctx, id); err != nil {
				return err
			}
		}
		if len(ids) < reapBatch || r.check(ctx) != nil {
			return nil
		}
	}
}

func (r *Redis) Heartbeat(ctx context.Context, l *Lease, leaseTTL time.Duration) error {
	if l == nil {
		return fmt.Errorf("queue: heartbeat: %w: no lease", ErrInvalid)
	}
	if leaseTTL <= 0 {
		leaseTTL = r.cfg.LeaseTTL
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	res, err := r.run(ctx, heartbeatScript, r.k.callKeys(l.JobID, newID()), l.Token, ms(leaseTTL))
	if err != nil {
		return fmt.Errorf("queue: heartbeat: %w", err)
	}
	if err := fenced("heartbeat", l.JobID, res); err != nil {
		return err
	}
	t := parseTransition(res)
	l.Expires = time.UnixMilli(t.lexp)
	r.reindex(ctx, l.JobID, t)
	return nil
}

func (r *Redis) StoreResult(ctx context.Context, l *Lease, turn int, result []byte) (bool, error) {
	if l == nil {
		return false, fmt.Errorf("queue: store result: %w: no lease", ErrInvalid)
	}
	if err := r.check(ctx); err != nil {
		return false, err
	}
	res, err := r.run(ctx, storeScript, r.k.callKeys(l.JobID, newID()), l.Token, turn, result)
	if err != nil {
		return false, fmt.Errorf("queue: store result: %w", err)
	}
	if err := fenced("store result", l.JobID, res); err != nil {
		return false, err
	}
	switch str(res[0]) {
	case "invalid":
		return false, fmt.Errorf("queue: store result: %w: job %s has no turn %d", ErrInvalid, l.JobID, turn)
	case "ok":
		return false, nil
	}
	r.reindex(ctx, l.JobID, parseTransition(res))
	return true, nil
}

func (r *Redis) Publish(ctx context.Context, l *Lease, typ string, data []byte) error {
	if l == nil || typ == "" {
		return fmt.Errorf("queue: publish: %w: no lease or no event type", ErrInvalid)
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	if typ == EventPartial {
		return r.publishPartial(ctx, l, data)
	}
	res, err := r.run(ctx, publishScript, r.k.jobKeys(l.JobID), l.Token, typ, data)
	if err != nil {
		return fmt.Errorf("queue: publish: %w", err)
	}
	return fenced("publish", l.JobID, res)
}

func (r *Redis) Complete(ctx context.Context, l *Lease) error {
	if l == nil {
		return fmt.Errorf("queue: complete: %w: no lease", ErrInvalid)
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	res, err := r.run(ctx, completeScript, r.k.callKeys(l.JobID, newID()), l.Token, ms(r.cfg.Retention))
	if err != nil {
		return fmt.Errorf("queue: complete: %w", err)
	}
	if err := fenced("complete", l.JobID, res); err != nil {
		return err
	}
	if str(res[0]) == "incomplete" {
		return fmt.Errorf("queue: complete: %w: job %s has %d of %d turns", ErrIncomplete, l.JobID, num(res[1]), num(res[2]))
	}
	r.reindex(ctx, l.JobID, parseTransition(res))
	return nil
}

func (r *Redis) Fail(ctx context.Context, l *Lease, msg string, retry bool) error {
	if l == nil {
		return fmt.Errorf("queue: fail: %w: no lease", ErrInvalid)
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	retryArg := "0"
	if retry {
		retryArg = "1"
	}
	res, err := r.run(ctx, failScript, r.k.callKeys(l.JobID, newID()), l.Token, msg, retryArg, ms(r.cfg.Retention))
	if err != nil {
		return fmt.Errorf("queue: fail: %w", err)
	}
	if err := fenced("fail", l.JobID, res); err != nil {
		return err
	}
	t := parseTransition(res)
	if t.state == string(StateFailed) {
		r.log.Warn("job dead-lettered", "job_id", l.JobID, "err", msg)
	}
	r.reindex(ctx, l.JobID, t)
	return nil
}

func (r *Redis) Release(ctx context.Context, l *Lease) error {
	if l == nil {
		return fmt.Errorf("queue: release: %w: no lease", ErrInvalid)
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	res, err := r.run(ctx, releaseScript, r.k.callKeys(l.JobID, newID()), l.Token)
	if err != nil {
		return fmt.Errorf("queue: release: %w", err)
	}
	if err := fenced("release", l.JobID, res); err != nil {
		return err
	}
	r.reindex(ctx, l.JobID, parseTransition(res))
	return nil
}

func (r *Redis) Cancel(ctx context.Context, jobID string) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	res, err := r.run(ctx, cancelScript, r.k.callKeys(jobID, newID()), ms(r.cfg.Retention))
	if err != nil {
		return fmt.Errorf("queue: cancel: %w", err)
	}
	switch str(res[0]) {
	case "missing":
		return fmt.Errorf("queue: cancel: %w", notFound(jobID))
	case "final":
		return fmt.Errorf("queue: cancel: %w: job %s is %s", ErrFinal, jobID, str(res[1]))
	}
	r.reindex(ctx, jobID, parseTransition(res))
	return nil
}

func (r *Redis) Get(ctx context.Context, jobID string) (*Job, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	m, err := r.c.HGetAll(ctx, r.k.job(jobID)).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: get: %w", err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("queue: get: %w", notFound(jobID))
	}
	j, err := decodeJob(m)
	if err != nil {
		return nil, fmt.Errorf("queue: get: %w", err)
	}
	return j, nil
}

func (r *Redis) Results(ctx context.Context, jobID string) (map[int][]byte, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	var exists *redis.IntCmd
	var all *redis.MapStringStringCmd
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, r.k.job(jobID))
		all = p.HGetAll(ctx, r.k.results(jobID))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: results: %w", err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("queue: results: %w", notFound(jobID))
	}
	out := make(map[int][]byte, len(all.Val()))
	for k, v := range all.Val() {
		turn, err := strconv.Atoi(k)
		if err != nil {
			return nil, fmt.Errorf("queue: results: job %s has a result for turn %q", jobID, k)
		}
		out[turn] = []byte(v)
	}
	return out, nil
}

var streamID = regexp.MustCompile(`^[0-9]+(-[0-9]+)?$`)

func (r *Redis) Events(ctx context.Context, jobID, afterID string, limit int, wait time.Duration) ([]Event, error) {
	if afterID != "" && !streamID.MatchString(afterID) {
		return nil, fmt.Errorf("queue: events: %w: event id %q", ErrInvalid, afterID)
	}
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	start := "-"
	if afterID != "" {
		start = "(" + afterID
	}
	var exists *redis.IntCmd
	var rng *redis.XMessageSliceCmd
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, r.k.job(jobID))
		if limit > 0 {
			rng = p.XRangeN(ctx, r.k.events(jobID), start, "+", int64(limit))
		} else {
			rng = p.XRange(ctx, r.k.events(jobID), start, "+")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: events: %w", err)
	}
	if exists.Val() == 0 {
		return nil, fmt.Errorf("queue: events: %w", notFound(jobID))
	}
	if len(rng.Val()) > 0 || wait <= 0 {
		return toEvents(rng.Val()), nil
	}
	after := afterID
	if after == "" {
		after = "0-0"
	}
	end := time.Now().Add(wait)
	for {
		if err := r.check(ctx); err != nil {
			return nil, err
		}
		left := time.Until(end)
		if left <= 0 {
			return nil, nil
		}
		block := min(left, r.cfg.BlockTimeout)
		if dl, ok := ctx.Deadline(); ok {
			block = min(block, time.Until(dl))
		}
		streams, err := r.blocking().XRead(ctx, &redis.XReadArgs{
			Streams: []string{r.k.events(jobID), after},
			Count:   int64(limit),
			Block:   max(block, time.Millisecond),
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("queue: events: %w", err)
		case len(streams) > 0 && len(streams[0].Messages) > 0:
			return toEvents(streams[0].Messages), nil
		}
	}
}

// blocking returns the client for blocking reads.
func (r *Redis) blocking() redis.UniversalClient {
	if r.cfg.Blocking != nil {
		return r.cfg.Blocking
	}
	return r.c
}

func toEvents(msgs []redis.XMessage) []Event {
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		e := Event{ID: m.ID}
		e.Type, _ = m.Values["t"].(string)
		if d, ok := m.Values["d"].(string); ok {
			e.Data = []byte(d)
		}
		out = append(out, e)
	}
	return out
}

func (r *Redis) RegisterWorker(ctx context.Context, info WorkerInfo) error {
	if info.ID == "" {
		return fmt.Errorf("queue: register worker: %w: no worker id", ErrInvalid)
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	info.LastSeen = time.Now()
	fields, err := encodeWorker(info)
	if err != nil {
		return fmt.Errorf("queue: register worker: %w", err)
	}
	key := r.k.worker(info.ID)
	_, err = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, fields)
		p.PExpire(ctx, key, r.cfg.RegistryTTL)
		p.ZAdd(ctx, r.k.workers(), redis.Z{Score: float64(info.LastSeen.UnixMilli()), Member: info.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: register worker: %w", err)
	}
	return nil
}

func (r *Redis) RemoveWorker(ctx context.Context, workerID string) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, r.k.worker(workerID))
		p.ZRem(ctx, r.k.workers(), workerID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: remove worker: %w", err)
	}
	return nil
}

func (r *Redis) Workers(ctx context.Context) ([]WorkerInfo, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	ids, err := r.c.ZRange(ctx, r.k.workers(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: workers: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, r.k.worker(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: workers: %w", err)
	}
	out := make([]WorkerInfo, 0, len(ids))
	var gone []any
	for i, c := range cmds {
		if len(c.Val()) == 0 {
			gone = append(gone, ids[i])
			continue
		}
		w, err := decodeWorker(c.Val())
		if err != nil {
			return nil, fmt.Errorf("queue: workers: %s: %w", ids[i], err)
		}
		out = append(out, w)
	}
	if len(gone) > 0 {
		// The entries expired; their ids leave the list too.
		if err := r.c.ZRem(ctx, r.k.workers(), gone...).Err(); err != nil {
			r.log.Warn("forget expired workers", "err", err)
		}
	}
	slices.SortFunc(out, func(a, b WorkerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Stats reads counters that the scripts keep (see keys.go): one script call, whatever
// the backlog, so health checks and metrics scrapes stay cheap.
func (r *Redis) Stats(ctx context.Context) (Stats, error) {
	if err := r.check(ctx); err != nil {
		return Stats{}, err
	}
	res, err := r.run(ctx, statsScript, r.k.indexKeys())
	if err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	if len(res) < 8 {
		return Stats{}, fmt.Errorf("queue: stats: reply %v", res)
	}
	s := Stats{
		Queued:           map[Priority]int{PriorityInteractive: int(num(res[0])), PriorityReview: int(num(res[1]))},
		Running:          int(num(res[2])),
		PositionsWaiting: max(num(res[3]), 0),
		Finished:         map[State]int64{StateDone: num(res[4]), StateFailed: num(res[5]), StateCancelled: num(res[6])},
	}
	if oldest := num(res[7]); oldest > 0 {
		s.OldestQueued = time.UnixMilli(oldest)
	}
	return s, nil
}

// encodeTurns writes turns as ",0,1,2," so a script finds a turn with one string search.
func encodeTurns(turns []int) string {
	var b strings.Builder
	b.WriteByte(',')
	for _, t := range turns {
		b.WriteString(strconv.Itoa(t))
		b.WriteByte(',')
	}
	return b.String()
}

func decodeTurns(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f == "" {
			continue
		}
		t, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("turn %q", f)
		}
		out = append(out, t)
	}
	return out, nil
}

// decodeJob reads a record hash.
func decodeJob(m map[string]string) (*Job, error) {
	atoi := func(k string) int { n, _ := strconv.Atoi(m[k]); return n }
	msTime := func(k string) time.Time {
		n, err := strconv.ParseInt(m[k], 10, 64)
		if err != nil || n == 0 {
			return time.Time{}
		}
		return time.UnixMilli(n)
	}
	turns, err := decodeTurns(m["turns"])
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", m["id"], err)
	}
	pos, _ := strconv.ParseInt(m["pos"], 10, 64)
	j := &Job{
		ID: m["id"], Owner: m["owner"], Priority: Priority(atoi("prio")), DedupeKey: m["dkey"],
		Black: m["black"], White: m["white"],
		Turns: turns, Positions: pos, MaxAttempts: atoi("max"),
		State: State(m["state"]), Attempts: atoi("att"), Error: m["err"], WorkerID: m["worker"],
		CreatedAt: msTime("created"), StartedAt: msTime("started"), FinishedAt: msTime("finished"),
	}
	if p := m["payload"]; p != "" {
		j.Payload = []byte(p)
	}
	if p := m["meta"]; p != "" {
		j.Meta = []byte(p)
	}
	return j, nil
}

func encodeWorker(w WorkerInfo) (map[string]any, error) {
	jobs, err := json.Marshal(w.CurrentJobs)
	if err != nil {
		return nil, err
	}
	t := func(v time.Time) string {
		if v.IsZero() {
			return ""
		}
		return v.Format(time.RFC3339Nano)
	}
	return map[string]any{
		"id": w.ID, "host": w.Host, "instance_id": w.InstanceID, "gpu": w.GPU,
		"katago_version": w.KataGoVersion, "katago_settings": w.KataGoSettings, "model": w.Model, "engines": w.Engines,
		"current_jobs": string(jobs), "idle_since": t(w.IdleSince), "started_at": t(w.StartedAt),
		"last_seen": t(w.LastSeen), "positions_per_sec": strconv.FormatFloat(w.PositionsPerSec, 'g', -1, 64),
	}, nil
}

func decodeWorker(m map[string]string) (WorkerInfo, error) {
	w := WorkerInfo{ID: m["id"], Host: m["host"], InstanceID: m["instance_id"], GPU: m["gpu"],
		KataGoVersion: m["katago_version"], KataGoSettings: m["katago_settings"], Model: m["model"]}
	w.Engines, _ = strconv.Atoi(m["engines"])
	w.PositionsPerSec, _ = strconv.ParseFloat(m["positions_per_sec"], 64)
	if err := json.Unmarshal([]byte(m["current_jobs"]), &w.CurrentJobs); err != nil {
		return w, fmt.Errorf("current jobs: %w", err)
	}
	for k, dst := range map[string]*time.Time{"idle_since": &w.IdleSince, "started_at": &w.StartedAt, "last_seen": &w.LastSeen} {
		if m[k] == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, m[k])
		if err != nil {
			return w, fmt.Errorf("%s: %w", k, err)
		}
		*dst = t
	}
	return w, nil
}

// str and num read script replies, where Redis turns Lua numbers into integers and
// strings stay strings.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// flatMap reads a flat field, value list (HGETALL inside a script).
func flatMap(v any) map[string]string {
	list, _ := v.([]any)
	m := make(map[string]string, len(list)/2)
	for i := 0; i+1 < len(list); i += 2 {
		m[str(list[i])] = str(list[i+1])
	}
	return m
}
