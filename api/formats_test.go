package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/game"
)

// TestUploadOtherFormats uploads Tygem and WBaduk records: each is analyzed as the game it
// holds, and its download is the annotated SGF of that game.
func TestUploadOtherFormats(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	tok := e.token(t, "alice")
	tests := []struct {
		file, name           string
		black, white, result string
	}{
		{file: "tygem_korean.gib", name: "lee-park.gib", black: "이세돌", white: "박정환", result: "W+R"},
		{file: "wbaduk_handicap.ngf", name: "handicap.NGF", black: "초보기사", white: "바둑왕", result: "W+R"},
		// The content decides, whatever the name says.
		{file: "tygem_chinese_handicap.gib", name: "renamed.sgf", black: "古力", white: "柯洁", result: "B+12.5"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("..", "game", "testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			want, err := game.Parse(data, game.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := e.uploadFile(t, tok, tt.name, string(data), map[string]string{"maxVisits": "10"})
			if r.status != http.StatusAccepted {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			var created struct {
				ID    string
				Turns int
			}
			r.decode(t, &created)
			if created.Turns != len(want.Game.Moves)+1 {
				t.Errorf("turns = %d, want %d", created.Turns, len(want.Game.Moves)+1)
			}
			if events := e.follow(t, tok, created.ID); events[len(events)-1].typ != "done" {
				t.Fatalf("the analysis ended with %q", events[len(events)-1].typ)
			}

			var got struct {
				Game struct{ Black, White, Result string }
			}
			e.do(t, "GET", "/api/v1/analyses/"+created.ID, tok, nil).decode(t, &got)
			if diff := cmp.Diff(tt.black+" "+tt.white+" "+tt.result,
				got.Game.Black+" "+got.Game.White+" "+got.Game.Result); diff != "" {
				t.Errorf("game (-want +got):\n%s", diff)
			}

			sgf := e.do(t, "GET", "/api/v1/analyses/"+created.ID+"/sgf", tok, nil)
			if sgf.status != http.StatusOK {
				t.Fatalf("sgf: %d %s", sgf.status, sgf.body)
			}
			back, err := game.ParseSGF(sgf.body, game.ParseOptions{})
			if err != nil {
				t.Fatalf("the annotated SGF does not parse: %v", err)
			}
			if diff := cmp.Diff(want.Game, back.Game); diff != "" {
				t.Errorf("the annotated SGF holds another game (-uploaded +annotated):\n%s", diff)
			}
		})
	}
}

// TestUploadUnknownFormat checks that a file of another kind is refused with its kind named.
func TestUploadUnknownFormat(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	tok := e.token(t, "alice")
	tests := []struct{ name, data, want string }{
		{name: "scan.pdf", data: "%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n",
			want: "this looks like a PDF file; tesuji reads SGF, Tygem (.gib) and WBaduk (.ngf) game records"},
		{name: "game.ugf", data: "[Header]\nVer=1\n[Data]\nQD,B1,0\n",
			want: "this looks like a Pandanet UGF/UGI record; tesuji reads SGF, Tygem (.gib) and WBaduk (.ngf) game records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.uploadFile(t, tok, tt.name, tt.data, nil)
			var body struct {
				Error struct{ Code, Message string }
			}
			r.decode(t, &body)
			if diff := cmp.Diff(struct {
				Status        int
				Code, Message string
			}{http.StatusBadRequest, "invalid_sgf", tt.want},
				struct {
					Status        int
					Code, Message string
				}{r.status, body.Error.Code, body.Error.Message}); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}
