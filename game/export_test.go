package game

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/x448/float16"

	"github.com/tesuji/tesuji/katago"
)

// annotatedTranscript annotates the game of a transcript with KataGo's real answers and
// returns the game, its turns and the annotated record read back.
func annotatedTranscript(t *testing.T, file, id string) (*Game, []Turn, *Record) {
	t.Helper()
	q, _ := transcript(t, file, id)
	rec, err := ParseSGF([]byte(sgfForQuery(t, q)), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, turns, _ := transcriptTurns(t, file, id)
	out, err := Annotate(rec, turns, AnnotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back := checkAnnotated(t, rec, out)
	Review(g, turns)
	return g, turns, back
}

// positionNode returns the node of the annotated main line showing the position after
// turn moves (the records of sgfForQuery have one node per move after the root).
func positionNode(t *testing.T, rec *Record, turn int) *Node {
	t.Helper()
	if turn >= len(rec.Line) {
		t.Fatalf("the line has no node for turn %d", turn)
	}
	return rec.Line[turn]
}

// katrainLoad reads KT values as KaTrain's GameNode.load_analysis does: each value is
// base64 of gzip data; the first is the ownership and the second the policy, packed
// half-precision floats (struct.unpack(f"{num}e"): exactly num of them, or none), the third
// the JSON of the rest.
func katrainLoad(t *testing.T, values []string, squares int) (ownership, policy []float64, main map[string]json.RawMessage) {
	t.Helper()
	if len(values) < 3 {
		t.Fatalf("KT has %d values, want 3", len(values))
	}
	var raw [3][]byte
	for i := range raw {
		data, err := base64.StdEncoding.DecodeString(values[i])
		if err != nil {
			t.Fatalf("KT value %d is not base64: %v", i, err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("KT value %d is not gzip: %v", i, err)
		}
		if raw[i], err = io.ReadAll(zr); err != nil {
			t.Fatalf("KT value %d is not gzip: %v", i, err)
		}
	}
	unpack := func(data []byte, num int) []float64 {
		if len(data) == 0 {
			return nil // unpack_floats returns None
		}
		if len(data) != 2*num {
			t.Fatalf("%d bytes of packed floats, struct.unpack wants %d", len(data), 2*num)
		}
		out := make([]float64, num)
		for i := range out {
			out[i] = float64(float16.Frombits(binary.LittleEndian.Uint16(data[2*i:])).Float32())
		}
		return out
	}
	if err := json.Unmarshal(raw[2], &main); err != nil {
		t.Fatalf("the third KT value is not JSON: %v", err)
	}
	return unpack(raw[0], squares), unpack(raw[1], squares+1), main
}

// TestExportKaTrain decodes the KT of every analyzed position as KaTrain does and finds
// the analysis: root values, every candidate as KataGo gave it, the ownership.
func TestExportKaTrain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, id string }{
		{"01-basic-multi-turn.jsonl", "g1"},
		{"03-ownership-policy.jsonl", "own"},
		{"06-handicap-pass-small.jsonl", "h2"},
	} {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			g, turns, back := annotatedTranscript(t, c.file, c.id)
			if v, _ := back.Line[0].Get("KTV"); v != "1.0" {
				t.Errorf("KTV = %q, want 1.0", v)
			}
			squares := g.BoardXSize * g.BoardYSize
			for _, turn := range turns {
				node := positionNode(t, back, turn.Turn)
				own, policy, main := katrainLoad(t, node.Values("KT"), squares)
				var root struct {
					Winrate, ScoreLead float64
					Visits             int
					CurrentPlayer      string
				}
				var completed bool
				var moves map[string]katago.MoveInfo
				for key, v := range map[string]any{"root": &root, "completed": &completed, "moves": &moves} {
					if err := json.Unmarshal(main[key], v); err != nil {
						t.Fatalf("turn %d: %s: %v", turn.Turn, key, err)
					}
				}
				if diff := cmp.Diff(struct {
					Winrate, ScoreLead float64
					Visits             int
					CurrentPlayer      string
				}{turn.Winrate, turn.ScoreLead, turn.Visits, turn.Player}, root); diff != "" {
					t.Errorf("turn %d: root (-want +got):\n%s", turn.Turn, diff)
				}
				if !completed {
					t.Errorf("turn %d: completed is false", turn.Turn)
				}
				want := map[string]katago.MoveInfo{}
				for _, m := range turn.Candidates {
					m.Ownership = nil
					want[m.Move] = m
				}
				if diff := cmp.Diff(want, moves, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("turn %d: moves (-want +got):\n%s", turn.Turn, diff)
				}
				if policy != nil {
					t.Errorf("turn %d: a policy of %d values, want none", turn.Turn, len(policy))
				}
				if len(turn.Ownership) == 0 {
					if own != nil {
						t.Errorf("turn %d: an ownership without one from KataGo", turn.Turn)
					}
					continue
				}
				if diff := cmp.Diff(turn.Ownership, own, cmpopts.EquateApprox(0, 1e-3)); diff != "" {
					t.Errorf("turn %d: ownership (-want +got):\n%s", turn.Turn, diff)
				}
			}
		})
	}
}

// lizzieNode is what Lizzie 0.7.4 keeps of an LZ property.
type lizzieNode struct {
	Winrate   float64 // the side to move's, in percent
	Playouts  int
	BestMoves []lizzieMove
}

type lizzieMove struct {
	Coordinate string
	Playouts   int
	Winrate    float64 // percent
	ScoreMean  float64
	Variation  []string
}

// lizzieRead reads LZ as Lizzie 0.7.4's SGFParser does (with Leelaz.parseInfo and
// MoveData.fromInfo for the candidates).
func lizzieRead(t *testing.T, lz string) lizzieNode {
	t.Helper()
	lines := strings.Split(lz, "\n")
	line1 := strings.Split(lines[0], " ")
	line2 := ""
	if len(lines) > 1 {
		line2 = lines[1]
	}
	if len(line1) < 3 {
		t.Fatalf("LZ first line %q has fewer than 3 fields", lines[0])
	}
	wr, err := strconv.ParseFloat(strings.ReplaceAll(line1[1], ",", "."), 64)
	if err != nil {
		t.Fatalf("LZ winrate %q: %v", line1[1], err)
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.NewReplacer("k", "000", "m", "000000").Replace(line1[2]))
	playouts, err := strconv.Atoi(digits)
	if err != nil {
		t.Fatalf("LZ playouts %q: %v", line1[2], err)
	}
	n := lizzieNode{Winrate: 100 - wr, Playouts: playouts}
	if playouts == 0 || line2 == "" {
		return n
	}
	for _, v := range strings.Split(line2, " info ") {
		if strings.TrimSpace(v) == "" {
			continue
		}
		var m lizzieMove
		data := strings.Split(strings.TrimSpace(v), " ")
		for i := 0; i < len(data); i++ {
			key := data[i]
			if key == "pv" {
				m.Variation = data[i+1:]
				break
			}
			i++
			if i >= len(data) {
				t.Fatalf("LZ candidate %q: %s has no value", v, key)
			}
			value := data[i]
			var err error
			switch key {
			case "move":
				m.Coordinate = value
			case "visits":
				m.Playouts, err = strconv.Atoi(value)
			case "winrate":
				var w int
				w, err = strconv.Atoi(value)
				m.Winrate = float64(w) / 100
			case "scoreMean":
				m.ScoreMean, err = strconv.ParseFloat(value, 64)
			}
			if err != nil {
				t.Fatalf("LZ candidate %q: %s: %v", v, key, err)
			}
		}
		n.BestMoves = append(n.BestMoves, m)
	}
	return n
}

// TestExportLizzie reads every LZ of an annotated game as Lizzie does and finds the
// candidates, visits and winrates as Lizzie would have kept them.
func TestExportLizzie(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ file, id string }{
		{"01-basic-multi-turn.jsonl", "g1"},
		{"06-handicap-pass-small.jsonl", "h2"},
	} {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			_, turns, back := annotatedTranscript(t, c.file, c.id)
			for _, turn := range turns {
				lz, ok := positionNode(t, back, turn.Turn).Get("LZ")
				if !ok {
					t.Fatalf("turn %d has no LZ", turn.Turn)
				}
				if !strings.HasPrefix(lz, "0.7.4 ") {
					t.Errorf("turn %d: LZ %q does not start with Lizzie's version", turn.Turn, lz)
				}
				got := lizzieRead(t, lz)
				want := lizzieNode{}
				sum := 0.0
				for _, m := range turn.Candidates {
					if len(m.PV) == 0 {
						continue // Lizzie cannot write a candidate without a line
					}
					w := m.Winrate
					lead := m.ScoreLead
					if turn.Player == "W" {
						w, lead = 1-w, -lead
					}
					want.Playouts += m.Visits
					sum += 100 * w * float64(m.Visits)
					want.BestMoves = append(want.BestMoves, lizzieMove{Coordinate: m.Move, Playouts: m.Visits,
						Winrate: float64(int(w*100*100)) / 100, ScoreMean: lead, Variation: m.PV})
				}
				want.Winrate = sum / float64(want.Playouts)
				if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 0.05+1e-9)); diff != "" {
					t.Errorf("turn %d: Lizzie reads (-want +got):\n%s", turn.Turn, diff)
				}
			}
		})
	}
}

// TestExportLizzieText checks LZ byte for byte against what Lizzie 0.7.4 writes.
func TestExportLizzieText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		turn Turn
		want string
	}{
		{
			name: "black to move",
			turn: Turn{Player: "B", Candidates: []katago.MoveInfo{
				{Move: "Q16", Visits: 800, Winrate: 0.5432, ScoreLead: 1.25, PV: []string{"Q16", "D4"}},
				{Move: "D4", Visits: 465, Winrate: 0.50116, ScoreLead: 0.5, PV: []string{"D4"}},
			}},
			// (54.32*800 + 50.116*465) / 1265 = 52.7746...; 100 - it = 47.2253...
			want: "0.7.4 47.2 1.3k\nmove Q16 visits 800 winrate 5432 scoreMean 1.25 pv Q16 D4 info " +
				"move D4 visits 465 winrate 5011 scoreMean 0.5 pv D4 info ",
		},
		{
			name: "white to move, values from white's side",
			turn: Turn{Player: "W", Candidates: []katago.MoveInfo{
				{Move: "C3", Visits: 30, Winrate: 0.25, ScoreLead: 3, PV: []string{"C3", "pass"}},
				{Move: "R4", Visits: 0, Winrate: 0.1, ScoreLead: 0.00001},
			}},
			want: "0.7.4 25.0 30\nmove C3 visits 30 winrate 7500 scoreMean -3.0 pv C3 pass info ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := lizzieData(&tt.turn)
			if !ok || got != tt.want {
				t.Errorf("lizzieData = %q, %v\nwant %q", got, ok, tt.want)
			}
		})
	}
	if _, ok := lizzieData(&Turn{Player: "B"}); ok {
		t.Error("lizzieData wrote LZ for a turn without candidates")
	}
}

// TestJavaFormats checks the number formats of Java that LZ uses.
func TestJavaFormats(t *testing.T) {
	t.Parallel()
	fixed := map[float64]string{0.25: "0.3", 45.66: "45.7", 100: "100.0", 0.04: "0.0", 47.25: "47.3", 52.7746: "52.8", 0.15: "0.2"}
	for v, want := range fixed {
		if got := javaFixed1(v); got != want {
			t.Errorf("javaFixed1(%v) = %q, want %q", v, got, want)
		}
	}
	doubles := map[float64]string{1.25: "1.25", -0.5: "-0.5", 3: "3.0", 0.0001: "1.0E-4", 12345678.9: "1.23456789E7",
		0: "0.0", 0.001: "0.001", -2.5e-5: "-2.5E-5"}
	for v, want := range doubles {
		if got := javaDouble(v); got != want {
			t.Errorf("javaDouble(%v) = %q, want %q", v, got, want)
		}
	}
	playouts := map[int]string{950: "950", 1265: "1.3k", 2000: "2.0k", 9999: "10.0k", 13265: "13k", 1234567: "1.2m", 10_000_000: "10.0m"}
	for n, want := range playouts {
		if got := lizziePlayouts(n); got != want {
			t.Errorf("lizziePlayouts(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestExportSabaki checks SBKV and SBKS as Sabaki writes them, and reads every SBKV of an
// annotated game as Sabaki's winrate graph does (+SBKV[0]).
func TestExportSabaki(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		turn        Turn
		wantWinrate string
		wantLead    string
	}{
		{
			name: "black to move",
			turn: Turn{Player: "B", Candidates: []katago.MoveInfo{
				{Move: "Q16", Winrate: 0.54321, ScoreLead: 2.345}, {Move: "D4", Winrate: 0.5, ScoreLead: 2.5}}},
			wantWinrate: "54.32", wantLead: "2.5",
		},
		{
			name: "white to move: white's best, from black's view",
			turn: Turn{Player: "W", Candidates: []katago.MoveInfo{
				{Move: "C3", Winrate: 0.4, ScoreLead: -1.5}, {Move: "R4", Winrate: 0.45, ScoreLead: -1}}},
			wantWinrate: "40", wantLead: "-1.5",
		},
		{
			name:        "halves round up, as Math.round",
			turn:        Turn{Player: "B", Candidates: []katago.MoveInfo{{Move: "A1", Winrate: 0.500625, ScoreLead: -0.005}}},
			wantWinrate: "50.06", wantLead: "0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wr, lead, ok := sabakiValues(&tt.turn)
			if diff := cmp.Diff([]any{tt.wantWinrate, tt.wantLead, true}, []any{wr, lead, ok}); diff != "" {
				t.Errorf("sabakiValues (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("transcript", func(t *testing.T) {
		t.Parallel()
		_, turns, back := annotatedTranscript(t, "01-basic-multi-turn.jsonl", "g1")
		for _, turn := range turns {
			node := positionNode(t, back, turn.Turn)
			v, _ := node.Get("SBKV")
			got, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("turn %d: SBKV %q is not a number", turn.Turn, v)
			}
			best := math.Inf(-1)
			for _, m := range turn.Candidates {
				w := m.Winrate
				if turn.Player == "W" {
					w = 1 - w
				}
				best = math.Max(best, 100*w)
			}
			if turn.Player == "W" {
				best = 100 - best
			}
			if math.Abs(got-best) > 0.005+1e-9 {
				t.Errorf("turn %d: SBKV %q, want Black's %.4f%%", turn.Turn, v, best)
			}
		}
	})
}
