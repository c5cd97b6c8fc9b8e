package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/game"
)

func TestVariations(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{api: api.Config{MaxUploadBytes: 8 << 10}})
	alice, bob := e.token(t, "alice"), e.token(t, "bob")
	id := e.submit(t, alice, game3, map[string]string{"maxVisits": "5"})
	if events := e.follow(t, alice, id); events[len(events)-1].typ != "done" {
		t.Fatalf("the analysis ended with %q", events[len(events)-1].typ)
	}
	path := "/api/v1/analyses/" + id + "/variations"

	var empty struct{ Variations []api.Variation }
	if r := e.do(t, "GET", path, alice, nil); r.status != http.StatusOK {
		t.Fatalf("GET before any save: %d %s", r.status, r.body)
	} else if r.decode(t, &empty); empty.Variations == nil || len(empty.Variations) != 0 {
		t.Errorf("GET before any save = %s, want an empty list", r.body)
	}

	lead := 13.0
	saved := map[string]any{"variations": []map[string]any{
		{"at": 1, "moves": [][2]string{{"W", "D4"}, {"B", "F6"}},
			"turns": []any{map[string]any{"turn": 99, "player": "B", "move": "D4", "winrate": 0.9, "scoreLead": lead, "visits": 7, "candidates": []any{}}, nil}},
		{"at": 0, "moves": [][2]string{{"B", "C3"}}},
	}}
	r := e.do(t, "PUT", path, alice, saved)
	if r.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	var got struct{ Variations []api.Variation }
	e.do(t, "GET", path, alice, nil).decode(t, &got)
	if len(got.Variations) != 2 || got.Variations[0].Turns[0] == nil || got.Variations[0].Turns[0].Turn != 2 ||
		got.Variations[0].Turns[1] != nil || got.Variations[1].Moves[0] != [2]string{"B", "C3"} {
		t.Errorf("GET after PUT = %+v; want both variations, the analysis renumbered to turn 2", got)
	}

	sgf := e.do(t, "GET", "/api/v1/analyses/"+id+"/sgf", alice, nil)
	rec, err := game.ParseSGF(sgf.body, game.ParseOptions{})
	if err != nil {
		t.Fatalf("the annotated SGF does not parse: %v", err)
	}
	var firsts []string
	for _, n := range rec.Line[1].Children {
		if c, _ := n.Get("C"); strings.HasPrefix(c, "Variation ") {
			firsts = append(firsts, n.Values("W")[0])
		}
	}
	if diff := cmp.Diff([]string{"df"}, firsts); diff != "" {
		t.Errorf("own variations after move 1 (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, token string
		body        any
		status      int
		code        string
	}{
		{name: "another owner", token: bob, body: saved, status: http.StatusNotFound, code: "not_found"},
		{name: "occupied point", token: alice, status: http.StatusBadRequest, code: "invalid_variation",
			body: map[string]any{"variations": []map[string]any{{"at": 2, "moves": [][2]string{{"B", "E5"}}}}}},
		{name: "turn past the game", token: alice, status: http.StatusBadRequest, code: "invalid_variation",
			body: map[string]any{"variations": []map[string]any{{"at": 9, "moves": [][2]string{{"B", "A1"}}}}}},
		{name: "no moves", token: alice, status: http.StatusBadRequest, code: "invalid_variation",
			body: map[string]any{"variations": []map[string]any{{"at": 0, "moves": [][2]string{}}}}},
		{name: "more analyses than moves", token: alice, status: http.StatusBadRequest, code: "invalid_variation",
			body: map[string]any{"variations": []map[string]any{{"at": 0, "moves": [][2]string{{"B", "A1"}}, "turns": []any{nil, nil}}}}},
		{name: "too many", token: alice, status: http.StatusBadRequest, code: "too_many_variations",
			body: map[string]any{"variations": make([]map[string]any, 101)}},
		{name: "too large", token: alice, status: http.StatusRequestEntityTooLarge, code: "too_large",
			body: map[string]any{"variations": []map[string]any{{"at": 0, "moves": [][2]string{{"B", strings.Repeat("A", 9000)}}}}}},
		{name: "not JSON", token: alice, body: "[", status: http.StatusBadRequest, code: "invalid_request"},
	}
	// The group returns when its parallel cases are done.
	t.Run("refused", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				r := e.do(t, "PUT", path, tt.token, tt.body)
				if r.status != tt.status || r.errCode() != tt.code {
					t.Errorf("PUT: %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
				}
			})
		}
	})
	var after struct{ Variations []api.Variation }
	e.do(t, "GET", path, alice, nil).decode(t, &after)
	if diff := cmp.Diff(got, after); diff != "" {
		t.Errorf("variations changed by refused requests (-before +after):\n%s", diff)
	}
	if r := e.do(t, "GET", path, bob, nil); r.status != http.StatusNotFound {
		t.Errorf("GET by another owner: %d", r.status)
	}
}
