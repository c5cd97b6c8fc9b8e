package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// serviceInfo answers GET /api/v1/info: what a client needs to plan a submission without
// a token: the limits, and the service's measured speed for time estimates.
type serviceInfo struct {
	// VisitsPerSecond is the visits per second the live workers measured, together; 0 while
	// none has measured yet. A review takes about (moves+1) * visits / VisitsPerSecond.
	VisitsPerSecond float64 `json:"visitsPerSecond"`
	Workers         int     `json:"workers"`
	DefaultVisits   int     `json:"defaultVisits"`
	MaxVisits       int     `json:"maxVisits"`
	MaxMoves        int     `json:"maxMoves"`
	MaxUploadBytes  int64   `json:"maxUploadBytes"`
	MaxBatchBytes   int64   `json:"maxBatchBytes"`
	MaxBatchGames   int     `json:"maxBatchGames"`
}

func (a *API) info(c *gin.Context) {
	ws, err := a.q.Workers(c.Request.Context())
	if err != nil {
		a.writeError(c, err)
		return
	}
	res := serviceInfo{Workers: len(ws), DefaultVisits: a.cfg.DefaultVisits, MaxVisits: a.cfg.MaxVisits,
		MaxMoves: a.cfg.MaxMoves, MaxUploadBytes: a.cfg.MaxUploadBytes, MaxBatchBytes: a.cfg.MaxBatchBytes,
		MaxBatchGames: a.cfg.MaxBatchGames}
	for _, w := range ws {
		res.VisitsPerSecond += w.PositionsPerSec
	}
	c.JSON(http.StatusOK, res)
}
