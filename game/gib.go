package game

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Tygem's .gib records (read as KaTrain and Sabaki read them; the format is not published):
//
//	\HS
//	\[GAMEBLACKNAME=kim (2D)\]            header lines \[KEY=VALUE\]
//	\[GAMEINFOMAIN=...,GRLT:8,ZIPSU:0,...,GONGJE:65,...\]
//	\[GAMETAG=S0,R0,D0,G65,W8,Z0,...,C2020:06:14:01:26,...\]
//	\HE
//	\GS
//	INI 0 1 3 &4                           the fourth field is the handicap
//	STO 0 2 2 15 15                        move number, color (1 black, 2 white), x, y from the top left
//	\GE
//
// GRLT is the kind of result (0 and 1: Black or White by ZIPSU/10 points, 3 and 4: by
// resignation, 7 and 8: on time) and GONGJE the komi in tenths. The board is 19x19.
// Tygem writes no pass: two moves of one color in a row mean the other player passed.

var (
	gibResultMain = regexp.MustCompile(`GRLT:(\d+),`)
	gibScoreMain  = regexp.MustCompile(`ZIPSU:(\d+),`)
	gibKomiMain   = regexp.MustCompile(`GONGJE:(\d+),`)
	gibResultTag  = regexp.MustCompile(`,W(\d+),`)
	gibScoreTag   = regexp.MustCompile(`,Z(\d+),`)
	gibKomiTag    = regexp.MustCompile(`,G(\d+),`)
	gibDateTag    = regexp.MustCompile(`C(\d{4}):(\d\d):(\d\d)`)
)

const gibSize = 19

func parseGIB(data []byte, opt ParseOptions) (*Record, error) {
	text, warnings := decodeRecordText(data)
	header := map[string]string{}
	handicap := 0
	var moves []*Node
	last := Empty
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		bad := func(format string, args ...any) error {
			return &Error{Code: CodeInvalidSGF, Line: i + 1, Msg: "Tygem record: " + fmt.Sprintf(format, args...)}
		}
		switch {
		case strings.HasPrefix(line, `\[`) && strings.HasSuffix(line, `\]`) && len(line) >= 4:
			if k, v, ok := strings.Cut(line[2:len(line)-2], "="); ok {
				if _, seen := header[k]; !seen {
					header[k] = strings.TrimSpace(v)
				}
			}
		case strings.HasPrefix(line, "INI "):
			f := strings.Fields(line)
			if len(f) < 4 {
				return nil, bad("the line %q does not give the handicap", clip(line))
			}
			n, err := strconv.Atoi(f[3])
			if err != nil || n < 0 || n > 9 {
				return nil, bad("the handicap %q is not a number from 0 to 9", clip(f[3]))
			}
			handicap = n
		case strings.HasPrefix(line, "STO "):
			f := strings.Fields(line)
			if len(f) < 6 {
				return nil, bad("the move %q is incomplete", clip(line))
			}
			var c Color
			switch f[3] {
			case "1":
				c = Black
			case "2":
				c = White
			default:
				return nil, bad("the move %q has no color 1 (black) or 2 (white)", clip(line))
			}
			x, errX := strconv.Atoi(f[4])
			y, errY := strconv.Atoi(f[5])
			if errX != nil || errY != nil || x < 0 || y < 0 || x >= gibSize || y >= gibSize {
				return nil, bad("the move %q is not on the 19x19 board", clip(line))
			}
			if last == c {
				moves = append(moves, moveNode(c.Opponent(), Point{}, true))
			}
			moves = append(moves, moveNode(c, Point{X: x, Y: y}, false))
			last = c
		}
	}

	root := &Node{Props: []Property{prop("GM", "1"), prop("FF", "4"), prop("SZ", strconv.Itoa(gibSize))}}
	add := func(id, v string) {
		if v != "" {
			root.Props = append(root.Props, prop(id, v))
		}
	}
	for _, side := range []struct{ color, name, rank string }{{"BLACK", "PB", "BR"}, {"WHITE", "PW", "WR"}} {
		name, rank := splitNameRank(header["GAME"+side.color+"NAME"])
		if name == "" {
			name = header["GAME"+side.color+"NICK"]
		}
		add(side.name, name)
		add(side.rank, rank)
	}
	main, tag := header["GAMEINFOMAIN"], header["GAMETAG"]
	result := gibResult(main, gibResultMain, gibScoreMain)
	if result == "" {
		result = gibResult(tag, gibResultTag, gibScoreTag)
	}
	add("RE", result)
	if m := gibKomiMain.FindStringSubmatch(main); m != nil {
		add("KM", tenths(m[1]))
	} else if m := gibKomiTag.FindStringSubmatch(tag); m != nil {
		add("KM", tenths(m[1]))
	}
	if m := gibDateTag.FindStringSubmatch(tag); m != nil {
		add("DT", m[1]+"-"+m[2]+"-"+m[3])
	} else {
		add("DT", gibDate(header["GAMEDATE"]))
	}
	add("GN", header["GAMENAME"])
	add("PC", header["GAMEPLACE"])
	if handicap >= 2 {
		root.Props = append(root.Props, handicapProps(handicap)...)
	}
	return recordFromNodes(FormatGIB, root, moves, warnings, opt)
}

// splitNameRank splits "kim (2D)" into "kim" and "2D"; a name without one rank in
// parentheses at its end is returned whole.
func splitNameRank(s string) (name, rank string) {
	open := strings.IndexByte(s, '(')
	if open < 0 || strings.Count(s, "(") != 1 || !strings.HasSuffix(s, ")") {
		return s, ""
	}
	return strings.TrimSpace(s[:open]), strings.TrimSpace(s[open+1 : len(s)-1])
}

// gibResult reads a result kind and a score in tenths of a point.
func gibResult(s string, kind, score *regexp.Regexp) string {
	k, z := kind.FindStringSubmatch(s), score.FindStringSubmatch(s)
	if k == nil || z == nil {
		return ""
	}
	switch k[1] {
	case "0":
		return "B+" + tenths(z[1])
	case "1":
		return "W+" + tenths(z[1])
	case "3":
		return "B+R"
	case "4":
		return "W+R"
	case "7":
		return "B+T"
	case "8":
		return "W+T"
	}
	return ""
}

// tenths writes a count of tenths as a number: "65" is "6.5", "70" is "7".
func tenths(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil {
		return ""
	}
	return strconv.FormatFloat(float64(n)/10, 'f', -1, 64)
}

// gibDate reads GAMEDATE, written "2020- 6-14- 1-26-14", as an SGF date.
func gibDate(s string) string {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return ""
	}
	var ymd [3]int
	for i := range ymd {
		n, err := strconv.Atoi(strings.TrimSpace(parts[i]))
		if err != nil || n < 0 {
			return ""
		}
		ymd[i] = n
	}
	if ymd[0] < 1000 || ymd[0] > 9999 || ymd[1] < 1 || ymd[1] > 12 || ymd[2] < 1 || ymd[2] > 31 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", ymd[0], ymd[1], ymd[2])
}
