package gtp

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzCommands runs arbitrary command lines through a session: it must never panic, and
// every answer must be one GTP answer ("=" or "?", the command's number, a blank line at
// the end). Commands that reach the network or the file system are left out.
func FuzzCommands(f *testing.F) {
	for _, s := range []string{
		"1 boardsize 19\n2 play B Q16\n3 undo",
		"boardsize 2\nplay b A1\nplay w B2\nplay b B1\nplay w A2\nshowboard",
		"rectangular_boardsize 19 3\nfixed_handicap 9\nset_free_handicap A1 A1",
		"kata-set-rules {\"ko\":\"SPIGHT\",\"tax\":\"ALL\"}\nkata-get-rules\nkata-set-rule whiteHandicapBonus N-1",
		"komi -0.5\ntime_settings 1e400 0 0\ntime_left b -9 0\nkgs-time_settings canadian 1 2 3",
		"12\t# only a comment\n\x00\x01play\x7f B\tC3",
		"set_position b a1 w a2 b b2\nprintsgf x y",
	} {
		f.Add(s)
	}
	skip := map[string]bool{"genmove": true, "final_score": true, "place_free_handicap": true,
		"kata-analyze": true, "lz-analyze": true, "kata-genmove_analyze": true, "lz-genmove_analyze": true,
		"loadsgf": true, "printsgf": true}
	f.Fuzz(func(t *testing.T, script string) {
		b, err := New(Config{Server: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		s := newSession(b, &out)
		for _, l := range strings.Split(script, "\n") {
			c := parseCommand(cleanLine(l))
			if skip[c.name] {
				continue
			}
			out.Reset()
			s.handleLine(context.Background(), l)
			got := out.String()
			if cleanLine(l) == "" {
				if got != "" {
					t.Fatalf("%q: answered %q", l, got)
				}
				continue
			}
			if !strings.HasPrefix(got, "="+c.id) && !strings.HasPrefix(got, "?"+c.id) || !strings.HasSuffix(got, "\n\n") ||
				strings.Count(got, "\n\n") != 1 {
				t.Fatalf("%q: answered %q", l, got)
			}
		}
	})
}
