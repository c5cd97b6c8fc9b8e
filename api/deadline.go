package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// longRequest readies a request that outlives the server's timeouts (an event stream, a
// position waited for, a websocket) and returns its ResponseController. It lifts the
// read deadline, which would otherwise end the request through the server's background
// read once it passed, and the write deadline; the stream then sets one before each
// write with writeDeadline, so that a client that stops reading is dropped.
func longRequest(c *gin.Context) *http.ResponseController {
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	return rc
}

// writeDeadline gives the next write of a stream StreamWriteTimeout to complete.
func (a *API) writeDeadline(rc *http.ResponseController) {
	_ = rc.SetWriteDeadline(time.Now().Add(a.cfg.StreamWriteTimeout))
}
