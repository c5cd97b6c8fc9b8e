package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/queue"
)

// terminal reports whether an event ends a job's stream.
func terminal(typ string) bool {
	return typ == queue.EventDone || typ == queue.EventFailed || typ == queue.EventCancelled
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
	ctx, cancel := context.WithCancel(c.Request.Context())
	defer cancel()
	go func() {
		select {
		case <-a.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
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
	for {
		events, err := a.q.Events(ctx, id, after, 256, a.cfg.KeepAlive)
		a.writeDeadline(rc)
		if err != nil {
			if ctx.Err() == nil {
				a.reqLog(c).Warn("event stream failed", "job_id", id, "err", err)
				fmt.Fprintf(c.Writer, "event: error\ndata: {\"error\":{\"code\":\"unavailable\",\"message\":\"the event stream broke; reconnect with Last-Event-ID\"}}\n\n")
				_ = rc.Flush()
			}
			return
		}
		if len(events) == 0 {
			if _, err := fmt.Fprint(c.Writer, ": keep-alive\n\n"); err != nil {
				return
			}
		}
		end := false
		for _, e := range events {
			a.writeDeadline(rc)
			if err := writeEvent(c.Writer, e); err != nil {
				return
			}
			after = e.ID
			end = end || terminal(e.Type)
		}
		a.writeDeadline(rc)
		if err := rc.Flush(); err != nil || end {
			return
		}
	}
}

// writeEvent writes one event. The data is written as it is, not copied: a job's event
// goes to every client that follows it.
func writeEvent(w http.ResponseWriter, e queue.Event) error {
	if _, err := io.WriteString(w, "id: "+e.ID+"\nevent: "+e.Type+"\ndata: "); err != nil {
		return err
	}
	data := e.Data
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
