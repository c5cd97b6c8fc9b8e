package gtp

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/game"
)

// searchMode is what a genmove-like command does with its search.
type searchMode struct {
	play        bool // play the chosen move on the board (genmove, the genmove_analyze forms)
	analyzing   bool // stream info lines and end with "play MOVE"
	kata        bool // kata- info lines rather than lz- ones
	cancellable bool // the next input line cancels it
}

var searchModes = map[string]searchMode{
	"genmove":                         {play: true},
	"kata-search":                     {},
	"kata-search_cancellable":         {cancellable: true},
	"lz-genmove_analyze":              {play: true, analyzing: true},
	"kata-genmove_analyze":            {play: true, analyzing: true, kata: true},
	"kata-search_analyze":             {analyzing: true, kata: true},
	"kata-search_analyze_cancellable": {analyzing: true, kata: true, cancellable: true},
}

// search runs genmove, kata-search and their analyzing and cancellable forms, as
// KataGo's genMove and genMoveCancellable do. The plain forms answer "=id MOVE"; the
// analyzing forms answer "=id", info lines while the search runs, the final one, then
// "play MOVE" and the blank line. Only the cancellable forms are interrupted by the next
// input line; they then answer "cancelled" (or "play cancelled").
func (s *session) search(ctx context.Context, c *command) (string, error) {
	mode := searchModes[c.name]
	var a analyzeArgs
	player := game.Empty
	if mode.analyzing {
		var ok bool
		a, ok = parseAnalyzeArgs(mode.kata, c.args, s.vertexArg)
		if !ok {
			return "", fail("Could not parse genmove_analyze arguments or arguments out of range: '%s'", strings.Join(c.args, " "))
		}
		player = a.player
	} else {
		if len(c.args) != 1 {
			return "", fail("Expected one argument for %s but got '%s'", c.name, strings.Join(c.args, " "))
		}
		p, ok := parsePlayer(c.args[0])
		if !ok {
			return "", fail("Could not parse color: '%s'", c.args[0])
		}
		player = p
	}
	if player == game.Empty {
		player = s.toMove()
	}
	req, timeout := s.searchRequest(player)
	if mode.analyzing {
		a.apply(req)
		if a.interval >= 0 {
			req.ReportEvery = max(a.interval, minReportEvery)
		}
		s.header(c.id)
	}
	if !mode.cancellable {
		gctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		s.runSearch(gctx, c, mode, a, player, req)
		return "", errAnswered
	}
	sctx, cancel := context.WithCancel(ctx)
	sr := &search{cancel: cancel, done: make(chan struct{}), answers: true}
	s.active = sr
	go func() {
		defer close(sr.done)
		gctx, gcancel := context.WithTimeout(sctx, timeout)
		defer gcancel()
		s.runSearch(gctx, c, mode, a, player, req)
	}()
	return "", errAnswered
}

// runSearch runs one search and writes its whole answer but the analyzing header.
func (s *session) runSearch(ctx context.Context, c *command, mode searchMode, a analyzeArgs, player game.Color, req *client.PositionRequest) {
	start := time.Now()
	var final *game.Turn
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		final, err = s.searchOnce(ctx, mode, a, player, req)
		// kata-set-param maxVisits may ask for more than the server allows: search with
		// its limit, as KataGo would search with the visits it was given.
		if err == nil || !lowerVisits(ctx, s.b.client, err, req) {
			break
		}
		s.log.Info("the server allows fewer visits; searching with its limit", "max_visits", req.MaxVisits)
	}
	var m game.Move
	if err == nil {
		// Choosing may ask the server again (a search without candidates), and the next
		// input line may cancel that.
		m = s.chooseMove(ctx, req, final, player)
		if mode.cancellable && ctx.Err() != nil && !isTimeout(ctx) {
			err = context.Cause(ctx)
		}
	}
	if err != nil {
		switch {
		case mode.cancellable && ctx.Err() != nil && !isTimeout(ctx):
			if mode.analyzing {
				s.out.write("play cancelled\n\n")
			} else {
				s.answer(c.id, "cancelled", nil)
			}
		case mode.analyzing:
			// KataGo ends a failed genmove_analyze with the blank line alone and says
			// why on stderr; the reason goes to the log here.
			s.log.Error(c.name+" failed", "server", s.cfg.Server, "err", err)
			s.out.write("\n")
		default:
			s.answer(c.id, "", s.serverError(strings.TrimPrefix(c.name, "kata-"), err))
		}
		return
	}
	if mode.play {
		s.clocks[player].spend(time.Since(start))
		if err := s.play(m); err != nil {
			s.log.Error(c.name+": play the chosen move", "move", m.GTP(s.ysize), "err", err)
			if mode.analyzing {
				s.out.write("\n")
			} else {
				s.answer(c.id, "", fail("illegal move %s", m.GTP(s.ysize)))
			}
			return
		}
	}
	if mode.analyzing {
		s.out.write("play " + m.GTP(s.ysize) + "\n\n")
		return
	}
	s.answer(c.id, m.GTP(s.ysize), nil)
}

// isTimeout reports whether ctx ended at its deadline rather than by a cancellation.
func isTimeout(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}

// getModels answers KataGo's kata-get-models: a JSON array of the server's networks.
func (s *session) getModels(ctx context.Context, _ *command) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.GenmoveTimeout)
	defer cancel()
	ms, err := s.b.client.Models(ctx)
	if err != nil {
		return "", s.serverError("models request", err)
	}
	b, err := json.Marshal(ms)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// searchOnce runs the search of req, streaming info lines when mode is analyzing, and
// returns its final result.
func (s *session) searchOnce(ctx context.Context, mode searchMode, a analyzeArgs, player game.Color, req *client.PositionRequest) (*game.Turn, error) {
	if !mode.analyzing {
		return s.b.client.Position(ctx, req)
	}
	var final *game.Turn
	f := &infoFormat{kata: mode.kata, white: player == game.White, args: a}
	err := s.b.client.StreamPosition(ctx, req, func(t *game.Turn, last bool) error {
		if last {
			final = t
		}
		if last || a.interval >= 0 {
			if line := f.line(t); line != "" && (last || ctx.Err() == nil) {
				s.out.write(line + "\n")
			}
		}
		return nil
	})
	if err == nil && final == nil {
		err = client.ErrStreamEnded
	}
	return final, err
}
