package queue

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/queue/redistest"
)

var retryPrefixes atomic.Int64

// TestRedisResentScriptRunsOnce loses the reply of one script call after Redis ran it (a
// proxy cuts the connection before the reply gets through), so go-redis resends the call
// and the script meets its own change. Each call must still answer as it did the first
// time, and the job must be as one call would leave it: nothing lost, nothing twice.
func TestRedisResentScriptRunsOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	direct := srv.Client(t)

	// env is one case's queues: q goes through the proxy that loses the reply, d straight
	// to Redis (to set the stage and look at the outcome).
	type env struct {
		q, d *Redis
		jobs []*Job
	}
	newEnv := func(t *testing.T, s *redis.Script, between func(e *env) error) (*env, *redistest.Proxy, <-chan error) {
		t.Helper()
		proxy := srv.Proxy(t)
		through := redis.NewClient(&redis.Options{Addr: proxy.Addr()})
		t.Cleanup(func() { through.Close() })
		cfg := RedisConfig{Prefix: fmt.Sprintf("retry%d", retryPrefixes.Add(1)),
			BlockTimeout: 100 * time.Millisecond, ReapInterval: -1}
		e := &env{q: NewRedis(through, cfg), d: NewRedis(direct, cfg)}
		t.Cleanup(func() { e.q.Close(); e.d.Close() })
		errs := make(chan error, 1)
		proxy.DropReplies(func(sha string) bool { return sha == s.Hash() }, func(string) {
			if between != nil {
				errs <- between(e)
			}
			close(errs)
		})
		return e, proxy, errs
	}
	ctx := context.Background()
	enqueue := func(t *testing.T, e *env, n int) {
		t.Helper()
		for range n {
			j, _, err := e.d.Enqueue(ctx, &Job{Turns: []int{0, 1}, Positions: 100})
			if err != nil {
				t.Fatal(err)
			}
			e.jobs = append(e.jobs, j)
		}
	}
	claim := func(t *testing.T, q *Redis, worker string) (*Job, *Lease) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		j, l, err := q.Claim(cctx, worker, time.Minute)
		if err != nil {
			t.Fatalf("Claim by %s: %v", worker, err)
		}
		return j, l
	}
	get := func(t *testing.T, e *env, id string) *Job {
		t.Helper()
		j, err := e.d.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	events := func(t *testing.T, e *env, id string) map[string]int {
		t.Helper()
		evs, err := e.d.Events(ctx, id, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, ev := range evs {
			out[ev.Type]++
		}
		return out
	}
	stats := func(t *testing.T, e *env) Stats {
		t.Helper()
		s, err := e.d.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.OldestQueued = time.Time{}
		return s
	}
	finished := func(done, failed, cancelled int64) map[State]int64 {
		return map[State]int64{StateDone: done, StateFailed: failed, StateCancelled: cancelled}
	}
	queued := func(n int) map[Priority]int { return map[Priority]int{PriorityReview: n, PriorityInteractive: 0} }

	// complete runs a job to its end and completes it through the proxy.
	complete := func(t *testing.T, e *env) {
		enqueue(t, e, 1)
		_, l := claim(t, e.d, "w1")
		for turn := range 2 {
			if _, err := e.d.StoreResult(ctx, l, turn, []byte(`"r"`)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.q.Complete(ctx, l); err != nil {
			t.Errorf("Complete: %v", err)
		}
		if g := get(t, e, l.JobID); g.State != StateDone || g.Attempts != 0 {
			t.Errorf("job is %s with %d attempts, want done with none", g.State, g.Attempts)
		}
		if diff := cmp.Diff(map[string]int{EventTurn: 2, EventDone: 1}, events(t, e, l.JobID)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		want := Stats{Queued: queued(0), Finished: finished(1, 0, 0)}
		if diff := cmp.Diff(want, stats(t, e)); diff != "" {
			t.Errorf("Stats (-want +got):\n%s", diff)
		}
	}

	tests := []struct {
		name    string
		script  *redis.Script
		between func(e *env) error
		run     func(t *testing.T, e *env)
	}{
		{"enqueue creates the record", createScript, nil, func(t *testing.T, e *env) {
			j, created, err := e.q.Enqueue(ctx, &Job{ID: "fixed", Turns: []int{0}, Positions: 10})
			if err != nil || !created {
				t.Fatalf("Enqueue: %v, created %v; want the job created", err, created)
			}
			if g := get(t, e, j.ID); g.State != StateQueued {
				t.Errorf("job is %s, want queued", g.State)
			}
			want := Stats{Queued: queued(1), PositionsWaiting: 10, Finished: finished(0, 0, 0)}
			if diff := cmp.Diff(want, stats(t, e)); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		}},
		{"enqueue commits a deduplicated job", commitScript, nil, func(t *testing.T, e *env) {
			in := &Job{Owner: "o", DedupeKey: "k", Turns: []int{0}, Positions: 10}
			j, created, err := e.q.Enqueue(ctx, in)
			if err != nil || !created {
				t.Fatalf("Enqueue: %v, created %v; want the job created", err, created)
			}
			if g := get(t, e, j.ID); g.State != StateQueued {
				t.Errorf("job is %s, want queued", g.State)
			}
			again, created, err := e.d.Enqueue(ctx, in)
			if err != nil || created || again.ID != j.ID {
				t.Errorf("the same submission again: %v, created %v, err %v; want job %s", again, created, err, j.ID)
			}
			got, _ := claim(t, e.d, "w")
			if got.ID != j.ID {
				t.Errorf("claimed %s, want %s", got.ID, j.ID)
			}
		}},
		{"enqueue admits the job to its owner's library", libraryAddScript, nil, func(t *testing.T, e *env) {
			j, created, err := e.q.Enqueue(ctx, &Job{ID: "mine", Owner: "o", Turns: []int{0}, Positions: 10})
			if err != nil || !created {
				t.Fatalf("Enqueue: %v, created %v; want the job created", err, created)
			}
			list, _, err := e.d.List(ctx, ListFilter{Owner: "o"})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].ID != j.ID {
				t.Errorf("the owner's library lists %v, want job %s once", list, j.ID)
			}
		}},
		{"delete removes a final job", deleteScript, nil, func(t *testing.T, e *env) {
			enqueue(t, e, 1)
			id := e.jobs[0].ID
			if err := e.d.Cancel(ctx, id); err != nil {
				t.Fatal(err)
			}
			if err := e.q.Delete(ctx, id); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if _, err := e.d.Get(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete: %v, want ErrNotFound", err)
			}
			want := Stats{Queued: queued(0), Finished: finished(0, 0, 1)}
			if diff := cmp.Diff(want, stats(t, e)); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		}},
		{"claim takes the next job from the line", claimNextScript, nil, func(t *testing.T, e *env) {
			enqueue(t, e, 2)
			got, _ := claim(t, e.q, "w1")
			if got.ID != e.jobs[0].ID {
				t.Errorf("claimed %s, want the first in line %s", got.ID, e.jobs[0].ID)
			}
			next, _ := claim(t, e.d, "w2")
			if next.ID != e.jobs[1].ID || next.Attempts != 0 {
				t.Errorf("the next claim got %s with %d attempts, want %s with none", next.ID, next.Attempts, e.jobs[1].ID)
			}
		}},
		{"claim leases the job", claimScript, nil, func(t *testing.T, e *env) {
			enqueue(t, e, 2)
			got, l := claim(t, e.q, "w1")
			if got.ID != e.jobs[0].ID || got.State != StateRunning || got.WorkerID != "w1" {
				t.Fatalf("claimed %+v, want %s running under w1", got, e.jobs[0].ID)
			}
			if err := e.d.Heartbeat(ctx, l, time.Minute); err != nil {
				t.Errorf("Heartbeat with the lease of the claim: %v", err)
			}
			want := Stats{Queued: queued(1), Running: 1, PositionsWaiting: 200, Finished: finished(0, 0, 0)}
			if diff := cmp.Diff(want, stats(t, e)); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		}},
		{"heartbeat extends the lease", heartbeatScript, func(e *env) error {
			return e.d.Cancel(ctx, e.jobs[0].ID)
		}, func(t *testing.T, e *env) {
			enqueue(t, e, 1)
			_, l := claim(t, e.d, "w1")
			if err := e.q.Heartbeat(ctx, l, time.Minute); err != nil {
				t.Errorf("Heartbeat that extended the lease before the cancel: %v, want nil", err)
			}
			if err := e.q.Heartbeat(ctx, l, time.Minute); !errors.Is(err, ErrCancelled) {
				t.Errorf("the next Heartbeat: %v, want ErrCancelled", err)
			}
		}},
		{"store result keeps the turn", storeScript, nil, func(t *testing.T, e *env) {
			enqueue(t, e, 1)
			_, l := claim(t, e.d, "w1")
			stored, err := e.q.StoreResult(ctx, l, 0, []byte(`"r"`))
			if err != nil || !stored {
				t.Errorf("StoreResult: stored %v, %v; want stored", stored, err)
			}
			if diff := cmp.Diff(map[string]int{EventTurn: 1}, events(t, e, l.JobID)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			want := Stats{Queued: queued(0), Running: 1, PositionsWaiting: 50, Finished: finished(0, 0, 0)}
			if diff := cmp.Diff(want, stats(t, e)); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		}},
		// Between the call and its resend the job is cancelled: the resend must answer as the
		// call did (replaced), not with the cancel it meets.
		{"replace result replaces the turn", replaceScript, func(e *env) error {
			return e.d.Cancel(ctx, e.jobs[0].ID)
		}, func(t *testing.T, e *env) {
			enqueue(t, e, 1)
			_, l := claim(t, e.d, "w1")
			if _, err := e.d.StoreResult(ctx, l, 0, []byte(`"quick"`)); err != nil {
				t.Fatal(err)
			}
			if err := e.q.ReplaceResult(ctx, l, 0, []byte(`"deep"`)); err != nil {
				t.Errorf("ReplaceResult: %v, want nil: the turn was replaced by this call", err)
			}
			res, err := e.d.Results(ctx, l.JobID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[int][]byte{0: []byte(`"deep"`)}, res); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]int{EventTurn: 2, EventCancelled: 1}, events(t, e, l.JobID)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		}},
		{"complete finishes the job", completeScript, nil, complete},
		{"fail counts one attempt", failScript, nil, func(t *testing.T, e *env) {
			enqueue(t, e, 1)
			_, l := claim(t, e.d, "w1")
			if err := e.q.Fail(ctx, l, "boom", true); err != nil {
				t.Errorf("Fail: %v", err)
			}
			if g := get(t, e, l.JobID); g.State != StateQueued || g.Attempts != 1 {
				t.Errorf("job is %s with %d attempts, want queued with 1", g.State, g.Attempts)
			}
			if diff := cmp.Diff(map[string]int{EventRetry: 1}, events(t, e, l.JobID)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		}},
		{"release hands the job back", releaseScript, nil, func(t *testing.T, e *env) {
			enqueue(t, e, 1)
			_, l := claim(t, e.d, "w1")
			if err := e.q.Release(ctx, l); err != nil {
				t.Errorf("Release: %v", err)
			}
			got, _ := claim(t, e.d, "w2")
			if got.ID != l.JobID || got.Attempts != 0 {
				t.Errorf("claimed %s with %d attempts, want %s with none", got.ID, got.Attempts, l.JobID)
			}
		}},
		{"cancel ends the job", cancelScript, nil, func(t *testing.T, e *env) {
			enqueue(t, e, 1)
			if err := e.q.Cancel(ctx, e.jobs[0].ID); err != nil {
				t.Errorf("Cancel: %v, want nil: the job was cancelled by this call", err)
			}
			if g := get(t, e, e.jobs[0].ID); g.State != StateCancelled {
				t.Errorf("job is %s, want cancelled", g.State)
			}
			if diff := cmp.Diff(map[string]int{EventCancelled: 1}, events(t, e, e.jobs[0].ID)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			want := Stats{Queued: queued(0), Finished: finished(0, 0, 1)}
			if diff := cmp.Diff(want, stats(t, e)); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		}},
		// The reply lost is the one of the index update after the completion.
		{"the index update counts the final state once", indexScript, nil, complete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, proxy, between := newEnv(t, tt.script, tt.between)
			tt.run(t, e)
			if diff := cmp.Diff([]string{tt.script.Hash()}, proxy.Dropped()); diff != "" {
				t.Fatalf("replies lost (-want +got):\n%s", diff)
			}
			if err := <-between; err != nil {
				t.Errorf("between the call and its resend: %v", err)
			}
		})
	}
}
