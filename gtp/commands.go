package gtp

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tesuji/tesuji/game"
)

// commandList is every command the bridge knows, in the order list_commands gives them
// (KataGo's order).
var commandList = []struct {
	name string
	h    handler
}{
	{"protocol_version", func(*session, context.Context, *command) (string, error) { return "2", nil }},
	{"name", func(*session, context.Context, *command) (string, error) { return "KataGo", nil }},
	{"version", func(s *session, _ context.Context, _ *command) (string, error) { return s.cfg.Version, nil }},
	{"known_command", (*session).knownCommand},
	{"list_commands", (*session).listCommands},
	{"quit", func(*session, context.Context, *command) (string, error) { return "", nil }},
	{"boardsize", (*session).boardsize},
	{"rectangular_boardsize", (*session).boardsize},
	{"clear_board", func(s *session, _ context.Context, _ *command) (string, error) { s.clearBoard(); return "", nil }},
	{"set_position", (*session).setPosition},
	{"komi", (*session).setKomi},
	{"get_komi", func(s *session, _ context.Context, _ *command) (string, error) { return cfloat(s.komi), nil }},
	{"play", (*session).playCommand},
	{"undo", (*session).undo},
	{"kata-get-rules", (*session).getRules},
	{"kata-set-rule", (*session).setRule},
	{"kata-set-rules", (*session).setRules},
	{"kata-get-models", (*session).getModels},
	{"kata-get-param", (*session).getParam},
	{"kata-set-param", (*session).setParam},
	{"kata-list-params", (*session).listParams},
	{"kgs-rules", (*session).kgsRules},
	{"genmove", (*session).search},
	{"kata-search", (*session).search},
	{"kata-search_cancellable", (*session).search},
	{"clear_cache", (*session).clearCache},
	{"showboard", (*session).showboard},
	{"fixed_handicap", (*session).fixedHandicap},
	{"place_free_handicap", (*session).placeFreeHandicap},
	{"set_free_handicap", (*session).setFreeHandicap},
	{"time_settings", (*session).timeSettings},
	{"kgs-time_settings", (*session).kgsTimeSettings},
	{"time_left", (*session).timeLeft},
	{"kata-list_time_settings", (*session).listTimeSettings},
	{"kata-time_settings", (*session).kgsTimeSettings},
	{"final_score", (*session).finalScore},
	{"final_status_list", (*session).finalStatusList},
	{"loadsgf", (*session).loadSGF},
	{"printsgf", (*session).printSGF},
	{"lz-genmove_analyze", (*session).search},
	{"kata-genmove_analyze", (*session).search},
	{"kata-search_analyze", (*session).search},
	{"kata-search_analyze_cancellable", (*session).search},
	{"lz-analyze", (*session).analyze},
	{"kata-analyze", (*session).analyze},
	{"kata-raw-nn", (*session).rawNN},
	{"stop", func(*session, context.Context, *command) (string, error) { return "", nil }},
}

// handlers and commandNames are filled from commandList at init, which list_commands
// and known_command cannot refer to directly (it refers to them).
var (
	handlers     = map[string]handler{}
	commandNames []string
)

func init() {
	for _, c := range commandList {
		handlers[c.name] = c.h
		commandNames = append(commandNames, c.name)
	}
	// KataGo answers these without listing them.
	handlers["kata-get-params"] = (*session).getParams
	handlers["kata-set-params"] = (*session).setParam
}

func (s *session) knownCommand(_ context.Context, c *command) (string, error) {
	if len(c.args) != 1 {
		return "", fail("Expected single argument for known_command but got '%s'", strings.Join(c.args, " "))
	}
	_, ok := handlers[c.args[0]]
	return strconv.FormatBool(ok), nil
}

func (s *session) listCommands(context.Context, *command) (string, error) {
	return strings.Join(commandNames, "\n"), nil
}

func (s *session) boardsize(_ context.Context, c *command) (string, error) {
	x, y, ok := 0, 0, false
	var err1, err2 error
	switch len(c.args) {
	case 1:
		if a, b, colon := strings.Cut(c.args[0], ":"); colon {
			x, err1 = strconv.Atoi(a)
			y, err2 = strconv.Atoi(b)
		} else {
			x, err1 = strconv.Atoi(c.args[0])
			y = x
		}
		ok = err1 == nil && err2 == nil
	case 2:
		x, err1 = strconv.Atoi(c.args[0])
		y, err2 = strconv.Atoi(c.args[1])
		ok = err1 == nil && err2 == nil
	}
	switch {
	case !ok:
		return "", fail("Expected int argument for boardsize or pair of ints but got '%s'", strings.Join(c.args, " "))
	case x < 2 || y < 2 || x > game.MaxBoardSize || y > game.MaxBoardSize:
		return "", fail("unacceptable size")
	}
	s.xsize, s.ysize = x, y
	s.clearBoard()
	return "", nil
}

func (s *session) setKomi(_ context.Context, c *command) (string, error) {
	if len(c.args) != 1 {
		return "", fail("Expected single float argument for komi but got '%s'", strings.Join(c.args, " "))
	}
	k, err := strconv.ParseFloat(c.args[0], 64)
	switch {
	case err != nil:
		return "", fail("Expected single float argument for komi but got '%s'", c.args[0])
	case math.IsNaN(k) || k < game.MinKomi || k > game.MaxKomi:
		return "", fail("unacceptable komi")
	case k*2 != math.Trunc(k*2):
		return "", fail("komi must be an integer or half-integer")
	}
	s.komi = k
	return "", nil
}

// parseVertex reads a GTP vertex on the session's board; ok is false where KataGo would
// answer "Could not parse vertex".
func (s *session) parseVertex(v string) (p game.Point, pass, ok bool) {
	p, pass, err := game.ParseGTP(v, s.xsize, s.ysize)
	return p, pass, err == nil
}

func (s *session) playCommand(_ context.Context, c *command) (string, error) {
	if len(c.args) != 2 {
		return "", fail("Expected two arguments for play but got '%s'", strings.Join(c.args, " "))
	}
	color, err := game.ParseColor(c.args[0])
	if err != nil || c.args[0] == "1" || c.args[0] == "2" {
		return "", fail("Could not parse color: '%s'", c.args[0])
	}
	p, pass, ok := s.parseVertex(c.args[1])
	if !ok {
		return "", fail("Could not parse vertex: '%s'", c.args[1])
	}
	if err := s.play(game.Move{Color: color, Point: p, Pass: pass}); err != nil {
		return "", fail("illegal move")
	}
	return "", nil
}

func (s *session) undo(context.Context, *command) (string, error) {
	if len(s.moves) == 0 {
		return "", fail("cannot undo")
	}
	last := s.moves[len(s.moves)-1]
	s.moves = s.moves[:len(s.moves)-1]
	b, err := s.replay()
	if err != nil {
		// The moves were legal when played; a failure here is a bug, and the board
		// must stay as it was.
		s.moves = append(s.moves, last)
		return "", fmt.Errorf("gtp: undo: %w", err)
	}
	s.board = b
	return "", nil
}

// setPosition is KataGo's set_position: a new board with these stones and no history.
func (s *session) setPosition(_ context.Context, c *command) (string, error) {
	usage := fmt.Sprintf("Expected a space-separated sequence of <COLOR> <VERTEX> pairs but got '%s'", strings.Join(c.args, " "))
	if len(c.args)%2 != 0 {
		return "", fail("%s", usage)
	}
	var stones []game.Stone
	for i := 0; i < len(c.args); i += 2 {
		color, err := game.ParseColor(c.args[i])
		if err != nil {
			return "", fail("%s: could not parse color: '%s'", usage, c.args[i])
		}
		p, pass, ok := s.parseVertex(c.args[i+1])
		if !ok || pass {
			return "", fail("%s: could not parse vertex: '%s'", usage, c.args[i+1])
		}
		stones = append(stones, game.Stone{Color: color, Point: p})
	}
	if !s.setUp(stones, game.Black) {
		return "", fail("Illegal stone placements - overlapping stones or stones with no liberties?")
	}
	return "", nil
}

// setUp replaces the game with a position of these stones and no moves; it reports false
// (and changes nothing) when stones overlap or a group has no liberty.
func (s *session) setUp(stones []game.Stone, first game.Color) bool {
	g := &game.Game{BoardXSize: s.xsize, BoardYSize: s.ysize, Komi: s.komi, Rules: s.rules.QueryName(),
		InitialStones: stones, InitialPlayer: first}
	seen := map[game.Point]bool{}
	for _, st := range stones {
		if seen[st.Point] {
			return false
		}
		seen[st.Point] = true
	}
	if g.Validate() != nil {
		return false
	}
	s.initial, s.initialPlayer, s.moves = stones, first, nil
	b, err := s.replay()
	if err != nil {
		return false
	}
	s.board = b
	return true
}

func (s *session) getRules(context.Context, *command) (string, error) {
	return rulesJSON(s.rules), nil
}

func (s *session) setRules(_ context.Context, c *command) (string, error) {
	rest := strings.Join(c.args, " ")
	r, err := game.ParseRulesWithoutKomi(rest)
	if err != nil {
		return "", fail("Unknown rules '%s', %s", rest, err)
	}
	return "", s.changeRules(r)
}

func (s *session) setRule(_ context.Context, c *command) (string, error) {
	if len(c.args) != 2 {
		return "", fail("Expected two arguments for kata-set-rule but got '%s'", strings.Join(c.args, " "))
	}
	r, err := s.rules.SetRule(c.args[0], c.args[1])
	if err != nil {
		return "", fail("%s", err)
	}
	return "", s.changeRules(r)
}

func (s *session) kgsRules(_ context.Context, c *command) (string, error) {
	if len(c.args) == 0 {
		return "", fail("Expected one argument kgs-rules")
	}
	names := map[string]string{"chinese": "chinese-kgs", "aga": "aga", "new_zealand": "new_zealand", "japanese": "japanese"}
	name, ok := names[strings.ToLower(strings.TrimSpace(c.args[0]))]
	if !ok {
		return "", fail("Unknown rules '%s'", strings.ToLower(strings.TrimSpace(c.args[0])))
	}
	r, _ := game.ParseRulesWithoutKomi(name)
	return "", s.changeRules(r)
}

// changeRules replays the game under new rules; it fails, keeping the old rules, when an
// earlier move would become illegal.
func (s *session) changeRules(r game.Ruleset) error {
	old := s.rules
	s.rules = r
	b, err := s.replay()
	if err != nil {
		s.rules = old
		return fail("Could not make the rules change, some earlier moves in the game would now become illegal.")
	}
	s.board = b
	s.log.Info("changed rules", "rules", niceName(r))
	return nil
}

// clearCache has nothing to clear: the bridge keeps no search results, and the server's
// KataGo caches are shared by every user of the server.
func (s *session) clearCache(context.Context, *command) (string, error) { return "", nil }

// showboard prints the board as KataGo does: move number and hash, the board with the
// last three moves numbered, the player to move, the rules and the captures.
func (s *session) showboard(context.Context, *command) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "MoveNum: %d HASH: %016X\n", len(s.moves), s.board.Hash())
	const cols = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
	b.WriteString("  ")
	for x := 0; x < s.xsize; x++ {
		b.WriteByte(' ')
		b.WriteByte(cols[x])
	}
	b.WriteByte('\n')
	recent := map[game.Point]int{}
	start := max(0, len(s.moves)-3)
	for i := len(s.moves) - 1; i >= start; i-- {
		if m := s.moves[i]; !m.Pass {
			recent[m.Point] = i - start + 1
		}
	}
	placed := [3]int{}
	for _, st := range s.initial {
		placed[st.Color]++
	}
	for _, m := range s.moves {
		if !m.Pass {
			placed[m.Color]++
		}
	}
	onBoard := [3]int{}
	for y := 0; y < s.ysize; y++ {
		fmt.Fprintf(&b, "%2d ", s.ysize-y)
		for x := 0; x < s.xsize; x++ {
			p := game.Point{X: x, Y: y}
			c := s.board.At(p)
			onBoard[c]++
			b.WriteByte(".XO"[c])
			n, marked := recent[p]
			if marked {
				b.WriteString(strconv.Itoa(n))
			}
			if x < s.xsize-1 && !marked {
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	next := "Black"
	if s.toMove() == game.White {
		next = "White"
	}
	fmt.Fprintf(&b, "Next player: %s\n", next)
	fmt.Fprintf(&b, "Rules: %s\n", rulesJSONWithKomi(s.rules, s.komi))
	fmt.Fprintf(&b, "B stones captured: %d\n", placed[game.Black]-onBoard[game.Black])
	fmt.Fprintf(&b, "W stones captured: %d", placed[game.White]-onBoard[game.White])
	return b.String(), nil
}

// handicapCount parses the argument of fixed_handicap and place_free_handicap.
func (s *session) handicapCount(c *command) (int, error) {
	if len(c.args) != 1 {
		return 0, fail("Expected one argument for %s but got '%s'", c.name, strings.Join(c.args, " "))
	}
	n, err := strconv.Atoi(c.args[0])
	switch {
	case err != nil:
		return 0, fail("Could not parse number of handicap stones: '%s'", c.args[0])
	case n < 2:
		return 0, fail("Number of handicap stones less than 2: '%s'", c.args[0])
	case !s.boardEmpty():
		return 0, fail("Board is not empty")
	}
	return n, nil
}

func (s *session) boardEmpty() bool {
	for y := 0; y < s.ysize; y++ {
		for x := 0; x < s.xsize; x++ {
			if s.board.At(game.Point{X: x, Y: y}) != game.Empty {
				return false
			}
		}
	}
	return true
}

func (s *session) fixedHandicap(_ context.Context, c *command) (string, error) {
	n, err := s.handicapCount(c)
	if err != nil {
		return "", err
	}
	stones, err := fixedHandicapStones(n, s.xsize, s.ysize)
	if err != nil {
		return "", fail("%s, try place_free_handicap", err)
	}
	return s.placeHandicap(stones), nil
}

// placeHandicap sets the stones up with White to move and answers their vertices in
// KataGo's order (rows from the top, left to right).
func (s *session) placeHandicap(stones []game.Stone) string {
	s.setUp(stones, game.White)
	var vs []string
	for y := 0; y < s.ysize; y++ {
		for x := 0; x < s.xsize; x++ {
			if p := (game.Point{X: x, Y: y}); s.board.At(p) != game.Empty {
				vs = append(vs, p.GTP(s.ysize))
			}
		}
	}
	return strings.Join(vs, " ")
}

// fixedHandicapStones places n stones as KataGo's fixed_handicap does (star points in
// its order), or fails with KataGo's reason.
func fixedHandicapStones(n, x, y int) ([]game.Stone, error) {
	switch {
	case x < 7 || y < 7:
		return nil, fail("Board is too small for fixed handicap")
	case (x%2 == 0 || y%2 == 0) && n > 4:
		return nil, fail("Fixed handicap > 4 is not allowed on boards with even dimensions")
	case (x <= 7 || y <= 7) && n > 4:
		return nil, fail("Fixed handicap > 4 is not allowed on boards with size 7")
	case n < 2:
		return nil, fail("Fixed handicap < 2 is not allowed")
	case n > 9:
		return nil, fail("Fixed handicap > 9 is not allowed")
	}
	return game.FixedHandicap(n, x, y), nil
}

func (s *session) setFreeHandicap(_ context.Context, c *command) (string, error) {
	if !s.boardEmpty() {
		return "", fail("Board is not empty")
	}
	var stones []game.Stone
	for _, v := range c.args {
		p, pass, ok := s.parseVertex(v)
		if !ok || pass {
			return "", fail("Invalid handicap location: %s", v)
		}
		stones = append(stones, game.Stone{Color: game.Black, Point: p})
	}
	if !s.setUp(stones, game.White) {
		return "", fail("Handicap placement is invalid")
	}
	return "", nil
}
