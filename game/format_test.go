package game

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const noRules = "the record does not name its rules (RU); it is analyzed under japanese rules"

// TestParseOtherFormats reads Tygem and WBaduk records, written as those programs write
// them (EUC-KR or GB2312 names, CRLF line ends), into the game their SGF would give.
func TestParseOtherFormats(t *testing.T) {
	t.Parallel()
	even := "B pd W dp B pp W dd B qj W cj B jq W jc B fc W cf B fq W qf B lc W cl B lq W ql B nd W dn B nq W qn"
	tests := []parseCase{
		{
			name: "tygem korean EUC-KR, resignation", file: "tygem_korean.gib",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves:     seq(t, 19, 19, even),
				BlackName: "이세돌", BlackRank: "9단", WhiteName: "박정환", WhiteRank: "9단", Result: "W+R",
				Date: "2016-03-12", GameName: "제7회 응씨배 결승 3국"},
			warnings: []string{noRules},
		},
		{
			name: "tygem chinese GB2312, three stones, a pass, points", file: "tygem_chinese_handicap.gib",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 0, Rules: "japanese", Handicap: 3,
				InitialStones: stones(t, 19, 19, "B dp B pd B dd"), InitialPlayer: White,
				Moves:     seq(t, 19, 19, "W pp B qj W cj B jq W jc B fc W cf B fq W qf B lc W cl B pass W ql"),
				BlackName: "古力", BlackRank: "9段", WhiteName: "柯洁", WhiteRank: "9段", Result: "B+12.5",
				Date: "2018-11-02", GameName: "友谊赛 让子棋"},
			warnings: []string{noRules},
		},
		{
			name: "tygem UTF-8, result and komi from GAMETAG", file: "tygem_time.gib",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 7.5, Rules: "japanese", InitialPlayer: Black,
				Moves:     seq(t, 19, 19, "B pd W dp B pp W dd B qj W cj B jq W jc B fc W cf B fq W qf"),
				BlackName: "kim", BlackRank: "2D", WhiteName: "wildsim1", WhiteRank: "2D", Result: "W+T",
				Date: "2020-06-14"},
			warnings: []string{noRules},
		},
		{
			name: "wbaduk even game, whole komi, passes, points", file: "wbaduk_even.ngf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves:     seq(t, 19, 19, even+" B pass W pass"),
				BlackName: "p81587", BlackRank: "5d", WhiteName: "ace550", WhiteRank: "7d", Result: "B+3.5",
				Date: "2017-03-16"},
			warnings: []string{noRules},
		},
		{
			name: "wbaduk EUC-KR, two stones, resignation", file: "wbaduk_handicap.ngf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 0, Rules: "japanese", Handicap: 2,
				InitialStones: stones(t, 19, 19, "B dp B pd"), InitialPlayer: White,
				Moves:     seq(t, 19, 19, "W dd B qj W cj B jq W jc B fc W cf B fq W qf B lc"),
				BlackName: "초보기사", BlackRank: "3k", WhiteName: "바둑왕", WhiteRank: "1d", Result: "W+R",
				Date: "2019-05-02"},
			warnings: []string{noRules},
		},
		{
			name: "wbaduk 9x9 loss on time",
			data: "Free game\n9\nwhite 2K\nblack 3K\nwww.wbaduk.com\n0\n0\n6.5\n20240101 [10:00]\n5\nBlack loses on time!\n3\n" +
				"PMABBFFFF\nPMACWDDDD\nPMADBFDDF\n",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves:     seq(t, 9, 9, "B ee W cc B ec"),
				BlackName: "black", BlackRank: "3k", WhiteName: "white", WhiteRank: "2k", Result: "W+T",
				Date: "2024-01-01"},
			warnings: []string{noRules},
		},
		{
			name: "gib move off the board",
			data: "\\HS\n\\[GAMEBLACKNAME=a\\]\n\\HE\n\\GS\nINI 0 1 0 &4\nSTO 0 2 1 19 3\n\\GE\n",
			code: CodeInvalidSGF, err: `line 6: Tygem record: the move "STO 0 2 1 19 3" is not on the 19x19 board`,
		},
		{
			name: "gib move without a color",
			data: "\\HS\n\\HE\n\\GS\nSTO 0 2 5 3 3\n\\GE\n",
			code: CodeInvalidSGF, err: `line 4: Tygem record: the move "STO 0 2 5 3 3" has no color 1 (black) or 2 (white)`,
		},
		{
			name: "gib handicap out of range",
			data: "\\HS\n\\HE\n\\GS\nINI 0 1 12 &4\n\\GE\n",
			code: CodeInvalidSGF, err: `line 4: Tygem record: the handicap "12" is not a number from 0 to 9`,
		},
		{
			name: "gib occupied point",
			data: "\\HS\n\\HE\n\\GS\nINI 0 1 0 &4\nSTO 0 2 1 15 3\nSTO 0 3 2 15 3\n\\GE\n",
			code: CodeIllegalMove, err: "move 2 (W Q16): the point is occupied",
		},
		{
			name: "gib longer than the limit", opt: ParseOptions{MaxMoves: 2},
			data: "\\HS\n\\HE\n\\GS\nSTO 0 2 1 3 3\nSTO 0 3 2 4 4\nSTO 0 4 1 5 5\n\\GE\n",
			code: CodeTooManyMoves, err: "the game has more than 2 moves, the limit",
		},
		{
			name: "ngf by its name with a broken size", opt: ParseOptions{Name: "Game.NGF"},
			data: "Rated game\nnineteen\n",
			code: CodeInvalidSGF, err: `line 2: WBaduk record: the board size "nineteen" is not a number`,
		},
		{
			name: "ngf move off the board",
			data: "Free game\n9\nw\nb\nsite\n0\n0\n6.5\n20240101\n5\n\n1\nPMABBTTTT\n",
			code: CodeInvalidSGF, err: `line 13: WBaduk record: the move "PMABBTTTT" is not on the board`,
		},
		{
			name: "ngf board too large",
			data: "Free game\n21\nw\nb\nsite\n0\n0\n6.5\n20240101\n5\n\n1\nPMABBDDDD\n",
			code: CodeUnsupported, err: "the board is 21x21; KataGo analyzes boards from 2x2 to 19x19",
		},
	}
	runParseCases(t, Parse, tests)
}

// TestParseOtherFormatsAnnotate checks that a .gib or .ngf record is written back as the
// SGF of the same game.
func TestParseOtherFormatsAnnotate(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"tygem_korean.gib", "tygem_chinese_handicap.gib", "wbaduk_even.ngf", "wbaduk_handicap.ngf"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			rec, err := Parse(readTestdata(t, file), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Annotate(rec, nil, AnnotateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseSGF(out, ParseOptions{})
			if err != nil {
				t.Fatalf("the written SGF does not parse: %v\n%s", err, out)
			}
			if diff := cmp.Diff(rec.Game, back.Game); diff != "" {
				t.Errorf("the written SGF changed the game (-read +written):\n%s", diff)
			}
		})
	}
}

// TestDetect checks that the content decides the format, and a name only when the
// content does not show one.
func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, data, fileName, want string
	}{
		{name: "gib", file: "tygem_korean.gib", want: FormatGIB},
		{name: "gib named .sgf", file: "tygem_time.gib", fileName: "game.sgf", want: FormatGIB},
		{name: "ngf", file: "wbaduk_even.ngf", want: FormatNGF},
		{name: "ngf CRLF", file: "wbaduk_handicap.ngf", want: FormatNGF},
		{name: "sgf", file: "ogs.sgf", want: FormatSGF},
		{name: "sgf named .gib", file: "kgs.sgf", fileName: "x.gib", want: FormatSGF},
		{name: "sgf in UTF-16", data: "\xff\xfe(\x00;\x00)\x00", want: FormatSGF},
		{name: "text", data: "hello", want: ""},
		{name: "text named .gib", data: "hello", fileName: "a.GIB", want: FormatGIB},
		{name: "pdf named .sgf", data: "%PDF-1.4\n(;GM[1])", fileName: "a.sgf", want: ""},
		{name: "sgf that looks like csv", data: "(;GM[1]FF[4]SZ[9]AB[cc][gg]C[Black to play, kill]\n;W[ee]C[Correct, well done])\n",
			want: FormatSGF},
		{name: "sgf that looks like csv after a BOM", data: "\uFEFF \r\n( ;GM[1]SZ[9]C[a, b]\n;B[ee]C[c, d]\n;W[cc]C[e, f])\n",
			want: FormatSGF},
		{name: "sgf after a csv line", data: "Problem 3, easy\n(;GM[1]SZ[9]C[Black, to play]\n;B[ee]C[Right, it lives])\n",
			want: FormatSGF},
		{name: "sgf that looks like tsv", data: "(;GM[1]SZ[9]C[Black\tto play]\n;B[ee]C[Right\tit lives])\n", want: FormatSGF},
		{name: "csv", data: "black,white,result\nalice,bob,B+R\ncarol,dave,W+3.5\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.data)
			if tt.file != "" {
				data = readTestdata(t, tt.file)
			}
			if got := Detect(data, tt.fileName); got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseUnknownFormats checks that a file of another kind is named in the error, and
// that no message says the same thing twice.
func TestParseUnknownFormats(t *testing.T) {
	t.Parallel()
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("game.sgf")
	w.Write([]byte("(;GM[1];B[pd])"))
	zw.Close()
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write([]byte("(;GM[1];B[pd])"))
	gw.Close()

	const reads = "; tesuji reads SGF, Tygem (.gib) and WBaduk (.ngf) game records"
	tests := []struct {
		name, data, fileName, want string
	}{
		{name: "pdf", data: "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n(;GM[1])\n%%EOF\n",
			want: "this looks like a PDF file" + reads},
		{name: "png", data: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00",
			want: "this looks like an image (png), not a game record" + reads},
		{name: "zip", data: zipped.String(),
			want: "this looks like a zip archive (unpack it and upload the records inside)" + reads},
		{name: "gzip", data: gz.String(),
			want: "this looks like a compressed archive (.gz; unpack it and upload the records inside)" + reads},
		{name: "ugf", data: "[Header]\nVer=1\nLang=JP\nSize=19\n[Data]\nQD,B1,0\n",
			want: "this looks like a Pandanet UGF/UGI record" + reads},
		{name: "ugi by name", data: "Ver=1\nQD,B1,0\n", fileName: "game.ugi",
			want: "this looks like a Pandanet UGF/UGI record" + reads},
		{name: "katago analysis", data: `{"id":"a","turnNumber":3,"moveInfos":[],"rootInfo":{"winrate":0.5}}`,
			want: "this looks like a KataGo or KaTrain analysis (JSON), not a game record" + reads},
		{name: "json", data: `{"name": "go", "moves": ["pd"]}`, want: "this looks like a JSON file" + reads},
		{name: "html", data: "<!DOCTYPE html><html><body><pre>(;GM[1];B[pd])</pre></body></html>",
			want: "this looks like an HTML page (save the game record itself, not the page that shows it)" + reads},
		{name: "text", data: "Black: Q16, White: D4",
			want: "this is not a game record: it has no \"(;\" to start an SGF game and is no Tygem (.gib) or WBaduk (.ngf) record either"},
		{name: "csv", data: "black,white,result\nalice,bob,B+R\ncarol,dave,W+3.5\n",
			want: "this is not a game record: it has no \"(;\" to start an SGF game and is no Tygem (.gib) or WBaduk (.ngf) record either"},
		{name: "empty", data: " \n", want: "the file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.data), ParseOptions{Name: tt.fileName})
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidSGF {
				t.Fatalf("Parse error = %v, want an *Error with code %s", err, CodeInvalidSGF)
			}
			if e.Error() != tt.want {
				t.Errorf("Parse error = %q\nwant %q", e.Error(), tt.want)
			}
			if r := repeatedPhrase(e.Error()); r != "" {
				t.Errorf("the message repeats %q: %q", r, e.Error())
			}
		})
	}
}

// repeatedPhrase returns a run of three words that occurs twice in s, or "".
func repeatedPhrase(s string) string {
	words := strings.Fields(strings.ToLower(strings.NewReplacer(":", " ", ";", " ", ",", " ").Replace(s)))
	seen := map[string]bool{}
	for i := 0; i+3 <= len(words); i++ {
		k := strings.Join(words[i:i+3], " ")
		if seen[k] {
			return k
		}
		seen[k] = true
	}
	return ""
}
