package gtp

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// gnugoPath is where Debian's gnugo package installs GNU Go.
const gnugoPath = "/usr/games/gnugo"

// gnugo is a GNU Go process spoken to over GTP.
type gnugo struct {
	t   *testing.T
	in  io.Writer
	out *bufio.Reader
}

func startGnugo(t *testing.T) *gnugo {
	t.Helper()
	if _, err := os.Stat(gnugoPath); err != nil {
		t.Fatalf("GNU Go must be installed (Debian package gnugo, %s): %v", gnugoPath, err)
	}
	in, out := startProgram(t, gnugoPath, "--mode", "gtp", "--level", "1", "--chinese-rules", "--never-resign")
	return &gnugo{t: t, in: in, out: bufio.NewReader(out)}
}

// do sends a command to GNU Go and returns its answer without the "= "; ok is false for
// an error answer.
func (g *gnugo) do(cmd string) (string, bool) {
	g.t.Helper()
	if _, err := io.WriteString(g.in, cmd+"\n"); err != nil {
		g.t.Fatalf("gnugo %s: %v", cmd, err)
	}
	var lines []string
	for {
		l, err := g.out.ReadString('\n')
		if err != nil {
			g.t.Fatalf("gnugo %s: %v", cmd, err)
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		lines = append(lines, l)
	}
	text := strings.Join(lines, "\n")
	return strings.TrimSpace(text[1:]), text[0] == '='
}

func (g *gnugo) must(cmd string) string {
	g.t.Helper()
	ans, ok := g.do(cmd)
	if !ok {
		g.t.Fatalf("gnugo %s: ? %s", cmd, ans)
	}
	return ans
}

// stones is a board as a list of stones per color, sorted.
type stones struct {
	Black, White []string
}

var rowRE = regexp.MustCompile(`^\s*(\d+) (.*)$`)

// parseShowboard reads the stones and captures from the bridge's showboard.
func parseShowboard(t *testing.T, board string) (s stones, capturedBlack, capturedWhite int) {
	t.Helper()
	const cols = "ABCDEFGHJKLMNOPQRST"
	for _, l := range strings.Split(board, "\n") {
		if m := rowRE.FindStringSubmatch(l); m != nil && !strings.Contains(l, "MoveNum") {
			x := 0
			for _, r := range m[2] {
				switch r {
				case 'X':
					s.Black = append(s.Black, fmt.Sprintf("%c%s", cols[x], m[1]))
				case 'O':
					s.White = append(s.White, fmt.Sprintf("%c%s", cols[x], m[1]))
				}
				if r == 'X' || r == 'O' || r == '.' {
					x++
				}
			}
		}
		fmt.Sscanf(l, "B stones captured: %d", &capturedBlack)
		fmt.Sscanf(l, "W stones captured: %d", &capturedWhite)
	}
	slices.Sort(s.Black)
	slices.Sort(s.White)
	return s, capturedBlack, capturedWhite
}

// TestGameAgainstGnugo plays a game between the bridge (White, through genmove on a
// server with the fake KataGo) and GNU Go (Black), driven move by move from here: every
// move each side makes must be legal for the other, and after every move both boards
// and both capture counts must agree.
func TestGameAgainstGnugo(t *testing.T) {
	t.Parallel()
	gg := startGnugo(t)
	srv := startServer(t, "127.0.0.1:0")
	br := startBridge(t, Config{Server: "http://" + srv.Addr(), GenmoveVisits: 20})

	gg.must("boardsize 9")
	gg.must("clear_board")
	gg.must("komi 7.5")
	run(t, br, []exchange{
		{"boardsize 9", "= "},
		{"clear_board", "= "},
		{"komi 7.5", "= "},
		{"kata-set-rules chinese", "= "},
	})

	const maxMoves = 160 // the fake never passes while it has a legal move
	passes, captures, played := 0, 0, 0
	for n := 1; n <= maxMoves && passes < 2; n++ {
		played = n
		var mv string
		if n%2 == 1 {
			mv = strings.ToUpper(gg.must("genmove black"))
			if got := br.do("play B " + mv); got != "= " {
				t.Fatalf("move %d: GNU Go's B %s: the bridge answered %q", n, mv, got)
			}
		} else {
			ans := br.do("genmove W")
			if !genmoveAnswer.MatchString(ans) {
				t.Fatalf("move %d: genmove answered %q", n, ans)
			}
			mv = strings.TrimPrefix(ans, "= ")
			if got, ok := gg.do("play white " + mv); !ok {
				t.Fatalf("move %d: the bridge's W %s is illegal for GNU Go: %s", n, mv, got)
			}
		}
		if strings.EqualFold(mv, "pass") {
			passes++
		} else {
			passes = 0
		}

		want := stones{
			Black: strings.Fields(gg.must("list_stones black")),
			White: strings.Fields(gg.must("list_stones white")),
		}
		slices.Sort(want.Black)
		slices.Sort(want.White)
		got, capB, capW := parseShowboard(t, br.do("showboard"))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("after move %d (%s) the boards differ (-gnugo +bridge):\n%s", n, mv, diff)
		}
		// GNU Go counts the stones each color captured; the bridge the stones of each
		// color that were captured.
		var byBlack, byWhite int
		fmt.Sscan(gg.must("captures black"), &byBlack)
		fmt.Sscan(gg.must("captures white"), &byWhite)
		if byBlack != capW || byWhite != capB {
			t.Fatalf("after move %d captures differ: GNU Go B %d W %d, bridge W stones %d B stones %d",
				n, byBlack, byWhite, capW, capB)
		}
		captures = byBlack + byWhite
	}
	if captures == 0 {
		t.Errorf("the game had no capture; it tested less than it should")
	}
	t.Logf("game over after %d moves (%d passes at the end), %d stones captured", played, passes, captures)
}
