package queue

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Defaults shared by the implementations; each Config documents them.
const (
	defaultMaxAttempts = 3
)

// newID returns an unguessable job id: 128 random bits in base32.
func newID() string {
	return strings.ToLower(rand.Text())
}

// validate checks what Enqueue takes from the caller.
func validate(j *Job) error {
	if j == nil {
		return fmt.Errorf("%w: no job", ErrInvalid)
	}
	if j.Priority != PriorityReview && j.Priority != PriorityInteractive {
		return fmt.Errorf("%w: priority %d", ErrInvalid, j.Priority)
	}
	if j.MaxAttempts < 0 {
		return fmt.Errorf("%w: max attempts %d", ErrInvalid, j.MaxAttempts)
	}
	if j.Positions < 0 {
		return fmt.Errorf("%w: positions %d", ErrInvalid, j.Positions)
	}
	if len(j.Meta) > 0 && !json.Valid(j.Meta) {
		return fmt.Errorf("%w: meta is not JSON", ErrInvalid)
	}
	if strings.ContainsAny(j.ID, "{}") || len(j.ID) > 128 {
		// Braces would break the Redis hash tag that keeps a job's keys together.
		return fmt.Errorf("%w: job id %q", ErrInvalid, j.ID)
	}
	seen := make(map[int]bool, len(j.Turns))
	for _, t := range j.Turns {
		if t < 0 || seen[t] {
			return fmt.Errorf("%w: turn %d is negative or listed twice", ErrInvalid, t)
		}
		seen[t] = true
	}
	return nil
}

// clone returns a deep copy, so callers never share a record's slices with the queue.
func (j *Job) clone() *Job {
	c := *j
	c.Payload = slices.Clone(j.Payload)
	c.Turns = slices.Clone(j.Turns)
	c.Meta = slices.Clone(j.Meta)
	return &c
}

// cancelledError is a fenced call's answer on a cancelled job: the worker must stop (its
// lease is gone) and may tell why.
type cancelledError struct{ jobID string }

func (e cancelledError) Error() string { return "queue: job cancelled: job " + e.jobID }

func (e cancelledError) Is(target error) bool {
	return target == ErrCancelled || target == ErrLeaseLost
}

// leaseLost reports a fenced call rejected for the given job.
func leaseLost(jobID string) error {
	return fmt.Errorf("%w: job %s", ErrLeaseLost, jobID)
}

// notFound reports a job that does not exist (or no longer does).
func notFound(jobID string) error {
	return fmt.Errorf("%w: %s", ErrNotFound, jobID)
}

// positionsLeft is the backlog a job still represents: all of it while queued, the share of
// its turns without a result while running.
func positionsLeft(positions int64, turns, stored int) int64 {
	if turns == 0 || stored == 0 {
		return positions
	}
	if stored >= turns {
		return 0
	}
	return positions * int64(turns-stored) / int64(turns)
}
