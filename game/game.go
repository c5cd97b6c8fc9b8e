package game

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/tesuji/tesuji/katago"
)

// Komi bounds KataGo accepts in a query.
const (
	MinKomi = -400
	MaxKomi = 400
)

// Game is one game as KataGo analyzes it: the board, the rules, the initial position and the
// moves. ParseSGF builds it from a record; the positions API and the GTP bridge build it
// with NewGame or a literal. Call Validate before Query.
type Game struct {
	BoardXSize int     // columns, 2..19
	BoardYSize int     // rows, 2..19
	Komi       float64 // an integer or half-integer in MinKomi..MaxKomi
	Rules      string  // KataGo's rules string: "japanese", "chinese", "tromp-taylor", ...
	Handicap   int     // handicap stones as the record declares them (HA); 0 for an even game

	InitialStones []Stone // the position before the first move (handicap and setup stones)
	InitialPlayer Color   // the player to move first
	Moves         []Move

	BlackName, WhiteName string
	BlackRank, WhiteRank string
	Result               string // as the record states it, such as "B+R" or "W+3.5"
	Date                 string
	Event                string
	GameName             string
}

// NewGame returns a game on an x by y board under the given KataGo rules (DefaultRules when
// empty) and komi, with these moves and no initial stones; the first player is the first
// move's color (Black when there are none).
func NewGame(x, y int, rules string, komi float64, moves ...Move) *Game {
	if rules == "" {
		rules = DefaultRules
	}
	g := &Game{BoardXSize: x, BoardYSize: y, Komi: komi, Rules: rules, Moves: moves, InitialPlayer: Black}
	if len(moves) > 0 && moves[0].Color != Empty {
		g.InitialPlayer = moves[0].Color
	}
	return g
}

// Ruleset returns the game's ruleset, ok false when KataGo would not know Rules.
func (g *Game) Ruleset() (Ruleset, bool) { return LookupRules(g.Rules) }

// ToMove returns the player to move after the given number of moves (0..len(Moves)).
func (g *Game) ToMove(turn int) Color {
	switch {
	case turn < len(g.Moves) && turn >= 0 && g.Moves[turn].Color != Empty:
		return g.Moves[turn].Color
	case turn > 0 && turn <= len(g.Moves):
		return g.Moves[turn-1].Color.Opponent()
	case g.InitialPlayer != Empty:
		return g.InitialPlayer
	}
	return Black
}

// Board returns the position after the given number of moves (0..len(Moves)), replayed
// under the game's rules; the game must be valid.
func (g *Game) Board(turn int) (*Board, error) {
	b, err := g.setup()
	if err != nil {
		return nil, err
	}
	for i, m := range g.Moves {
		if i >= turn {
			break
		}
		if err := g.play(b, i, m); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Validate checks the game before it is queued: sizes, komi and rules KataGo accepts, an
// initial position where every group has a liberty, and every move legal under the rules
// (occupied points, suicide, ko and superko as the ruleset treats them). A failure is an
// *Error naming the move, such as "move 37 (W Q16): the point is occupied".
func (g *Game) Validate() error {
	_, err := g.Board(len(g.Moves))
	return err
}

func (g *Game) setup() (*Board, error) {
	if err := checkBoardSize(g.BoardXSize, g.BoardYSize); err != nil {
		return nil, err
	}
	if err := checkKomi(g.Komi); err != nil {
		return nil, err
	}
	r, ok := g.Ruleset()
	if !ok {
		return nil, fieldErrorf("rules", CodeInvalidGame, "KataGo does not know the rules %q", g.Rules)
	}
	if g.InitialPlayer != Black && g.InitialPlayer != White {
		return nil, errorf(CodeInvalidGame, "the first player must be black or white")
	}
	b := NewBoard(g.BoardXSize, g.BoardYSize)
	b.SetRules(r)
	for _, s := range g.InitialStones {
		if s.Color != Black && s.Color != White {
			return nil, errorf(CodeInvalidGame, "an initial stone at %s has no color", s.Point.GTP(g.BoardYSize))
		}
		if !b.OnBoard(s.Point) {
			return nil, errorf(CodeIllegalMove, "the initial stone %s is not on the %dx%d board",
				s.Point.SGF(), g.BoardXSize, g.BoardYSize)
		}
		if err := b.Set(s.Point, s.Color); err != nil {
			return nil, fmt.Errorf("game: set up %s: %w", s.Point.GTP(g.BoardYSize), err)
		}
	}
	if p, bad := b.groupWithoutLiberties(); bad {
		return nil, &Error{Code: CodeIllegalMove, Msg: fmt.Sprintf(
			"the initial position is not legal: the group at %s has no liberty", p.GTP(g.BoardYSize))}
	}
	return b, nil
}

func (g *Game) play(b *Board, i int, m Move) error {
	if m.Color != Black && m.Color != White {
		return &Error{Code: CodeInvalidGame, Move: i + 1, Msg: "the move has no color", Err: ErrNoColor}
	}
	if m.Pass {
		b.Pass(m.Color)
		return nil
	}
	if !b.OnBoard(m.Point) {
		return &Error{Code: CodeIllegalMove, Move: i + 1, Color: m.Color.String(), Coord: m.Point.SGF(),
			Msg: fmt.Sprintf("the point is not on the %dx%d board", g.BoardXSize, g.BoardYSize), Err: ErrOffBoard}
	}
	if _, err := b.Play(m.Color, m.Point); err != nil {
		return &Error{Code: CodeIllegalMove, Move: i + 1, Color: m.Color.String(),
			Coord: m.Point.GTP(g.BoardYSize), Msg: moveRuleMessage(err, g.Rules), Err: err}
	}
	return nil
}

func moveRuleMessage(err error, rules string) string {
	switch err {
	case ErrSuicide:
		return fmt.Sprintf("the move is suicide, which %s rules do not allow", rules)
	case ErrSuperko:
		return fmt.Sprintf("the move repeats an earlier position, which superko forbids under %s rules", rules)
	}
	return err.Error()
}

func checkKomi(k float64) error {
	if math.IsNaN(k) || k < MinKomi || k > MaxKomi || k*2 != math.Trunc(k*2) {
		return fieldErrorf("komi", CodeUnsupported,
			"komi %g is not an integer or half-integer from %d to %d, as KataGo needs", k, MinKomi, MaxKomi)
	}
	return nil
}

// checkBoardSize refuses a board KataGo does not analyze.
func checkBoardSize(x, y int) error {
	field := "boardYSize"
	if x < 2 || x > MaxBoardSize {
		field = "boardXSize"
	} else if y >= 2 && y <= MaxBoardSize {
		return nil
	}
	return fieldErrorf(field, CodeUnsupported, "the board is %dx%d; KataGo analyzes boards from 2x2 to %dx%d",
		x, y, MaxBoardSize, MaxBoardSize)
}

// Query returns the KataGo query that analyzes the given turns of the game (turn t is the
// position after t moves; nil means every turn, 0..len(Moves); a non-nil empty slice
// analyzes none, as katago.Query documents). Turns outside 0..len(Moves) are sent as they
// are and KataGo answers them with an error. ID and the search settings are the caller's
// to fill. The game should be valid (Validate).
func (g *Game) Query(turns []int) katago.Query {
	q := katago.Query{
		Moves:         make([]katago.Move, len(g.Moves)),
		InitialPlayer: g.ToMove(0).String(),
		BoardXSize:    g.BoardXSize,
		BoardYSize:    g.BoardYSize,
	}
	for i, m := range g.Moves {
		q.Moves[i] = katago.Move{m.Color.String(), m.GTP(g.BoardYSize)}
	}
	for _, s := range g.InitialStones {
		q.InitialStones = append(q.InitialStones, katago.Move{s.Color.String(), s.Point.GTP(g.BoardYSize)})
	}
	q.Rules = katago.RulesString(g.Rules)
	komi := g.Komi
	q.Komi = &komi
	if turns == nil {
		q.AnalyzeTurns = make([]int, len(g.Moves)+1)
		for i := range q.AnalyzeTurns {
			q.AnalyzeTurns[i] = i
		}
	} else {
		q.AnalyzeTurns = make([]int, len(turns))
		copy(q.AnalyzeTurns, turns)
	}
	return q
}

// GameFromQuery rebuilds a game from a KataGo query (the other direction of Query), for
// clients that speak KataGo's protocol. Rules must be a JSON string.
func GameFromQuery(q katago.Query) (*Game, error) {
	g := &Game{BoardXSize: q.BoardXSize, BoardYSize: q.BoardYSize}
	if g.BoardXSize == 0 {
		g.BoardXSize = 19
	}
	if g.BoardYSize == 0 {
		g.BoardYSize = 19
	}
	if len(q.Rules) > 0 {
		if err := json.Unmarshal(q.Rules, &g.Rules); err != nil {
			return nil, fieldErrorf("rules", CodeInvalidGame, "rules must be a rules name such as \"japanese\"")
		}
	}
	if g.Rules == "" {
		return nil, fieldErrorf("rules", CodeInvalidGame, "the query has no rules")
	}
	r, ok := LookupRules(g.Rules)
	if !ok {
		return nil, fieldErrorf("rules", CodeInvalidGame, "KataGo does not know the rules %q", g.Rules)
	}
	g.Komi = r.Komi
	if q.Komi != nil {
		g.Komi = *q.Komi
	}
	if err := checkBoardSize(g.BoardXSize, g.BoardYSize); err != nil {
		return nil, err
	}
	for i, s := range q.InitialStones {
		c, err := ParseColor(s[0])
		if err != nil {
			return nil, errorf(CodeInvalidGame, "initial stone %d: %q is not a color", i+1, s[0])
		}
		p, pass, err := ParseGTP(s[1], g.BoardXSize, g.BoardYSize)
		if err != nil || pass {
			return nil, errorf(CodeInvalidGame, "initial stone %d: %q is not a point of the board", i+1, s[1])
		}
		g.InitialStones = append(g.InitialStones, Stone{Color: c, Point: p})
	}
	for i, mv := range q.Moves {
		c, err := ParseColor(mv[0])
		if err != nil {
			return nil, &Error{Code: CodeInvalidGame, Move: i + 1, Msg: fmt.Sprintf("%q is not a color", mv[0])}
		}
		p, pass, err := ParseGTP(mv[1], g.BoardXSize, g.BoardYSize)
		if err != nil {
			return nil, &Error{Code: CodeInvalidGame, Move: i + 1, Color: c.String(), Coord: mv[1],
				Msg: "not a point of the board"}
		}
		g.Moves = append(g.Moves, Move{Color: c, Point: p, Pass: pass})
	}
	g.InitialPlayer = Black
	if q.InitialPlayer != "" {
		c, err := ParseColor(q.InitialPlayer)
		if err != nil {
			return nil, errorf(CodeInvalidGame, "initialPlayer %q is not a color", q.InitialPlayer)
		}
		g.InitialPlayer = c
	} else if len(g.Moves) > 0 {
		g.InitialPlayer = g.Moves[0].Color
	} else if len(g.InitialStones) > 0 {
		g.InitialPlayer = White
		for _, s := range g.InitialStones {
			if s.Color == White {
				g.InitialPlayer = Black
				break
			}
		}
	}
	return g, nil
}
