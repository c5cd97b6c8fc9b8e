package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/queue"
)

// Bounds of GET /api/v1/players/{name}: the newest games it reads, the jobs of the library
// it looks through to find them, and the worst moves it lists.
const (
	maxPlayerGames   = 200
	maxPlayerScanned = 5000
	playerWorstMoves = 20
)

// playerReport answers GET /api/v1/players/{name}: a player's reviewed games over time.
type playerReport struct {
	Name string `json:"name"`
	// Names are the spellings counted as this player: the name and every names parameter.
	Names []string `json:"names"`
	// Games are the player's done reviews, newest first (by the record's date, then by
	// when they were reviewed).
	Games []playerGame `json:"games"`
	// Totals counts every move of Games together.
	Totals playerTotals `json:"totals"`
	// WorstMoves are the moves that lost the most points across Games, worst first.
	WorstMoves []worstMove `json:"worstMoves"`
	// Truncated says that the player has more games than the report reads (the newest
	// maxPlayerGames are counted).
	Truncated bool `json:"truncated"`
}

type playerTotals struct {
	Games int `json:"games"`
	game.Figures
	Phases []game.PhaseFigures `json:"phases"`
}

// playerGame is one game of the player and the player's figures in it.
type playerGame struct {
	ID string `json:"id"`
	// Date is the record's date (YYYY-MM-DD), or the day of the review when the record has
	// none.
	Date         string `json:"date"`
	Color        string `json:"color"` // "B" or "W": the side the player had
	Name         string `json:"name"`  // the player's name as the record spells it
	Rank         string `json:"rank,omitempty"`
	Opponent     string `json:"opponent,omitempty"`
	OpponentRank string `json:"opponentRank,omitempty"`
	Result       string `json:"result,omitempty"`
	BoardXSize   int    `json:"boardXSize"`
	BoardYSize   int    `json:"boardYSize"`
	game.Figures
	Phases []game.PhaseFigures `json:"phases"`
	Links  map[string]string   `json:"links"`

	created int64 // orders games of the same date
}

// worstMove is a move of the player, with the game it is in and its link into the review.
type worstMove struct {
	game.MoveLoss
	ID       string `json:"id"`
	Date     string `json:"date"`
	Color    string `json:"color"`
	Opponent string `json:"opponent,omitempty"`
	// Review is the review page at this move.
	Review string `json:"review"`
}

func (a *API) getPlayer(c *gin.Context) {
	name := strings.TrimSpace(strings.TrimPrefix(c.Param("name"), "/"))
	if name == "" {
		a.writeError(c, badRequest("invalid_request", "name the player"))
		return
	}
	names := []string{name}
	for _, v := range c.QueryArray("names") {
		v = strings.TrimSpace(v)
		if v != "" && !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, v) }) {
			names = append(names, v)
		}
	}
	if len(names) > 20 {
		a.writeError(c, badRequest("invalid_request", "at most 20 spellings of a player, not %d", len(names)))
		return
	}
	rep, err := a.playerReport(c.Request.Context(), ownerOf(c), names)
	if err != nil {
		a.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}

// playerReport reads the owner's done reviews of a player spelled any of names: it pages
// through the library and reads each game's stored results, within the bounds above.
func (a *API) playerReport(ctx context.Context, owner string, names []string) (*playerReport, error) {
	rep := &playerReport{Name: names[0], Names: names, Games: []playerGame{}, WorstMoves: []worstMove{}}
	matches := func(s string) bool {
		s = strings.TrimSpace(s)
		return s != "" && slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, s) })
	}
	var ids []string
	scanned := 0
	for _, n := range names {
		f := queue.ListFilter{Owner: owner, Player: n, States: []queue.State{queue.StateDone}, Limit: queue.MaxListLimit}
		for {
			jobs, next, err := a.q.List(ctx, f)
			if err != nil {
				return nil, err
			}
			scanned += len(jobs)
			for _, j := range jobs {
				if (matches(j.Black) || matches(j.White)) && !slices.Contains(ids, j.ID) {
					ids = append(ids, j.ID)
				}
			}
			if next == "" {
				break
			}
			if len(ids) >= maxPlayerGames || scanned >= maxPlayerScanned {
				rep.Truncated = true
				break
			}
			f.Cursor = next
		}
	}
	var total game.Tally
	var worst []worstMove
	for _, id := range ids {
		if len(rep.Games) >= maxPlayerGames {
			rep.Truncated = true
			break
		}
		j, err := a.q.Get(ctx, id)
		if errors.Is(err, queue.ErrNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			return nil, err
		}
		spec, turns, err := a.review(ctx, j)
		if err != nil {
			return nil, err
		}
		g := spec.Game
		date := gameDate(g.Date)
		if date == "" {
			date = j.CreatedAt.UTC().Format("2006-01-02")
		}
		for _, side := range []struct {
			color                         game.Color
			name, rank, opponent, oppRank string
		}{
			{game.Black, g.BlackName, g.BlackRank, g.WhiteName, g.WhiteRank},
			{game.White, g.WhiteName, g.WhiteRank, g.BlackName, g.BlackRank},
		} {
			if !matches(side.name) {
				continue
			}
			moves := game.PlayerMoves(g, turns, side.color)
			var t game.Tally
			for _, m := range moves {
				t.Add(m)
				total.Add(m)
			}
			pg := playerGame{ID: j.ID, Date: date, Color: side.color.String(), Name: side.name, Rank: side.rank,
				Opponent: side.opponent, OpponentRank: side.oppRank, Result: g.Result, BoardXSize: g.BoardXSize,
				BoardYSize: g.BoardYSize, Figures: t.Figures(), Phases: t.PhaseFigures(), Links: links(j.ID),
				created: j.CreatedAt.UnixNano()}
			rep.Games = append(rep.Games, pg)
			for _, m := range moves {
				worst = append(worst, worstMove{MoveLoss: m, ID: j.ID, Date: date, Color: pg.Color,
					Opponent: side.opponent, Review: "/review/" + j.ID + "#" + strconv.Itoa(m.Turn)})
			}
		}
	}
	slices.SortStableFunc(rep.Games, func(x, y playerGame) int {
		return cmp.Or(cmp.Compare(y.Date, x.Date), cmp.Compare(y.created, x.created))
	})
	// Worst first; a stable sort keeps the newer review first among equal losses.
	slices.SortStableFunc(worst, func(x, y worstMove) int { return cmp.Compare(y.PointLoss, x.PointLoss) })
	rep.WorstMoves = append(rep.WorstMoves, worst[:min(playerWorstMoves, len(worst))]...)
	rep.Totals = playerTotals{Games: len(rep.Games), Figures: total.Figures(), Phases: total.PhaseFigures()}
	return rep, nil
}
