package game

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/toikarin/sgf"
)

// Default limits of ParseOptions.
const (
	DefaultMaxBytes = 1 << 20 // 1 MiB
	DefaultMaxNodes = 50_000
	DefaultMaxMoves = 2_000
)

// ParseOptions tunes ParseSGF. The zero value means the defaults.
type ParseOptions struct {
	// MaxBytes is the largest upload accepted, checked before anything else.
	// Default DefaultMaxBytes (1 MiB).
	MaxBytes int
	// MaxNodes is the most nodes (in all game trees and variations) a record may have; it
	// bounds parse time and memory. Default DefaultMaxNodes (50,000).
	MaxNodes int
	// MaxMoves is the most moves the analyzed line may have. Default DefaultMaxMoves (2,000).
	MaxMoves int
	// Path chooses the line to analyze: for each fork met from the root (a node with two
	// or more children), the index of the child to follow, 0 being the main line. Forks
	// beyond the end of Path follow the main line. Nil: the main line. See ParsePath.
	Path []int
	// Name is the uploaded file's name, or empty. Parse asks its extension (.gib, .ngf)
	// only when the content does not show the record's format.
	Name string
}

func (o ParseOptions) withDefaults() ParseOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxNodes <= 0 {
		o.MaxNodes = DefaultMaxNodes
	}
	if o.MaxMoves <= 0 {
		o.MaxMoves = DefaultMaxMoves
	}
	return o
}

// ParsePath reads a variation path written as child indexes separated by commas, such as
// "1,0,2" (spaces allowed; "" is the main line).
func ParsePath(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	path := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 0 {
			return nil, errorf(CodeInvalidPath, "the variation path %q must be child indexes such as \"1,0,2\"", clip(s))
		}
		path[i] = n
	}
	return path, nil
}

// Property is one SGF property with its values decoded: UTF-8, escapes removed, soft line
// breaks joined and every line break written "\n".
type Property struct {
	ID     string
	Values []string
}

// Node is one node of a decoded SGF tree.
type Node struct {
	Props    []Property
	Children []*Node // Children[0] continues the main line
}

// Get returns the first value of the property id.
func (n *Node) Get(id string) (string, bool) {
	for _, p := range n.Props {
		if p.ID == id && len(p.Values) > 0 {
			return p.Values[0], true
		}
	}
	return "", false
}

// Values returns every value of the property id (of all its occurrences).
func (n *Node) Values(id string) []string {
	var vs []string
	for _, p := range n.Props {
		if p.ID == id {
			vs = append(vs, p.Values...)
		}
	}
	return vs
}

// Has reports whether the node has the property id.
func (n *Node) Has(id string) bool {
	for _, p := range n.Props {
		if p.ID == id {
			return true
		}
	}
	return false
}

// Record is a parsed upload: the decoded trees, the line chosen for analysis and its Game.
type Record struct {
	// Format is the file's format: FormatSGF, FormatGIB or FormatNGF. A .gib or .ngf
	// record's Trees hold the SGF tree of its game.
	Format string
	// Trees are the game trees of the file, decoded; Trees[0] is the one analyzed.
	Trees []*Node
	// Line is the chosen line of Trees[0], from the root to its last node.
	Line []*Node
	// Game is what KataGo analyzes; it is valid (Validate passed).
	Game *Game
	// Warnings say what was assumed or ignored, in a player's words (unknown rules, a
	// corrected komi, extra game trees, an unknown character set, ...).
	Warnings []string

	moveNode  []int // index in Line of the node of each move
	startNode int   // index in Line of the node showing the initial position (-1: none)
}

// ParseSGF reads an uploaded SGF file into a Record whose Game is valid, or fails at once
// with an *Error (Code invalid_sgf, illegal_move, too_large, unsupported or invalid_path)
// that tells the player what is wrong and where.
func ParseSGF(data []byte, opt ParseOptions) (*Record, error) {
	opt = opt.withDefaults()
	if len(data) > opt.MaxBytes {
		return nil, errorf(CodeTooLarge, "the file is %s; the limit is %s", byteSize(len(data)), byteSize(opt.MaxBytes))
	}
	text, warnings := decodeText(data)
	if len(text) > math.MaxInt32/2 {
		return nil, errorf(CodeTooLarge, "the file is %s; the limit is 1 GiB", byteSize(len(data)))
	}
	start := findStart(text)
	if start < 0 {
		return nil, unknownFormat(data, opt.Name)
	}
	sc := &scanner{s: text, pos: start, maxNodes: opt.MaxNodes}
	sc.line = 1 + strings.Count(text[:start], "\n")
	sc.lineStart = strings.LastIndexByte(text[:start], '\n') + 1
	if err := sc.scan(); err != nil {
		return nil, err
	}
	if sc.trailing {
		warnings = append(warnings, "text after the game record was ignored")
	}
	trees, err := buildTrees(sc)
	if err != nil {
		return nil, err
	}
	if len(trees) > 1 {
		warnings = append(warnings, fmt.Sprintf("the file holds %d game records; only the first is analyzed", len(trees)))
	}
	rec := &Record{Format: FormatSGF, Trees: trees, Warnings: warnings}
	return rec.finish(opt)
}

// finish chooses the record's line and reads and validates its game.
func (r *Record) finish(opt ParseOptions) (*Record, error) {
	if err := r.selectLine(opt.Path); err != nil {
		return nil, err
	}
	if err := r.readGame(opt.MaxMoves); err != nil {
		return nil, err
	}
	if err := r.Game.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// clip shortens a value quoted in a message: a player's file can hold anything.
func clip(s string) string {
	const most = 24
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	return string([]rune(s)[:most]) + "…"
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// librarySkeleton has github.com/toikarin/sgf parse the skeleton, recovering its panics.
func librarySkeleton(skel []byte) (c *sgf.Collection, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, errorf(CodeInvalidSGF, "the SGF tree cannot be read (%v)", r)
		}
	}()
	c, err = sgf.ParseSgf(string(skel))
	if err != nil {
		return nil, errorf(CodeInvalidSGF, "the SGF tree cannot be read (%v)", err)
	}
	return c, nil
}

// buildTrees parses the scanner's skeleton with the sgf library and turns its collection
// into decoded Nodes, attaching the scanned properties in document order (the library's
// pre-order). It walks with an explicit stack: variations can nest 100,000 deep.
func buildTrees(sc *scanner) ([]*Node, error) {
	coll, err := librarySkeleton(sc.skel)
	if err != nil {
		return nil, err
	}
	// The decoded properties, allocated once at their exact size.
	side := string(sc.side)
	vals := make([]string, len(sc.vals))
	for i, v := range sc.vals {
		vals[i] = sc.str(v, side)
	}
	props := make([]Property, len(sc.props))
	for i, p := range sc.props {
		props[i] = Property{ID: sc.str(p.id, side), Values: vals[p.start:p.end:p.end]}
	}
	sc.nodeProps = append(sc.nodeProps, int32(len(props)))

	total := sc.nodes
	arena := make([]Node, total)
	roots := make([]*Node, len(coll.GameTrees))
	kids := make([]*Node, max(0, total-len(roots)))
	used, next := 0, 0
	block := func(n int) ([]*Node, bool) {
		if used+n > len(kids) {
			return nil, false
		}
		b := kids[used : used+n : used+n]
		used += n
		return b, true
	}
	type item struct {
		gt     *sgf.GameTree
		parent *Node
		slot   int
	}
	stack := make([]item, 0, 64)
	for i := len(coll.GameTrees) - 1; i >= 0; i-- {
		stack = append(stack, item{gt: coll.GameTrees[i], slot: i})
	}
	broken := errorf(CodeInvalidSGF, "the SGF tree cannot be read")
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.gt == nil || len(it.gt.Nodes) == 0 {
			return nil, broken
		}
		var prev *Node
		for k := range it.gt.Nodes {
			if next >= total {
				return nil, broken
			}
			n := &arena[next]
			n.Props = props[sc.nodeProps[next]:sc.nodeProps[next+1]:sc.nodeProps[next+1]]
			next++
			switch {
			case k > 0:
				c, ok := block(1)
				if !ok {
					return nil, broken
				}
				c[0] = n
				prev.Children = c
			case it.parent == nil:
				roots[it.slot] = n
			default:
				it.parent.Children[it.slot] = n
			}
			prev = n
		}
		if len(it.gt.GameTrees) > 0 {
			c, ok := block(len(it.gt.GameTrees))
			if !ok {
				return nil, broken
			}
			prev.Children = c
			for i := len(it.gt.GameTrees) - 1; i >= 0; i-- {
				stack = append(stack, item{gt: it.gt.GameTrees[i], parent: prev, slot: i})
			}
		}
	}
	if next != total || len(roots) == 0 {
		return nil, broken
	}
	return roots, nil
}

// selectLine follows the path from the root of the first tree.
func (r *Record) selectLine(path []int) error {
	n := r.Trees[0]
	line := []*Node{n}
	forks, moves := 0, 0
	for len(n.Children) > 0 {
		if hasMove(n) {
			moves++
		}
		k := 0
		if len(n.Children) > 1 {
			if forks < len(path) {
				k = path[forks]
				if k < 0 || k >= len(n.Children) {
					return errorf(CodeInvalidPath, "the variation path asks for child %d at fork %d (after move %d), "+
						"which has children 0 to %d", k, forks+1, moves, len(n.Children)-1)
				}
			}
			forks++
		}
		n = n.Children[k]
		line = append(line, n)
	}
	if forks < len(path) {
		return errorf(CodeInvalidPath, "the variation path has %d choices but its line has only %d forks", len(path), forks)
	}
	r.Line = line
	return nil
}

// rootProps holds the values of the root properties readGame reads, gathered in one pass
// (a root can hold any number of properties).
type rootProps map[string][]string

func readRoot(n *Node) rootProps {
	rp := rootProps{}
	for _, p := range n.Props {
		switch p.ID {
		case "GM", "SZ", "RU", "HA", "KM", "AP", "DT", "PB", "PW", "BR", "WR", "RE", "EV", "GN":
			rp[p.ID] = append(rp[p.ID], p.Values...)
		}
	}
	return rp
}

// get returns the first value of id.
func (rp rootProps) get(id string) (string, bool) {
	if vs := rp[id]; len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

func (rp rootProps) fox() bool {
	return strings.Contains(strings.ToLower(strings.Join(rp["AP"], " ")), "foxwq")
}

func hasMove(n *Node) bool {
	for _, p := range n.Props {
		if p.ID == "B" || p.ID == "W" {
			return true
		}
	}
	return false
}

// readGame builds the Game from the chosen line.
func (r *Record) readGame(maxMoves int) error {
	root := readRoot(r.Line[0])
	g := &Game{}
	warn := func(format string, args ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...)) }

	if gm, ok := root.get("GM"); ok && strings.TrimSpace(gm) != "1" && strings.TrimSpace(gm) != "" {
		return errorf(CodeUnsupported, "this record is for another game than Go (GM[%s])", clip(gm))
	}
	x, y, err := boardSize(root)
	if err != nil {
		return err
	}
	g.BoardXSize, g.BoardYSize = x, y

	ru, _ := root.get("RU")
	rs, known := RulesFromSGF(ru)
	if !known {
		rs = katagoRulesets[DefaultRules]
		if strings.TrimSpace(ru) == "" {
			warn("the record does not name its rules (RU); it is analyzed under %s rules", rs.Name)
		} else {
			warn("unknown rules RU[%s]; the game is analyzed under %s rules", clip(ru), rs.Name)
		}
	}
	g.Rules = rs.Name

	ha := 0
	if v, ok := root.get("HA"); ok && strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			warn("the handicap HA[%s] is not a number; it was ignored", clip(v))
		} else {
			ha = n
		}
	}
	if ha >= 2 {
		g.Handicap = ha
	}

	g.BlackName, _ = root.get("PB")
	g.WhiteName, _ = root.get("PW")
	g.BlackRank, _ = root.get("BR")
	g.WhiteRank, _ = root.get("WR")
	g.Result, _ = root.get("RE")
	g.Date, _ = root.get("DT")
	g.Event, _ = root.get("EV")
	g.GameName, _ = root.get("GN")

	// Walk the line: setup before the first move, then moves.
	st := &setupState{cells: make([]Color, x*y), seen: make([]bool, x*y), budget: 16 * x * y}
	anySetup := false
	player := Empty
	r.startNode = len(r.Line) - 1
	for li, n := range r.Line {
		var bv, wv, pl string
		var hasB, hasW, hasPL, hasSetup bool
		for _, p := range n.Props {
			if len(p.Values) == 0 {
				continue
			}
			switch p.ID {
			case "B":
				bv, hasB = p.Values[0], true
			case "W":
				wv, hasW = p.Values[0], true
			case "PL":
				pl, hasPL = p.Values[0], true
			case "AB", "AW", "AE":
				for _, v := range p.Values {
					hasSetup = hasSetup || strings.TrimSpace(v) != "" // AB[] sets nothing
				}
			}
		}
		if hasSetup {
			if len(g.Moves) > 0 {
				return &Error{Code: CodeUnsupported, Move: len(g.Moves), Msg: "after this move the record adds or " +
					"removes stones (AB/AW/AE), which KataGo cannot analyze in the middle of a game; remove " +
					"them, or start a new record from that position"}
			}
			// In the order written, so "AB[aa:cc]AE[bb]" leaves a hole.
			for _, p := range n.Props {
				var c Color
				switch p.ID {
				case "AB":
					c = Black
				case "AW":
					c = White
				case "AE":
					c = Empty
				default:
					continue
				}
				for _, v := range p.Values {
					if err := st.apply(x, y, p.ID, v, c); err != nil {
						return err
					}
					anySetup = true
				}
			}
		}
		if hasPL && len(g.Moves) == 0 {
			c, err := ParseColor(pl)
			if err != nil {
				warn("the player to move PL[%s] is not B or W; it was ignored", clip(pl))
			} else {
				player = c
			}
		}
		if hasB && hasW {
			return &Error{Code: CodeInvalidSGF, Move: len(g.Moves) + 1,
				Msg: "one node holds both a black and a white move"}
		}
		if !hasB && !hasW {
			continue
		}
		c, v := Black, bv
		if hasW {
			c, v = White, wv
		}
		if len(g.Moves) == 0 {
			r.startNode = li - 1
		}
		if len(g.Moves) >= maxMoves {
			return errorf(CodeTooManyMoves, "the game has more than %d moves, the limit", maxMoves)
		}
		p, pass, err := ParseSGFPoint(strings.TrimSpace(v), x, y)
		if err != nil {
			e := &Error{Code: CodeInvalidSGF, Move: len(g.Moves) + 1, Color: c.String(), Coord: clip(v),
				Msg: fmt.Sprintf("%q is not an SGF point", clip(v))}
			if errors.Is(err, ErrOffBoard) {
				e.Code, e.Err = CodeIllegalMove, ErrOffBoard
				e.Msg = fmt.Sprintf("the point is not on the %dx%d board", x, y)
			}
			return e
		}
		g.Moves = append(g.Moves, Move{Color: c, Point: p, Pass: pass})
		r.moveNode = append(r.moveNode, li)
	}

	for _, i := range st.order {
		if c := st.cells[i]; c != Empty {
			g.InitialStones = append(g.InitialStones, Stone{Color: c, Point: Point{X: i % x, Y: i / x}})
		}
	}
	if ha >= 2 && !anySetup && len(g.Moves) > 0 && g.Moves[0].Color == White {
		stones, err := fixedHandicap(ha, x, y)
		if err != nil {
			return err
		}
		if ha == 6 || ha == 7 {
			if root.fox() {
				if d, _ := root.get("DT"); d != "" && d < "2018" {
					// Fox placed the side stones of 6 and 7 stones north and south before 2018.
					for i := range stones {
						stones[i].Point.X, stones[i].Point.Y = stones[i].Point.Y, stones[i].Point.X
					}
				}
			}
		}
		g.InitialStones = stones
		warn("HA[%d] without handicap stones (AB): the %d stones were placed on the usual points", ha, ha)
	}

	switch {
	case len(g.Moves) > 0:
		g.InitialPlayer = g.Moves[0].Color
	case player != Empty:
		g.InitialPlayer = player
	default:
		g.InitialPlayer = Black
		blacks, whites := 0, 0
		for _, s := range g.InitialStones {
			if s.Color == Black {
				blacks++
			} else {
				whites++
			}
		}
		if blacks > 0 && whites == 0 {
			g.InitialPlayer = White // handicap stones: White moves first
		}
	}

	komi, err := r.readKomi(root, rs, ha, len(g.InitialStones) > 0)
	if err != nil {
		return err
	}
	g.Komi = komi
	r.Game = g
	return nil
}

func boardSize(root rootProps) (x, y int, err error) {
	v, ok := root.get("SZ")
	if !ok || strings.TrimSpace(v) == "" {
		return 19, 19, nil
	}
	t := strings.TrimSpace(v)
	xs, ys := t, t
	if i := strings.IndexByte(t, ':'); i >= 0 {
		xs, ys = strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+1:])
	}
	x, errX := strconv.Atoi(xs)
	y, errY := strconv.Atoi(ys)
	if errX != nil || errY != nil {
		return 0, 0, errorf(CodeInvalidSGF, "the board size SZ[%s] is not a number", clip(v))
	}
	if x < 2 || y < 2 || x > MaxBoardSize || y > MaxBoardSize {
		return 0, 0, errorf(CodeUnsupported, "the board is %dx%d; KataGo analyzes boards from 2x2 to %dx%d",
			x, y, MaxBoardSize, MaxBoardSize)
	}
	return x, y, nil
}

// setupState is the initial position being built from AB, AW and AE.
type setupState struct {
	cells  []Color
	seen   []bool
	order  []int // points in the order the record first sets them
	budget int   // points left to set: rectangles repeated without end are refused
}

// apply applies one AB/AW/AE value: a point or a rectangle "aa:cc".
func (st *setupState) apply(x, y int, id, v string, c Color) error {
	bad := func() error {
		return errorf(CodeInvalidSGF, "the setup stone %s[%s] is not a point of the %dx%d board", id, clip(v), x, y)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return nil // some writers emit an empty list
	}
	from, to := v, v
	if i := strings.IndexByte(v, ':'); i >= 0 {
		from, to = v[:i], v[i+1:]
	}
	p1, pass1, err1 := ParseSGFPoint(from, x, y)
	p2, pass2, err2 := ParseSGFPoint(to, x, y)
	if err1 != nil || err2 != nil || pass1 || pass2 {
		return bad()
	}
	for py := min(p1.Y, p2.Y); py <= max(p1.Y, p2.Y); py++ {
		for px := min(p1.X, p2.X); px <= max(p1.X, p2.X); px++ {
			st.budget--
			if st.budget < 0 {
				return errorf(CodeTooLarge, "the record sets up stones more than %d times", 16*x*y)
			}
			i := py*x + px
			if c != Empty && !st.seen[i] {
				st.seen[i] = true
				st.order = append(st.order, i)
			}
			st.cells[i] = c
		}
	}
	return nil
}

// fixedHandicap places n handicap stones as KataGo's fixed_handicap does.
func fixedHandicap(n, x, y int) ([]Stone, error) {
	stones := FixedHandicap(n, x, y)
	if stones == nil {
		return nil, errorf(CodeUnsupported, "HA[%d] without handicap stones (AB) cannot be placed on a %dx%d board", n, x, y)
	}
	return stones, nil
}

// FixedHandicap returns the n black stones KataGo's fixed_handicap places on an x by y
// board (star points, in its order), or nil where KataGo refuses: boards smaller than 7,
// more than 4 stones on even or 7-line boards, fewer than 2 or more than 9 stones.
func FixedHandicap(n, x, y int) []Stone {
	if n < 2 || n > 9 || x < 7 || y < 7 || (x%2 == 0 || y%2 == 0 || x <= 7 || y <= 7) && n > 4 {
		return nil
	}
	coords := func(size int) [3]int {
		if size <= 12 {
			return [3]int{2, size - 3, size / 2}
		}
		return [3]int{3, size - 4, size / 2}
	}
	xc, yc := coords(x), coords(y)
	order := [][2]int{{0, 1}, {1, 0}, {0, 0}, {1, 1}}
	switch n {
	case 5:
		order = append(order, [2]int{2, 2})
	case 6:
		order = append(order, [2]int{0, 2}, [2]int{1, 2})
	case 7:
		order = append(order, [2]int{0, 2}, [2]int{1, 2}, [2]int{2, 2})
	case 8:
		order = append(order, [2]int{0, 2}, [2]int{1, 2}, [2]int{2, 0}, [2]int{2, 1})
	case 9:
		order = append(order, [2]int{0, 2}, [2]int{1, 2}, [2]int{2, 0}, [2]int{2, 1}, [2]int{2, 2})
	default:
		order = order[:n]
	}
	stones := make([]Stone, len(order))
	for i, o := range order {
		stones[i] = Stone{Color: Black, Point: Point{X: xc[o[0]], Y: yc[o[1]]}}
	}
	return stones
}

// readKomi reads KM, correcting what known writers get wrong, and falls back to the
// ruleset's default (0.5 in a handicap game) when it is missing.
func (r *Record) readKomi(root rootProps, rs Ruleset, ha int, stones bool) (float64, error) {
	warn := func(format string, args ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...)) }
	v, ok := root.get("KM")
	v = strings.TrimSpace(v)
	handicap := ha >= 2 || (ha >= 1 && stones)
	if !ok || v == "" {
		if handicap {
			warn("the record has no komi (KM); 0.5 is used for a handicap game")
			return 0.5, nil
		}
		warn("the record has no komi (KM); %g, the default of %s rules, is used", rs.Komi, rs.Name)
		return rs.Komi, nil
	}
	k, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
	if err != nil || math.IsNaN(k) || math.IsInf(k, 0) {
		return 0, errorf(CodeInvalidSGF, "the komi KM[%s] is not a number", clip(v))
	}
	if root.fox() {
		// Fox writes komi in its own way (KM[375] for 7.5, KM[0] with HA[1], ...); this
		// follows KaTrain's reading of Fox records.
		fixed := 6.5
		switch {
		case ha >= 1:
			fixed = 0.5
		case rs.Name == "chinese":
			fixed = 7.5
		}
		if fixed != k {
			warn("Fox record: KM[%s] is read as komi %g", v, fixed)
		}
		return fixed, nil
	}
	orig := k
	if math.Abs(k) > 150 {
		k /= 100 // komi written in hundredths, as Fox did
	}
	if f := math.Abs(k - math.Trunc(k)); f == 0.25 || f == 0.75 {
		k *= 2 // komi counted in stones, as Chinese records sometimes write it (3.75 stones = 7.5 points)
	}
	if k != orig {
		warn("KM[%s] is read as komi %g", v, k)
	}
	if err := checkKomi(k); err != nil {
		return 0, err
	}
	return k, nil
}
