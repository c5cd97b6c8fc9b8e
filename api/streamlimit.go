package api

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// streamSlots counts the long-lived requests each owner has open in this process: event
// streams, websockets and position requests waiting for their result. Each holds a
// connection, a goroutine and, with Redis, a blocking read; StreamsPerToken bounds them
// so one token cannot hold them all.
type streamSlots struct {
	mu    sync.Mutex
	limit int
	open  map[string]int
}

func newStreamSlots(limit int) *streamSlots {
	return &streamSlots{limit: limit, open: map[string]int{}}
}

// acquire takes one of owner's slots; false when all are taken.
func (s *streamSlots) acquire(owner string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[owner] >= s.limit {
		return false
	}
	s.open[owner]++
	return true
}

func (s *streamSlots) release(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open[owner]--; s.open[owner] <= 0 {
		delete(s.open, owner)
	}
}

// openStream takes a stream slot of the request's owner and returns its release, or
// answers 429 and returns false.
func (a *API) openStream(c *gin.Context) (release func(), ok bool) {
	owner := ownerOf(c)
	if !a.streamSlots.acquire(owner) {
		a.metrics.limited.WithLabelValues("streams").Inc()
		a.writeError(c, &Error{Status: http.StatusTooManyRequests, Code: "too_many_streams", RetryAfter: 5 * time.Second,
			Message: fmt.Sprintf("this token has %d streams open (event streams, websockets and positions waiting for their result), the limit of StreamsPerToken; close one first", a.cfg.StreamsPerToken)})
		return nil, false
	}
	return func() { a.streamSlots.release(owner) }, true
}
