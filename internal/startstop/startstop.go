// Package startstop owns the start/stop lifecycle that every long-lived component shares:
// Start runs once, Stop is idempotent and safe before Start, Stop waits for a Start in
// progress and for the component's goroutines, and a channel says when all of them ended.
//
// A component keeps a Lifecycle in a field and writes its Start and Stop around it:
//
//	func (c *C) Start(ctx context.Context) error {
//		runCtx, err := c.life.Begin(ctx)
//		if err != nil {
//			return fmt.Errorf("c: %w", err)
//		}
//		c.life.Go(func() { c.loop(runCtx) })
//		c.life.Started()
//		return nil
//	}
//
//	func (c *C) Stop(ctx context.Context) error { return c.life.Stop(ctx, nil) }
package startstop

import (
	"context"
	"errors"
	"sync"
)

var (
	// ErrStarted is what Begin returns while a Start is in progress or after one succeeded.
	ErrStarted = errors.New("already started")
	// ErrStopped is what Begin returns after Stop, and the cause of the context Begin
	// returned once Stop cancels it.
	ErrStopped = errors.New("stopped")
)

// State is where a component is in its lifecycle.
type State int

const (
	// Idle: not started yet, or the last Start failed (Start may be tried again).
	Idle State = iota
	// Starting: Begin returned and neither Started nor Failed has been called.
	Starting
	// Running: Started was called and Stop was not.
	Running
	// Stopped: Stop was called. It is final.
	Stopped
)

func (s State) String() string {
	switch s {
	case Idle:
		return "idle"
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Stopped:
		return "stopped"
	}
	return "unknown"
}

// Lifecycle is one component's start/stop state. The zero value is an idle component; a
// Lifecycle must not be copied after first use. Its methods are safe for concurrent use.
type Lifecycle struct {
	mu       sync.Mutex
	state    State
	began    bool                    // a Start had begun when Stop came
	cancel   context.CancelCauseFunc // cancels the context Begin returned
	starting chan struct{}           // closed when the Start in progress ends
	active   int                     // the Start in progress plus the goroutines Go runs
	stopping chan struct{}           // closed by the first Stop
	done     chan struct{}           // closed once nothing runs any more; see Done
	halting  bool                    // a Stop runs or ran halt
	halted   chan struct{}           // closed once the first Stop's halt returned
	haltErr  error
}

// init makes the channels; callers hold l.mu.
func (l *Lifecycle) init() {
	if l.stopping == nil {
		l.stopping = make(chan struct{})
		l.done = make(chan struct{})
		l.halted = make(chan struct{})
	}
}

// Begin moves an idle component to Starting. It returns a context derived from parent
// that Stop cancels (with cause ErrStopped), for the goroutines the component runs; pass
// context.WithoutCancel(ctx) as parent when Start's ctx bounds only the start. Begin fails
// with ErrStarted or ErrStopped, and otherwise must be followed by Started or Failed.
func (l *Lifecycle) Begin(parent context.Context) (context.Context, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	switch l.state {
	case Starting, Running:
		return nil, ErrStarted
	case Stopped:
		return nil, ErrStopped
	}
	l.state = Starting
	l.active++
	l.starting = make(chan struct{})
	ctx, cancel := context.WithCancelCause(parent)
	l.cancel = cancel
	return ctx, nil
}

// Started ends a successful Start: the component runs until Stop. If Stop came while it
// was starting, the component stays stopped.
func (l *Lifecycle) Started() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == Starting {
		l.state = Running
	}
	l.endStart()
}

// Failed ends a failed Start: it cancels the context Begin returned and puts the component
// back to Idle, so Start may be tried again (unless Stop came meanwhile). The goroutines
// the failed Start ran with Go must end by themselves; Done waits for them after a Stop.
func (l *Lifecycle) Failed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == Starting {
		l.state = Idle
	}
	l.cancel(ErrStopped)
	l.endStart()
}

// endStart ends the Start in progress; callers hold l.mu.
func (l *Lifecycle) endStart() {
	if l.starting == nil {
		panic("startstop: Started or Failed without Begin")
	}
	close(l.starting)
	l.starting = nil
	l.release()
}

// release drops one of the active count; callers hold l.mu.
func (l *Lifecycle) release() {
	l.active--
	l.closeDone()
}

// closeDone closes done when nothing runs and the component ran or stopped; callers hold
// l.mu.
func (l *Lifecycle) closeDone() {
	if l.active > 0 || (l.state != Running && l.state != Stopped) {
		return
	}
	select {
	case <-l.done:
	default:
		close(l.done)
	}
}

// Go runs f on a goroutine that Done waits for. Call it between Begin and Started (or
// Failed), or from a goroutine that Go runs, so that Done cannot close before f starts.
func (l *Lifecycle) Go(f func()) {
	l.mu.Lock()
	if l.state == Idle {
		l.mu.Unlock()
		panic("startstop: Go outside a Start")
	}
	l.active++
	l.mu.Unlock()
	go func() {
		defer func() {
			l.mu.Lock()
			l.release()
			l.mu.Unlock()
		}()
		f()
	}()
}

// State returns where the component is now.
func (l *Lifecycle) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Stopping returns a channel that the first Stop (or StopInit) closes.
func (l *Lifecycle) Stopping() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	return l.stopping
}

// Done returns a channel that is closed once the component runs nothing any more: after
// Started, or after a Stop, every goroutine run with Go has returned and no Start is in
// progress. It closes without a Stop when those goroutines end by themselves.
func (l *Lifecycle) Done() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	return l.done
}

// StopInit is the first half of Stop, for components that wind down in steps of their
// own: it makes the component Stopped for good, closes Stopping and cancels the context
// Begin returned. It reports whether this call was the first, and whether a Start had
// begun before the component stopped (when it had not, there is nothing to wind down).
func (l *Lifecycle) StopInit() (first, began bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	if l.state == Stopped {
		return false, l.began
	}
	l.began = l.state != Idle
	l.state = Stopped
	close(l.stopping)
	if l.cancel != nil {
		l.cancel(ErrStopped)
	}
	l.closeDone()
	return true, l.began
}

// Stop stops the component. It does StopInit; the first Stop then waits for a Start in
// progress to end and runs halt (when not nil), the component's own wind-down. Every Stop
// then waits until the first one's halt has returned and Done is closed, or until ctx
// ends; it returns halt's error, or ctx.Err(). Stop is idempotent and safe before Start;
// a Start must not call it before its Started or Failed.
func (l *Lifecycle) Stop(ctx context.Context, halt func() error) error {
	l.StopInit()
	l.mu.Lock()
	starting, halted, done := l.starting, l.halted, l.done
	first := !l.halting
	l.halting = true
	l.mu.Unlock()
	if first {
		if starting != nil {
			<-starting
		}
		var err error
		if halt != nil {
			err = halt()
		}
		l.mu.Lock()
		l.haltErr = err
		l.mu.Unlock()
		close(halted)
	} else {
		select {
		case <-halted:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	err := l.haltErr
	l.mu.Unlock()
	select {
	case <-done:
		return err
	default:
	}
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
