package game

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// FuzzParse runs parse (SGF, GIB and NGF, through Parse), validate, convert and annotate
// on arbitrary bytes: any input must give a valid game whose query and annotated SGF agree
// with it, or an *Error; never a panic. The seed corpus is testdata/ and the inputs
// fuzzing found stay in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	var files []string
	for _, pattern := range []string{"*.sgf", "*.gib", "*.ngf"} {
		m, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil {
			f.Fatal(err)
		}
		files = append(files, m...)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	gb, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("(;CA[gb2312]PB[柯洁]C[白棋表现出色];B[pd])"))
	sj, _ := japanese.ShiftJIS.NewEncoder().Bytes([]byte("(;CA[Shift_JIS]PB[井山]C[表示ソゾ];B[pd];W[dd])"))
	f.Add(gb)
	f.Add(sj)
	for _, s := range []string{
		"(;B[aa](;W[bb])C[x])", "(;(;)B[aa])", "(;B[aa]", "(;C[\\", "(;C[a\\\r\nb])", "((;))", "(;;;)",
		"(;SZ[2];B[aa];W[ab];B[ba])", "(;AB[aa:ss]AE[bb:rr])", "(;HA[9];W[aa])", "(;KM[375]AP[foxwq])",
		"(;RU[koPOSITIONALsui1];B[aa])", "\xef\xbb\xbf(;)", "\xff\xfe(\x00;\x00)\x00",
		"\\HS\n\\GS\nINI 0 1 9 &4\nSTO 0 2 2 3 3\nSTO 0 3 2 4 4\n", "x\n2\nw\nb\n\n0\n0\n0\n\n\n\n\nPMABBAAAA\n",
		"%PDF-1.4\n(;B[aa])",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Parse(data, ParseOptions{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" || e.Code == "" {
				t.Fatalf("Parse returned %T %v, want an *Error with a code and a message", err, err)
			}
			return
		}
		g := rec.Game
		if err := g.Validate(); err != nil {
			t.Fatalf("Parse returned a game that does not validate: %v", err)
		}
		q := g.Query(nil)
		if len(q.Moves) != len(g.Moves) || len(q.AnalyzeTurns) != len(g.Moves)+1 {
			t.Fatalf("query has %d moves and %d turns for %d moves", len(q.Moves), len(q.AnalyzeTurns), len(g.Moves))
		}
		back, err := GameFromQuery(q)
		if err != nil {
			t.Fatalf("GameFromQuery(Query): %v", err)
		}
		if diff := cmp.Diff(g.Query(nil), back.Query(nil)); diff != "" {
			t.Fatalf("query round trip (-want +got):\n%s", diff)
		}
		out, err := Annotate(rec, nil, AnnotateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSGF(out, ParseOptions{MaxBytes: 64 << 20, MaxNodes: 1 << 30})
		if err != nil {
			t.Fatalf("the written SGF does not parse: %v", err)
		}
		if diff := cmp.Diff(g, again.Game); diff != "" {
			t.Fatalf("the written SGF changed the game (-want +got):\n%s", diff)
		}
	})
}
