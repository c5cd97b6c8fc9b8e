package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tesuji/tesuji/queue"
)

// Per-token limits. Two of them outlive a request, so their state lives in a LimitStore
// (the embedded default's database, or Redis so that several API servers agree):
//
//   - the quota: positions per hour, over a sliding hour of one-minute buckets. A review
//     charges one position per turn it analyzes, a single position one, a websocket query
//     one per turn it analyzes; a single position or a websocket turn that analyzed
//     nothing (refused by KataGo, interrupted or ended before its search began) gives its
//     position back. Visits do not count: they are capped per request by MaxVisits.
//   - jobs at once: an owner's queued and running jobs, the jobs of websocket turns
//     included (an API server without engines; with engines a websocket turn goes
//     straight to KataGo and is no job). A job's entry stays until the API finds the job
//     final; the API checks only when the owner is at the limit, so the common path is
//     one store call.
//
// The other limits (upload size, board size, moves, visits per request) need no state and
// are checked where requests are read.

// LimitStore keeps per-owner usage for the quota and the limit of jobs at once.
// NewSQLiteLimits serves the embedded default; NewRedisLimits several API servers.
type LimitStore interface {
	// Charge counts n positions for owner at now, unless the owner's positions over the
	// hour before now plus n would exceed quota: then it counts nothing and returns when
	// the charge would fit (the hour is made of whole minutes).
	Charge(ctx context.Context, owner string, n, quota int64, now time.Time) (ok bool, fitsAt time.Time, err error)
	// Refund takes back n positions charged at now (a request that failed after it was
	// charged).
	Refund(ctx context.Context, owner string, n int64, now time.Time) error
	// Admit adds queue job id to the owner's jobs in progress unless it already holds
	// limit of them (limit <= 0: no limit). The entry stays until Remove. Admitting a job
	// held already always succeeds.
	Admit(ctx context.Context, owner, id string, limit int) (bool, error)
	// Jobs lists the owner's jobs in progress.
	Jobs(ctx context.Context, owner string) ([]string, error)
	// Remove drops entries.
	Remove(ctx context.Context, owner string, ids ...string) error
}

// chargeQuota charges n positions to the request's owner and returns the refund to call
// if the request fails after all. 429 with Retry-After when the quota is used up. log is
// the request's logger.
func (a *API) chargeQuota(ctx context.Context, log *slog.Logger, owner string, n int) (refund func(), err error) {
	c, err := a.chargePositions(ctx, log, owner, n)
	if err != nil {
		return nil, err
	}
	return func() { c.refund(n) }, nil
}

// chargePositions is chargeQuota for a charge given back in parts; nil (nothing to give
// back) when there is no quota.
func (a *API) chargePositions(ctx context.Context, log *slog.Logger, owner string, n int) (*quotaCharge, error) {
	quota := int64(a.cfg.PositionsPerHour)
	if quota <= 0 || n <= 0 {
		return nil, nil
	}
	if int64(n) > quota {
		return nil, &Error{Status: http.StatusBadRequest, Code: "exceeds_quota", Message: fmt.Sprintf(
			"this request needs %d positions, more than the quota of %d positions per hour", n, quota)}
	}
	now := time.Now()
	ok, fitsAt, err := a.limits.Charge(ctx, owner, int64(n), quota, now)
	if err != nil {
		return nil, fmt.Errorf("api: charge quota: %w", err)
	}
	if !ok {
		a.metrics.limited.WithLabelValues("quota").Inc()
		wait := max(fitsAt.Sub(now), time.Second)
		return nil, &Error{Status: http.StatusTooManyRequests, Code: "quota_exceeded", RetryAfter: wait,
			Message: fmt.Sprintf("this token has used its quota of %d positions per hour; %d more fit in %s",
				quota, n, wait.Round(time.Second))}
	}
	return &quotaCharge{a: a, ctx: context.WithoutCancel(ctx), log: log, owner: owner, at: now}, nil
}

// quotaCharge is positions charged to an owner's quota at one time.
type quotaCharge struct {
	a     *API
	ctx   context.Context
	log   *slog.Logger
	owner string
	at    time.Time
}

// refund gives n of the charge's positions back; a nil charge has none.
func (c *quotaCharge) refund(n int) {
	if c == nil || n <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	if err := c.a.limits.Refund(ctx, c.owner, int64(n), c.at); err != nil {
		c.log.Warn("quota refund failed", "positions", n, "err", err)
	}
}

// admitJob reserves one of the owner's slots for job id. 429 when the owner has
// JobsPerToken jobs in progress.
func (a *API) admitJob(ctx context.Context, owner, id string) error {
	ok, err := a.tryAdmit(ctx, owner, id)
	if err != nil {
		return err
	}
	if !ok {
		a.metrics.limited.WithLabelValues("jobs").Inc()
		return &Error{Status: http.StatusTooManyRequests, Code: "too_many_jobs", RetryAfter: 5 * time.Second,
			Message: fmt.Sprintf("this token has %d analyses queued or running, the limit; try again when one has finished", a.cfg.JobsPerToken)}
	}
	return nil
}

// tryAdmit takes one of the owner's slots for job id until the job is final: false when
// they are all taken, after dropping the entries of jobs that have ended since.
func (a *API) tryAdmit(ctx context.Context, owner, id string) (bool, error) {
	limit := a.cfg.JobsPerToken
	if limit <= 0 {
		return true, nil
	}
	for attempt := 0; ; attempt++ {
		ok, err := a.limits.Admit(ctx, owner, id, limit)
		if err != nil {
			return false, fmt.Errorf("api: admit job: %w", err)
		}
		if ok || attempt > 0 {
			return ok, nil
		}
		// At the limit: the API does not see jobs end, so it checks them now.
		if err := a.pruneJobs(ctx, owner); err != nil {
			return false, err
		}
	}
}

// pruneJobs removes the owner's entries of jobs that are final or gone.
func (a *API) pruneJobs(ctx context.Context, owner string) error {
	ids, err := a.limits.Jobs(ctx, owner)
	if err != nil {
		return fmt.Errorf("api: list jobs in progress: %w", err)
	}
	var ended []string
	for _, id := range ids {
		j, err := a.q.Get(ctx, id)
		switch {
		case errors.Is(err, queue.ErrNotFound):
			ended = append(ended, id)
		case err != nil:
			return err
		case j.State.Final():
			ended = append(ended, id)
		}
	}
	if len(ended) == 0 {
		return nil
	}
	return a.limits.Remove(ctx, owner, ended...)
}

// releaseJob gives back the owner's slots of jobs that ended, or of a request that did
// not make its job. log is the request's logger.
func (a *API) releaseJob(ctx context.Context, log *slog.Logger, owner string, ids ...string) {
	if a.cfg.JobsPerToken <= 0 || len(ids) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.limits.Remove(rctx, owner, ids...); err != nil {
		log.Warn("release job slot failed", "err", err)
	}
}

// fitsAt returns when a charge of n fits: the start of the minute in which enough of the
// oldest buckets have left the hour.
func fitsAt(minutes map[int64]int64, used, n, quota, now int64) time.Time {
	for m := now - 59; m <= now; m++ {
		used -= minutes[m]
		if used+n <= quota {
			return time.Unix((m+60)*60, 0)
		}
	}
	return time.Unix((now+60)*60, 0)
}
