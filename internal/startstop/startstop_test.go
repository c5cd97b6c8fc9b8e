package startstop_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/internal/startstop"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestBeginErrors: Start runs once; a failed Start may be retried; nothing starts after Stop.
func TestBeginErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, l *startstop.Lifecycle)
		want  error // from the next Begin
		state startstop.State
	}{
		{"idle", func(*testing.T, *startstop.Lifecycle) {}, nil, startstop.Idle},
		{"starting", func(t *testing.T, l *startstop.Lifecycle) { mustBegin(t, l) }, startstop.ErrStarted, startstop.Starting},
		{"running", func(t *testing.T, l *startstop.Lifecycle) { mustBegin(t, l); l.Started() }, startstop.ErrStarted, startstop.Running},
		{"failed", func(t *testing.T, l *startstop.Lifecycle) { mustBegin(t, l); l.Failed() }, nil, startstop.Idle},
		{"stopped before start", func(t *testing.T, l *startstop.Lifecycle) { l.StopInit() }, startstop.ErrStopped, startstop.Stopped},
		{"stopped after start", func(t *testing.T, l *startstop.Lifecycle) {
			mustBegin(t, l)
			l.Started()
			l.StopInit()
		}, startstop.ErrStopped, startstop.Stopped},
		{"stopped while starting", func(t *testing.T, l *startstop.Lifecycle) {
			mustBegin(t, l)
			l.StopInit()
			l.Started()
		}, startstop.ErrStopped, startstop.Stopped},
		{"failed after stop", func(t *testing.T, l *startstop.Lifecycle) {
			mustBegin(t, l)
			l.StopInit()
			l.Failed()
		}, startstop.ErrStopped, startstop.Stopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var l startstop.Lifecycle
			tt.setup(t, &l)
			if diff := cmp.Diff(tt.state.String(), l.State().String()); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			_, err := l.Begin(context.Background())
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Begin: %v, want %v", err, tt.want)
			}
			if err == nil {
				l.Failed()
			}
		})
	}
}

// mustBegin is called on the test's goroutine only.
func mustBegin(t *testing.T, l *startstop.Lifecycle) context.Context {
	t.Helper()
	ctx, err := l.Begin(context.Background())
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return ctx
}

// TestStopBeforeStart: Stop before Start returns nil at once, twice, and runs no halt (a
// component that never started has nothing to wind down beyond what halt checks).
func TestStopBeforeStart(t *testing.T) {
	t.Parallel()
	var l startstop.Lifecycle
	first, began := l.StopInit()
	if !first || began {
		t.Errorf("StopInit = %v, %v; want first, not begun", first, began)
	}
	for range 2 {
		if err := l.Stop(context.Background(), nil); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}
	if first, began := l.StopInit(); first || began {
		t.Errorf("StopInit again = %v, %v; want neither", first, began)
	}
	if !closed(l.Done()) || !closed(l.Stopping()) {
		t.Error("Done or Stopping still open after Stop")
	}
}

// TestStopCancelsAndWaits: Stop cancels the run context with ErrStopped and returns only
// once every goroutine has returned; halt runs once and every Stop returns its error.
func TestStopCancelsAndWaits(t *testing.T) {
	t.Parallel()
	var l startstop.Lifecycle
	ctx := mustBegin(t, &l)
	var exited atomic.Int32
	for range 3 {
		l.Go(func() {
			<-ctx.Done()
			exited.Add(1)
		})
	}
	l.Started()
	if closed(l.Done()) || closed(l.Stopping()) {
		t.Fatal("Done or Stopping closed while running")
	}
	haltErr := errors.New("halt failed")
	var halts atomic.Int32
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			errs <- l.Stop(context.Background(), func() error {
				halts.Add(1)
				return haltErr
			})
		}()
	}
	for range 4 {
		if err := <-errs; !errors.Is(err, haltErr) {
			t.Errorf("Stop: %v, want the halt's error", err)
		}
	}
	if got := exited.Load(); got != 3 {
		t.Errorf("%d goroutines exited before Stop returned, want 3", got)
	}
	if got := halts.Load(); got != 1 {
		t.Errorf("halt ran %d times, want 1", got)
	}
	if !errors.Is(context.Cause(ctx), startstop.ErrStopped) {
		t.Errorf("cause %v, want ErrStopped", context.Cause(ctx))
	}
	if first, began := l.StopInit(); first || !began {
		t.Errorf("StopInit after Stop = %v, %v; want not first, begun", first, began)
	}
}

// TestStopContextEnds: a Stop whose context ends before the goroutines return says so; a
// later Stop waits for them again.
func TestStopContextEnds(t *testing.T) {
	t.Parallel()
	var l startstop.Lifecycle
	mustBegin(t, &l)
	release := make(chan struct{})
	l.Go(func() { <-release })
	l.Started()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Stop(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop: %v, want context.Canceled", err)
	}
	if err := l.Stop(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("second Stop: %v, want context.Canceled", err)
	}
	close(release)
	if err := l.Stop(context.Background(), nil); err != nil {
		t.Fatalf("Stop after the goroutine returned: %v", err)
	}
}

// TestStopWaitsForStart: a Stop during a Start waits for it to end before it halts, and
// the Start sees that it was stopped.
func TestStopWaitsForStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var l startstop.Lifecycle
		ctx := mustBegin(t, &l)
		var startEnded atomic.Bool
		stopped := make(chan error)
		go func() {
			stopped <- l.Stop(context.Background(), func() error {
				if !startEnded.Load() {
					return errors.New("halt ran during the Start")
				}
				return nil
			})
		}()
		synctest.Wait()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned during the Start: %v", err)
		default:
		}
		if ctx.Err() == nil || !closed(l.Stopping()) {
			t.Fatal("Stop did not cancel the starting component")
		}
		if closed(l.Done()) {
			t.Fatal("Done closed during the Start")
		}
		startEnded.Store(true)
		l.Started()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(startstop.Stopped.String(), l.State().String()); diff != "" {
			t.Errorf("state (-want +got):\n%s", diff)
		}
		if !closed(l.Done()) {
			t.Error("Done open after Stop")
		}
	})
}

// TestDoneWithoutStop: Done closes once the goroutines end by themselves, and not before
// Started.
func TestDoneWithoutStop(t *testing.T) {
	t.Parallel()
	var l startstop.Lifecycle
	mustBegin(t, &l)
	release := make(chan struct{})
	l.Go(func() {
		<-release
		l.Go(func() { <-release }) // a goroutine that Go runs may run more
	})
	close(release)
	l.Started()
	<-l.Done()
	if diff := cmp.Diff(startstop.Running.String(), l.State().String()); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

// TestFailedCancels: a failed Start cancels its context, Done stays open (the component
// may start again) and a Stop then closes it.
func TestFailedCancels(t *testing.T) {
	t.Parallel()
	var l startstop.Lifecycle
	ctx := mustBegin(t, &l)
	l.Failed()
	if ctx.Err() == nil {
		t.Error("Failed left the run context alive")
	}
	if closed(l.Done()) {
		t.Error("Done closed after a failed Start")
	}
	if _, began := l.StopInit(); began {
		t.Error("StopInit after a failed Start says a Start had begun")
	}
	if !closed(l.Done()) {
		t.Error("Done open after Stop")
	}
}
