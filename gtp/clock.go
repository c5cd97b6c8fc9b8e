package gtp

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"
)

// clock is one player's time control, as time_settings, kgs-time_settings and time_left
// set it. The zero value is no time limit.
type clock struct {
	limited    bool
	mainLeft   float64 // seconds of main time left
	period     float64 // seconds per overtime period (canadian: for all its stones)
	stones     int     // stones per period; 0: absolute time
	overtime   bool
	periodLeft float64
	stonesLeft int
	// increment is Fischer time's seconds added after each move, capped at mainLimit;
	// perMove caps one move's time (fischer-capped). Zero: none.
	increment float64
	mainLimit float64
	perMove   float64
}

// lagBuffer is the time kept back for the network and the GUI, as KataGo keeps 1s.
const lagBuffer = 1.0

// budget returns the seconds genmove may search, 0 meaning no limit: a share of the main
// time, plus most of one overtime stone's time.
func (c *clock) budget(area, moveNum int) float64 {
	if !c.limited {
		return 0
	}
	// The player's own moves still to come, guessed from the board's size.
	movesLeft := math.Max(10, (0.7*float64(area)-float64(moveNum))/2)
	var t float64
	switch {
	case c.overtime && c.stonesLeft > 0:
		t = 0.9 * c.periodLeft / float64(c.stonesLeft)
	case c.stones > 0:
		t = c.mainLeft/movesLeft + 0.5*c.period/float64(c.stones)
	default:
		t = c.mainLeft / movesLeft
	}
	if c.increment > 0 {
		t += 0.8 * c.increment
	}
	if c.perMove > 0 {
		t = math.Min(t, c.perMove)
	}
	return math.Max(0.1, t-lagBuffer)
}

// spend counts a search's time against the clock until the GUI says how much is left.
func (c *clock) spend(d time.Duration) {
	if !c.limited {
		return
	}
	s := d.Seconds()
	if c.increment > 0 {
		c.mainLeft = math.Max(0, c.mainLeft-s) + c.increment
		if c.mainLimit > 0 {
			c.mainLeft = math.Min(c.mainLeft, c.mainLimit)
		}
		return
	}
	switch {
	case c.overtime:
		c.periodLeft -= s
		if c.stonesLeft--; c.stonesLeft <= 0 {
			c.periodLeft, c.stonesLeft = c.period, c.stones
		}
	case c.mainLeft >= s:
		c.mainLeft -= s
	case c.stones > 0:
		c.overtime, c.periodLeft, c.stonesLeft = true, c.period-(s-c.mainLeft), c.stones
		c.mainLeft = 0
	default:
		c.mainLeft = 0
	}
}

// newClock builds a time control the way KataGo reads GTP's time_settings: overtime time
// with no stones means no limit, no overtime means absolute time.
func newClock(main, period float64, stones int) clock {
	switch {
	case stones == 0 && period > 0:
		return clock{}
	case stones == 0:
		return clock{limited: true, mainLeft: main}
	}
	return clock{limited: true, mainLeft: main, period: period, stones: stones}
}

func parseSeconds(args []string, i int, what string) (float64, error) {
	if i >= len(args) {
		return 0, fail("Expected float for %s as argument %d", what, i)
	}
	v, err := strconv.ParseFloat(args[i], 64)
	if err != nil {
		return 0, fail("Expected float for %s as argument %d", what, i)
	}
	if math.IsNaN(v) || v < 0 || v > 1e50 {
		return 0, fail("%s is an invalid value: %s", what, args[i])
	}
	return v, nil
}

func parseCount(args []string, i int, what string) (int, error) {
	if i >= len(args) {
		return 0, fail("Expected int for %s as argument %d", what, i)
	}
	n, err := strconv.Atoi(args[i])
	if err != nil {
		return 0, fail("Expected int for %s as argument %d", what, i)
	}
	if n < 0 || n > 1000000 {
		return 0, fail("%s is an invalid value: %s", what, args[i])
	}
	return n, nil
}

func (s *session) setClocks(c clock) {
	s.clocks[1], s.clocks[2] = c, c
}

func (s *session) timeSettings(_ context.Context, c *command) (string, error) {
	main, err := parseSeconds(c.args, 0, "main time")
	if err != nil {
		return "", err
	}
	period, err := parseSeconds(c.args, 1, "byo-yomi per-period time")
	if err != nil {
		return "", err
	}
	stones, err := parseCount(c.args, 2, "byo-yomi overtime stones")
	if err != nil {
		return "", err
	}
	s.setClocks(newClock(main, period, stones))
	return "", nil
}

// kgsTimeSettings reads KGS's none, absolute, byoyomi and canadian time systems, and for
// kata-time_settings also fischer and fischer-capped; byo-yomi's periods are each one
// stone's time.
func (s *session) kgsTimeSettings(_ context.Context, c *command) (string, error) {
	kata := c.name == "kata-time_settings"
	usage := fail("Expected 'none', 'absolute', 'byoyomi', or 'canadian' as first argument for kgs-time_settings")
	if kata {
		usage = fail("Expected 'none', 'absolute', 'byoyomi', 'canadian', 'fischer', or 'fischer-capped' as first argument for kata-time_settings")
	}
	if len(c.args) < 1 {
		return "", usage
	}
	switch strings.ToLower(strings.TrimSpace(c.args[0])) {
	case "none":
		s.setClocks(clock{})
	case "absolute":
		main, err := parseSeconds(c.args, 1, "main time")
		if err != nil {
			return "", err
		}
		s.setClocks(newClock(main, 0, 0))
	case "byoyomi":
		main, err := parseSeconds(c.args, 1, "main time")
		if err != nil {
			return "", err
		}
		period, err := parseSeconds(c.args, 2, "byo-yomi per-period time")
		if err != nil {
			return "", err
		}
		periods, err := parseCount(c.args, 3, "byo-yomi overtime periods")
		if err != nil {
			return "", err
		}
		if periods == 0 {
			s.setClocks(newClock(main, 0, 0))
		} else {
			s.setClocks(newClock(main, period, 1))
		}
	case "canadian":
		main, err := parseSeconds(c.args, 1, "main time")
		if err != nil {
			return "", err
		}
		period, err := parseSeconds(c.args, 2, "byo-yomi period time")
		if err != nil {
			return "", err
		}
		stones, err := parseCount(c.args, 3, "byo-yomi overtime stones")
		if err != nil {
			return "", err
		}
		s.setClocks(newClock(main, period, stones))
	case "fischer", "fischer-capped":
		if !kata {
			return "", usage
		}
		main, err := parseSeconds(c.args, 1, "main time")
		if err != nil {
			return "", err
		}
		inc, err := parseSeconds(c.args, 2, "increment time")
		if err != nil {
			return "", err
		}
		cl := clock{limited: true, mainLeft: main, increment: inc}
		if strings.EqualFold(strings.TrimSpace(c.args[0]), "fischer-capped") {
			// A negative cap means none, as KataGo reads it.
			if cl.mainLimit, err = parseSecondsOrNone(c.args, 3, "main time limit"); err != nil {
				return "", err
			}
			if cl.perMove, err = parseSecondsOrNone(c.args, 4, "max time per move"); err != nil {
				return "", err
			}
		}
		s.setClocks(cl)
	default:
		return "", usage
	}
	return "", nil
}

// parseSecondsOrNone is parseSeconds that reads a negative value as no limit (0).
func parseSecondsOrNone(args []string, i int, what string) (float64, error) {
	if i < len(args) {
		if v, err := strconv.ParseFloat(args[i], 64); err == nil && v < 0 {
			return 0, nil
		}
	}
	return parseSeconds(args, i, what)
}

func (s *session) timeLeft(_ context.Context, c *command) (string, error) {
	usage := fail("Expected player and float time and int stones for time_left but got '%s'", strings.Join(c.args, " "))
	if len(c.args) != 3 {
		return "", usage
	}
	player, ok := parsePlayer(c.args[0])
	t, err1 := strconv.ParseFloat(c.args[1], 64)
	stones, err2 := strconv.Atoi(c.args[2])
	switch {
	case !ok || err1 != nil || err2 != nil:
		return "", usage
	case math.IsNaN(t) || t < -10 || t > 1e50:
		return "", fail("invalid time")
	case stones < 0 || stones > 100000:
		return "", fail("invalid stones")
	}
	cl := &s.clocks[player]
	if stones > 0 && cl.stones <= 0 {
		return "", fail("stones left in period is > 0 but the time control used does not have any overtime periods")
	}
	if !cl.limited {
		// The GUI keeps a clock the engine was not told about: honour it as absolute time.
		*cl = newClock(t, 0, 0)
	}
	if stones == 0 {
		cl.mainLeft, cl.overtime = math.Max(0, t), false
	} else {
		cl.mainLeft, cl.overtime = 0, true
		cl.periodLeft, cl.stonesLeft = math.Max(0, t), min(stones, cl.stones)
	}
	return "", nil
}
