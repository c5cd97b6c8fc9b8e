package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue"
)

// positionRequest is the body of POST /api/v1/positions: a position given as a move list
// (with the board, komi and rules), or as an SGF and a node path (the position after the
// last move of that line), and whether to answer with Server-Sent Events.
type positionRequest struct {
	analysis.PositionRequest
	Stream bool `json:"stream"` // answer with SSE partial reports
}

// positionGame builds and validates the game of a position.
func (a *API) positionGame(p *analysis.Position) (*game.Game, error) {
	if p.SGF == "" {
		return p.Game()
	}
	if int64(len(p.SGF)) > a.cfg.MaxUploadBytes {
		return nil, tooLarge(a.cfg.MaxUploadBytes)
	}
	rec, err := a.parseSGF([]byte(p.SGF), "", p.Path)
	if err != nil {
		return nil, err
	}
	return rec.Game, nil
}

// createPosition analyzes one position at interactive priority. Without stream it waits
// for the final result; with stream it answers Server-Sent Events: partial reports while
// KataGo searches, then the final turn and done. A client that goes away cancels the job,
// which stops KataGo's search.
func (a *API) createPosition(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxUploadBytes+64<<10)
	var req positionRequest
	if err := json.NewDecoder(c.Request.Body).Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.writeError(c, tooLarge(a.cfg.MaxUploadBytes))
			return
		}
		a.writeError(c, badRequest("invalid_request", "the body is not valid JSON: %v", err))
		return
	}
	// A streamed request for more visits than the cap is pondering: it runs until the
	// client closes the stream, or for PonderTime.
	ponder := req.Stream && req.MaxVisits > a.cfg.MaxVisits
	switch {
	case req.MaxVisits == 0:
		req.MaxVisits = a.cfg.DefaultVisits
	case req.MaxVisits < 1 || (req.MaxVisits > a.cfg.MaxVisits && !ponder):
		a.writeError(c, badRequest("invalid_visits", "maxVisits must be between 1 and %d", a.cfg.MaxVisits))
		return
	}
	if req.MaxTime < 0 || req.ReportEvery < 0 {
		a.writeError(c, badRequest("invalid_request", "maxTime and reportEvery must not be negative"))
		return
	}
	if ponder {
		req.MaxTime = a.ponderTime(req.MaxTime)
	}
	for k := range req.OverrideSettings {
		if !analysis.JobSettings[k] || k == "maxTime" {
			a.writeError(c, badRequest("invalid_request", "overrideSettings may set only %s", jobSettingNames()))
			return
		}
	}
	if req.Stream && req.ReportEvery == 0 {
		req.ReportEvery = 0.5
	}
	if req.Stream && req.ReportEvery < 0.05 {
		req.ReportEvery = 0.05
	}
	g, err := a.positionGame(&req.Position)
	if err != nil {
		a.writeError(c, err)
		return
	}
	if len(g.Moves) > a.cfg.MaxMoves {
		a.writeError(c, badRequest("too_many_moves", "the position has %d moves; the limit is %d", len(g.Moves), a.cfg.MaxMoves))
		return
	}
	if !req.Stream {
		req.ReportEvery = 0
	}
	payload, err := req.Spec(g, ponder).Encode()
	if err != nil {
		a.writeError(c, err)
		return
	}
	turn := len(g.Moves)
	release, ok := a.openStream(c)
	if !ok {
		return
	}
	defer release()
	ctx := c.Request.Context()
	job := &queue.Job{
		ID:        newJobID(),
		Owner:     ownerOf(c),
		Priority:  queue.PriorityInteractive,
		Payload:   payload,
		Turns:     []int{turn},
		Positions: int64(min(req.MaxVisits, a.cfg.MaxVisits)),
	}
	j, _, refund, err := a.enqueue(c, job, "position")
	if err != nil {
		a.writeError(c, err)
		return
	}
	// A position that analyzed nothing (KataGo refused it, the worker stopped an
	// open-ended search before its first report) gives its position back to the quota, as
	// a websocket turn does. One its client ended is charged: a GUI ends every analysis so.
	if a.cfg.PositionsPerHour > 0 {
		defer func() {
			if a.failed(ctx, j.ID) {
				refund()
			}
		}()
	}
	// Whatever ends this request early (the client leaving, a shutdown) cancels the job,
	// so KataGo stops searching a position nobody waits for.
	defer func() {
		if c.Request.Context().Err() != nil || a.isClosing() {
			a.cancelAbandoned(c.Request.Context(), a.reqLog(c), j.ID)
		}
	}()
	c.Header("X-Analysis-Id", j.ID)
	if req.Stream {
		a.stream(c, j.ID, "")
		return
	}
	a.waitPosition(c, j.ID)
}

// failed reports whether job id failed, which for a single position means it analyzed
// nothing; ctx may have ended already.
func (a *API) failed(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	j, err := a.q.Get(ctx, id)
	return err == nil && j.State == queue.StateFailed
}

// cancelAbandoned cancels job id, which nobody waits for any more, so that KataGo stops
// its search; ctx may have ended already.
func (a *API) cancelAbandoned(ctx context.Context, log *slog.Logger, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.q.Cancel(ctx, id); err != nil && !errors.Is(err, queue.ErrFinal) {
		log.Warn("cancel abandoned job", "job_id", id, "err", err)
	}
}

// ponderTime is the search time of an open-ended search that asks for t seconds (0: no
// limit): at most PonderTime, when that is set.
func (a *API) ponderTime(t float64) float64 {
	if limit := a.cfg.PonderTime.Seconds(); limit > 0 && (t <= 0 || t > limit) {
		return limit
	}
	return t
}

func (a *API) isClosing() bool {
	select {
	case <-a.closing:
		return true
	default:
		return false
	}
}

// waitPosition answers with the final turn once the job has it.
func (a *API) waitPosition(c *gin.Context, id string) {
	// The search may outlast the server's timeouts; the answer gets a deadline of its own.
	rc := longRequest(c)
	answered := false
	answer := func(err error) (bool, error) {
		a.writeDeadline(rc)
		a.writeError(c, err)
		answered = true
		return true, nil
	}
	err := a.follow(c.Request.Context(), id, "", 0, follower{event: func(e queue.Event) (bool, error) {
		switch e.Type {
		case queue.EventTurn:
			a.writeDeadline(rc)
			c.Data(http.StatusOK, "application/json", e.Data)
			answered = true
			return true, nil
		case queue.EventFailed:
			return answer(&Error{Status: http.StatusUnprocessableEntity, Code: "analysis_failed", Message: failureOf(e.Data).Error()})
		case queue.EventCancelled:
			return answer(&Error{Status: http.StatusGone, Code: "cancelled", Message: "the analysis was cancelled"})
		}
		return false, nil
	}})
	switch {
	case answered:
	case err != nil:
		a.writeError(c, err)
	default:
		a.writeError(c, fmt.Errorf("api: job %s ended without a result", id))
	}
}

// jobSettingNames lists analysis.JobSettings but maxTime (a field of its own here).
func jobSettingNames() string {
	var names []string
	for k := range analysis.JobSettings {
		if k != "maxTime" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
