package game

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// benchParse parses, validates (ParseSGF does) and converts to a query, as the API does
// with every upload.
func benchParse(b *testing.B, data []byte, wantErr bool) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rec, err := ParseSGF(data, ParseOptions{})
		if (err != nil) != wantErr {
			b.Fatalf("ParseSGF error = %v, want error %v", err, wantErr)
		}
		if err == nil {
			_ = rec.Game.Query(nil)
		}
	}
}

// record250 is a 250-move game with a comment on every move.
func record250(b *testing.B) []byte {
	moves := randomGame(b, 250, 19, 250, "japanese")
	return []byte(sgfText("GM[1]FF[4]CA[UTF-8]SZ[19]KM[6.5]RU[Japanese]PB[alice]PW[bob]RE[W+R]", moves, func(i int) string {
		return fmt.Sprintf("Move %d: a comment as players write them, about the shape and the \\] timing.", i+1)
	}))
}

// record1MiB is a review just under 1 MiB: 300 moves with long comments, and a commented
// ten-move variation at every tenth move.
func record1MiB(b *testing.B) []byte {
	moves := randomGame(b, 300, 19, 300, "chinese")
	// Every tenth move opens a nested segment of the main line; closing the segments at
	// the end puts a side variation after each, as a child of the move before it.
	var s strings.Builder
	commentLen := 3000
	for {
		s.Reset()
		text := strings.Repeat("The review explains the fight in detail; ", commentLen/41+1)[:commentLen]
		short := text[:commentLen/4]
		s.WriteString("(;GM[1]FF[4]CA[UTF-8]SZ[19]KM[7.5]RU[Chinese]PB[alice]PW[bob]C[" + text + "]")
		opened := 0
		for i, m := range moves {
			if i%10 == 9 {
				s.WriteString("(")
				opened++
			}
			v := ""
			if !m.Pass {
				v = m.Point.SGF()
			}
			fmt.Fprintf(&s, ";%s[%s]C[%s]", m.Color, v, text)
		}
		// Close the main line's segments, each followed by its side variation.
		for k := 0; k < opened; k++ {
			s.WriteString(")(")
			c := Black
			for j := range 10 {
				fmt.Fprintf(&s, ";%s[%c%c]C[%s]", c, 'a'+j, 'a'+k%19, short)
				c = c.Opponent()
			}
			s.WriteString(")")
		}
		s.WriteString(")")
		if s.Len() <= 1<<20 {
			break
		}
		commentLen -= 50
	}
	return []byte(s.String())
}

// BenchmarkParse250 parses and converts a 250-move game with comments (must be < 1 ms).
func BenchmarkParse250(b *testing.B) {
	benchParse(b, record250(b), false)
}

// BenchmarkParse1MiB parses and converts a 1 MiB commented review (must be < 100 ms).
func BenchmarkParse1MiB(b *testing.B) {
	data := record1MiB(b)
	if len(data) < 1<<20-16<<10 {
		b.Fatalf("the record is %d bytes, want close to 1 MiB", len(data))
	}
	benchParse(b, data, false)
}

// adversarialInput is an input of up to 1 MiB built to be slow to parse.
type adversarialInput struct {
	name    string
	data    string
	wantErr bool
}

func adversarialInputs(tb testing.TB) []adversarialInput {
	tb.Helper()
	const mib = 1 << 20
	fill := func(prefix, unit, suffix string) string {
		n := (mib - len(prefix) - len(suffix)) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	gb, err := simplifiedchinese.GBK.NewEncoder().String(fill("(;CA[gb2312]C[", "白棋表现出色", "])"))
	if err != nil {
		tb.Fatal(err)
	}
	nested := func(levels int) string {
		return strings.Repeat("(;", levels) + strings.Repeat(")", levels)
	}
	inputs := []adversarialInput{
		{"one huge comment", fill("(;C[", "x", "])"), false},
		{"huge comment of escapes", fill("(;C[", `\]`, "])"), false},
		{"huge comment of CRLF", fill("(;C[", "a\r\n", "])"), false},
		{"huge comment cut off", fill("(;C[", "x", ""), true},
		{"GB2312 comment", gb, false},
		{"not UTF-8 without CA", fill("(;C[", "\xe9\xff", "])"), false},
		{"tiny nodes at the limit", "(" + strings.Repeat(";", DefaultMaxNodes) + ")", false},
		{"tiny nodes over the limit", fill("(", ";", ")"), true},
		{"nesting at the limit", nested(DefaultMaxNodes), false},
		{"nesting over the limit", nested(mib / 3), true},
		{"variations at the limit", "(;" + strings.Repeat("(;)", DefaultMaxNodes-1) + ")", false},
		{"branching nesting", strings.Repeat("(;(;)", DefaultMaxNodes/2) + strings.Repeat(")", DefaultMaxNodes/2), false},
		{"many values", fill("(;C", "[]", ")"), false},
		{"many properties", fill("(;", "C[]", ")"), false},
		{"many long identifiers", fill("(;", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF[]", ")"), false},
		{"FF[3] identifiers", fill("(;", "CoMmEnT[]", ")"), false},
		{"setup rectangles", fill("(;", "AB[aa:ss]AE[aa:ss]", ")"), true},
		{"many setup stones", fill("(;SZ[19]AB", "[aa]", ")"), true},
		{"many passes", "(;" + strings.Repeat(";B[];W[]", DefaultMaxMoves/2) + ")", false},
		{"parentheses without nodes", fill("", "( ", ""), true},
		{"CA everywhere", fill("", "CACA[", ""), true},
		{"moves in one node", fill("(;", "B[aa]", ")"), false},
	}
	for _, in := range inputs {
		if len(in.data) > mib {
			tb.Fatalf("%s is %d bytes, over 1 MiB", in.name, len(in.data))
		}
	}
	return inputs
}

// BenchmarkParseAdversarial parses inputs of up to 1 MiB built to be slow: each must stay
// under 100 ms, accepted or refused.
func BenchmarkParseAdversarial(b *testing.B) {
	for _, in := range adversarialInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			benchParse(b, []byte(in.data), in.wantErr)
		})
	}
}

// TestAdversarialInputs checks that each of the benchmark's slow inputs is accepted or
// refused as expected (their speed is the benchmark's business).
func TestAdversarialInputs(t *testing.T) {
	t.Parallel()
	for _, in := range adversarialInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSGF([]byte(in.data), ParseOptions{})
			if (err != nil) != in.wantErr {
				t.Fatalf("ParseSGF error = %v, want an error: %v", err, in.wantErr)
			}
		})
	}
}

// BenchmarkAnnotate writes the annotated SGF of a 250-move game analyzed at every turn.
func BenchmarkAnnotate(b *testing.B) {
	rec, err := ParseSGF(record250(b), ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	g := rec.Game
	leads := make([]float64, len(g.Moves)+1)
	top := make([]string, len(g.Moves)+1)
	for i := range leads {
		leads[i] = float64(i%7) - 3
		top[i] = "Q16"
	}
	turns := syntheticTurns(g, leads, top)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Annotate(rec, turns, AnnotateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordVariations lists the variations of a 1,000-move game with 100 branches
// of 200 moves, each ending in an illegal move, as every GET of an analysis does.
func BenchmarkRecordVariations(b *testing.B) {
	rec := passesThenOccupied(b, 1000, 100, maxRecordVariationMoves-1)
	b.ReportAllocs()
	for b.Loop() {
		rec.RecordVariations()
	}
}
