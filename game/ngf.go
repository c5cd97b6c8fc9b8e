package game

import (
	"strconv"
	"strings"
)

// WBaduk's (Cyberoro's) .ngf records, read as KaTrain and Sabaki read them: twelve header
// lines, then one line per move.
//
//	Rated game                   0: the kind of game
//	19                           1: board size
//	ace550      7D*              2: White's name and rank
//	p81587      5D*              3: Black's name and rank
//	www.cyberoro.com             4: the server
//	2                            5: handicap
//	0                            6
//	0                            7: komi (0.5 is added to a whole komi in an even game)
//	20170316 [09:51]             8: date
//	5                            9
//	White wins by  resign!       10: result
//	189                          11: number of moves
//	PMABWQRRQ                    PM, move number, color, column and row from the top left,
//	                             both twice, letters with B for the first line; AA is a pass
func parseNGF(data []byte, opt ParseOptions) (*Record, error) {
	text, warnings := decodeRecordText(data)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	field := func(i int) string {
		if i < len(lines) {
			return lines[i]
		}
		return ""
	}
	bad := func(line int, msg string) error {
		return &Error{Code: CodeInvalidSGF, Line: line + 1, Msg: "WBaduk record: " + msg}
	}

	size, err := strconv.Atoi(field(1))
	if err != nil {
		return nil, bad(1, "the board size "+strconv.Quote(clip(field(1)))+" is not a number")
	}
	if size < 2 || size > MaxBoardSize {
		return nil, errorf(CodeUnsupported, "the board is %dx%d; KataGo analyzes boards from 2x2 to %dx%d",
			size, size, MaxBoardSize, MaxBoardSize)
	}
	handicap := 0
	if v := field(5); v != "" {
		if handicap, err = strconv.Atoi(v); err != nil || handicap < 0 || handicap > 9 {
			return nil, bad(5, "the handicap "+strconv.Quote(clip(v))+" is not a number from 0 to 9")
		}
	}
	root := &Node{Props: []Property{prop("GM", "1"), prop("FF", "4"), prop("SZ", strconv.Itoa(size))}}
	add := func(id, v string) {
		if v != "" {
			root.Props = append(root.Props, prop(id, v))
		}
	}
	if v := field(7); v != "" {
		komi, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
		if err != nil {
			return nil, bad(7, "the komi "+strconv.Quote(clip(v))+" is not a number")
		}
		if handicap == 0 && komi == float64(int64(komi)) {
			komi += 0.5
		}
		add("KM", strconv.FormatFloat(komi, 'f', -1, 64))
	}
	for _, side := range []struct {
		line       int
		name, rank string
	}{{3, "PB", "BR"}, {2, "PW", "WR"}} {
		f := strings.Fields(field(side.line))
		if len(f) > 0 {
			add(side.name, f[0])
		}
		if len(f) > 1 {
			add(side.rank, ngfRank(f[len(f)-1]))
		}
	}
	if d := field(8); len(d) >= 8 && allDigits(d[:8]) {
		add("DT", d[:4]+"-"+d[4:6]+"-"+d[6:8])
	}
	add("RE", ngfResult(field(10)))
	if handicap >= 2 && size == 19 {
		root.Props = append(root.Props, handicapProps(handicap)...)
	} else if handicap >= 2 {
		root.Props = append(root.Props, prop("HA", strconv.Itoa(handicap)))
	}

	var moves []*Node
	for i, line := range lines {
		if len(line) < 7 || !strings.HasPrefix(line, "PM") {
			continue
		}
		var c Color
		switch line[4] {
		case 'B':
			c = Black
		case 'W':
			c = White
		default:
			continue
		}
		col, row := int(upper(line[5]))-'B', int(upper(line[6]))-'B'
		if col == -1 && row == -1 {
			moves = append(moves, moveNode(c, Point{}, true))
			continue
		}
		if col < 0 || row < 0 || col >= size || row >= size {
			return nil, bad(i, "the move "+strconv.Quote(clip(line))+" is not on the board")
		}
		moves = append(moves, moveNode(c, Point{X: col, Y: row}, false))
	}
	return recordFromNodes(FormatNGF, root, moves, warnings, opt)
}

func upper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ngfRank writes a WBaduk rank ("7D*", "2K", "9DP") as SGF ranks are written ("7d",
// "2k", "9p"), as Sabaki does.
func ngfRank(r string) string {
	r = strings.TrimRight(r, "*")
	r = strings.Replace(r, "DP", "p", 1)
	r = strings.Replace(r, "K", "k", 1)
	return strings.Replace(r, "D", "d", 1)
}

// ngfResult reads the result line ("White wins by  resign!", "Black wins by 3.5 points!",
// "Black loses on time!") as an SGF result, as Sabaki does.
func ngfResult(s string) string {
	winner, margin := "", ""
	switch {
	case strings.Contains(s, "hite win"), strings.Contains(s, "lack lose"):
		winner = "W"
	case strings.Contains(s, "lack win"), strings.Contains(s, "hite lose"):
		winner = "B"
	default:
		return ""
	}
	switch {
	case strings.Contains(s, "resign"):
		margin = "R"
	case strings.Contains(s, "time"):
		margin = "T"
	default:
		for _, f := range strings.Fields(s) {
			if v, err := strconv.ParseFloat(strings.TrimRight(f, "!"), 64); err == nil {
				margin = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
	}
	return winner + "+" + margin
}
