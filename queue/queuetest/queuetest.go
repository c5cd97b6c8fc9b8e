// Package queuetest owns the conformance suite of queue.Queue: every implementation (the
// SQLite store, the Redis queue on a single node and on a cluster) runs the same
// subtests, one per behaviour of the contract in package queue.
package queuetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tesuji/tesuji/queue"
)

// Options is what a subtest needs from the queue it asks for. A zero field means the
// implementation's default.
type Options struct {
	// Retention is how long final jobs stay.
	Retention time.Duration
	// RegistryTTL is how long a worker entry lives without a refresh.
	RegistryTTL time.Duration
	// MaxOwnerJobs and MaxOwnerBytes are the owner caps.
	MaxOwnerJobs  int
	MaxOwnerBytes int64
}

// Run runs the suite. newQueue returns a fresh, empty queue configured with opt and the
// contract's other defaults (MaxAttempts 3); it arranges the queue's Close with t.Cleanup
// (the suite closes some queues itself, so Close must be idempotent). The suite waits on
// real time with short leases and retention periods, polling conditions with deadlines.
func Run(t *testing.T, newQueue func(t *testing.T, opt Options) queue.Queue) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, newQueue func(t *testing.T, opt Options) queue.Queue)
	}{
		{"EnqueueGet", testEnqueueGet},
		{"EnqueueInvalid", testEnqueueInvalid},
		{"PriorityOrder", testPriorityOrder},
		{"ClaimOnlyPriority", testClaimOnlyPriority},
		{"ClaimBlocksUntilEnqueue", testClaimBlocksUntilEnqueue},
		{"LeaseExpiryReclaim", testLeaseExpiryReclaim},
		{"HeartbeatExtends", testHeartbeatExtends},
		{"Fencing", testFencing},
		{"StoreResultOnce", testStoreResultOnce},
		{"ReplaceResult", testReplaceResult},
		{"ResumeAfterReclaim", testResumeAfterReclaim},
		{"CompleteNeedsEveryTurn", testCompleteNeedsEveryTurn},
		{"EventsOrderAndResume", testEventsOrderAndResume},
		{"EventsWait", testEventsWait},
		{"CancelQueued", testCancelQueued},
		{"CancelRunning", testCancelRunning},
		{"FailRetryDeadLetter", testFailRetryDeadLetter},
		{"FailPermanent", testFailPermanent},
		{"ReleaseCountsNoAttempt", testReleaseCountsNoAttempt},
		{"ExpiredLeaseDeadLetter", testExpiredLeaseDeadLetter},
		{"Dedupe", testDedupe},
		{"DedupeAfterFinal", testDedupeAfterFinal},
		{"Retention", testRetention},
		{"Registry", testRegistry},
		{"Stats", testStats},
		{"StatsFinalStates", testStatsFinalStates},
		{"CloseUnblocks", testCloseUnblocks},
		{"ConcurrentWorkers", testConcurrentWorkers},
		{"Variations", testVariations},
		{"VariationsExpire", testVariationsExpire},
		{"PartialEventsBounded", testPartialEventsBounded},
		{"PartialEventsGoWhenFinal", testPartialEventsGoWhenFinal},
		{"List", testList},
		{"ListPages", testListPages},
		{"Delete", testDelete},
		{"OwnerCaps", testOwnerCaps},
		{"RetentionFreesCaps", testRetentionFreesCaps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newQueue)
		})
	}
}

// long is a lease no test outlives; waitLimit bounds every wait for something that must
// happen.
const (
	long      = time.Minute
	waitLimit = 20 * time.Second
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func review(turns ...int) *queue.Job {
	return &queue.Job{Owner: "owner", Priority: queue.PriorityReview, Payload: []byte(`{"game":1}`),
		Turns: turns, Positions: int64(len(turns)) * 100}
}

func enqueue(t *testing.T, q queue.Queue, j *queue.Job) *queue.Job {
	t.Helper()
	got, created, err := q.Enqueue(testCtx(t), j)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if !created {
		t.Fatalf("Enqueue of a new job: created = false, job %s", got.ID)
	}
	return got
}

func claim(t *testing.T, q queue.Queue, worker string, ttl time.Duration) (*queue.Job, *queue.Lease) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	j, l, err := q.Claim(ctx, worker, ttl)
	if err != nil {
		t.Fatalf("Claim by %s: %v", worker, err)
	}
	return j, l
}

// noClaim asserts that nothing is claimable for d.
func noClaim(t *testing.T, q queue.Queue, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	j, _, err := q.Claim(ctx, "idle", long)
	if err == nil {
		t.Fatalf("Claim got job %s (state %s), want nothing claimable", j.ID, j.State)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Claim on an empty queue: %v, want context.DeadlineExceeded", err)
	}
}

// expireSoon shortens a lease to a millisecond, as if its worker had died then: tests do
// their work under a long lease and end it when they choose, whatever the machine's load.
func expireSoon(t *testing.T, q queue.Queue, l *queue.Lease) {
	t.Helper()
	if err := q.Heartbeat(testCtx(t), l, time.Millisecond); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
}

func get(t *testing.T, q queue.Queue, id string) *queue.Job {
	t.Helper()
	j, err := q.Get(testCtx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return j
}

func store(t *testing.T, q queue.Queue, l *queue.Lease, turn int, result string) bool {
	t.Helper()
	ok, err := q.StoreResult(testCtx(t), l, turn, []byte(result))
	if err != nil {
		t.Fatalf("StoreResult(turn %d): %v", turn, err)
	}
	return ok
}

func events(t *testing.T, q queue.Queue, id, after string) []queue.Event {
	t.Helper()
	evs, err := q.Events(testCtx(t), id, after, 0, 0)
	if err != nil {
		t.Fatalf("Events(%s, after %q): %v", id, after, err)
	}
	return evs
}

// eventsAnswer is what a call of Events returned.
type eventsAnswer struct {
	evs []queue.Event
	err error
}

// waitEvents calls Events for the job's events after after, waiting up to waitLimit for
// one, on its own goroutine; the answer comes on the channel.
func waitEvents(t *testing.T, q queue.Queue, id, after string) <-chan eventsAnswer {
	t.Helper()
	ctx := testCtx(t)
	ch := make(chan eventsAnswer, 1)
	go func() {
		evs, err := q.Events(ctx, id, after, 0, waitLimit)
		ch <- eventsAnswer{evs, err}
	}()
	return ch
}

func eventTypes(evs []queue.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func stateEvent(t *testing.T, e queue.Event) queue.StateEvent {
	t.Helper()
	var s queue.StateEvent
	if err := json.Unmarshal(e.Data, &s); err != nil {
		t.Fatalf("%s event data %q: %v", e.Type, e.Data, err)
	}
	return s
}

// wantOneStateEvent checks that the job's events are one event of type typ whose data
// is want.
func wantOneStateEvent(t *testing.T, q queue.Queue, id, typ string, want queue.StateEvent) {
	t.Helper()
	evs := events(t, q, id, "")
	if diff := cmp.Diff([]string{typ}, eventTypes(evs)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, stateEvent(t, evs[0])); diff != "" {
		t.Errorf("%s event (-want +got):\n%s", typ, diff)
	}
}

func wantErr(t *testing.T, what string, err error, targets ...error) {
	t.Helper()
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: error %v, want one matching %v", what, err, target)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func results(t *testing.T, q queue.Queue, id string) map[int]string {
	t.Helper()
	rs, err := q.Results(testCtx(t), id)
	if err != nil {
		t.Fatalf("Results(%s): %v", id, err)
	}
	out := make(map[int]string, len(rs))
	for k, v := range rs {
		out[k] = string(v)
	}
	return out
}

func testEnqueueGet(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	in := &queue.Job{Owner: "alice", Priority: queue.PriorityInteractive, Payload: []byte(`{"x":1}`),
		Turns: []int{0, 5, 2}, Positions: 300}
	j := enqueue(t, q, in)
	if in.ID != "" || in.State != "" {
		t.Errorf("Enqueue modified its argument: %+v", in)
	}
	if len(j.ID) < 20 {
		t.Errorf("job id %q is too short to be unguessable", j.ID)
	}
	if j.CreatedAt.IsZero() {
		t.Error("CreatedAt is zero")
	}
	want := &queue.Job{ID: j.ID, Owner: "alice", Priority: queue.PriorityInteractive, Payload: []byte(`{"x":1}`),
		Turns: []int{0, 5, 2}, Positions: 300, MaxAttempts: 3, State: queue.StateQueued, CreatedAt: j.CreatedAt}
	if diff := cmp.Diff(want, j); diff != "" {
		t.Errorf("Enqueue returned (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(j, get(t, q, j.ID)); diff != "" {
		t.Errorf("Get differs from Enqueue (-enqueue +get):\n%s", diff)
	}
	if rs := results(t, q, j.ID); len(rs) != 0 {
		t.Errorf("Results of a new job: %v", rs)
	}
	if evs := events(t, q, j.ID, ""); len(evs) != 0 {
		t.Errorf("Events of a new job: %v", evs)
	}
	other := enqueue(t, q, review(0))
	if other.ID == j.ID {
		t.Errorf("two jobs got the same id %s", j.ID)
	}

	named := enqueue(t, q, &queue.Job{ID: "chosen-id", Payload: []byte(`{}`)})
	if named.ID != "chosen-id" {
		t.Errorf("job id %q, want the caller's chosen-id", named.ID)
	}
	_, _, err := q.Enqueue(ctx, &queue.Job{ID: "chosen-id"})
	wantErr(t, "Enqueue with a taken id", err, queue.ErrInvalid)

	_, err = q.Get(ctx, "no-such-job")
	wantErr(t, "Get of an unknown job", err, queue.ErrNotFound)
	_, err = q.Results(ctx, "no-such-job")
	wantErr(t, "Results of an unknown job", err, queue.ErrNotFound)
	_, err = q.Events(ctx, "no-such-job", "", 0, 0)
	wantErr(t, "Events of an unknown job", err, queue.ErrNotFound)
	wantErr(t, "Cancel of an unknown job", q.Cancel(ctx, "no-such-job"), queue.ErrNotFound)
}

func testEnqueueInvalid(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	tests := []struct {
		name string
		job  *queue.Job
	}{
		{"nil", nil},
		{"unknown priority", &queue.Job{Priority: 7}},
		{"negative turn", &queue.Job{Turns: []int{0, -1}}},
		{"turn twice", &queue.Job{Turns: []int{3, 4, 3}}},
		{"negative max attempts", &queue.Job{MaxAttempts: -1}},
		{"negative positions", &queue.Job{Positions: -5}},
		{"braces in id", &queue.Job{ID: "a{b}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j, _, err := q.Enqueue(testCtx(t), tt.job)
			if !errors.Is(err, queue.ErrInvalid) {
				t.Fatalf("Enqueue: job %+v, error %v, want ErrInvalid", j, err)
			}
		})
	}
}

func testPriorityOrder(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	var order []string
	add := func(p queue.Priority) string {
		j := review(0)
		j.Priority = p
		return enqueue(t, q, j).ID
	}
	r1 := add(queue.PriorityReview)
	r2 := add(queue.PriorityReview)
	i1 := add(queue.PriorityInteractive)
	r3 := add(queue.PriorityReview)
	i2 := add(queue.PriorityInteractive)
	for range 5 {
		j, _ := claim(t, q, "w", long)
		order = append(order, j.ID)
	}
	if diff := cmp.Diff([]string{i1, i2, r1, r2, r3}, order); diff != "" {
		t.Errorf("claim order (-want +got):\n%s", diff)
	}
	noClaim(t, q, 50*time.Millisecond)
}

// testClaimOnlyPriority: a claim limited to one priority takes only that priority's jobs,
// leaves the others in line in their places, and a claimer blocked for one priority is
// woken by that priority's job, not taken away by the other's.
func testClaimOnlyPriority(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	add := func(p queue.Priority) string {
		j := review(0)
		j.Priority = p
		return enqueue(t, q, j).ID
	}
	claimOnly := func(ctx context.Context, worker string, only ...queue.Priority) (string, error) {
		j, _, err := q.Claim(ctx, worker, long, only...)
		if err != nil {
			return "", err
		}
		return j.ID, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	r1 := add(queue.PriorityReview)
	i1 := add(queue.PriorityInteractive)
	r2 := add(queue.PriorityReview)
	i2 := add(queue.PriorityInteractive)
	var order []string
	for _, only := range [][]queue.Priority{
		{queue.PriorityReview}, nil, {queue.PriorityReview}, {queue.PriorityInteractive, queue.PriorityReview},
	} {
		id, err := claimOnly(ctx, "w", only...)
		if err != nil {
			t.Fatalf("Claim(%v): %v", only, err)
		}
		order = append(order, id)
	}
	if diff := cmp.Diff([]string{r1, i1, r2, i2}, order); diff != "" {
		t.Errorf("claim order with filters (-want +got):\n%s", diff)
	}

	r3 := add(queue.PriorityReview)
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	if id, err := claimOnly(short, "interactive-only", queue.PriorityInteractive); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("interactive-only Claim with only a review in line: job %q, %v; want context.DeadlineExceeded", id, err)
	}
	cancelShort()
	if _, _, err := q.Claim(ctx, "w", long, queue.Priority(7)); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("Claim of priority 7: %v, want ErrInvalid", err)
	}

	// Two claimers block, one per priority; each job wakes its own.
	type claimed struct {
		id  string
		err error
	}
	inter := make(chan claimed, 1)
	rev := make(chan claimed, 1)
	if id, err := claimOnly(ctx, "reviews-only", queue.PriorityReview); err != nil || id != r3 {
		t.Fatalf("review-only Claim: job %q, %v; want %s", id, err, r3)
	}
	go func() {
		id, err := claimOnly(ctx, "interactive-only", queue.PriorityInteractive)
		inter <- claimed{id, err}
	}()
	go func() {
		id, err := claimOnly(ctx, "reviews-only", queue.PriorityReview)
		rev <- claimed{id, err}
	}()
	r4 := add(queue.PriorityReview)
	i3 := add(queue.PriorityInteractive)
	if c := <-rev; c.err != nil || c.id != r4 {
		t.Errorf("blocked review-only Claim: job %q, %v; want %s", c.id, c.err, r4)
	}
	if c := <-inter; c.err != nil || c.id != i3 {
		t.Errorf("blocked interactive-only Claim: job %q, %v; want %s", c.id, c.err, i3)
	}
	noClaim(t, q, 50*time.Millisecond)
}

func testClaimBlocksUntilEnqueue(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	noClaim(t, q, 100*time.Millisecond)

	type claimed struct {
		job   *queue.Job
		lease *queue.Lease
		err   error
	}
	ch := make(chan claimed, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		j, l, err := q.Claim(ctx, "w1", long)
		ch <- claimed{j, l, err}
	}()
	want := enqueue(t, q, review(0, 1))
	c := <-ch
	if c.err != nil {
		t.Fatalf("blocked Claim: %v", c.err)
	}
	if c.job.ID != want.ID || c.job.State != queue.StateRunning || c.job.WorkerID != "w1" || c.job.StartedAt.IsZero() {
		t.Errorf("claimed %+v, want job %s running by w1", c.job, want.ID)
	}
	if c.lease.JobID != want.ID || c.lease.WorkerID != "w1" || c.lease.Token <= 0 || !c.lease.Expires.After(c.job.StartedAt) {
		t.Errorf("lease %+v", c.lease)
	}
	if g := get(t, q, want.ID); g.State != queue.StateRunning || g.WorkerID != "w1" {
		t.Errorf("Get after claim: state %s worker %q, want running by w1", g.State, g.WorkerID)
	}
}

func testLeaseExpiryReclaim(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0))
	_, l1 := claim(t, q, "w1", 200*time.Millisecond)
	j2, l2 := claim(t, q, "w2", long)
	if j2.ID != j.ID || j2.WorkerID != "w2" || j2.Attempts != 1 || j2.Error != "lease expired" {
		t.Errorf("reclaimed job %+v, want %s by w2 with attempt 1 and error %q", j2, j.ID, "lease expired")
	}
	if l2.Token <= l1.Token {
		t.Errorf("reclaim token %d, want more than the first claim's %d", l2.Token, l1.Token)
	}
	err := q.Heartbeat(testCtx(t), l1, long)
	wantErr(t, "Heartbeat of the expired lease", err, queue.ErrLeaseLost)
	if errors.Is(err, queue.ErrCancelled) {
		t.Errorf("Heartbeat of the expired lease: %v, which is not a cancellation", err)
	}
	if err := q.Heartbeat(testCtx(t), l2, long); err != nil {
		t.Errorf("Heartbeat of the new lease: %v", err)
	}
	wantOneStateEvent(t, q, j.ID, queue.EventRetry, queue.StateEvent{State: queue.StateQueued, Attempts: 1, Error: "lease expired"})
}

func testHeartbeatExtends(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0))
	_, l := claim(t, q, "w1", 2*time.Second)
	before := l.Expires
	if err := q.Heartbeat(testCtx(t), l, long); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	if !l.Expires.After(before.Add(30 * time.Second)) {
		t.Errorf("lease expires %v after the heartbeat, want about a minute after %v", l.Expires, before)
	}
	noClaim(t, q, 3*time.Second) // past the first lease
	if !store(t, q, l, 0, `"r0"`) {
		t.Error("StoreResult under the extended lease stored nothing")
	}
	if g := get(t, q, j.ID); g.Attempts != 0 || g.WorkerID != "w1" {
		t.Errorf("job after the first lease's end: attempts %d worker %q, want 0 and w1", g.Attempts, g.WorkerID)
	}
}

func testFencing(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0, 1))
	_, stale := claim(t, q, "w1", long)
	expireSoon(t, q, stale)
	_, current := claim(t, q, "w2", long) // reclaimed once the first lease expired
	forged := *current
	forged.Token++
	unknown := queue.Lease{JobID: "no-such-job", WorkerID: "w1", Token: 1}

	ops := []struct {
		name string
		call func(ctx context.Context, l *queue.Lease) error
	}{
		{"Heartbeat", func(ctx context.Context, l *queue.Lease) error { return q.Heartbeat(ctx, l, long) }},
		{"StoreResult", func(ctx context.Context, l *queue.Lease) error {
			_, err := q.StoreResult(ctx, l, 0, []byte(`"late"`))
			return err
		}},
		{"ReplaceResult", func(ctx context.Context, l *queue.Lease) error {
			return q.ReplaceResult(ctx, l, 0, []byte(`"late"`))
		}},
		{"Publish", func(ctx context.Context, l *queue.Lease) error {
			return q.Publish(ctx, l, queue.EventProgress, []byte(`{}`))
		}},
		{"Complete", func(ctx context.Context, l *queue.Lease) error { return q.Complete(ctx, l) }},
		{"Fail", func(ctx context.Context, l *queue.Lease) error { return q.Fail(ctx, l, "late", true) }},
		{"Release", func(ctx context.Context, l *queue.Lease) error { return q.Release(ctx, l) }},
	}
	leases := []struct {
		name  string
		lease *queue.Lease
	}{
		{"stale", stale},
		{"forged token", &forged},
		{"unknown job", &unknown},
	}
	// Not parallel: the rows share one job, so a write wrongly let through would change what
	// the rows after it see; each row must find the job as the reclaim left it.
	for _, op := range ops {
		for _, l := range leases {
			t.Run(op.name+"/"+l.name, func(t *testing.T) {
				err := op.call(testCtx(t), l.lease)
				wantErr(t, op.name, err, queue.ErrLeaseLost)
			})
		}
	}
	if rs := results(t, q, j.ID); len(rs) != 0 {
		t.Errorf("rejected writes stored results: %v", rs)
	}
	if diff := cmp.Diff([]string{queue.EventRetry}, eventTypes(events(t, q, j.ID, ""))); diff != "" {
		t.Errorf("rejected writes appended events (-want +got):\n%s", diff)
	}
	g := get(t, q, j.ID)
	if g.State != queue.StateRunning || g.WorkerID != "w2" || g.Attempts != 1 {
		t.Errorf("job after rejected writes: %+v, want running by w2 with 1 attempt", g)
	}
	if err := q.Heartbeat(testCtx(t), current, long); err != nil {
		t.Errorf("Heartbeat of the current lease: %v", err)
	}
}

func testStoreResultOnce(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0, 3))
	_, l := claim(t, q, "w1", long)
	if !store(t, q, l, 3, `"first"`) {
		t.Fatal("first StoreResult of turn 3 stored nothing")
	}
	if store(t, q, l, 3, `"second"`) {
		t.Error("second StoreResult of turn 3 stored again")
	}
	_, err := q.StoreResult(testCtx(t), l, 7, []byte(`"x"`))
	wantErr(t, "StoreResult of a turn the job does not have", err, queue.ErrInvalid)
	if diff := cmp.Diff(map[int]string{3: `"first"`}, results(t, q, j.ID)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	evs := events(t, q, j.ID, "")
	if diff := cmp.Diff([]string{queue.EventTurn}, eventTypes(evs)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if string(evs[0].Data) != `"first"` {
		t.Errorf("turn event data %s, want the stored result", evs[0].Data)
	}
}

func testReplaceResult(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0, 1, 2))
	_, l := claim(t, q, "w1", long)
	replace := func(turn int, result string) {
		t.Helper()
		if err := q.ReplaceResult(testCtx(t), l, turn, []byte(result)); err != nil {
			t.Fatalf("ReplaceResult(turn %d, %s): %v", turn, result, err)
		}
	}
	store(t, q, l, 0, `"quick-0"`)
	store(t, q, l, 1, `"quick-1"`)
	replace(1, `"deep-1"`)
	replace(1, `"deep-1"`) // a retried call: no change, no second event
	replace(2, `"deep-2"`) // a turn without a result gets one
	if store(t, q, l, 1, `"late"`) {
		t.Error("StoreResult overwrote a replaced result")
	}
	err := q.ReplaceResult(testCtx(t), l, 7, []byte(`"x"`))
	wantErr(t, "ReplaceResult of a turn the job does not have", err, queue.ErrInvalid)

	want := map[int]string{0: `"quick-0"`, 1: `"deep-1"`, 2: `"deep-2"`}
	if diff := cmp.Diff(want, results(t, q, j.ID)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	var got []string
	for _, e := range events(t, q, j.ID, "") {
		got = append(got, e.Type+" "+string(e.Data))
	}
	wantEvents := []string{`turn "quick-0"`, `turn "quick-1"`, `turn "deep-1"`, `turn "deep-2"`}
	if diff := cmp.Diff(wantEvents, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if err := q.Complete(testCtx(t), l); err != nil {
		t.Fatalf("Complete after replacing: %v", err)
	}
	err = q.ReplaceResult(testCtx(t), l, 1, []byte(`"after done"`))
	wantErr(t, "ReplaceResult on a done job", err, queue.ErrLeaseLost)
	if diff := cmp.Diff(want, results(t, q, j.ID)); diff != "" {
		t.Errorf("results after a rejected replace (-want +got):\n%s", diff)
	}
}

func testResumeAfterReclaim(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0, 1, 2))
	_, l1 := claim(t, q, "w1", long)
	if !store(t, q, l1, 0, `"w1-0"`) {
		t.Fatal("StoreResult by w1 stored nothing")
	}
	expireSoon(t, q, l1) // w1 dies
	_, l2 := claim(t, q, "w2", long)
	missing := []int{}
	done := results(t, q, j.ID)
	for _, turn := range j.Turns {
		if _, ok := done[turn]; !ok {
			missing = append(missing, turn)
		}
	}
	if diff := cmp.Diff([]int{1, 2}, missing); diff != "" {
		t.Errorf("turns left after the reclaim (-want +got):\n%s", diff)
	}
	if store(t, q, l2, 0, `"w2-0"`) {
		t.Error("w2 stored turn 0 again")
	}
	for _, turn := range missing {
		if !store(t, q, l2, turn, fmt.Sprintf(`"w2-%d"`, turn)) {
			t.Errorf("w2 could not store turn %d", turn)
		}
	}
	if err := q.Complete(testCtx(t), l2); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if diff := cmp.Diff(map[int]string{0: `"w1-0"`, 1: `"w2-1"`, 2: `"w2-2"`}, results(t, q, j.ID)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	want := []string{queue.EventTurn, queue.EventRetry, queue.EventTurn, queue.EventTurn, queue.EventDone}
	if diff := cmp.Diff(want, eventTypes(events(t, q, j.ID, ""))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if g := get(t, q, j.ID); g.State != queue.StateDone || g.Attempts != 1 || g.FinishedAt.IsZero() || g.WorkerID != "" {
		t.Errorf("job %+v, want done after 1 failed attempt", g)
	}
}

func testCompleteNeedsEveryTurn(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0, 1))
	_, l := claim(t, q, "w1", long)
	store(t, q, l, 1, `"r1"`)
	wantErr(t, "Complete with turn 0 missing", q.Complete(testCtx(t), l), queue.ErrIncomplete)
	if g := get(t, q, j.ID); g.State != queue.StateRunning {
		t.Errorf("state after a refused Complete: %s, want running", g.State)
	}
	store(t, q, l, 0, `"r0"`)
	if err := q.Complete(testCtx(t), l); err != nil {
		t.Fatalf("Complete with every turn: %v", err)
	}

	empty := enqueue(t, q, &queue.Job{Payload: []byte(`{}`)})
	_, l = claim(t, q, "w1", long)
	if err := q.Complete(testCtx(t), l); err != nil {
		t.Fatalf("Complete of a job without turns: %v", err)
	}
	if g := get(t, q, empty.ID); g.State != queue.StateDone {
		t.Errorf("job without turns: state %s, want done", g.State)
	}
	wantErr(t, "Complete twice", q.Complete(testCtx(t), l), queue.ErrLeaseLost)
}

func testEventsOrderAndResume(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0, 1, 2))
	_, l := claim(t, q, "w1", long)
	if err := q.Publish(ctx, l, queue.EventProgress, []byte(`{"p":1}`)); err != nil {
		t.Fatal(err)
	}
	store(t, q, l, 0, `{"turn":0}`)
	if err := q.Publish(ctx, l, queue.EventPartial, []byte(`{"turn":1,"partial":true}`)); err != nil {
		t.Fatal(err)
	}
	store(t, q, l, 1, `{"turn":1}`)
	store(t, q, l, 2, `{"turn":2}`)
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	all := events(t, q, j.ID, "")
	got := make([][2]string, len(all))
	for i, e := range all {
		got[i] = [2]string{e.Type, string(e.Data)}
	}
	// The partial report of turn 1 went when the turn's result came.
	want := [][2]string{
		{queue.EventProgress, `{"p":1}`},
		{queue.EventTurn, `{"turn":0}`},
		{queue.EventTurn, `{"turn":1}`},
		{queue.EventTurn, `{"turn":2}`},
	}
	if diff := cmp.Diff(want, got[:len(got)-1]); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	last := all[len(all)-1]
	if diff := cmp.Diff(queue.StateEvent{State: queue.StateDone}, stateEvent(t, last)); last.Type != queue.EventDone || diff != "" {
		t.Errorf("last event %s (-want +got):\n%s", last.Type, diff)
	}
	seen := map[string]bool{}
	for i, e := range all {
		if e.ID == "" || seen[e.ID] {
			t.Errorf("event %d has id %q, empty or repeated", i, e.ID)
		}
		seen[e.ID] = true
		if diff := cmp.Diff(all[i+1:], events(t, q, j.ID, e.ID), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("events after %s (-want +got):\n%s", e.ID, diff)
		}
	}
	first2, err := q.Events(ctx, j.ID, "", 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all[:2], first2); diff != "" {
		t.Errorf("Events with limit 2 (-want +got):\n%s", diff)
	}
	next2, err := q.Events(ctx, j.ID, first2[1].ID, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all[2:4], next2); diff != "" {
		t.Errorf("Events with limit 2 after the first page (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"garbage", "-1", "1-2-3"} {
		_, err := q.Events(ctx, j.ID, bad, 0, 0)
		wantErr(t, fmt.Sprintf("Events after %q", bad), err, queue.ErrInvalid)
	}
}

func testEventsWait(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0))
	_, l := claim(t, q, "w1", long)

	evs, err := q.Events(testCtx(t), j.ID, "", 0, 50*time.Millisecond)
	if err != nil || len(evs) != 0 {
		t.Fatalf("Events with a short wait on an empty stream: %v, %v; want none and no error", evs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = q.Events(ctx, j.ID, "", 0, waitLimit)
	wantErr(t, "Events whose context ends first", err, context.DeadlineExceeded)

	ch := waitEvents(t, q, j.ID, "")
	if err := q.Publish(testCtx(t), l, queue.EventProgress, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil || len(a.evs) != 1 || string(a.evs[0].Data) != `{"n":1}` {
		t.Fatalf("waiting Events: %v, %v; want the published event", a.evs, a.err)
	}

	ch = waitEvents(t, q, j.ID, a.evs[0].ID)
	store(t, q, l, 0, `"r0"`)
	a = <-ch
	if a.err != nil || len(a.evs) != 1 || a.evs[0].Type != queue.EventTurn {
		t.Fatalf("waiting Events after the first: %v, %v; want the turn event", a.evs, a.err)
	}
}

func testCancelQueued(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0))
	if err := q.Cancel(ctx, j.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	g := get(t, q, j.ID)
	if g.State != queue.StateCancelled || g.FinishedAt.IsZero() {
		t.Errorf("cancelled job %+v", g)
	}
	if diff := cmp.Diff([]string{queue.EventCancelled}, eventTypes(events(t, q, j.ID, ""))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	noClaim(t, q, 100*time.Millisecond)
	wantErr(t, "Cancel twice", q.Cancel(ctx, j.ID), queue.ErrFinal)
}

func testCancelRunning(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0, 1))
	_, l := claim(t, q, "w1", long)
	store(t, q, l, 0, `"r0"`)
	if err := q.Cancel(ctx, j.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantErr(t, "Heartbeat after cancel", q.Heartbeat(ctx, l, long), queue.ErrCancelled, queue.ErrLeaseLost)
	_, err := q.StoreResult(ctx, l, 1, []byte(`"r1"`))
	wantErr(t, "StoreResult after cancel", err, queue.ErrCancelled, queue.ErrLeaseLost)
	wantErr(t, "Publish after cancel", q.Publish(ctx, l, queue.EventPartial, []byte(`{}`)), queue.ErrCancelled, queue.ErrLeaseLost)
	wantErr(t, "Complete after cancel", q.Complete(ctx, l), queue.ErrCancelled, queue.ErrLeaseLost)
	wantErr(t, "Fail after cancel", q.Fail(ctx, l, "x", true), queue.ErrCancelled, queue.ErrLeaseLost)
	wantErr(t, "Release after cancel", q.Release(ctx, l), queue.ErrCancelled, queue.ErrLeaseLost)
	if g := get(t, q, j.ID); g.State != queue.StateCancelled || g.WorkerID != "" {
		t.Errorf("job %+v, want cancelled", g)
	}
	if diff := cmp.Diff(map[int]string{0: `"r0"`}, results(t, q, j.ID)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{queue.EventTurn, queue.EventCancelled}, eventTypes(events(t, q, j.ID, ""))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	wantErr(t, "Cancel twice", q.Cancel(ctx, j.ID), queue.ErrFinal)
	noClaim(t, q, 100*time.Millisecond)
}

func testFailRetryDeadLetter(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0))
	var last *queue.Lease
	for attempt := 1; attempt <= 3; attempt++ {
		c, l := claim(t, q, "w1", long)
		if c.ID != j.ID || c.Attempts != attempt-1 {
			t.Fatalf("claim %d: job %s attempts %d, want %s with %d", attempt, c.ID, c.Attempts, j.ID, attempt-1)
		}
		if err := q.Fail(ctx, l, fmt.Sprintf("boom %d", attempt), true); err != nil {
			t.Fatalf("Fail %d: %v", attempt, err)
		}
		g := get(t, q, j.ID)
		wantState := queue.StateQueued
		if attempt == 3 {
			wantState = queue.StateFailed
		}
		if g.State != wantState || g.Attempts != attempt || g.Error != fmt.Sprintf("boom %d", attempt) {
			t.Errorf("after failure %d: state %s attempts %d error %q", attempt, g.State, g.Attempts, g.Error)
		}
		last = l
	}
	if g := get(t, q, j.ID); g.FinishedAt.IsZero() {
		t.Error("dead-lettered job has no FinishedAt")
	}
	evs := events(t, q, j.ID, "")
	var got []queue.StateEvent
	for _, e := range evs {
		got = append(got, stateEvent(t, e))
	}
	want := []queue.StateEvent{
		{State: queue.StateQueued, Attempts: 1, Error: "boom 1"},
		{State: queue.StateQueued, Attempts: 2, Error: "boom 2"},
		{State: queue.StateFailed, Attempts: 3, Error: "boom 3"},
	}
	if diff := cmp.Diff([]string{queue.EventRetry, queue.EventRetry, queue.EventFailed}, eventTypes(evs)); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event data (-want +got):\n%s", diff)
	}
	wantErr(t, "Fail after the dead letter", q.Fail(ctx, last, "again", true), queue.ErrLeaseLost)
	wantErr(t, "Cancel of a failed job", q.Cancel(ctx, j.ID), queue.ErrFinal)
	noClaim(t, q, 100*time.Millisecond)
}

func testFailPermanent(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	tests := []struct {
		name        string
		maxAttempts int
		retry       bool
		wantState   queue.State
	}{
		{"no retry", 0, false, queue.StateFailed},
		{"one attempt allowed", 1, true, queue.StateFailed},
		{"two attempts allowed", 2, true, queue.StateQueued},
	}
	// Not parallel: each row claims the job it just enqueued from the shared queue.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := review(0)
			in.MaxAttempts = tt.maxAttempts
			j := enqueue(t, q, in)
			c, l := claim(t, q, "w1", long)
			if c.ID != j.ID {
				t.Fatalf("claimed %s, want %s", c.ID, j.ID)
			}
			if err := q.Fail(ctx, l, "bad sgf", tt.retry); err != nil {
				t.Fatal(err)
			}
			g := get(t, q, j.ID)
			if g.State != tt.wantState || g.Attempts != 1 || g.Error != "bad sgf" {
				t.Errorf("job %+v, want %s after 1 attempt with the error", g, tt.wantState)
			}
			if tt.wantState == queue.StateQueued {
				if err := q.Cancel(ctx, j.ID); err != nil { // leave nothing claimable for the next row
					t.Fatal(err)
				}
			}
		})
	}
}

func testReleaseCountsNoAttempt(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	a := enqueue(t, q, review(0))
	b := enqueue(t, q, review(0))
	c, l1 := claim(t, q, "w1", long)
	if c.ID != a.ID {
		t.Fatalf("claimed %s, want the oldest %s", c.ID, a.ID)
	}
	if err := q.Release(ctx, l1); err != nil {
		t.Fatalf("Release: %v", err)
	}
	g := get(t, q, a.ID)
	if g.State != queue.StateQueued || g.Attempts != 0 || g.WorkerID != "" {
		t.Errorf("released job %+v, want queued with no attempt", g)
	}
	c, l2 := claim(t, q, "w2", long)
	if c.ID != a.ID {
		t.Errorf("claimed %s after the release, want %s, which keeps its place before %s", c.ID, a.ID, b.ID)
	}
	if l2.Token <= l1.Token {
		t.Errorf("token %d after the release, want more than %d", l2.Token, l1.Token)
	}
	wantErr(t, "Release with the old lease", q.Release(ctx, l1), queue.ErrLeaseLost)
	if evs := events(t, q, a.ID, ""); len(evs) != 0 {
		t.Errorf("a release appended events: %v", eventTypes(evs))
	}
}

func testExpiredLeaseDeadLetter(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	in := review(0)
	in.MaxAttempts = 1
	j := enqueue(t, q, in)
	claim(t, q, "w1", 100*time.Millisecond)
	// Nobody claims: the queue itself must notice the dead worker.
	var g *queue.Job
	waitFor(t, "the expired lease to fail the job", func() bool {
		g = get(t, q, j.ID)
		return g.State == queue.StateFailed
	})
	if g.Attempts != 1 || g.Error != "lease expired" || g.FinishedAt.IsZero() {
		t.Errorf("dead-lettered job %+v", g)
	}
	wantOneStateEvent(t, q, j.ID, queue.EventFailed, queue.StateEvent{State: queue.StateFailed, Attempts: 1, Error: "lease expired"})
}

func testDedupe(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	const n = 50
	type answer struct {
		id      string
		created bool
		err     error
	}
	answers := make(chan answer, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			in := review(0, 1)
			in.DedupeKey = "same-game"
			j, created, err := q.Enqueue(testCtx(t), in)
			if err != nil {
				answers <- answer{err: err}
				return
			}
			answers <- answer{id: j.ID, created: created}
		})
	}
	wg.Wait()
	close(answers)
	ids := map[string]int{}
	created := 0
	for a := range answers {
		if a.err != nil {
			t.Fatalf("Enqueue: %v", a.err)
		}
		ids[a.id]++
		if a.created {
			created++
		}
	}
	if len(ids) != 1 || created != 1 {
		t.Fatalf("%d identical submissions made jobs %v with %d created, want one job created once", n, ids, created)
	}
	var id string
	for k := range ids {
		id = k
	}
	j, _ := claim(t, q, "w1", long)
	if j.ID != id {
		t.Errorf("claimed %s, want the one job %s", j.ID, id)
	}
	noClaim(t, q, 100*time.Millisecond)

	other := review(0, 1)
	other.Owner, other.DedupeKey = "bob", "same-game"
	if b := enqueue(t, q, other); b.ID == id {
		t.Error("another owner's identical submission joined the first owner's job")
	}
	diffKey := review(0, 1)
	diffKey.DedupeKey = "other-game"
	if c := enqueue(t, q, diffKey); c.ID == id {
		t.Error("a submission with another key joined the job")
	}
}

func testDedupeAfterFinal(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	submit := func() (*queue.Job, bool) {
		in := review(0)
		in.DedupeKey = "k"
		j, created, err := q.Enqueue(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return j, created
	}
	// Duplicate names the job a submission would join: the live or done one, no other.
	duplicate := func(when, want string) {
		t.Helper()
		j, err := q.Duplicate(ctx, "owner", "k")
		switch {
		case want == "" && !errors.Is(err, queue.ErrNotFound):
			t.Errorf("Duplicate %s: %+v, %v; want ErrNotFound", when, j, err)
		case want != "" && (err != nil || j.ID != want):
			t.Errorf("Duplicate %s: %+v, %v; want job %s", when, j, err, want)
		}
	}
	duplicate("before any submission", "")
	first, _ := submit()
	duplicate("while the first job waits", first.ID)
	if err := q.Cancel(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	duplicate("after a cancel", "")
	second, created := submit()
	if !created || second.ID == first.ID {
		t.Fatalf("submission after a cancel: job %s created %v, want a new job", second.ID, created)
	}
	_, l := claim(t, q, "w1", long)
	duplicate("while the second job runs", second.ID)
	if j, err := q.Duplicate(ctx, "bob", "k"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("Duplicate of another owner: %+v, %v; want ErrNotFound", j, err)
	}
	if err := q.Fail(ctx, l, "permanent", false); err != nil {
		t.Fatal(err)
	}
	duplicate("after a failure", "")
	third, created := submit()
	if !created || third.ID == second.ID {
		t.Fatalf("submission after a failure: job %s created %v, want a new job", third.ID, created)
	}
	_, l = claim(t, q, "w1", long)
	store(t, q, l, 0, `"r"`)
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	duplicate("after done", third.ID)
	fourth, created := submit()
	if created || fourth.ID != third.ID || fourth.State != queue.StateDone {
		t.Fatalf("submission after done: job %s (%s) created %v, want the done job %s", fourth.ID, fourth.State, created, third.ID)
	}
}

func testRetention(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{Retention: 2 * time.Second})
	ctx := testCtx(t)
	in := review(0)
	in.DedupeKey = "kept"
	done := enqueue(t, q, in)
	_, l := claim(t, q, "w1", long)
	store(t, q, l, 0, `"r"`)
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	cancelled := enqueue(t, q, review(0))
	if err := q.Cancel(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	waiting := enqueue(t, q, review(0))
	if g := get(t, q, done.ID); g.State != queue.StateDone {
		t.Fatalf("done job right after Complete: %s", g.State)
	}
	for _, id := range []string{done.ID, cancelled.ID} {
		waitFor(t, "job "+id+" to expire", func() bool {
			_, err := q.Get(ctx, id)
			if err != nil && !errors.Is(err, queue.ErrNotFound) {
				t.Fatalf("Get: %v", err)
			}
			return err != nil
		})
		_, err := q.Results(ctx, id)
		wantErr(t, "Results of an expired job", err, queue.ErrNotFound)
		_, err = q.Events(ctx, id, "", 0, 0)
		wantErr(t, "Events of an expired job", err, queue.ErrNotFound)
	}
	if g := get(t, q, waiting.ID); g.State != queue.StateQueued {
		t.Errorf("a queued job changed past the retention period: %s", g.State)
	}
	again, created, err := q.Enqueue(ctx, in)
	if err != nil || !created || again.ID == done.ID {
		t.Errorf("submission after the done job expired: %v created %v, want a new job", err, created)
	}
}

func testRegistry(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{RegistryTTL: 2 * time.Second})
	ctx := testCtx(t)
	start := time.Now().Add(-time.Hour).Round(time.Millisecond)
	w1 := queue.WorkerInfo{ID: "w1", Host: "gpu-1", InstanceID: "i-0abc", GPU: "NVIDIA L4",
		KataGoVersion: "1.17.2", KataGoSettings: "CUDA on NVIDIA L4; reviews: 32 analysis x 1 search threads, batch 32 (cached, 2150 visits/s)",
		Model: "b18c384", Engines: 2, CurrentJobs: []string{"j1", "j2"},
		StartedAt: start, PositionsPerSec: 812.5}
	w2 := queue.WorkerInfo{ID: "w2", Host: "gpu-2", Engines: 1, IdleSince: start.Add(time.Minute), StartedAt: start}
	before := time.Now().Add(-time.Second)
	for _, w := range []queue.WorkerInfo{w2, w1} {
		if err := q.RegisterWorker(ctx, w); err != nil {
			t.Fatalf("RegisterWorker(%s): %v", w.ID, err)
		}
	}
	got, err := q.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]queue.WorkerInfo{w1, w2}, got, cmpopts.IgnoreFields(queue.WorkerInfo{}, "LastSeen")); diff != "" {
		t.Errorf("Workers (-want +got):\n%s", diff)
	}
	for _, w := range got {
		if w.LastSeen.Before(before) {
			t.Errorf("worker %s last seen %v, before it registered", w.ID, w.LastSeen)
		}
	}
	if err := q.RemoveWorker(ctx, "w2"); err != nil {
		t.Fatal(err)
	}
	got, err = q.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "w1" {
		t.Errorf("Workers after removing w2: %v", got)
	}
	wantErr(t, "RegisterWorker without an id", q.RegisterWorker(ctx, queue.WorkerInfo{Host: "h"}), queue.ErrInvalid)
	waitFor(t, "w1's entry to expire", func() bool {
		got, err := q.Workers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(got) == 0
	})
}

func testStats(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	empty, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := queue.Stats{Queued: map[queue.Priority]int{queue.PriorityReview: 0, queue.PriorityInteractive: 0},
		Finished: map[queue.State]int64{queue.StateDone: 0, queue.StateFailed: 0, queue.StateCancelled: 0}}
	if diff := cmp.Diff(want, empty); diff != "" {
		t.Errorf("Stats of an empty queue (-want +got):\n%s", diff)
	}
	r1 := enqueue(t, q, &queue.Job{Positions: 100, Turns: []int{0, 1}})
	enqueue(t, q, &queue.Job{Positions: 200, Turns: []int{0}})
	enqueue(t, q, &queue.Job{Priority: queue.PriorityInteractive, Positions: 40, Turns: []int{0, 1, 2, 3}})
	gone := enqueue(t, q, &queue.Job{Positions: 1000})
	if err := q.Cancel(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	_, l := claim(t, q, "w1", long) // the interactive one
	store(t, q, l, 0, `"r"`)
	got, err := q.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want = queue.Stats{
		Queued:           map[queue.Priority]int{queue.PriorityReview: 2, queue.PriorityInteractive: 0},
		Running:          1,
		PositionsWaiting: 100 + 200 + 30,
		OldestQueued:     r1.CreatedAt,
		Finished:         map[queue.State]int64{queue.StateDone: 0, queue.StateFailed: 0, queue.StateCancelled: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

// testStatsFinalStates counts each job once in the final state it reached, by every way
// there (complete, a permanent failure, a lease that expired with the attempts used up, a
// cancel while queued or running), not a retried attempt, and keeps the counts when
// retention deletes the jobs.
func testStatsFinalStates(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{Retention: 2 * time.Second})
	ctx := testCtx(t)
	done := enqueue(t, q, review(0))
	_, l := claim(t, q, "w1", long)
	store(t, q, l, 0, `"r"`)
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	enqueue(t, q, review(0))
	_, l = claim(t, q, "w1", long)
	if err := q.Fail(ctx, l, "bad", false); err != nil {
		t.Fatal(err)
	}
	lost := review(0)
	lost.MaxAttempts = 1
	lost = enqueue(t, q, lost)
	claim(t, q, "w1", 200*time.Millisecond)
	waitFor(t, "the lost job to be dead-lettered", func() bool { return get(t, q, lost.ID).State == queue.StateFailed })
	queued := enqueue(t, q, review(0))
	if err := q.Cancel(ctx, queued.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Cancel of a cancelled job", q.Cancel(ctx, queued.ID), queue.ErrFinal)
	enqueue(t, q, review(0))
	_, l = claim(t, q, "w1", long)
	if err := q.Cancel(ctx, l.JobID); err != nil {
		t.Fatal(err)
	}
	retried := enqueue(t, q, review(0))
	_, l = claim(t, q, "w1", long)
	if err := q.Fail(ctx, l, "again", true); err != nil {
		t.Fatal(err)
	}

	want := queue.Stats{
		Queued:           map[queue.Priority]int{queue.PriorityReview: 1, queue.PriorityInteractive: 0},
		PositionsWaiting: 100,
		OldestQueued:     retried.CreatedAt,
		Finished:         map[queue.State]int64{queue.StateDone: 1, queue.StateFailed: 2, queue.StateCancelled: 2},
	}
	check := func(what string) {
		t.Helper()
		// A lease expiry reaches the counters just after the job's record.
		deadline := time.Now().Add(waitLimit)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			got, err := q.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			diff := cmp.Diff(want, got)
			if diff == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("Stats %s (-want +got):\n%s", what, diff)
			}
			<-tick.C
		}
	}
	check("after the jobs ended")
	waitFor(t, "the done job to expire", func() bool {
		_, err := q.Get(ctx, done.ID)
		return errors.Is(err, queue.ErrNotFound)
	})
	check("after retention deleted the final jobs")
}

func testCloseUnblocks(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	j := enqueue(t, q, review(0))
	claim(t, q, "w1", long)
	errs := make(chan error, 2)
	go func() {
		_, _, err := q.Claim(testCtx(t), "w2", long)
		errs <- err
	}()
	go func() {
		_, err := q.Events(testCtx(t), j.ID, "", 0, waitLimit)
		errs <- err
	}()
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 2 {
		wantErr(t, "a call blocked at Close", <-errs, queue.ErrClosed)
	}
	_, _, err := q.Enqueue(testCtx(t), review(0))
	wantErr(t, "Enqueue after Close", err, queue.ErrClosed)
	_, err = q.Get(testCtx(t), j.ID)
	wantErr(t, "Get after Close", err, queue.ErrClosed)
	if err := q.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func testConcurrentWorkers(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	const jobs, workers, turns = 24, 4, 3
	var ids []string
	for range jobs {
		ids = append(ids, enqueue(t, q, review(0, 1, 2)).ID)
	}
	var mu sync.Mutex
	claims := map[string]int{}
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			worker := fmt.Sprintf("w%d", w)
			for {
				j, l, err := q.Claim(ctx, worker, long)
				if err != nil {
					return
				}
				mu.Lock()
				claims[j.ID]++
				mu.Unlock()
				for turn := range turns {
					if _, err := q.StoreResult(ctx, l, turn, []byte(worker)); err != nil {
						t.Errorf("StoreResult: %v", err)
					}
				}
				if err := q.Complete(ctx, l); err != nil {
					t.Errorf("Complete: %v", err)
				}
			}
		})
	}
	waitFor(t, "every job to finish", func() bool {
		for _, id := range ids {
			if get(t, q, id).State != queue.StateDone {
				return false
			}
		}
		return true
	})
	cancel()
	wg.Wait()
	for _, id := range ids {
		if claims[id] != 1 {
			t.Errorf("job %s claimed %d times, want once", id, claims[id])
		}
		if n := len(results(t, q, id)); n != turns {
			t.Errorf("job %s has %d results, want %d", id, n, turns)
		}
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(ids)), slices.Sorted(maps.Keys(claims))); diff != "" {
		t.Errorf("claimed jobs (-want +got):\n%s", diff)
	}
}

func partial(turn, n int) []byte {
	return fmt.Appendf(nil, `{"turn":%d,"n":%d}`, turn, n)
}

func testPartialEventsBounded(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0, 1))
	_, l := claim(t, q, "w1", long)

	// A listener that waits gets each partial report as it comes.
	ch := waitEvents(t, q, j.ID, "")
	if err := q.Publish(ctx, l, queue.EventPartial, partial(0, 1)); err != nil {
		t.Fatal(err)
	}
	a := <-ch
	if a.err != nil || len(a.evs) != 1 || string(a.evs[0].Data) != string(partial(0, 1)) {
		t.Fatalf("waiting Events: %v, %v; want the partial report", a.evs, a.err)
	}
	for n := 2; n <= 5; n++ {
		for _, turn := range []int{0, 1} {
			if err := q.Publish(ctx, l, queue.EventPartial, partial(turn, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	data := func(evs []queue.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Type+" "+string(e.Data))
		}
		return out
	}
	want := []string{"partial " + string(partial(0, 5)), "partial " + string(partial(1, 5))}
	if diff := cmp.Diff(want, data(events(t, q, j.ID, ""))); diff != "" {
		t.Errorf("events after many partial reports: only the latest of each turn stays (-want +got):\n%s", diff)
	}
	// A listener that resumes after a replaced report gets the one that replaced it.
	if diff := cmp.Diff(want, data(events(t, q, j.ID, a.evs[0].ID))); diff != "" {
		t.Errorf("events after the first, replaced report (-want +got):\n%s", diff)
	}
	store(t, q, l, 0, `{"turn":0}`)
	if err := q.Publish(ctx, l, queue.EventPartial, partial(0, 6)); err != nil {
		t.Fatal(err)
	}
	want = []string{"partial " + string(partial(1, 5)), `turn {"turn":0}`}
	if diff := cmp.Diff(want, data(events(t, q, j.ID, ""))); diff != "" {
		t.Errorf("events once turn 0 has its result: none of its partial reports stays (-want +got):\n%s", diff)
	}
	store(t, q, l, 1, `{"turn":1}`)
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{queue.EventTurn, queue.EventTurn, queue.EventDone}, eventTypes(events(t, q, j.ID, ""))); diff != "" {
		t.Errorf("events of the done job (-want +got):\n%s", diff)
	}
}

// testPartialEventsGoWhenFinal: however a job ends, its partial reports go with it,
// those of turns without a result and one that names no turn alike.
func testPartialEventsGoWhenFinal(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	ends := map[string]func(ctx context.Context, q queue.Queue, j *queue.Job, l *queue.Lease) error{
		"done": func(ctx context.Context, q queue.Queue, _ *queue.Job, l *queue.Lease) error {
			store(t, q, l, 1, `{"turn":1}`)
			return q.Complete(ctx, l)
		},
		"failed": func(ctx context.Context, q queue.Queue, _ *queue.Job, l *queue.Lease) error {
			return q.Fail(ctx, l, "boom", false)
		},
		"cancelled": func(ctx context.Context, q queue.Queue, j *queue.Job, _ *queue.Lease) error {
			return q.Cancel(ctx, j.ID)
		},
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			q := newQueue(t, Options{})
			ctx := testCtx(t)
			j := enqueue(t, q, review(0, 1))
			_, l := claim(t, q, "w1", long)
			for _, data := range [][]byte{partial(1, 1), []byte(`{"n":1}`)} {
				if err := q.Publish(ctx, l, queue.EventPartial, data); err != nil {
					t.Fatal(err)
				}
			}
			store(t, q, l, 0, `{"turn":0}`)
			if err := end(ctx, q, j, l); err != nil {
				t.Fatal(err)
			}
			for _, e := range events(t, q, j.ID, "") {
				if e.Type == queue.EventPartial {
					t.Errorf("the %s job keeps a partial report: %s", name, e.Data)
				}
			}
		})
	}
}

// library enqueues a finished review between the players, for the List and Delete tests.
func library(t *testing.T, q queue.Queue, owner, black, white string, st queue.State) *queue.Job {
	t.Helper()
	ctx := testCtx(t)
	in := review()
	in.Owner, in.Black, in.White, in.Meta = owner, black, white, []byte(`{"result":"B+R"}`)
	j := enqueue(t, q, in)
	switch st {
	case queue.StateDone:
		c, l := claim(t, q, "w1", long)
		if c.ID != j.ID {
			t.Fatalf("claimed %s, want %s", c.ID, j.ID)
		}
		if err := q.Complete(ctx, l); err != nil {
			t.Fatal(err)
		}
	case queue.StateCancelled:
		if err := q.Cancel(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
	}
	return get(t, q, j.ID)
}

func ids(jobs []*queue.Job) []string {
	out := []string{}
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

func testList(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	a := library(t, q, "alice", "Shin Jinseo", "Ke Jie", queue.StateDone)
	b := library(t, q, "alice", "Iyama Yuta", "shin minjun", queue.StateCancelled)
	c := library(t, q, "alice", "Lee Sedol", "AlphaGo", queue.StateQueued)
	library(t, q, "bob", "Shin Jinseo", "Park Junghwan", queue.StateQueued)
	d := library(t, q, "alice", "Cho Chikun", "Go Seigen", queue.StateQueued)
	// The jobs created at d's time or after it, and before it (several may share a clock
	// tick), newest first.
	var since, until []string
	for _, j := range []*queue.Job{d, c, b, a} {
		if j.CreatedAt.Before(d.CreatedAt) {
			until = append(until, j.ID)
		} else {
			since = append(since, j.ID)
		}
	}

	tests := []struct {
		name   string
		filter queue.ListFilter
		want   []string
	}{
		{"all of an owner, newest first", queue.ListFilter{Owner: "alice"}, []string{d.ID, c.ID, b.ID, a.ID}},
		{"player, any case, black or white", queue.ListFilter{Owner: "alice", Player: "SHIN"}, []string{b.ID, a.ID}},
		{"player substring", queue.ListFilter{Owner: "alice", Player: "phag"}, []string{c.ID}},
		{"states", queue.ListFilter{Owner: "alice", States: []queue.State{queue.StateDone, queue.StateCancelled}}, []string{b.ID, a.ID}},
		{"since", queue.ListFilter{Owner: "alice", Since: d.CreatedAt}, since},
		{"until", queue.ListFilter{Owner: "alice", Until: d.CreatedAt}, until},
		{"another owner", queue.ListFilter{Owner: "carol"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, next, err := q.List(testCtx(t), tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
			if next != "" {
				t.Errorf("next cursor %q after the only page", next)
			}
		})
	}
	got, _, err := q.List(ctx, queue.ListFilter{Owner: "alice", States: []queue.State{queue.StateDone}})
	if err != nil {
		t.Fatal(err)
	}
	want := get(t, q, a.ID)
	want.Payload = nil
	if diff := cmp.Diff([]*queue.Job{want}, got); diff != "" {
		t.Errorf("a listed job is the record without its payload (-want +got):\n%s", diff)
	}
	_, _, err = q.List(ctx, queue.ListFilter{Owner: "alice", Cursor: "not a cursor"})
	wantErr(t, "List with a cursor not made by the queue", err, queue.ErrInvalid)
}

func testListPages(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	var want []string
	for i := range 7 {
		j := library(t, q, "alice", fmt.Sprintf("Black %d", i), "White", queue.StateQueued)
		want = append([]string{j.ID}, want...)
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		jobs, next, err := q.List(testCtx(t), queue.ListFilter{Owner: "alice", Cursor: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) > 3 || page > 3 {
			t.Fatalf("page %d has %d jobs (limit 3)", page, len(jobs))
		}
		got = append(got, ids(jobs)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jobs over the pages (-want +got):\n%s", diff)
	}
}

func testDelete(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	in := review(0)
	in.DedupeKey = "game"
	j := enqueue(t, q, in)
	wantErr(t, "Delete of a queued job", q.Delete(ctx, j.ID), queue.ErrNotFinal)
	_, l := claim(t, q, "w1", long)
	store(t, q, l, 0, `"r0"`)
	wantErr(t, "Delete of a running job", q.Delete(ctx, j.ID), queue.ErrNotFinal)
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := q.Delete(ctx, j.ID); err != nil {
		t.Fatalf("Delete of a done job: %v", err)
	}
	_, err := q.Get(ctx, j.ID)
	wantErr(t, "Get of a deleted job", err, queue.ErrNotFound)
	_, err = q.Results(ctx, j.ID)
	wantErr(t, "Results of a deleted job", err, queue.ErrNotFound)
	_, err = q.Events(ctx, j.ID, "", 0, 0)
	wantErr(t, "Events of a deleted job", err, queue.ErrNotFound)
	wantErr(t, "Delete twice", q.Delete(ctx, j.ID), queue.ErrNotFound)
	if got, _, err := q.List(ctx, queue.ListFilter{Owner: "owner"}); err != nil || len(got) != 0 {
		t.Errorf("List after the delete: %v, %v; want nothing", ids(got), err)
	}
	again, created, err := q.Enqueue(ctx, in)
	if err != nil || !created || again.ID == j.ID {
		t.Errorf("the same submission after the delete: %v created %v, want a new job", err, created)
	}
}

func testOwnerCaps(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{MaxOwnerJobs: 3, MaxOwnerBytes: 1000})
	ctx := testCtx(t)
	sized := func(owner string, n int) *queue.Job {
		return &queue.Job{Owner: owner, Payload: []byte(`"` + strings.Repeat("x", n-2) + `"`)}
	}
	first := enqueue(t, q, sized("alice", 400))
	second := enqueue(t, q, sized("alice", 400))
	_, _, err := q.Enqueue(ctx, sized("alice", 400))
	var le *queue.OwnerLimitError
	if !errors.As(err, &le) || !errors.Is(err, queue.ErrOwnerLimit) || le.Limit != queue.LimitBytes || le.Max != 1000 {
		t.Fatalf("Enqueue over the byte cap: %v, want an OwnerLimitError of bytes", err)
	}
	third := enqueue(t, q, sized("alice", 100))
	_, _, err = q.Enqueue(ctx, sized("alice", 10))
	if !errors.As(err, &le) || le.Limit != queue.LimitJobs || le.Max != 3 {
		t.Fatalf("Enqueue over the job cap: %v, want an OwnerLimitError of jobs", err)
	}
	enqueue(t, q, sized("bob", 400)) // another owner's caps are their own
	for _, j := range []*queue.Job{first, second, third} {
		if g := get(t, q, j.ID); g.State != queue.StateQueued || len(g.Payload) != len(j.Payload) {
			t.Errorf("job %s after refused submissions: %s with %d bytes, want it queued as it was", j.ID, g.State, len(g.Payload))
		}
	}
	// Deleting a finished job makes room.
	if err := q.Cancel(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if err := q.Delete(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	enqueue(t, q, sized("alice", 400))
}

func testRetentionFreesCaps(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{Retention: time.Second, MaxOwnerJobs: 1})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0))
	if err := q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err := q.Enqueue(ctx, review(0))
	wantErr(t, "Enqueue over the cap while the cancelled job is kept", err, queue.ErrOwnerLimit)
	waitFor(t, "the cancelled job to expire and free the cap", func() bool {
		_, created, err := q.Enqueue(ctx, review(0))
		if err != nil && !errors.Is(err, queue.ErrOwnerLimit) {
			t.Fatalf("Enqueue: %v", err)
		}
		return created
	})
}
