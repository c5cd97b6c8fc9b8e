package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue"
)

// Error is an error with the HTTP status and the message a client may see. Handlers
// return it for bad requests; anything else maps through writeError.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration // sets Retry-After on 429 and 503
}

func (e *Error) Error() string { return fmt.Sprintf("api: %s: %s", e.Code, e.Message) }

func badRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON every error answer carries.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// classify is the one place that maps an error to a status, a code and a safe message.
// Causes of 5xx answers are logged, never shown.
func classify(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ge *game.Error
	if errors.As(err, &ge) {
		status := http.StatusBadRequest
		if ge.Code == game.CodeTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		return &Error{Status: status, Code: ge.Code, Message: ge.Error()}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
			Message: fmt.Sprintf("the upload is larger than the limit of %d bytes", mbe.Limit)}
	}
	var le *queue.OwnerLimitError
	if errors.As(err, &le) {
		what := fmt.Sprintf("%d analyses", le.Max)
		if le.Limit == queue.LimitBytes {
			what = fmt.Sprintf("%d bytes of games and results", le.Max)
		}
		return &Error{Status: http.StatusForbidden, Code: "storage_limit", Message: fmt.Sprintf(
			"this token keeps %s stored, the most it may (limit: %s); delete finished analyses to make room", what, le.Limit)}
	}
	switch {
	case errors.Is(err, queue.ErrUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: "storage_unavailable",
			Message:    "the server cannot store data now (its store is unreachable, full or failing); nothing stored before is lost; try again later",
			RetryAfter: 30 * time.Second}
	case errors.Is(err, queue.ErrNotFinal):
		return &Error{Status: http.StatusConflict, Code: "not_finished", Message: "the analysis has not finished; cancel it first"}
	case errors.Is(err, queue.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such analysis"}
	case errors.Is(err, queue.ErrFinal):
		return &Error{Status: http.StatusConflict, Code: "already_finished", Message: "the analysis has already finished"}
	case errors.Is(err, context.Canceled):
		// The client went away; the status is never seen.
		return &Error{Status: 499, Code: "client_closed", Message: "client closed the request"}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, queue.ErrClosed):
		return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: "the service is busy or restarting; try again shortly", RetryAfter: 5 * time.Second}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"}
}

// writeError answers the request with err's JSON error and logs the cause of server errors.
func (a *API) writeError(c *gin.Context, err error) {
	e := classify(err)
	log := a.reqLog(c)
	switch {
	case e.Status == http.StatusInternalServerError:
		log.ErrorContext(c.Request.Context(), "request failed", "err", err,
			"method", c.Request.Method, "route", c.FullPath())
	case e.Status >= 500:
		// Busy, restarting or shutting down: expected now and then, and said to the client.
		log.WarnContext(c.Request.Context(), "request failed", "err", err,
			"method", c.Request.Method, "route", c.FullPath())
	case e.Status != 499:
		log.DebugContext(c.Request.Context(), "request rejected", "code", e.Code, "err", err)
	}
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	c.AbortWithStatusJSON(e.Status, newErrorBody(e))
}

func newErrorBody(e *Error) errorBody {
	var body errorBody
	body.Error.Code = e.Code
	body.Error.Message = e.Message
	return body
}
