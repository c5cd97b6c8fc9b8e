package gtp

import (
	"context"
	"strings"

	"github.com/tesuji/tesuji/game"
)

// statusVisits is the search behind final_status_list, as KataGo's (at least 100 visits).
const statusVisits = 100

// finalStatusList answers which stones are alive or dead: every stone alive when the game
// is over (see countedOnBoard), as final_score counts it, else as KataGo's
// computeAnticipatedStatusesWithOwnership judges them from a search's ownership: a chain
// is dead when its stones' mean ownership for their color is under 0.2 or its worst is
// under -0.6. KataGo reports no stone as seki.
func (s *session) finalStatusList(ctx context.Context, c *command) (string, error) {
	if len(c.args) != 1 {
		return "", fail("Expected one argument for final_status_list but got '%s'", strings.Join(c.args, " "))
	}
	want := c.args[0]
	switch want {
	case "alive", "dead":
	case "seki":
		return "", nil
	default:
		return "", fail("Argument to final_status_list must be 'alive' or 'seki' or 'dead'")
	}
	alive, err := s.statuses(ctx)
	if err != nil {
		return "", err
	}
	var out []string
	for y := 0; y < s.ysize; y++ {
		for x := 0; x < s.xsize; x++ {
			p := game.Point{X: x, Y: y}
			if s.board.At(p) == game.Empty {
				continue
			}
			if alive[p] == (want == "alive") {
				out = append(out, p.GTP(s.ysize))
			}
		}
	}
	return strings.Join(out, " "), nil
}

// statuses returns whether each stone of the board is alive: all of them when the game is
// counted on the board, else as a search's ownership judges them.
func (s *session) statuses(ctx context.Context) (map[game.Point]bool, error) {
	if s.countedOnBoard() {
		alive := map[game.Point]bool{}
		for y := 0; y < s.ysize; y++ {
			for x := 0; x < s.xsize; x++ {
				if p := (game.Point{X: x, Y: y}); s.board.At(p) != game.Empty {
					alive[p] = true
				}
			}
		}
		return alive, nil
	}
	// Without kata-set-param's settings, as KataGo judges with playoutDoublingAdvantage 0
	// and humanSL off.
	req := s.positionRequest(game.Empty)
	req.MaxVisits, req.IncludeOwnership = statusVisits, true
	gctx, cancel := context.WithTimeout(ctx, s.cfg.GenmoveTimeout)
	defer cancel()
	t, err := s.b.client.Position(gctx, req)
	if err != nil {
		return nil, s.serverError("status request", err)
	}
	if len(t.Ownership) != s.xsize*s.ysize {
		return nil, fail("tesuji server returned no ownership for the position")
	}
	return s.aliveStones(t.Ownership), nil
}

// aliveStones judges each chain of the board from ownership (Black's view, row by row
// from the top).
func (s *session) aliveStones(ownership []float64) map[game.Point]bool {
	alive := map[game.Point]bool{}
	seen := map[game.Point]bool{}
	for y := 0; y < s.ysize; y++ {
		for x := 0; x < s.xsize; x++ {
			p := game.Point{X: x, Y: y}
			color := s.board.At(p)
			if color == game.Empty || seen[p] {
				continue
			}
			sign := 1.0
			if color == game.White {
				sign = -1
			}
			chain := []game.Point{p}
			seen[p] = true
			sum, worst := 0.0, 1.0
			for i := 0; i < len(chain); i++ {
				q := chain[i]
				o := sign * ownership[q.Y*s.xsize+q.X]
				sum += o
				worst = min(worst, o)
				for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					r := game.Point{X: q.X + d[0], Y: q.Y + d[1]}
					if s.board.OnBoard(r) && !seen[r] && s.board.At(r) == color {
						seen[r] = true
						chain = append(chain, r)
					}
				}
			}
			lives := sum/float64(len(chain)) >= 0.2 && worst >= -0.6
			for _, q := range chain {
				alive[q] = lives
			}
		}
	}
	return alive
}

// listTimeSettings answers kata-list_time_settings as KataGo does.
func (s *session) listTimeSettings(context.Context, *command) (string, error) {
	return "none absolute byoyomi canadian fischer fischer-capped", nil
}
