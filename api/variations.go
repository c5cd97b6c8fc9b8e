package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
)

// maxVariations is the most variations one review keeps.
const maxVariations = 100

// Variation is a line a player tried on a review: moves played from the position after the
// game's first At moves, and KataGo's analysis of the position after each (Turns[i] after
// Moves[i]; null where it was not analyzed).
type Variation struct {
	At    int           `json:"at"`
	Moves []katago.Move `json:"moves"`
	Turns []*game.Turn  `json:"turns,omitempty"`
}

// variationSet is the body of GET and PUT /api/v1/analyses/{id}/variations.
type variationSet struct {
	Variations []Variation `json:"variations"`
}

func (a *API) getVariations(c *gin.Context) {
	j, ok := a.loadJob(c)
	if !ok {
		return
	}
	set, err := a.variations(c, j)
	if err != nil {
		a.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, set)
}

// variations reads the job's stored variations; none is an empty list.
func (a *API) variations(c *gin.Context, j *queue.Job) (*variationSet, error) {
	data, err := a.q.Variations(c.Request.Context(), j.ID)
	if err != nil {
		return nil, err
	}
	set := &variationSet{Variations: []Variation{}}
	if len(data) > 0 {
		if err := json.Unmarshal(data, set); err != nil {
			return nil, fmt.Errorf("api: stored variations of %s: %w", j.ID, err)
		}
	}
	return set, nil
}

// putVariations replaces the review's variations. Each must be legal from the position it
// starts at, under the game's rules; the whole set is within the upload limit.
func (a *API) putVariations(c *gin.Context) {
	j, ok := a.loadJob(c)
	if !ok {
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxUploadBytes)
	var set variationSet
	if err := json.NewDecoder(c.Request.Body).Decode(&set); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.writeError(c, &Error{Status: http.StatusRequestEntityTooLarge, Code: "too_large",
				Message: fmt.Sprintf("the variations are larger than the limit of %d bytes", a.cfg.MaxUploadBytes)})
			return
		}
		a.writeError(c, badRequest("invalid_request", "the body is not valid JSON: %v", err))
		return
	}
	if set.Variations == nil {
		set.Variations = []Variation{}
	}
	if len(set.Variations) > maxVariations {
		a.writeError(c, badRequest("too_many_variations", "a review keeps at most %d variations, not %d", maxVariations, len(set.Variations)))
		return
	}
	spec, err := analysis.Decode(j.Payload)
	if err != nil {
		a.writeError(c, err)
		return
	}
	for i := range set.Variations {
		v := &set.Variations[i]
		if len(v.Moves) == 0 {
			a.writeError(c, badRequest("invalid_variation", "variation %d has no moves", i+1))
			return
		}
		if v.At+len(v.Moves) > a.cfg.MaxMoves {
			a.writeError(c, badRequest("invalid_variation", "variation %d is longer than the limit of %d moves", i+1, a.cfg.MaxMoves))
			return
		}
		if len(v.Turns) > len(v.Moves) {
			a.writeError(c, badRequest("invalid_variation", "variation %d has %d analyses for %d moves", i+1, len(v.Turns), len(v.Moves)))
			return
		}
		if _, err := spec.Game.Branch(v.At, v.Moves); err != nil {
			a.writeError(c, badRequest("invalid_variation", "variation %d: %s", i+1, gameMessage(err)))
			return
		}
		for k, t := range v.Turns {
			if t != nil {
				t.Turn = v.At + k + 1
			}
		}
	}
	data, err := json.Marshal(set)
	if err != nil {
		a.writeError(c, err)
		return
	}
	if err := a.q.SaveVariations(c.Request.Context(), j.ID, data); err != nil {
		a.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, set)
}

// gameMessage is the player's words of a game error, without the package's prefix.
func gameMessage(err error) string {
	var ge *game.Error
	if errors.As(err, &ge) {
		return ge.Msg
	}
	return err.Error()
}

// ownVariations turns stored variations into what the annotated SGF adds; a variation that
// no longer fits the game is left out.
func ownVariations(g *game.Game, set *variationSet) []game.OwnVariation {
	var own []game.OwnVariation
	for _, v := range set.Variations {
		b, err := g.Branch(v.At, v.Moves)
		if err != nil {
			continue
		}
		own = append(own, game.OwnVariation{At: v.At, Moves: b.Moves[v.At:], Turns: v.Turns})
	}
	return own
}

// recordText reads the record's own comments and variations back from the stored SGF;
// none when the job was not made from one.
func recordText(spec *analysis.Spec) ([]string, []game.RecordVariation) {
	if len(spec.SGF) == 0 {
		return nil, nil
	}
	rec, err := storedRecord(spec)
	if err != nil {
		return nil, nil
	}
	comments := rec.Comments()
	if strings.Join(comments, "") == "" {
		comments = nil
	}
	return comments, rec.RecordVariations()
}

// storedRecord re-reads the record a job was made from.
func storedRecord(spec *analysis.Spec) (*game.Record, error) {
	path, _ := game.ParsePath(spec.Path)
	return game.Parse(spec.SGF, game.ParseOptions{MaxBytes: len(spec.SGF) + 1, Path: path})
}
