package gtp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// analyzeArgs are the arguments of kata-analyze, lz-analyze and their genmove forms.
type analyzeArgs struct {
	player   game.Color // the player to analyze for; Empty: the player to move
	interval float64    // seconds between reports; negative: none asked for
	// minMoves is read for KataGo's syntax only: KataGo fills its list up to it with
	// untried moves from the policy, which the analysis protocol does not report.
	minMoves  int
	maxMoves  int
	rootInfo  bool
	ownership bool

	ownershipStdev      bool
	movesOwnership      bool
	movesOwnershipStdev bool
	pvVisits            bool
	pvEdgeVisits        bool
	noResultValue       bool
	// avoid and allow are the avoid and allow options as the analysis protocol takes
	// them (avoidMoves, allowMoves), one entry per option given; apply sends both as
	// allowMoves when a command has both (for different players).
	avoid, allow []katago.MoveRestriction
}

// parseAnalyzeArgs reads "[player] [interval] [key value ...]" as KataGo's
// parseAnalyzeCommand does: interval in centiseconds, then interval, avoid and allow
// ("avoid PLAYER MOVE,MOVE,... UNTILDEPTH"), minmoves, maxmoves, and for kata- commands
// rootInfo, ownership, ownershipStdev, movesOwnership, movesOwnershipStdev, pvVisits,
// pvEdgeVisits and noResultValue. vertex normalizes a board vertex ("" when it is not
// one). ok is false where KataGo answers "Could not parse ... arguments", and where a
// command that allows moves for one player avoids moves for the other at several depths,
// which one query cannot carry (see apply).
func parseAnalyzeArgs(kata bool, args []string, vertex func(string) string) (a analyzeArgs, ok bool) {
	a = analyzeArgs{interval: -1, maxMoves: 10000000}
	i := 0
	if i < len(args) {
		if c, ok := parsePlayer(args[i]); ok {
			a.player = c
			i++
		}
	}
	if i < len(args) {
		if v, ok := parseInterval(args[i]); ok {
			a.interval = v
			i++
		}
	}
	flags := map[string]*bool{}
	if kata {
		flags = map[string]*bool{
			"rootInfo": &a.rootInfo, "ownership": &a.ownership, "ownershipStdev": &a.ownershipStdev,
			"movesOwnership": &a.movesOwnership, "movesOwnershipStdev": &a.movesOwnershipStdev,
			"pvVisits": &a.pvVisits, "pvEdgeVisits": &a.pvEdgeVisits, "noResultValue": &a.noResultValue,
		}
	}
	restricted := map[string]string{} // player -> "avoid" or "allow"
	for i < len(args) {
		key := args[i]
		if i+1 >= len(args) {
			return a, false
		}
		value := args[i+1]
		i += 2
		switch flag, isFlag := flags[key]; {
		case key == "interval":
			v, ok := parseInterval(value)
			if !ok {
				return a, false
			}
			a.interval = v
		case key == "avoid" || key == "allow":
			if i+2 > len(args) {
				return a, false
			}
			movesArg, depthArg := args[i], args[i+1]
			i += 2
			depth, err := strconv.Atoi(depthArg)
			player, okPlayer := parsePlayer(value)
			if err != nil || depth < 1 || !okPlayer {
				return a, false
			}
			r := katago.MoveRestriction{Player: player.String(), Moves: []string{}, UntilDepth: depth}
			for _, m := range strings.Split(movesArg, ",") {
				if m = strings.TrimSpace(m); m == "" {
					continue
				}
				v := vertex(m)
				if v == "" {
					return a, false
				}
				r.Moves = append(r.Moves, v)
			}
			// One command cannot both avoid and allow for a player, nor allow twice.
			prev := restricted[r.Player]
			if (key == "allow" && prev != "") || (key == "avoid" && prev == "allow") {
				return a, false
			}
			restricted[r.Player] = key
			if key == "avoid" {
				a.avoid = append(a.avoid, r)
			} else {
				a.allow = append(a.allow, r)
			}
		case key == "minmoves" || key == "maxmoves":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n >= 1000000000 {
				return a, false
			}
			if key == "minmoves" {
				a.minMoves = n
			} else {
				a.maxMoves = n
			}
		case isFlag:
			b, err := parseBool(value)
			if err != nil {
				return a, false
			}
			*flag = b
		default:
			return a, false
		}
	}
	if len(a.allow) > 0 && slices.ContainsFunc(a.avoid, func(r katago.MoveRestriction) bool {
		return r.UntilDepth != a.avoid[0].UntilDepth
	}) {
		return a, false
	}
	return a, true
}

// apply asks req for what the options show.
func (a *analyzeArgs) apply(req *client.PositionRequest) {
	req.IncludeOwnership = a.ownership || a.ownershipStdev
	req.IncludeOwnershipStdev = a.ownershipStdev
	req.IncludeMovesOwnership = a.movesOwnership || a.movesOwnershipStdev
	req.IncludeMovesOwnershipStdev = a.movesOwnershipStdev
	req.IncludePVVisits = a.pvVisits || a.pvEdgeVisits
	req.IncludeNoResultValue = a.noResultValue
	req.AvoidMoves = a.avoid
	req.AllowMoves = a.allow
	if len(a.avoid) > 0 && len(a.allow) > 0 {
		// KataGo's analysis takes avoidMoves or allowMoves, not both, but KataGo's GTP
		// takes avoid for one player and allow for the other: the avoided moves go as an
		// allow of every other move, pass included, to the same depth.
		req.AvoidMoves = nil
		req.AllowMoves = append(slices.Clone(a.allow), allowAllBut(a.avoid, req.BoardXSize, req.BoardYSize))
	}
}

// allowAllBut is the allowMoves entry that avoids what avoid does: avoid's entries are
// for one player and one depth (parseAnalyzeArgs sees to it when a command also allows).
func allowAllBut(avoid []katago.MoveRestriction, xsize, ysize int) katago.MoveRestriction {
	avoided := map[string]bool{}
	for _, r := range avoid {
		for _, m := range r.Moves {
			avoided[m] = true
		}
	}
	r := katago.MoveRestriction{Player: avoid[0].Player, Moves: []string{}, UntilDepth: avoid[0].UntilDepth}
	for y := 0; y < ysize; y++ {
		for x := 0; x < xsize; x++ {
			if v := (game.Point{X: x, Y: y}).GTP(ysize); !avoided[v] {
				r.Moves = append(r.Moves, v)
			}
		}
	}
	if !avoided["pass"] {
		r.Moves = append(r.Moves, "pass")
	}
	return r
}

// vertexArg normalizes a vertex of an analysis option for the request: upper case, or
// "pass"; "" when it is not a vertex of the board.
func (s *session) vertexArg(v string) string {
	p, pass, ok := s.parseVertex(v)
	switch {
	case !ok:
		return ""
	case pass:
		return "pass"
	}
	return p.GTP(s.ysize)
}

// parsePlayer accepts what KataGo's PlayerIO::tryParsePlayer accepts.
func parsePlayer(s string) (game.Color, bool) {
	switch strings.ToLower(s) {
	case "b", "black":
		return game.Black, true
	case "w", "white":
		return game.White, true
	}
	return game.Empty, false
}

// parseInterval reads an interval in centiseconds and returns seconds.
func parseInterval(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v >= 1e10 {
		return 0, false
	}
	return v / 100, true
}

// positionRequest is the current position as the server takes it, with player to move:
// when that is not the player whose turn it is, the request gets a pass by the other
// player (or, before the first move, that player as the first), as KataGo searches for
// whichever player it is asked about.
func (s *session) positionRequest(player game.Color) *client.PositionRequest {
	komi := s.komi
	req := &client.PositionRequest{Position: analysis.Position{
		Moves:         make([]katago.Move, 0, len(s.moves)+1),
		InitialPlayer: s.initialPlayer.String(),
		BoardXSize:    s.xsize,
		BoardYSize:    s.ysize,
		Komi:          &komi,
		Rules:         s.rules.QueryName(),
	}}
	for _, st := range s.initial {
		req.InitialStones = append(req.InitialStones, katago.Move{st.Color.String(), st.Point.GTP(s.ysize)})
	}
	for _, m := range s.moves {
		req.Moves = append(req.Moves, katago.Move{m.Color.String(), m.GTP(s.ysize)})
	}
	if toMove := s.toMove(); player != game.Empty && player != toMove {
		if len(s.moves) == 0 {
			req.InitialPlayer = player.String()
		} else {
			req.Moves = append(req.Moves, katago.Move{toMove.String(), "pass"})
		}
	}
	return req
}

// minReportEvery is the shortest interval the server reports at; an interval of 0 (as
// often as KataGo can) asks for that rather than for the server's default.
const minReportEvery = 0.05

// search is an analysis streaming in the background until the next input line.
type search struct {
	cancel context.CancelFunc
	done   chan struct{}
	// answers is set for the cancellable searches, which end their answer themselves.
	answers bool
}

// endAnalysis stops the running analysis, if any, and ends its answer with the blank
// line; the request to the server is closed, which stops KataGo's search.
func (s *session) endAnalysis() {
	if s.active == nil {
		return
	}
	s.active.cancel()
	<-s.active.done
	if !s.active.answers {
		s.out.write("\n")
	}
	s.active = nil
}

// analyze runs kata-analyze and lz-analyze: "=id" at once, then one info line per
// report until the next input line.
func (s *session) analyze(ctx context.Context, c *command) (string, error) {
	kata := c.name == "kata-analyze"
	a, ok := parseAnalyzeArgs(kata, c.args, s.vertexArg)
	if !ok {
		return "", fail("Could not parse analyze arguments or arguments out of range: '%s'", strings.Join(c.args, " "))
	}
	player := a.player
	if player == game.Empty {
		player = s.toMove()
	}
	f := &infoFormat{kata: kata, white: player == game.White, args: a}
	req := s.positionRequest(player)
	req.MaxVisits = s.cfg.AnalysisVisits
	s.params.applyAnalysis(req)
	a.apply(req)
	req.ReportEvery = max(a.interval, minReportEvery)

	s.header(c.id)
	actx, cancel := context.WithCancel(ctx)
	sr := &search{cancel: cancel, done: make(chan struct{})}
	s.active = sr
	if a.interval < 0 {
		// Without an interval KataGo reports nothing until it is stopped, and then
		// nothing either; there is no point in a search nobody will see.
		close(sr.done)
		return "", errAnswered
	}
	go func() {
		defer close(sr.done)
		s.b.analyzeUntilStopped(actx, req, func(t *game.Turn) {
			if line := f.line(t); line != "" && actx.Err() == nil {
				s.out.write(line + "\n")
			}
		})
	}()
	return "", errAnswered
}

// analyzeUntilStopped streams the analysis of req until ctx ends or the search reaches
// its visit limit. While the server cannot be reached (down, restarting, a spot instance
// still booting) it logs a notice and tries again, with waits growing from RetryInterval,
// so the info lines begin as soon as the server is back.
func (b *Bridge) analyzeUntilStopped(ctx context.Context, req *client.PositionRequest, report func(*game.Turn)) {
	wait := b.cfg.RetryInterval
	down := false
	for {
		started := time.Now()
		interrupted := false
		err := b.client.StreamPosition(ctx, req, func(t *game.Turn, final bool) error {
			if down {
				b.log.Info("tesuji server is back; analysis resumed", "server", b.cfg.Server)
				down = false
			}
			interrupted = final && t.Interrupted
			report(t)
			return nil
		})
		switch {
		case ctx.Err() != nil:
			return
		case (err == nil && interrupted) || errors.Is(err, client.ErrInterrupted):
			// The server stopped the search (its worker shut down), not its limits,
			// after a report or before the first: the analysis goes on with a new request.
			b.log.Info("the server interrupted the analysis; asking again", "server", b.cfg.Server)
			wait = b.cfg.RetryInterval
			continue
		case err == nil:
			return
		case lowerVisits(ctx, b.client, err, req):
			b.log.Info("the server allows fewer visits; analyzing with its limit", "max_visits", req.MaxVisits)
			continue
		case permanent(err):
			b.log.Error("analysis failed", "server", b.cfg.Server, "err", err)
			return
		case !down:
			b.log.Warn("tesuji server unreachable; analysis will resume when it is back",
				"server", b.cfg.Server, "err", err)
			down = true
		default:
			b.log.Debug("tesuji server still unreachable", "server", b.cfg.Server, "err", err)
		}
		if time.Since(started) > 8*b.cfg.RetryInterval {
			wait = b.cfg.RetryInterval // it worked for a while: start over quickly
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 8*b.cfg.RetryInterval)
	}
}

// lowerVisits lowers req's visits to the server's limit (GET /api/v1/info) when err says
// they are above it, and reports whether it did.
func lowerVisits(ctx context.Context, c *client.Client, err error, req *client.PositionRequest) bool {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != "invalid_visits" {
		return false
	}
	info, ierr := c.Info(ctx)
	if ierr != nil || info.MaxVisits < 1 || info.MaxVisits >= req.MaxVisits {
		return false
	}
	req.MaxVisits = info.MaxVisits
	return true
}

// permanent reports whether retrying the same request cannot help: the server refused it
// (bad position, bad token) or KataGo failed on it.
func permanent(err error) bool {
	var ae *client.APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusRequestTimeout, http.StatusTooManyRequests:
			return false
		}
		return ae.Status >= 400 && ae.Status < 500
	}
	return errors.Is(err, client.ErrAnalysisFailed)
}

// serverError is the GTP error answer for a request that did not get a result.
func (s *session) serverError(what string, err error) error {
	s.log.Error(what+" failed", "server", s.cfg.Server, "err", err)
	var ae *client.APIError
	if errors.As(err, &ae) {
		switch {
		case strings.HasPrefix(ae.Code, "http_"):
			// Not the API's answer (client.decodeError names those http_NNN): a proxy or
			// a load balancer in front of the server, whose page says nothing to a player.
			return fail("tesuji server unavailable at %s (HTTP %d)", s.cfg.Server, ae.Status)
		case ae.Status >= 500:
			return fail("tesuji server unavailable at %s (HTTP %d): %s", s.cfg.Server, ae.Status, ae.Message)
		}
		return fail("tesuji server refused the %s: %s", what, ae.Message)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fail("tesuji server did not answer the %s in time", what)
	case errors.Is(err, client.ErrAnalysisFailed):
		return fail("tesuji server could not analyze the position: %v", err)
	}
	reason := err.Error()
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		reason = oe.Err.Error() // "connect: connection refused", without the URL twice
	}
	return fail("tesuji server unreachable at %s: %s", s.cfg.Server, reason)
}

// searchRequest is the request for genmove and its relatives: the genmove visits, and a
// time limit from the player's clock when the GUI set time controls.
func (s *session) searchRequest(player game.Color) (*client.PositionRequest, time.Duration) {
	req := s.positionRequest(player)
	req.MaxVisits = s.cfg.GenmoveVisits
	req.MaxTime = s.clocks[player].budget(s.xsize*s.ysize, len(s.moves))
	s.params.applySearch(req)
	timeout := s.cfg.GenmoveTimeout + time.Duration(req.MaxTime*float64(time.Second))
	return req, timeout
}

// chooseMove returns KataGo's best move that is legal on the bridge's board, in the
// order KataGo ranks them, or a pass when there is none. A result without candidates is a
// search too short to try a move (one visit: KataGo's analysis then reports no moveInfos),
// after which KataGo's genmove plays the network's choice: chooseMove asks for the
// position's policy and plays its best legal move that req's restrictions allow.
func (s *session) chooseMove(ctx context.Context, req *client.PositionRequest, t *game.Turn, player game.Color) game.Move {
	if len(t.Candidates) == 0 {
		return s.policyMove(ctx, req, player)
	}
	for _, c := range t.Candidates {
		p, pass, err := game.ParseGTP(c.Move, s.xsize, s.ysize)
		if err != nil {
			continue
		}
		if pass {
			return game.Move{Color: player, Pass: true}
		}
		if _, err := s.board.Clone().Play(player, p); err == nil {
			return game.Move{Color: player, Point: p}
		}
		s.log.Warn("the engine suggested an illegal move; trying its next one", "move", c.Move)
	}
	return game.Move{Color: player, Pass: true}
}

// policyMove returns the legal move of the highest policy for req's position (KataGo's
// layout: row by row from the top, then pass; -1 where a move is illegal), asked for with
// one visit, which KataGo answers from its cache of evaluations; a pass when the server
// gives no policy.
func (s *session) policyMove(ctx context.Context, req *client.PositionRequest, player game.Color) game.Move {
	move := game.Move{Color: player, Pass: true}
	preq := *req
	preq.MaxVisits, preq.MaxTime, preq.ReportEvery, preq.IncludePolicy = 1, 0, 0, true
	t, err := s.b.client.Position(ctx, &preq)
	if err != nil || len(t.Policy) != s.xsize*s.ysize+1 {
		s.log.Warn("no policy for a search without candidates; passing", "server", s.cfg.Server, "err", err)
		return move
	}
	best := t.Policy[len(t.Policy)-1]
	if !allowedAtRoot(req, player, "pass") {
		best = -1
	}
	for i, prob := range t.Policy[:len(t.Policy)-1] {
		p := game.Point{X: i % s.xsize, Y: i / s.xsize}
		if prob <= best || !allowedAtRoot(req, player, p.GTP(s.ysize)) {
			continue
		}
		if _, err := s.board.Clone().Play(player, p); err == nil {
			move, best = game.Move{Color: player, Point: p}, prob
		}
	}
	return move
}

// allowedAtRoot reports whether req's avoidMoves and allowMoves let player play move
// (upper case, or "pass") first.
func allowedAtRoot(req *client.PositionRequest, player game.Color, move string) bool {
	for _, r := range req.AvoidMoves {
		if r.Player == player.String() && slices.Contains(r.Moves, move) {
			return false
		}
	}
	for _, r := range req.AllowMoves {
		if r.Player == player.String() && !slices.Contains(r.Moves, move) {
			return false
		}
	}
	return true
}

// placeFreeHandicap places the fixed handicap stones where they fit (instantly, with no
// server), and otherwise lets KataGo choose each stone in turn, as KataGo's own
// place_free_handicap does.
func (s *session) placeFreeHandicap(ctx context.Context, c *command) (string, error) {
	n, err := s.handicapCount(c)
	if err != nil {
		return "", err
	}
	n = min(n, s.xsize*s.ysize/4, 30)
	if stones, err := fixedHandicapStones(n, s.xsize, s.ysize); err == nil {
		return s.placeHandicap(stones), nil
	}
	var stones []game.Stone
	for len(stones) < n {
		if !s.setUp(stones, game.Black) {
			return "", fail("Handicap placement is invalid")
		}
		req, timeout := s.searchRequest(game.Black)
		gctx, cancel := context.WithTimeout(ctx, timeout)
		t, err := s.b.client.Position(gctx, req)
		if err != nil {
			cancel()
			s.setUp(nil, game.Black)
			return "", s.serverError("handicap placement", err)
		}
		m := s.chooseMove(gctx, req, t, game.Black)
		cancel()
		if m.Pass {
			break
		}
		stones = append(stones, game.Stone{Color: game.Black, Point: m.Point})
	}
	return s.placeHandicap(stones), nil
}

// finalScore answers the score: counted on the board when the game is over (see
// countedOnBoard), else KataGo's estimate of the lead, rounded as KataGo rounds it. The
// estimate's search has the genmove visits and none of kata-set-param's settings, as
// KataGo scores with playoutDoublingAdvantage 0 and humanSL off, whatever it plays with.
func (s *session) finalScore(ctx context.Context, _ *command) (string, error) {
	var whiteLead float64
	if s.countedOnBoard() {
		whiteLead = s.areaScore()
	} else {
		req := s.positionRequest(game.Empty)
		req.MaxVisits = s.cfg.GenmoveVisits
		gctx, cancel := context.WithTimeout(ctx, s.cfg.GenmoveTimeout)
		defer cancel()
		t, err := s.b.client.Position(gctx, req)
		if err != nil {
			return "", s.serverError("final score", err)
		}
		whiteLead = -t.ScoreLead
		if integerResult(s.rules, s.komi) {
			whiteLead = math.Round(whiteLead)
		} else {
			whiteLead = math.Round(whiteLead+0.5) - 0.5
		}
	}
	switch {
	case whiteLead > 0:
		return fmt.Sprintf("W+%.1f", whiteLead), nil
	case whiteLead < 0:
		return fmt.Sprintf("B+%.1f", -whiteLead), nil
	}
	return "0", nil
}

// countedOnBoard reports whether the game ended with two passes under area scoring
// without friendly passes (Tromp-Taylor), where KataGo's final_score and
// final_status_list count the board as it stands, every stone alive, with no search.
func (s *session) countedOnBoard() bool {
	n := len(s.moves)
	return n >= 2 && s.moves[n-1].Pass && s.moves[n-2].Pass && s.rules.Scoring == "AREA" && !s.rules.FriendlyPassOk
}

// areaScore counts the board by Tromp-Taylor area scoring and returns White's lead:
// stones, plus empty regions that touch only one color (unless the rules tax all
// territory), plus komi and the handicap bonus the rules give White.
func (s *session) areaScore() float64 {
	area := [3]int{}
	seen := make([]bool, s.xsize*s.ysize)
	for y := 0; y < s.ysize; y++ {
		for x := 0; x < s.xsize; x++ {
			p := game.Point{X: x, Y: y}
			c := s.board.At(p)
			if c != game.Empty {
				area[c]++
				continue
			}
			if seen[y*s.xsize+x] {
				continue
			}
			// Flood the empty region and note which colors border it.
			size, borders := 0, [3]bool{}
			stack := []game.Point{p}
			seen[y*s.xsize+x] = true
			for len(stack) > 0 {
				q := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				size++
				for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					r := game.Point{X: q.X + d[0], Y: q.Y + d[1]}
					if !s.board.OnBoard(r) {
						continue
					}
					if rc := s.board.At(r); rc != game.Empty {
						borders[rc] = true
					} else if !seen[r.Y*s.xsize+r.X] {
						seen[r.Y*s.xsize+r.X] = true
						stack = append(stack, r)
					}
				}
			}
			// Stone scoring (tax ALL) counts stones alone.
			if borders[game.Black] != borders[game.White] && s.rules.Tax != "ALL" {
				if borders[game.Black] {
					area[game.Black] += size
				} else {
					area[game.White] += size
				}
			}
		}
	}
	return float64(area[game.White]-area[game.Black]) + s.komi + s.handicapBonus()
}

// handicapBonus is the points White gets for Black's handicap stones under the rules'
// whiteHandicapBonus (N or N-1 for N stones; none for a single stone).
func (s *session) handicapBonus() float64 {
	n := 0
	for _, st := range s.initial {
		if st.Color == game.White {
			return 0
		}
		n++
	}
	if n < 2 {
		return 0
	}
	switch s.rules.WhiteHandicapBonus {
	case "N":
		return float64(n)
	case "N-1":
		return float64(n - 1)
	}
	return 0
}
