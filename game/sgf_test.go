package game

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestParseRecords parses every record of testdata/ (and a few written here) into the
// expected game, or checks the expected error.
func TestParseRecords(t *testing.T) {
	t.Parallel()
	tests := []parseCase{
		{
			name: "ogs", file: "ogs.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves:     seq(t, 19, 19, "B pd W dp B pp W dd B fq W cn B qf W jp B nc W fc"),
				BlackName: "alice", WhiteName: "bob", BlackRank: "5k", WhiteRank: "4k", Result: "W+R",
				Date: "2024-03-02", GameName: "Friendly Match"},
		},
		{
			name: "kgs cgoban", file: "kgs.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 7.5, Rules: "chinese", InitialPlayer: Black,
				Moves:     seq(t, 19, 19, "B qd W dc B pq W dp B ce W ed B cc W cd B bd W dd B be W bc B bb W ac"),
				BlackName: "Tora", WhiteName: "Kuma", BlackRank: "2d", WhiteRank: "3d", Result: "B+3.5", Date: "2023-11-20"},
		},
		{
			name: "tygem", file: "tygem.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 6.5, Rules: "korean", InitialPlayer: Black,
				Moves:     seq(t, 19, 19, "B qd W dd B pq W dp B oc W qo B op W qk"),
				BlackName: "바둑왕", WhiteName: "흑백", BlackRank: "7D", WhiteRank: "7D", Result: "B+R", Date: "2022-12-24"},
		},
		{
			name: "sabaki with variations: main line", file: "sabaki.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves:     seq(t, 9, 9, "B ee W cg B gc W cc B dc W cd B gg W ge B he"),
				BlackName: "Black", WhiteName: "White", Date: "2024-05-05"},
			warnings: []string{"the record does not name its rules (RU); it is analyzed under japanese rules"},
		},
		{
			name: "sabaki second variation by path", file: "sabaki.sgf", opt: ParseOptions{Path: []int{2}},
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves:     seq(t, 9, 9, "B ee W cg B gc W eg B ge"),
				BlackName: "Black", WhiteName: "White", Date: "2024-05-05"},
			warnings: []string{"the record does not name its rules (RU); it is analyzed under japanese rules"},
		},
		{
			name: "path beyond the forks", file: "sabaki.sgf", opt: ParseOptions{Path: []int{1, 0}},
			code: CodeInvalidPath, err: "the variation path has 2 choices but its line has only 1 forks",
		},
		{
			name: "path to a missing child", file: "sabaki.sgf", opt: ParseOptions{Path: []int{3}},
			code: CodeInvalidPath, err: "the variation path asks for child 3 at fork 1 (after move 3), which has children 0 to 2",
		},
		{
			name: "handicap with AB and PL", file: "handicap.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 0.5, Rules: "japanese", Handicap: 4,
				InitialStones: stones(t, 19, 19, "B dd B dp B pd B pp"), InitialPlayer: White,
				Moves:     seq(t, 19, 19, "W qn B qo W pn B nq W jd B cf"),
				BlackName: "Student", WhiteName: "Teacher"},
		},
		{
			name: "handicap stones in the second node", file: "setup_second_node.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 0.5, Rules: "japanese", Handicap: 2,
				InitialStones: stones(t, 19, 19, "B dp B pd"), InitialPlayer: White,
				Moves: seq(t, 19, 19, "W dd B pp")},
		},
		{
			name: "fox komi 375", file: "fox.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 7.5, Rules: "chinese", InitialPlayer: Black,
				Moves:     seq(t, 19, 19, "B pd W dd B pq W dp B fc W cf B jd W qn B nq W qj"),
				BlackName: "黑方棋手", WhiteName: "白方棋手", BlackRank: "5段", WhiteRank: "5段", Result: "B+R", Date: "2023-07-15"},
			warnings: []string{"Fox record: KM[375] is read as komi 7.5"},
		},
		{
			name: "fox handicap without stones", file: "fox_handicap.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 0.5, Rules: "chinese", Handicap: 3,
				InitialStones: stones(t, 19, 19, "B dp B pd B dd"), InitialPlayer: White,
				Moves:     seq(t, 19, 19, "W qc B qd W pc B od W nb"),
				BlackName: "学生", WhiteName: "老师", Date: "2023-08-01"},
			warnings: []string{
				"HA[3] without handicap stones (AB): the 3 stones were placed on the usual points",
				"Fox record: KM[0] is read as komi 0.5",
			},
		},
		{
			name: "passes as B[] and W[tt]", file: "passes.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "new-zealand", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee W pass B cc W pass B gg W gc B pass")},
		},
		{
			name: "several game trees", file: "multi.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee W cc"), GameName: "first"},
			warnings: []string{"the file holds 3 game records; only the first is analyzed"},
		},
		{
			name: "FF[3] lower-case property names", file: "ff3_lowercase.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 5.5, Rules: "japanese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee W cc B gg W cg"), BlackName: "Honinbo"},
		},
		{
			name: "windows line endings", file: "crlf.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "chinese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee W cc")},
		},
		{
			name: "empty game", file: "empty_game.sgf",
			want: &Game{BoardXSize: 19, BoardYSize: 19, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				BlackName: "nobody", WhiteName: "nobody"},
		},
		{
			name: "rectangular board", file: "rect.sgf",
			want: &Game{BoardXSize: 13, BoardYSize: 9, Komi: 7.5, Rules: "chinese", InitialPlayer: Black,
				Moves: seq(t, 13, 9, "B cc W kg B ke")},
		},
		{
			name: "BOM and text around the record", file: "bom_text.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "aga", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee W cc")},
			warnings: []string{"text after the game record was ignored"},
		},
		{
			name: "unknown rules", file: "unknown_rules.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "japanese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee")},
			warnings: []string{"unknown rules RU[Klingon]; the game is analyzed under japanese rules"},
		},
		{
			name: "ko retaken after a threat", file: "ko_threat.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "japanese", InitialPlayer: White,
				InitialStones: stones(t, 9, 9, "B dc B cd B ed B de W ec W fd W ee"),
				Moves:         seq(t, 9, 9, "W dd B gg W gh B ed W hg")},
		},
		{
			name: "multi-stone suicide under NZ rules", file: "suicide_nz.sgf",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "new-zealand", InitialPlayer: White,
				InitialStones: stones(t, 9, 9, "B ba B bb W ca W cb W ab"),
				Moves:         seq(t, 9, 9, "W bc B aa W bb")},
		},
		{
			name: "no komi in an even game",
			data: "(;GM[1]SZ[9]RU[Chinese];B[ee])",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7.5, Rules: "chinese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee")},
			warnings: []string{"the record has no komi (KM); 7.5, the default of chinese rules, is used"},
		},
		{
			name: "komi counted in stones",
			data: "(;GM[1]SZ[9]RU[Chinese]KM[3.75];B[ee])",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7.5, Rules: "chinese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee")},
			warnings: []string{"KM[3.75] is read as komi 7.5"},
		},
		{
			name: "the first move in the root, a comma in the komi",
			data: "(;GM[1]SZ[9]RU[Japanese]KM[6,5]B[ee];W[cc])",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee W cc")},
		},
		{
			name: "white first by PL without moves",
			data: "(;GM[1]SZ[9]RU[Japanese]KM[0.5]AB[cc][gg]PL[W])",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 0.5, Rules: "japanese", InitialPlayer: White,
				InitialStones: stones(t, 9, 9, "B cc B gg")},
		},
		{
			name: "setup rectangle and removal",
			data: "(;GM[1]SZ[9]RU[Japanese]KM[6.5]AB[aa:bb]AE[ab];W[ee])",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: White,
				InitialStones: stones(t, 9, 9, "B aa B ba B bb"), Moves: seq(t, 9, 9, "W ee")},
		},
		{
			name: "empty setup lists mid-game",
			data: "(;GM[1]SZ[9]RU[Japanese]KM[6.5];B[ee];AB[]AE[];W[cc])",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee W cc")},
		},
		{
			name: "KataGo's compact rules",
			data: "(;GM[1]SZ[9]RU[koPOSITIONALscoreAREAtaxNONEsui1]KM[7];B[ee])",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 7, Rules: "koPOSITIONALscoreAREAtaxNONEsui1", InitialPlayer: Black,
				Moves: seq(t, 9, 9, "B ee")},
		},
		{
			name: "whitespace between identifier and value",
			data: "  (  ;  GM [1] SZ\n[9] RU[Japanese] KM[6.5] AB [aa]\t[bb] ; B [ee] )  ",
			want: &Game{BoardXSize: 9, BoardYSize: 9, Komi: 6.5, Rules: "japanese", InitialPlayer: Black,
				InitialStones: stones(t, 9, 9, "B aa B bb"), Moves: seq(t, 9, 9, "B ee")},
		},

		// Records that must fail, with the message the player sees.
		{name: "occupied point", file: "occupied.sgf", code: CodeIllegalMove, err: "move 5 (B D4): the point is occupied"},
		{name: "ko retaken at once", file: "ko.sgf", code: CodeIllegalMove, err: "move 2 (B E6): the move retakes a ko at once"},
		{name: "suicide under japanese rules", file: "suicide.sgf", code: CodeIllegalMove,
			err: "move 2 (B A9): the move is suicide, which japanese rules do not allow"},
		{name: "setup stones mid-game", file: "setup_midgame.sgf", code: CodeUnsupported,
			err: "move 2: after this move the record adds or removes stones (AB/AW/AE), which KataGo cannot analyze " +
				"in the middle of a game; remove them, or start a new record from that position"},
		{name: "board larger than 19x19", file: "big_board.sgf", code: CodeUnsupported,
			err: "the board is 21x21; KataGo analyzes boards from 2x2 to 19x19"},
		{name: "another game", file: "not_go.sgf", code: CodeUnsupported, err: "this record is for another game than Go (GM[2])"},
		{name: "truncated file", file: "truncated.sgf", code: CodeInvalidSGF,
			err: "line 2, column 26: the file ends inside the value of C that starts here (is it cut off?)"},
		{name: "garbage", file: "garbage.sgf", code: CodeInvalidSGF,
			err: "this looks like a zip archive (unpack it and upload the records inside); " +
				"tesuji reads SGF, Tygem (.gib) and WBaduk (.ngf) game records"},
		{name: "empty file", data: "", code: CodeInvalidSGF, err: "the file is empty"},
		{name: "blank file", data: " \r\n\t", code: CodeInvalidSGF, err: "the file is empty"},
		{name: "json", data: `{"moves": [["B", "Q16"]]}`, code: CodeInvalidSGF,
			err: "this looks like a JSON file; tesuji reads SGF, Tygem (.gib) and WBaduk (.ngf) game records"},
		{name: "cut after a node", data: "(;GM[1];B[aa]", code: CodeInvalidSGF,
			err: "line 1, column 14: the file ends before the game record is closed (is it cut off?)"},
		{name: "cut inside a variation", data: "(;GM[1](;B[aa])(;B[bb]", code: CodeInvalidSGF,
			err: "line 1, column 23: the file ends before the game record is closed (is it cut off?)"},
		{name: "library panic: property after a variation", data: "(;B[aa](;W[bb])C[x])", code: CodeInvalidSGF,
			err: "line 1, column 16: a property after a variation: properties must come before the variations of their node"},
		{name: "library panic: variation before a property", data: "(;(;)B[aa])", code: CodeInvalidSGF,
			err: "line 1, column 6: a property after a variation: properties must come before the variations of their node"},
		{name: "node after a variation", data: "(;B[aa](;W[bb]);W[cc])", code: CodeInvalidSGF,
			err: "line 1, column 16: unexpected ';' after a variation: a node must come before the variations that follow it"},
		{name: "variation without a node", data: "(;B[aa](W[bb]))", code: CodeInvalidSGF,
			err: "line 1, column 9: unexpected 'W': a game tree must start with ';'"},
		{name: "stray bracket", data: "(;GM[1]\n;B[aa]]\n)", code: CodeInvalidSGF, err: "line 2, column 7: unexpected ']'"},
		{name: "control character", data: "(;GM[1]\x01)", code: CodeInvalidSGF, err: "line 1, column 8: unexpected character U+0001"},
		{name: "property without value", data: "(;B[aa]W)", code: CodeInvalidSGF, err: "line 1, column 8: the property W has no value"},
		{name: "move off the board", data: "(;SZ[9];B[jj])", code: CodeIllegalMove, err: "move 1 (B jj): the point is not on the 9x9 board"},
		{name: "move that is not a point", data: "(;SZ[9];B[e])", code: CodeInvalidSGF, err: `move 1 (B e): "e" is not an SGF point`},
		{name: "a long value quoted in a message", data: "(;SZ[9];B[" + strings.Repeat("q", 5000) + "])", code: CodeInvalidSGF,
			err: `move 1 (B qqqqqqqqqqqqqqqqqqqqqqqq…): "qqqqqqqqqqqqqqqqqqqqqqqq…" is not an SGF point`},
		{name: "black and white in one node", data: "(;SZ[9];B[aa]W[bb])", code: CodeInvalidSGF,
			err: "move 1: one node holds both a black and a white move"},
		{name: "komi not a number", data: "(;KM[abc])", code: CodeInvalidSGF, err: "the komi KM[abc] is not a number"},
		{name: "komi KataGo refuses", data: "(;KM[6.3])", code: CodeUnsupported,
			err: "komi 6.3 is not an integer or half-integer from -400 to 400, as KataGo needs"},
		{name: "size not a number", data: "(;SZ[big])", code: CodeInvalidSGF, err: "the board size SZ[big] is not a number"},
		{name: "setup stone off the board", data: "(;SZ[9]AB[zz])", code: CodeInvalidSGF,
			err: "the setup stone AB[zz] is not a point of the 9x9 board"},
		{name: "setup group without liberty", data: "(;SZ[9]AB[aa]AW[ba][ab])", code: CodeIllegalMove,
			err: "the initial position is not legal: the group at A9 has no liberty"},
		{name: "too large", data: "(;C[" + strings.Repeat("x", 100) + "])", opt: ParseOptions{MaxBytes: 64},
			code: CodeTooLarge, err: "the file is 106 bytes; the limit is 64 bytes"},
		{name: "too many nodes", data: "(;" + strings.Repeat(";", 20) + ")", opt: ParseOptions{MaxNodes: 10},
			code: CodeTooLarge, err: "the record has more than 10 nodes, the limit"},
		{name: "too many moves", data: "(;SZ[9]" + strings.Repeat(";B[];W[]", 6) + ")", opt: ParseOptions{MaxMoves: 10},
			code: CodeTooManyMoves, err: "the game has more than 10 moves, the limit"},
	}
	runParseCases(t, ParseSGF, tests)
}

// parseCase is a record and what reading it must give.
type parseCase struct {
	name     string
	file     string // in testdata/
	data     string // used when file is empty
	opt      ParseOptions
	want     *Game
	warnings []string
	code     string // expected *Error code; want is nil then
	err      string // expected message
}

// runParseCases reads each case's record with parse and checks the outcome.
func runParseCases(t *testing.T, parse func([]byte, ParseOptions) (*Record, error), tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.data)
			if tt.file != "" {
				data = readTestdata(t, tt.file)
			}
			rec, err := parse(data, tt.opt)
			checkParse(t, rec, err, tt.want, tt.warnings, tt.code, tt.err)
		})
	}
}

func checkParse(t *testing.T, rec *Record, err error, want *Game, warnings []string, code, msg string) {
	t.Helper()
	if msg != "" {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("ParseSGF error = %v, want an *Error %q", err, msg)
		}
		if e.Code != code || e.Error() != msg {
			t.Fatalf("ParseSGF error = %q (%s), want %q (%s)", e.Error(), e.Code, msg, code)
		}
		return
	}
	if err != nil {
		t.Fatalf("ParseSGF: %v", err)
	}
	if diff := cmp.Diff(want, rec.Game); diff != "" {
		t.Errorf("game mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(warnings, rec.Warnings); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
	if err := rec.Game.Validate(); err != nil {
		t.Errorf("the parsed game does not validate: %v", err)
	}
}

// TestParseText checks what happens to the text of properties: escapes, soft line
// breaks, Windows line endings, FF[3] names, and the other properties kept in the tree.
func TestParseText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		node int // index in the main line
		id   string
		want []string
	}{
		{"soft line break before CRLF and CRLF", "crlf.sgf", 0, "C", []string{"line onejoined\nline two"}},
		{"escaped bracket", "crlf.sgf", 2, "C", []string{"a bracket ] inside"}},
		{"brackets and backslashes", "sabaki.sgf", 0, "C", []string{"A 9x9 teaching game. Brackets ] and backslashes \\ in comments."}},
		{"escaped bracket in KGS chat", "kgs.sgf", 11, "C", []string{"Tora [2d]: oops"}},
		{"FF[3] comment name", "ff3_lowercase.sgf", 1, "C", []string{"FF[3] style names"}},
		{"FF[3] file format name", "ff3_lowercase.sgf", 0, "FF", []string{"3"}},
		{"unknown properties kept", "kgs.sgf", 1, "BL", []string{"1797.5"}},
		{"list values", "handicap.sgf", 0, "AB", []string{"dd", "dp", "pd", "pp"}},
		{"ogs chat", "ogs.sgf", 2, "C", []string{"bob: have fun"}},
		{"UTF-8 names", "fox.sgf", 0, "PB", []string{"黑方棋手"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := ParseSGF(readTestdata(t, tt.file), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rec.Line[tt.node].Values(tt.id)); diff != "" {
				t.Errorf("%s of node %d (-want +got):\n%s", tt.id, tt.node, diff)
			}
		})
	}
}

// TestParseCharsets encodes records in legacy charsets with golang.org/x/text and checks
// that their text comes back as UTF-8, even where a double-byte character contains the
// bytes of '\' or ']' (Shift_JIS 表, ソ and ゾ do).
func TestParseCharsets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		enc      encoding.Encoding
		ca       string
		black    string
		white    string
		comment  string
		warnings []string
	}{
		{name: "GB2312", enc: simplifiedchinese.GBK, ca: "gb2312", black: "柯洁", white: "朴廷桓",
			comment: "第一局：黑棋开局很好。白棋表现出色！"},
		{name: "GBK labelled GBK", enc: simplifiedchinese.GBK, ca: "GBK", black: "古力", white: "李世石", comment: "精彩的对局"},
		{name: "Shift_JIS", enc: japanese.ShiftJIS, ca: "Shift_JIS", black: "井山裕太", white: "一力遼",
			comment: "表示のテスト：ソフトとゾウ［黒番］"},
		{name: "EUC-KR (Tygem)", enc: korean.EUCKR, ca: "euc-kr", black: "이세돌", white: "박정환", comment: "흑 불계승"},
		{name: "EUC-JP", enc: japanese.EUCJP, ca: "EUC-JP", black: "井山裕太", white: "芝野虎丸", comment: "表ソゾ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := "(;GM[1]FF[4]CA[" + tt.ca + "]SZ[19]KM[6.5]RU[Japanese]PB[" + tt.black + "]PW[" + tt.white +
				"]C[" + tt.comment + "];B[pd]C[" + tt.comment + "];W[dd])"
			data, err := tt.enc.NewEncoder().Bytes([]byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if tt.enc == japanese.ShiftJIS && !bytes.Contains(data[bytes.Index(data, []byte("C[")):], []byte{'\\'}) {
				t.Fatal("the Shift_JIS comment should contain the byte of a backslash")
			}
			rec, err := ParseSGF(data, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{rec.Game.BlackName, rec.Game.WhiteName, rec.Line[0].Values("C")[0], rec.Line[1].Values("C")[0]}
			if diff := cmp.Diff([]string{tt.black, tt.white, tt.comment, tt.comment}, got); diff != "" {
				t.Errorf("decoded text (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(seq(t, 19, 19, "B pd W dd"), rec.Game.Moves); diff != "" {
				t.Errorf("moves (-want +got):\n%s", diff)
			}
			if len(rec.Warnings) != 0 {
				t.Errorf("warnings: %q", rec.Warnings)
			}
		})
	}

	t.Run("CA after a comment that names another", func(t *testing.T) {
		t.Parallel()
		data, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(
			"(;GM[1]FF[4]GC[set CA[UTF-8\\] in your editor]CA[GB2312]SZ[19]KM[7.5]RU[Chinese]PB[柯洁];B[pd])"))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := ParseSGF(data, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Game.BlackName != "柯洁" || len(rec.Warnings) != 0 {
			t.Errorf("BlackName = %q, warnings %q; want 柯洁 and none", rec.Game.BlackName, rec.Warnings)
		}
	})
	t.Run("UTF-16 with a BOM", func(t *testing.T) {
		t.Parallel()
		text := "(;GM[1]SZ[9]KM[7]RU[Chinese]PB[柯洁];B[ee])"
		var data []byte
		data = append(data, 0xFF, 0xFE)
		for _, r := range text {
			data = append(data, byte(r), byte(r>>8))
		}
		rec, err := ParseSGF(data, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Game.BlackName != "柯洁" || len(rec.Game.Moves) != 1 {
			t.Errorf("got %q with %d moves", rec.Game.BlackName, len(rec.Game.Moves))
		}
	})
}

// TestFindCharset checks that the CA property is found among the property names, not in
// another property's value.
func TestFindCharset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
		found            bool
	}{
		{"root property", "(;FF[4]CA[GB2312]SZ[19])", "GB2312", true},
		{"blanks before the value", "(;CA \n[ UTF-8 ])", " UTF-8 ", true},
		{"after a value that holds CA[", "(;GC[set CA[UTF-8\\] in your editor]CA[GB2312])", "GB2312", true},
		{"after an escaped backslash", "(;C[a\\\\]CA[Big5])", "Big5", true},
		{"inside a value only", "(;C[CA[UTF-8]", "", false},
		{"in a longer name", "(;XCA[x]CAX[y]CA[EUC-KR])", "EUC-KR", true},
		{"too long to be a name", "(;CA[" + strings.Repeat("x", 65) + "]CA[UTF-8])", "UTF-8", true},
		{"cut off", "(;GN[game]CA[", "", false},
		{"cut off after an escaped bracket", "(;CA[UTF-8\\]", "", false},
		{"none", "(;SZ[19];B[pd])", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, found := findCharset([]byte(tt.data))
			if got != tt.want || found != tt.found {
				t.Errorf("findCharset(%q) = %q, %v; want %q, %v", tt.data, got, found, tt.want, tt.found)
			}
		})
	}
}

// TestParseWithoutCharset checks that a record that names no CA and is not UTF-8 is read
// in the character set chardet is sure of, with a warning that names it, and otherwise
// as ISO-8859-1: a short Latin-1 name is not taken for Chinese.
func TestParseWithoutCharset(t *testing.T) {
	t.Parallel()
	const iso = "the record does not name its character set (CA) and is not UTF-8; its text was read " +
		"as ISO-8859-1, so names and comments may look wrong"
	guessed := func(charset string) string {
		return "the record does not name its character set (CA) and is not UTF-8; its text was read as " +
			charset + ", the character set it looks like; names and comments may look wrong if it is another"
	}
	tests := []struct {
		name    string
		enc     encoding.Encoding
		props   string // the root's properties besides SZ, KM and RU
		black   string
		warning string
	}{
		{"GBK", simplifiedchinese.GBK, "PB[柯洁]PW[古力]C[白棋表现出色，黑棋失误]", "柯洁", guessed("GB18030")},
		{"EUC-KR", korean.EUCKR, "PB[이세돌]PW[박정환]EV[제7회 응씨배 결승 3국]", "이세돌", guessed("EUC-KR")},
		{"Shift_JIS", japanese.ShiftJIS, "PB[井山裕太]PW[一力遼]C[黒の中押し勝ち]", "井山裕太", guessed("Shift_JIS")},
		{"Latin-1 name", charmap.ISO8859_1, "PB[José]", "José", iso},
		{"Latin-1 names", charmap.ISO8859_1, "PB[Renée]PW[Jörg]C[Schön]", "Renée", iso},
		{"Latin-1 comment", charmap.ISO8859_1, "PB[Françoise]C[très bien, déjà vu]", "Françoise", iso},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, err := tt.enc.NewEncoder().Bytes([]byte("(;GM[1]FF[4]SZ[19]KM[6.5]RU[Japanese]" + tt.props + ";B[pd];W[dd])"))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := ParseSGF(data, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rec.Game.BlackName != tt.black || len(rec.Game.Moves) != 2 {
				t.Errorf("PB = %q with %d moves, want %q with 2", rec.Game.BlackName, len(rec.Game.Moves), tt.black)
			}
			if diff := cmp.Diff([]string{tt.warning}, rec.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseUTF8WithLegacyCharset checks that UTF-8 text under a legacy CA is read as
// UTF-8, with a warning, and keeps every value and move.
func TestParseUTF8WithLegacyCharset(t *testing.T) {
	t.Parallel()
	tests := []struct{ ca, black string }{
		{"GB2312", "柯洁 九段"},
		{"GB2312", "李"}, // as GB18030, its last byte and the ']' after it make one character
		{"GBK", "李"},
		{"Big5", "張"},
		{"Shift_JIS", "井山"},
		{"EUC-KR", "이세돌"},
	}
	for _, tt := range tests {
		t.Run(tt.ca+" "+tt.black, func(t *testing.T) {
			t.Parallel()
			rec, err := ParseSGF([]byte("(;GM[1]FF[4]CA["+tt.ca+"]SZ[19]KM[7.5]RU[Chinese]PB["+tt.black+"];B[pd];W[dd])"),
				ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rec.Game.BlackName != tt.black || len(rec.Game.Moves) != 2 {
				t.Errorf("PB = %q with %d moves, want %q with 2", rec.Game.BlackName, len(rec.Game.Moves), tt.black)
			}
			want := []string{"the record says CA[" + tt.ca + "] but its text is UTF-8; it was read as UTF-8"}
			if diff := cmp.Diff(want, rec.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseLargeRecords covers the long records: a 1,000-move game and a 100,000-deep
// variation.
func TestParseLargeRecords(t *testing.T) {
	t.Parallel()
	t.Run("1000 moves", func(t *testing.T) {
		t.Parallel()
		moves := randomGame(t, 1, 19, 1000, "chinese")
		data := sgfText("GM[1]FF[4]SZ[19]KM[7.5]RU[Chinese]", moves, nil)
		rec, err := ParseSGF([]byte(data), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := &Game{BoardXSize: 19, BoardYSize: 19, Komi: 7.5, Rules: "chinese", InitialPlayer: Black, Moves: moves}
		if diff := cmp.Diff(want, rec.Game); diff != "" {
			t.Errorf("game mismatch (-want +got):\n%s", diff)
		}
		captures := 0
		b := NewBoard(19, 19)
		for _, m := range moves {
			if m.Pass {
				continue
			}
			n, err := b.Play(m.Color, m.Point)
			if err != nil {
				t.Fatal(err)
			}
			captures += n
		}
		if captures == 0 {
			t.Error("the generated game should exercise captures")
		}
	})

	// deep nests the variation 100,000 levels deep, each level one node: valid SGF.
	deep := func(prefix string) string {
		const depth = 100_000
		var b strings.Builder
		b.WriteString("(;GM[1]SZ[19]KM[6.5]RU[Japanese];B[pd];W[dp]" + prefix)
		for i := range depth {
			if i%2 == 0 {
				b.WriteString("(;B[]")
			} else {
				b.WriteString("(;W[]")
			}
		}
		b.WriteString(strings.Repeat(")", depth))
		b.WriteString(")")
		return b.String()
	}
	t.Run("100000-deep variation within the node limit", func(t *testing.T) {
		t.Parallel()
		rec, err := ParseSGF([]byte(deep("")), ParseOptions{MaxNodes: 200_000, MaxMoves: 200_000})
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Game.Moves) != 100_002 || len(rec.Line) != 100_004-1 {
			t.Errorf("got %d moves on a %d-node line", len(rec.Game.Moves), len(rec.Line))
		}
	})
	t.Run("100000-deep variation with the default limits", func(t *testing.T) {
		t.Parallel()
		_, err := ParseSGF([]byte(deep("")), ParseOptions{})
		checkParse(t, nil, err, nil, nil, CodeTooLarge, "the record has more than 50000 nodes, the limit")
	})
	t.Run("100000-deep side variation, main line analyzed", func(t *testing.T) {
		t.Parallel()
		data := deep("(;B[pp];W[dd])")
		rec, err := ParseSGF([]byte(data), ParseOptions{MaxNodes: 200_000})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(seq(t, 19, 19, "B pd W dp B pp W dd"), rec.Game.Moves); diff != "" {
			t.Errorf("moves (-want +got):\n%s", diff)
		}
		_, err = ParseSGF([]byte(data), ParseOptions{MaxNodes: 200_000, Path: []int{1}})
		checkParse(t, nil, err, nil, nil, CodeTooManyMoves, "the game has more than 2000 moves, the limit")
	})
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []int
		err  bool
	}{
		{"", nil, false},
		{"1", []int{1}, false},
		{" 1, 0 ,2", []int{1, 0, 2}, false},
		{"1,-1", nil, true},
		{"a", nil, true},
		{"1,,2", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePath(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("ParsePath(%q) error = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePath(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestRulesFromSGF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ru   string
		want string
		ok   bool
	}{
		{"Japanese", "japanese", true},
		{"JP", "japanese", true},
		{"Korean", "korean", true},
		{"Chinese", "chinese", true},
		{"CN", "chinese", true},
		{"AGA", "aga", true},
		{"NZ", "new-zealand", true},
		{"New Zealand", "new-zealand", true},
		{"Tromp-Taylor", "tromp-taylor", true},
		{"Ing", "ing", true},
		{"GOE", "goe", true},
		{"chinese-kgs", "chinese-kgs", true},
		{"Japanese (1989)", "japanese", true},
		{"中国规则", "chinese", true},
		{"日本", "japanese", true},
		{"한국", "korean", true},
		{"koSITUATIONALscoreTERRITORYsui0", "koSITUATIONALscoreTERRITORYsui0", true},
		{"", "", false},
		{"Klingon", "", false},
		{"koBOGUS", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.ru, func(t *testing.T) {
			t.Parallel()
			r, ok := RulesFromSGF(tt.ru)
			if ok != tt.ok || r.Name != tt.want {
				t.Errorf("RulesFromSGF(%q) = %q, %v; want %q, %v", tt.ru, r.Name, ok, tt.want, tt.ok)
			}
		})
	}
}
