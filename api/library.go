package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue"
)

// reviewMeta is what the review library shows of a game without reading its payload: the
// enqueuer stores it as the job's Meta.
type reviewMeta struct {
	BlackRank  string `json:"blackRank,omitempty"`
	WhiteRank  string `json:"whiteRank,omitempty"`
	Date       string `json:"date,omitempty"` // the record's DT, as written
	Result     string `json:"result,omitempty"`
	BoardXSize int    `json:"boardXSize,omitempty"`
	BoardYSize int    `json:"boardYSize,omitempty"`
	Moves      int    `json:"moves"`
}

// libraryFields sets the fields of a review job that the library lists and filters on.
func libraryFields(job *queue.Job, g *game.Game) error {
	meta, err := json.Marshal(reviewMeta{BlackRank: g.BlackRank, WhiteRank: g.WhiteRank, Date: g.Date,
		Result: g.Result, BoardXSize: g.BoardXSize, BoardYSize: g.BoardYSize, Moves: len(g.Moves)})
	if err != nil {
		return fmt.Errorf("api: library fields: %w", err)
	}
	job.Black, job.White, job.Meta = g.BlackName, g.WhiteName, meta
	return nil
}

// libraryEntry is one review of GET /api/v1/analyses.
type libraryEntry struct {
	ID     string      `json:"id"`
	Status queue.State `json:"status"`
	Error  string      `json:"error,omitempty"`
	Black  string      `json:"black,omitempty"`
	White  string      `json:"white,omitempty"`
	reviewMeta
	CreatedAt  time.Time         `json:"createdAt"`
	FinishedAt time.Time         `json:"finishedAt,omitzero"`
	Progress   Progress          `json:"progress"`
	Links      map[string]string `json:"links"`
}

// libraryPage answers GET /api/v1/analyses.
type libraryPage struct {
	Analyses []libraryEntry `json:"analyses"`
	// Next is the cursor of the next page; empty after the last.
	Next string `json:"next,omitempty"`
}

// maxListCalls bounds the store calls of one library page: interactive jobs (single
// positions, websocket queries) share the owner's listing and are skipped.
const maxListCalls = 8

func (a *API) listAnalyses(c *gin.Context) {
	f, err := libraryFilter(c)
	if err != nil {
		a.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	limit := f.Limit
	page := libraryPage{Analyses: []libraryEntry{}}
	for range maxListCalls {
		f.Limit = limit - len(page.Analyses)
		jobs, next, err := a.q.List(ctx, f)
		if errors.Is(err, queue.ErrInvalid) {
			a.writeError(c, badRequest("invalid_cursor", "the cursor %q is not one this server gave", f.Cursor))
			return
		}
		if err != nil {
			a.writeError(c, err)
			return
		}
		for _, j := range jobs {
			if j.Priority != queue.PriorityReview {
				continue
			}
			e, err := a.libraryEntry(c, j)
			if err != nil {
				a.writeError(c, err)
				return
			}
			page.Analyses = append(page.Analyses, e)
		}
		f.Cursor, page.Next = next, next
		if next == "" || len(page.Analyses) == limit {
			break
		}
	}
	c.JSON(http.StatusOK, page)
}

// libraryEntry shows one job; the progress of a review that is not done is counted from
// its stored results, as GET /api/v1/analyses/{id} counts it.
func (a *API) libraryEntry(c *gin.Context, j *queue.Job) (libraryEntry, error) {
	e := libraryEntry{ID: j.ID, Status: j.State, Error: failureText(j.Error), Black: j.Black, White: j.White,
		CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt, Progress: Progress{Total: len(j.Turns)}, Links: links(j.ID)}
	if len(j.Meta) > 0 {
		if err := json.Unmarshal(j.Meta, &e.reviewMeta); err != nil {
			return e, fmt.Errorf("api: job %s meta: %w", j.ID, err)
		}
	}
	if j.State == queue.StateDone {
		e.Progress.Done, e.Progress.Percent = e.Progress.Total, 100
		return e, nil
	}
	// The listing holds no payload: the job itself tells the review's depth.
	full, err := a.q.Get(c.Request.Context(), j.ID)
	if err == nil {
		var spec *analysis.Spec
		var turns []game.Turn
		if spec, turns, err = a.stored(c.Request.Context(), full); err == nil {
			e.Progress = newProgress(spec, j.State, len(j.Turns), turns)
		}
	}
	if errors.Is(err, queue.ErrNotFound) {
		// Deleted or expired since it was listed: show it as it was listed.
		return e, nil
	}
	return e, err
}

// libraryFilter reads the query of GET /api/v1/analyses: player, status (a comma-separated
// list, or the parameter repeated), since and until (RFC 3339 times, or dates: a date
// until includes its day), cursor and limit.
func libraryFilter(c *gin.Context) (queue.ListFilter, error) {
	f := queue.ListFilter{Owner: ownerOf(c), Player: strings.TrimSpace(c.Query("player")), Cursor: c.Query("cursor")}
	for _, v := range c.QueryArray("status") {
		for s := range strings.SplitSeq(v, ",") {
			st := queue.State(strings.TrimSpace(s))
			switch st {
			case queue.StateQueued, queue.StateRunning, queue.StateDone, queue.StateFailed, queue.StateCancelled:
				if !slices.Contains(f.States, st) {
					f.States = append(f.States, st)
				}
			case "":
			default:
				return f, badRequest("invalid_status", "status %q is none of queued, running, done, failed, cancelled", s)
			}
		}
	}
	var err error
	if f.Since, err = queryTime(c, "since", false); err != nil {
		return f, err
	}
	if f.Until, err = queryTime(c, "until", true); err != nil {
		return f, err
	}
	f.Limit = queue.DefaultListLimit
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > queue.MaxListLimit {
			return f, badRequest("invalid_limit", "limit must be a whole number from 1 to %d, not %q", queue.MaxListLimit, v)
		}
		f.Limit = n
	}
	return f, nil
}

// queryTime reads a time parameter: RFC 3339, or a date (UTC) that stands for the start
// of its day, or with endOfDay for the start of the next.
func queryTime(c *gin.Context, name string, endOfDay bool) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, badRequest("invalid_time", "%s must be a date (2026-11-21) or an RFC 3339 time, not %q", name, v)
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// deleteAnalysis cancels a review that is queued or running, and removes a finished one
// with all its data. With cancel=true it only ever cancels: a client that stops a review
// it watches (the review page, the batch command) never deletes one that finished the
// moment before; it gets 409 already_finished instead.
func (a *API) deleteAnalysis(c *gin.Context) {
	// A flag that is not a boolean is refused before anything is looked at: read as
	// false, it would delete the review its client meant only to stop.
	cancelOnly, err := parseFlag("cancel", c.Query("cancel"))
	if err != nil {
		a.writeError(c, err)
		return
	}
	j, ok := a.loadJob(c)
	if !ok {
		return
	}
	if !j.State.Final() || cancelOnly {
		a.cancelAnalysis(c, j)
		return
	}
	if err := a.q.Delete(c.Request.Context(), j.ID); err != nil {
		a.writeError(c, err)
		return
	}
	a.reqLog(c).Info("analysis deleted", "job_id", j.ID)
	c.Status(http.StatusNoContent)
}

// recordDate is the leading date of an SGF DT value ("2026-11-21,22" or "2026-11-21"):
// YYYY-MM-DD, or "" when it does not start with one.
var recordDate = regexp.MustCompile(`^\s*(\d{4}-\d{2}-\d{2})`)

func gameDate(dt string) string {
	if m := recordDate.FindStringSubmatch(dt); m != nil {
		if _, err := time.Parse(time.DateOnly, m[1]); err == nil {
			return m[1]
		}
	}
	return ""
}

// downloadName names a review's annotated SGF after its game: Black-vs-White-2026-11-21.sgf
// (the date when the record has one), with "Black" and "White" for players it does not
// name.
func downloadName(g *game.Game) string {
	name := fileNamePart(g.BlackName, "Black") + "-vs-" + fileNamePart(g.WhiteName, "White")
	if d := gameDate(g.Date); d != "" {
		name += "-" + d
	}
	return name + ".sgf"
}

// fileNamePart makes a player's name safe in a file name on every system: no path
// separators, quotes, control or reserved characters, no leading dot, spaces as
// underscores, at most 40 characters.
func fileNamePart(s, fallback string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(s) {
		switch {
		case n == 40:
		case unicode.IsSpace(r):
			b.WriteByte('_')
			n++
		case unicode.IsControl(r), !unicode.IsPrint(r), strings.ContainsRune(`/\"'<>:|?*`+"`", r):
		default:
			b.WriteRune(r)
			n++
		}
	}
	out := strings.TrimLeft(b.String(), "._")
	if out == "" {
		return fallback
	}
	return out
}

// contentDisposition is the header of an attachment named name: a plain filename for an
// ASCII name, else an ASCII fallback and RFC 6266's filename* with the name in UTF-8.
func contentDisposition(name string) string {
	ascii := true
	for _, r := range name {
		if r > unicode.MaxASCII {
			ascii = false
			break
		}
	}
	if ascii {
		return mime.FormatMediaType("attachment", map[string]string{"filename": name})
	}
	fallback := strings.Map(func(r rune) rune {
		if r > unicode.MaxASCII {
			return '_'
		}
		return r
	}, name)
	star := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	return mime.FormatMediaType("attachment", map[string]string{"filename": fallback}) + "; " +
		strings.TrimPrefix(star, "attachment; ")
}
