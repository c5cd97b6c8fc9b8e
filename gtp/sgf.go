package gtp

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tesuji/tesuji/game"
)

// loadSGF is GTP's loadsgf FILE [MOVE]: the position before move MOVE (the end of the
// main line without it). Rules and komi come from the record when it names them, and
// stay as they are otherwise, as in KataGo.
func (s *session) loadSGF(_ context.Context, c *command) (string, error) {
	if len(c.args) != 1 && len(c.args) != 2 {
		return "", fail("Expected one or two arguments for loadsgf but got '%s'", strings.Join(c.args, " "))
	}
	upTo := -1
	if len(c.args) == 2 {
		n, err := strconv.Atoi(c.args[1])
		if err != nil || n < 1 || n > 10000001 {
			return "", fail("Invalid value for moveNumber for loadsgf")
		}
		upTo = n - 1
	}
	data, err := readLimited(c.args[0], game.DefaultMaxBytes)
	if err != nil {
		s.log.Warn("loadsgf: cannot read the file", "file", c.args[0], "err", err)
		return "", fail("Cannot load file")
	}
	rec, err := game.ParseSGF(data, game.ParseOptions{})
	if err != nil {
		return "", fail("Could not load sgf: %v", err)
	}
	g := rec.Game
	root := rec.Line[0]
	r, k := s.rules, s.komi
	recordRules, rerr := game.ParseRulesWithoutKomi(g.Rules)
	ru, _ := root.Get("RU")
	fromRecord := strings.TrimSpace(ru) != "" && rerr == nil
	if fromRecord {
		r = recordRules
	}
	if km, ok := root.Get("KM"); ok && strings.TrimSpace(km) != "" {
		k = g.Komi
	}
	moves := g.Moves
	if upTo >= 0 && upTo < len(moves) {
		moves = moves[:upTo]
	}

	old := *s
	s.xsize, s.ysize, s.komi, s.rules = g.BoardXSize, g.BoardYSize, k, r
	s.initial, s.initialPlayer, s.moves = g.InitialStones, g.InitialPlayer, append([]game.Move(nil), moves...)
	b, err := s.replay()
	if err != nil && !fromRecord && rerr == nil {
		// The record's moves are legal under its own rules (ParseSGF checked them) but
		// not under the rules kept from the session: take the record's.
		s.rules = recordRules
		b, err = s.replay()
	}
	if err != nil {
		*s = old
		return "", fail("Could not load sgf: %v", err)
	}
	s.board = b
	for _, w := range rec.Warnings {
		s.log.Info("loadsgf", "file", c.args[0], "warning", w)
	}
	return "", nil
}

// readLimited reads at most limit bytes of a file (and one more, so ParseSGF can tell
// the file is too large): a GUI may name any file, even a device that never ends.
func readLimited(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(limit)+1))
}

// printSGF is GTP's printsgf [FILE]: the game as SGF, in the answer or ("-" aside) into
// FILE.
func (s *session) printSGF(_ context.Context, c *command) (string, error) {
	if len(c.args) > 1 {
		return "", fail("Expected zero or one argument for print but got '%s'", strings.Join(c.args, " "))
	}
	text := strings.TrimSpace(string(game.WriteSGF([]*game.Node{s.sgfTree()})))
	if len(c.args) == 0 || c.args[0] == "-" {
		return text, nil
	}
	if err := os.WriteFile(c.args[0], []byte(text+"\n"), 0o644); err != nil {
		s.log.Warn("printsgf: cannot write the file", "file", c.args[0], "err", err)
		return "", fail("Could not open or write to file: %s", c.args[0])
	}
	return "", nil
}

// sgfTree is the game as an SGF tree: the root with the board, komi, rules and setup
// stones, then one node per move.
func (s *session) sgfTree() *game.Node {
	size := strconv.Itoa(s.xsize)
	if s.xsize != s.ysize {
		size += ":" + strconv.Itoa(s.ysize)
	}
	root := &game.Node{Props: []game.Property{
		{ID: "FF", Values: []string{"4"}},
		{ID: "GM", Values: []string{"1"}},
		{ID: "CA", Values: []string{"UTF-8"}},
		{ID: "SZ", Values: []string{size}},
		{ID: "KM", Values: []string{cfloat(s.komi)}},
		{ID: "RU", Values: []string{s.rules.QueryName()}},
	}}
	var ab, aw []string
	for _, st := range s.initial {
		if st.Color == game.Black {
			ab = append(ab, st.Point.SGF())
		} else {
			aw = append(aw, st.Point.SGF())
		}
	}
	if len(ab) > 0 {
		if len(aw) == 0 && len(ab) >= 2 {
			root.Props = append(root.Props, game.Property{ID: "HA", Values: []string{strconv.Itoa(len(ab))}})
		}
		root.Props = append(root.Props, game.Property{ID: "AB", Values: ab})
	}
	if len(aw) > 0 {
		root.Props = append(root.Props, game.Property{ID: "AW", Values: aw})
	}
	if len(s.initial) > 0 {
		root.Props = append(root.Props, game.Property{ID: "PL", Values: []string{s.initialPlayer.String()}})
	}
	node := root
	for _, m := range s.moves {
		v := ""
		if !m.Pass {
			v = m.Point.SGF()
		}
		next := &game.Node{Props: []game.Property{{ID: m.Color.String(), Values: []string{v}}}}
		node.Children = []*game.Node{next}
		node = next
	}
	return root
}
