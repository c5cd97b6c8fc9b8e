package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
)

// analysisRequest is the JSON form of POST /api/v1/analyses. The multipart form has the
// same fields, with sgf as a file.
type analysisRequest struct {
	SGF              string `json:"sgf"`
	MaxVisits        int    `json:"maxVisits"`
	Path             string `json:"path"`
	IncludeOwnership bool   `json:"includeOwnership"`
	Adaptive         bool   `json:"adaptive"`

	name string // the uploaded file's name, when there is one
}

// analysisCreated answers POST /api/v1/analyses.
type analysisCreated struct {
	ID     string      `json:"id"`
	Status queue.State `json:"status"`
	Turns  int         `json:"turns"`
	// MaxVisits and Adaptive are the review's depth, the server's default filled in.
	MaxVisits int               `json:"maxVisits"`
	Adaptive  bool              `json:"adaptive"`
	Warnings  []string          `json:"warnings,omitempty"`
	Links     map[string]string `json:"links"`
}

func links(id string) map[string]string {
	base := "/api/v1/analyses/" + id
	return map[string]string{"self": base, "events": base + "/events", "sgf": base + "/sgf", "review": "/review/" + id}
}

// readAnalysisRequest reads an upload in any of the accepted forms: multipart with a
// file field sgf, JSON, or the SGF itself as the body.
func (a *API) readAnalysisRequest(c *gin.Context) (*analysisRequest, error) {
	// A multipart body carries a little more than the file, and a JSON string up to six
	// bytes for each of the record's (\u escapes, as Python's json.dumps writes every
	// character past ASCII); the record's own limit is enforced below.
	ct, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	limit := a.cfg.MaxUploadBytes + 64<<10
	if ct == "application/json" {
		limit = 6*a.cfg.MaxUploadBytes + 64<<10
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	var req analysisRequest
	switch ct {
	case "multipart/form-data":
		if err := c.Request.ParseMultipartForm(a.cfg.MaxUploadBytes + 64<<10); err != nil {
			return nil, uploadError(err)
		}
		if fh, err := c.FormFile("sgf"); err == nil {
			if fh.Size > a.cfg.MaxUploadBytes {
				return nil, tooLarge(a.cfg.MaxUploadBytes)
			}
			f, err := fh.Open()
			if err != nil {
				return nil, fmt.Errorf("api: open upload: %w", err)
			}
			defer f.Close()
			data, err := io.ReadAll(io.LimitReader(f, a.cfg.MaxUploadBytes+1))
			if err != nil {
				return nil, uploadError(err)
			}
			req.SGF, req.name = string(data), fh.Filename
		} else {
			req.SGF = c.PostForm("sgf")
		}
		if err := req.readOptions(c.PostForm); err != nil {
			return nil, err
		}
	case "application/json":
		dec := json.NewDecoder(c.Request.Body)
		if err := dec.Decode(&req); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(a.cfg.MaxUploadBytes)
			}
			return nil, badRequest("invalid_request", "the body is not valid JSON: %v", err)
		}
	default:
		data, err := io.ReadAll(c.Request.Body)
		if err != nil {
			return nil, uploadError(err)
		}
		req.SGF = string(data)
		if err := req.readOptions(c.Query); err != nil {
			return nil, err
		}
	}
	if int64(len(req.SGF)) > a.cfg.MaxUploadBytes {
		return nil, tooLarge(a.cfg.MaxUploadBytes)
	}
	if strings.TrimSpace(req.SGF) == "" {
		return nil, badRequest("invalid_request", "no SGF: send it as the multipart file field \"sgf\", as JSON {\"sgf\": ...}, or as the body")
	}
	if err := a.checkVisits(&req); err != nil {
		return nil, err
	}
	return &req, nil
}

// readOptions reads the review's settings from form or query fields (get): a multipart
// upload's fields, or the query of an SGF or zip body. A JSON body holds the same fields.
func (req *analysisRequest) readOptions(get func(string) string) error {
	req.Path = get("path")
	var err error
	if req.IncludeOwnership, err = parseFlag("includeOwnership", get("includeOwnership")); err != nil {
		return err
	}
	if req.Adaptive, err = parseFlag("adaptive", get("adaptive")); err != nil {
		return err
	}
	if v := get("maxVisits"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return badRequest("invalid_request", "maxVisits must be a whole number, not %q", v)
		}
		req.MaxVisits = n
	}
	return nil
}

// checkVisits fills in the default depth and refuses one outside the server's limits.
func (a *API) checkVisits(req *analysisRequest) error {
	switch {
	case req.MaxVisits == 0:
		req.MaxVisits = a.cfg.DefaultVisits
	case req.MaxVisits < 1 || req.MaxVisits > a.cfg.MaxVisits:
		return badRequest("invalid_visits", "maxVisits must be between 1 and %d", a.cfg.MaxVisits)
	}
	return nil
}

// parseFlag reads a true/false form or query field; empty is false.
func parseFlag(name, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("invalid_request", "%s must be true or false, not %q", name, v)
	}
	return b, nil
}

func tooLarge(limit int64) error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
		Message: fmt.Sprintf("the upload is larger than the limit of %d bytes", limit)}
}

// uploadError maps a failure to read the body; an oversized body is a 413.
func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	if strings.Contains(err.Error(), "request body too large") {
		// mime/multipart flattens the reader's error into text.
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "the upload is too large"}
	}
	return badRequest("invalid_request", "the upload could not be read: %v", err)
}

func (a *API) createAnalysis(c *gin.Context) {
	files, err := a.readBatch(c)
	if err != nil {
		a.writeError(c, err)
		return
	}
	if files != nil {
		a.createBatch(c, files)
		return
	}
	req, err := a.readAnalysisRequest(c)
	if err != nil {
		a.writeError(c, err)
		return
	}
	res, err := a.submitGame(c, req)
	if err != nil {
		a.writeError(c, err)
		return
	}
	c.Header("Location", "/api/v1/analyses/"+res.ID)
	c.JSON(http.StatusAccepted, res)
}

// submitGame reads one uploaded record and queues its review.
func (a *API) submitGame(c *gin.Context, req *analysisRequest) (*analysisCreated, error) {
	rec, err := a.parseSGF([]byte(req.SGF), req.name, req.Path)
	if err != nil {
		return nil, err
	}
	g := rec.Game
	if len(g.Moves) > a.cfg.MaxMoves {
		return nil, badRequest("too_many_moves", "the game has %d moves; the limit is %d", len(g.Moves), a.cfg.MaxMoves)
	}
	sgf := []byte(req.SGF)
	if rec.Format != game.FormatSGF {
		// A .gib or .ngf record is kept as the SGF of its game: what the download annotates.
		sgf = game.WriteSGF(rec.Trees)
	}
	spec := &analysis.Spec{Game: g, SGF: sgf, Path: req.Path, MaxVisits: req.MaxVisits,
		IncludeOwnership: req.IncludeOwnership, Adaptive: req.Adaptive}
	payload, err := spec.Encode()
	if err != nil {
		return nil, err
	}
	turns := make([]int, len(g.Moves)+1)
	for i := range turns {
		turns[i] = i
	}
	owner := ownerOf(c)
	sum := sha256.Sum256(append([]byte(owner+"\x00"), payload...))
	job := &queue.Job{
		ID:        newJobID(),
		Owner:     owner,
		Priority:  queue.PriorityReview,
		DedupeKey: hex.EncodeToString(sum[:]),
		Payload:   payload,
		Turns:     turns,
		Positions: spec.PlannedVisits(len(turns)),
	}
	if err := libraryFields(job, g); err != nil {
		return nil, err
	}
	j, created, _, err := a.enqueue(c, job, "analysis")
	if err != nil {
		return nil, err
	}
	if created {
		a.reqLog(c).Info("analysis queued", "job_id", j.ID, "turns", len(turns), "visits", req.MaxVisits, "adaptive", spec.IsAdaptive())
	}
	warnings := rec.Warnings
	if spec.Adaptive && !spec.IsAdaptive() {
		warnings = append(warnings, fmt.Sprintf("an adaptive review needs maxVisits of %d or more: this one searches every position at %d visits",
			analysis.MinAdaptiveVisits, spec.MaxVisits))
	}
	return &analysisCreated{ID: j.ID, Status: j.State, Turns: len(j.Turns), MaxVisits: spec.MaxVisits,
		Adaptive: spec.IsAdaptive(), Warnings: warnings, Links: links(j.ID)}, nil
}

// newJobID returns an unguessable job id, as the queue would make: the API names a job
// before it exists, to reserve its slot among the owner's jobs at once.
func newJobID() string { return strings.ToLower(rand.Text()) }

// enqueue enqueues job for the request's owner within the owner's limits: a slot among
// its jobs at once, and its positions charged to the quota. A submission that collapses
// into an existing job (dedupe) charges nothing, and is answered with that job even when
// the owner's limits are all taken: a client that repeats a submission whose answer it
// missed gets its review, not a refusal. refund gives a created job's positions back, for
// a job that ends up analyzing nothing; it does nothing for a job not created.
func (a *API) enqueue(c *gin.Context, job *queue.Job, kind string) (j *queue.Job, created bool, refund func(), err error) {
	ctx := c.Request.Context()
	if job.DedupeKey != "" {
		j, err := a.q.Duplicate(ctx, job.Owner, job.DedupeKey)
		if err == nil {
			return j, false, func() {}, nil
		}
		if !errors.Is(err, queue.ErrNotFound) {
			return nil, false, nil, err
		}
	}
	if err := a.admitJob(ctx, job.Owner, job.ID); err != nil {
		return nil, false, nil, err
	}
	log := a.reqLog(c)
	refund, err = a.chargeQuota(ctx, log, job.Owner, len(job.Turns))
	if err != nil {
		a.releaseJob(ctx, log, job.Owner, job.ID)
		return nil, false, nil, err
	}
	j, created, err = a.enqueueCharged(ctx, log, job, kind)
	if err != nil || !created {
		refund()
		refund = func() {}
	}
	return j, created, refund, err
}

// enqueueCharged enqueues a job whose slot is taken and whose positions are charged
// already (a websocket turn is charged with its query), and gives the slot back when no
// job was made.
func (a *API) enqueueCharged(ctx context.Context, log *slog.Logger, job *queue.Job, kind string) (*queue.Job, bool, error) {
	j, created, err := a.q.Enqueue(ctx, job)
	if err != nil || !created {
		a.releaseJob(ctx, log, job.Owner, job.ID)
	}
	if err != nil {
		return nil, false, err
	}
	if created {
		a.metrics.submitted.WithLabelValues(kind).Inc()
	}
	return j, created, nil
}

// ownerOf names the owner of the request's jobs. Every job belongs to the token that
// made it; in open mode everything belongs to "".
func ownerOf(c *gin.Context) string { return c.GetString(ownerKey) }

const ownerKey = "owner"

// loadJob returns the job named in the path when the caller may see it; another owner's
// job is answered as not found.
func (a *API) loadJob(c *gin.Context) (*queue.Job, bool) {
	j, err := a.q.Get(c.Request.Context(), c.Param("id"))
	if err == nil && j.Owner != ownerOf(c) {
		err = queue.ErrNotFound
	}
	if err != nil {
		a.writeError(c, err)
		return nil, false
	}
	return j, true
}

// Analysis is the whole result of GET /api/v1/analyses/{id}.
type Analysis struct {
	ID         string            `json:"id"`
	Status     queue.State       `json:"status"`
	Error      string            `json:"error,omitempty"`
	Attempts   int               `json:"attempts"`
	CreatedAt  time.Time         `json:"createdAt"`
	StartedAt  time.Time         `json:"startedAt,omitzero"`
	FinishedAt time.Time         `json:"finishedAt,omitzero"`
	Progress   Progress          `json:"progress"`
	MaxVisits  int               `json:"maxVisits"`
	Game       gameView          `json:"game"`
	Turns      []game.Turn       `json:"turns"`
	Summary    *game.Summary     `json:"summary,omitempty"`
	Links      map[string]string `json:"links"`

	// Adaptive: the review searched every turn at a few visits, then the turns that decide
	// the game again at MaxVisits.
	Adaptive bool `json:"adaptive"`
	// VisitsSpent is the visits of every search made for the stored turns, an adaptive
	// review's quick pass included.
	VisitsSpent int64 `json:"visitsSpent"`
}

// Progress counts analyzed turns, and an adaptive review's deeper searches apart.
type Progress = analysis.Progress

// newProgress counts the progress of a review of the spec in state st over total turns,
// of which turns are stored: 100% once it is done, whatever it searched again.
func newProgress(spec *analysis.Spec, st queue.State, total int, turns []game.Turn) Progress {
	p := spec.Progress(total, turns)
	if st == queue.StateDone {
		p.Percent = 100
	}
	return p
}

// review reads a job's payload and stored results as reviewed turns in turn order.
func (a *API) review(ctx context.Context, j *queue.Job) (*analysis.Spec, []game.Turn, error) {
	spec, turns, err := a.stored(ctx, j)
	if err != nil {
		return nil, nil, err
	}
	game.Review(spec.Game, turns)
	return spec, turns, nil
}

// stored reads a job's payload and stored results, in turn order, as the engine gave
// them: what counting its progress needs, without the review of each move.
func (a *API) stored(ctx context.Context, j *queue.Job) (*analysis.Spec, []game.Turn, error) {
	spec, err := analysis.Decode(j.Payload)
	if err != nil {
		return nil, nil, err
	}
	results, err := a.q.Results(ctx, j.ID)
	if err != nil {
		return nil, nil, err
	}
	turns := make([]game.Turn, 0, len(results))
	for n, data := range results {
		var t game.Turn
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, nil, fmt.Errorf("api: job %s turn %d: %w", j.ID, n, err)
		}
		turns = append(turns, t)
	}
	slices.SortFunc(turns, func(x, y game.Turn) int { return x.Turn - y.Turn })
	return spec, turns, nil
}

// loadReview loads the job named in the path, as loadJob does, and reads it as reviewed
// turns; when it answers false it has written the error answer.
func (a *API) loadReview(c *gin.Context) (*queue.Job, *analysis.Spec, []game.Turn, bool) {
	j, ok := a.loadJob(c)
	if !ok {
		return nil, nil, nil, false
	}
	spec, turns, err := a.review(c.Request.Context(), j)
	if err != nil {
		a.writeError(c, err)
		return nil, nil, nil, false
	}
	return j, spec, turns, true
}

func (a *API) getAnalysis(c *gin.Context) {
	j, spec, turns, ok := a.loadReview(c)
	if !ok {
		return
	}
	res := Analysis{
		ID: j.ID, Status: j.State, Error: failureText(j.Error), Attempts: j.Attempts,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt,
		Progress:  newProgress(spec, j.State, len(j.Turns), turns),
		MaxVisits: spec.MaxVisits, Adaptive: spec.IsAdaptive(), Game: newGameView(spec.Game), Turns: turns, Links: links(j.ID),
	}
	for i := range turns {
		res.VisitsSpent += int64(turns[i].Spent())
	}
	if len(turns) > 0 {
		s := game.Summarize(spec.Game, turns)
		res.Summary = &s
	}
	res.Game.Comments, res.Game.Variations = recordText(spec)
	c.JSON(http.StatusOK, res)
}

func (a *API) cancelAnalysis(c *gin.Context, j *queue.Job) {
	if err := a.q.Cancel(c.Request.Context(), j.ID); err != nil {
		a.writeError(c, err)
		return
	}
	a.reqLog(c).Info("analysis cancelled", "job_id", j.ID)
	c.JSON(http.StatusOK, gin.H{"id": j.ID, "status": queue.StateCancelled})
}

func (a *API) analysisSGF(c *gin.Context) {
	j, spec, turns, ok := a.loadReview(c)
	if !ok {
		return
	}
	if len(spec.SGF) == 0 {
		a.writeError(c, &Error{Status: http.StatusNotFound, Code: "no_sgf", Message: "this analysis was not made from an SGF"})
		return
	}
	rec, err := storedRecord(spec)
	if err != nil {
		a.writeError(c, fmt.Errorf("api: re-read stored sgf of %s: %w", j.ID, err))
		return
	}
	set, err := a.variations(c, j)
	if err != nil {
		a.writeError(c, err)
		return
	}
	out, err := game.Annotate(rec, turns, game.AnnotateOptions{Own: ownVariations(rec.Game, set)})
	if err != nil {
		a.writeError(c, fmt.Errorf("api: annotate %s: %w", j.ID, err))
		return
	}
	c.Header("Content-Disposition", contentDisposition(downloadName(spec.Game)))
	c.Data(http.StatusOK, "application/x-go-sgf; charset=utf-8", out)
}

// parseSGF reads an uploaded record (SGF, Tygem .gib or WBaduk .ngf; name is the file's
// name, when it has one) within the API's limits.
func (a *API) parseSGF(data []byte, name, pathText string) (*game.Record, error) {
	path, err := game.ParsePath(pathText)
	if err != nil {
		return nil, err
	}
	rec, err := game.Parse(data, game.ParseOptions{MaxBytes: int(a.cfg.MaxUploadBytes), MaxMoves: a.cfg.MaxMoves,
		Path: path, Name: name})
	return rec, err
}

// gameView is the game as the API shows it: moves and stones as KataGo writes them.
type gameView struct {
	BoardXSize    int           `json:"boardXSize"`
	BoardYSize    int           `json:"boardYSize"`
	Komi          float64       `json:"komi"`
	Rules         string        `json:"rules"`
	Handicap      int           `json:"handicap,omitempty"`
	InitialStones []katago.Move `json:"initialStones,omitempty"`
	InitialPlayer string        `json:"initialPlayer"`
	Moves         []katago.Move `json:"moves"`
	Black         string        `json:"black,omitempty"`
	White         string        `json:"white,omitempty"`
	BlackRank     string        `json:"blackRank,omitempty"`
	WhiteRank     string        `json:"whiteRank,omitempty"`
	Result        string        `json:"result,omitempty"`
	Date          string        `json:"date,omitempty"`
	Event         string        `json:"event,omitempty"`
	GameName      string        `json:"gameName,omitempty"`
	// Comments[t] is the record's own comment at turn t ("" where none); absent when the
	// record has none.
	Comments []string `json:"comments,omitempty"`
	// Variations are the record's own variations off the analyzed line.
	Variations []game.RecordVariation `json:"variations,omitempty"`
}

func newGameView(g *game.Game) gameView {
	q := g.Query(nil)
	moves := q.Moves
	if moves == nil {
		moves = []katago.Move{}
	}
	return gameView{
		BoardXSize: g.BoardXSize, BoardYSize: g.BoardYSize, Komi: g.Komi, Rules: g.Rules,
		Handicap: g.Handicap, InitialStones: q.InitialStones, InitialPlayer: g.InitialPlayer.String(),
		Moves: moves, Black: g.BlackName, White: g.WhiteName, BlackRank: g.BlackRank,
		WhiteRank: g.WhiteRank, Result: g.Result, Date: g.Date, Event: g.Event, GameName: g.GameName,
	}
}
