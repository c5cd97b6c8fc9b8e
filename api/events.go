package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/queue"
)

// terminal reports whether an event ends a job's stream.
func terminal(typ string) bool {
	return typ == queue.EventDone || typ == queue.EventFailed || typ == queue.EventCancelled
}

// follower is what a follow of a job's events does with them.
type follower struct {
	// event is called for each event in order; stop ends the follow after it.
	event func(e queue.Event) (stop bool, err error)
	// idle, when set, is called when KeepAlive passed without an event.
	idle func() error
	// read, when set, is called after each read of the stream, once its events are handled.
	read func() error
}

// errClientGone is a write to a client that failed: the follow ends without a word more.
var errClientGone = errors.New("api: the client is gone")

// follow reads the events of job id after the event id given ("" from the start) and hands
// them to f until the job ends (after its done, failed or cancelled event), f stops it,
// ctx ends (its cause is returned) or the server shuts down (errShuttingDown). Reads
// take at most limit events (0: no limit) and wait at most KeepAlive for new ones.
func (a *API) follow(ctx context.Context, id, after string, limit int, f follower) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-a.closing:
			cancel(errShuttingDown)
		case <-ctx.Done():
		}
	}()
	for {
		events, err := a.q.Events(ctx, id, after, limit, a.cfg.KeepAlive)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err != nil {
			return fmt.Errorf("api: follow job %s: %w", id, err)
		}
		if len(events) == 0 && f.idle != nil {
			if err := f.idle(); err != nil {
				return err
			}
		}
		end := false
		for _, e := range events {
			after = e.ID
			stop, err := f.event(e)
			if err != nil {
				return err
			}
			end = stop || terminal(e.Type)
			if end {
				break
			}
		}
		if f.read != nil {
			if err := f.read(); err != nil {
				return err
			}
		}
		if end {
			return nil
		}
	}
}

// failureOf reads the failure in a failed or retry event's data.
func failureOf(data []byte) analysis.Failure {
	var st queue.StateEvent
	_ = json.Unmarshal(data, &st)
	return analysis.ParseFailure(st.Error)
}

// failureText is the queue's error of a job as its reader sees it; "" for none.
func failureText(s string) string {
	if s == "" {
		return ""
	}
	return analysis.ParseFailure(s).Error()
}

// analysisEvents streams a job's events as Server-Sent Events: every event the job has
// after Last-Event-ID (the header, or the lastEventId query parameter for clients that
// cannot set headers), then new ones as they happen, until the job ends, the client goes
// away or the server shuts down. Keep-alive comments keep proxies from closing an idle
// stream.
func (a *API) analysisEvents(c *gin.Context) {
	j, ok := a.loadJob(c)
	if !ok {
		return
	}
	after := c.GetHeader("Last-Event-ID")
	if after == "" {
		after = c.Query("lastEventId")
	}
	if j.State == queue.StateCancelled && after == "" {
		a.writeError(c, &Error{Status: http.StatusGone, Code: "cancelled", Message: "the analysis was cancelled"})
		return
	}
	if after != "" {
		// An id that no event of this server could have is refused before the stream
		// opens: within it, it would read as a broken stream, and its client would
		// reconnect with the same id for ever.
		if _, err := a.q.Events(c.Request.Context(), j.ID, after, 1, 0); errors.Is(err, queue.ErrInvalid) {
			a.writeError(c, badRequest("invalid_event_id", "Last-Event-ID %q is not an event id of this analysis's stream", after))
			return
		}
	}
	release, ok := a.openStream(c)
	if !ok {
		return
	}
	defer release()
	a.stream(c, j.ID, after)
}

// stream writes the events of job id after the given event id. CloseStreams ends it and
// waits for it.
func (a *API) stream(c *gin.Context, id, after string) {
	if !a.beginStream() {
		a.writeError(c, errShuttingDown)
		return
	}
	defer a.streams.Done()
	a.metrics.sse.Inc()
	defer a.metrics.sse.Dec()
	c.Set(streamKey, true)
	ctx := c.Request.Context()
	// A long stream must outlive the server's timeouts; each write has a deadline of its
	// own instead, so a stalled client is dropped.
	rc := longRequest(c)

	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	a.writeDeadline(rc)
	if err := rc.Flush(); err != nil {
		return
	}
	gone := func(err error) error {
		if err != nil {
			return errClientGone
		}
		return nil
	}
	err := a.follow(ctx, id, after, 256, follower{
		event: func(e queue.Event) (bool, error) {
			a.writeDeadline(rc)
			return false, gone(writeEvent(c.Writer, e))
		},
		idle: func() error {
			a.writeDeadline(rc)
			_, err := io.WriteString(c.Writer, ": keep-alive\n\n")
			return gone(err)
		},
		read: func() error {
			a.writeDeadline(rc)
			return gone(rc.Flush())
		},
	})
	if err != nil && !errors.Is(err, errClientGone) && ctx.Err() == nil && !errors.Is(err, errShuttingDown) {
		a.reqLog(c).Warn("event stream failed", "job_id", id, "err", err)
		a.writeDeadline(rc)
		_, _ = io.WriteString(c.Writer, "event: error\ndata: {\"error\":{\"code\":\"unavailable\",\"message\":\"the event stream broke; reconnect with Last-Event-ID\"}}\n\n")
		_ = rc.Flush()
	}
}

// failedEvent is the data of a failed or retry event as clients read it: the queue's
// StateEvent with the failure in words (error) and by its code and field.
type failedEvent struct {
	queue.StateEvent
	Code  string `json:"code,omitempty"`
	Field string `json:"field,omitempty"`
}

// writeEvent writes one event. The data is written as it is, not copied: a job's event
// goes to every client that follows it. A failure is written in words.
func writeEvent(w http.ResponseWriter, e queue.Event) error {
	if _, err := io.WriteString(w, "id: "+e.ID+"\nevent: "+e.Type+"\ndata: "); err != nil {
		return err
	}
	data := e.Data
	if e.Type == queue.EventFailed || e.Type == queue.EventRetry {
		var fe failedEvent
		if json.Unmarshal(data, &fe.StateEvent) == nil && fe.Error != "" {
			f := analysis.ParseFailure(fe.Error)
			fe.Error, fe.Code, fe.Field = f.Error(), f.Code, f.Field
			if b, err := json.Marshal(fe); err == nil {
				data = b
			}
		}
	}
	for {
		line, rest, more := bytes.Cut(data, []byte{'\n'})
		if _, err := w.Write(line); err != nil {
			return err
		}
		if !more {
			break
		}
		if _, err := io.WriteString(w, "\ndata: "); err != nil {
			return err
		}
		data = rest
	}
	_, err := io.WriteString(w, "\n\n")
	return err
}
