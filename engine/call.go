package engine

import (
	"fmt"
	"sync"

	"github.com/tesuji/tesuji/katago"
)

// call is one query in flight: what the router knows about it and the responses waiting
// for the caller's goroutine. The router appends and signals; it never waits on the caller,
// so a slow callback holds up nobody else.
type call struct {
	id      string
	action  bool   // an action (query_version, ...) rather than an analysis query
	barrier string // for an analysis query with no turns: the id of the action that follows it
	routed  func() // for an action: called as its answer is routed, before any later line

	mu        sync.Mutex
	turns     map[int]bool // requested turn -> final result seen
	remaining int          // turns without a final result
	queue     []*katago.Response
	err       error // set once: the query failed
	finished  bool  // every expected response arrived
	abandoned bool  // the caller returned; responses are counted, not kept
	signal    chan struct{}

	awaited bool // registered and its caller waits; guarded by the process's mu
}

func newCall(id string, turns []int, action bool) *call {
	c := &call{id: id, action: action, signal: make(chan struct{}, 1)}
	if !action {
		c.turns = make(map[int]bool, len(turns))
		for _, t := range turns {
			c.turns[t] = false
		}
		c.remaining = len(c.turns)
	}
	return c
}

func (c *call) wake() {
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// push queues r for the caller, unless the caller is gone. Callers hold c.mu.
func (c *call) push(r *katago.Response) {
	if c.abandoned {
		return
	}
	c.queue = append(c.queue, r)
	c.wake()
}

// pushPartial queues a partial report, dropping an older one of the same turn the caller
// has not taken yet: a caller that falls behind gets the latest state, not a backlog.
func (c *call) pushPartial(r *katago.Response, turn int) {
	if c.abandoned {
		return
	}
	for i, old := range c.queue {
		if old.Partial() && *old.TurnNumber == turn {
			c.queue = append(c.queue[:i], c.queue[i+1:]...)
			break
		}
	}
	c.push(r)
}

// accept applies one response line to the call. It reports whether the call expects no
// more lines, and a note for the log when the line made no sense for this call.
func (c *call) accept(r *katago.Response) (done bool, note string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.finished {
		return true, "response after the query ended"
	}
	switch {
	case r.Error != "":
		c.err = &QueryError{Field: r.Field, Message: r.Error}
		c.wake()
		return true, ""
	case r.Warning != "":
		c.push(r)
		return false, ""
	}
	if c.action {
		if r.Action == "" {
			return false, "non-action response to an action"
		}
		c.push(r)
		c.finished = true
		if c.routed != nil {
			c.routed()
		}
		c.wake()
		return true, ""
	}
	if c.barrier != "" && r.ID == c.barrier {
		c.finished = true
		c.wake()
		return true, ""
	}
	if r.TurnNumber == nil {
		return false, "response without turnNumber"
	}
	turn := *r.TurnNumber
	final, ok := c.turns[turn]
	switch {
	case !ok:
		return false, fmt.Sprintf("result for turn %d, which was not requested", turn)
	case final:
		return false, fmt.Sprintf("result for turn %d after its final result", turn)
	case r.Partial():
		c.pushPartial(r, turn)
		return false, ""
	}
	c.turns[turn] = true
	c.remaining--
	c.push(r)
	if c.remaining == 0 {
		c.finished = true
		c.wake()
		return true, ""
	}
	return false, ""
}

// fail ends the call with err unless it already ended.
func (c *call) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !c.finished {
		c.err = err
		c.wake()
	}
}

// state reports whether every expected response arrived, and whether the call failed.
func (c *call) state() (finished, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finished, c.err != nil
}

// take hands the queued responses to the caller, with the call's state.
func (c *call) take() (items []*katago.Response, err error, finished bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	items, c.queue = c.queue, nil
	return items, c.err, c.finished
}

// abandon records that the caller returned; it reports whether KataGo still owes the
// call responses, in which case the caller terminates it.
func (c *call) abandon() (active bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.abandoned = true
	c.queue = nil
	return c.err == nil && !c.finished
}
