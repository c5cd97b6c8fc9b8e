package gtp

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/game"
)

func TestParseRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		wantJSON string // "" when the rules do not parse
		wantName string
	}{
		// kata-get-rules of KataGo's GTP engine for tromp-taylor, as the transcript shows.
		{"tromp-taylor", `{"friendlyPassOk":false,"hasButton":false,"ko":"POSITIONAL","scoring":"AREA","suicide":true,"tax":"NONE","whiteHandicapBonus":"0"}`, "tromp-taylor"},
		{"Japanese", `{"friendlyPassOk":false,"hasButton":false,"ko":"SIMPLE","scoring":"TERRITORY","suicide":false,"tax":"SEKI","whiteHandicapBonus":"0"}`, "japanese"},
		{"korean", `{"friendlyPassOk":false,"hasButton":false,"ko":"SIMPLE","scoring":"TERRITORY","suicide":false,"tax":"SEKI","whiteHandicapBonus":"0"}`, "japanese"},
		{"chinese", `{"friendlyPassOk":true,"hasButton":false,"ko":"SIMPLE","scoring":"AREA","suicide":false,"tax":"NONE","whiteHandicapBonus":"N"}`, "chinese"},
		{"nz", `{"friendlyPassOk":true,"hasButton":false,"ko":"SITUATIONAL","scoring":"AREA","suicide":true,"tax":"NONE","whiteHandicapBonus":"0"}`, "new-zealand"},
		{"koSIMPLEscoreAREAtaxNONEsui1", `{"friendlyPassOk":false,"hasButton":false,"ko":"SIMPLE","scoring":"AREA","suicide":true,"tax":"NONE","whiteHandicapBonus":"0"}`, "koSIMPLEscoreAREAtaxNONEsui1"},
		{"koPOSITIONALscoringTERRITORYsui0whbN-1", `{"friendlyPassOk":false,"hasButton":false,"ko":"POSITIONAL","scoring":"TERRITORY","suicide":false,"tax":"SEKI","whiteHandicapBonus":"N-1"}`, "koPOSITIONALscoreTERRITORYtaxSEKIsui0whbN-1"},
		{`{"ko":"SITUATIONAL","scoring":"AREA","suicide":false,"whiteHandicapBonus":"N-1","friendlyPassOk":true}`, `{"friendlyPassOk":true,"hasButton":false,"ko":"SITUATIONAL","scoring":"AREA","suicide":false,"tax":"NONE","whiteHandicapBonus":"N-1"}`, "aga"},
		{"", "", ""},
		{"bogus", "", ""},
		{`{"ko":"NONE"}`, "", ""},
		{`{"komi":7.5}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			r, err := game.ParseRulesWithoutKomi(tt.in)
			if tt.wantJSON == "" {
				if err == nil {
					t.Fatalf("ParseRulesWithoutKomi(%q) = %s, want an error", tt.in, rulesJSON(r))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRulesWithoutKomi(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.wantJSON, rulesJSON(r)); diff != "" {
				t.Errorf("json (-want +got):\n%s", diff)
			}
			if got := r.QueryName(); got != tt.wantName {
				t.Errorf("QueryName() = %q, want %q", got, tt.wantName)
			}
			// The name goes to the server, which must read it as the same board rules.
			gr, ok := game.LookupRules(r.QueryName())
			if !ok || !gr.SameRules(r) {
				t.Errorf("game.LookupRules(%q) = %+v, %v; want %+v", r.QueryName(), gr, ok, r)
			}
			// The compact form reads back as the same rules.
			back, err := game.ParseRulesWithoutKomi(r.Compact())
			if err != nil || !back.SameRules(r) {
				t.Errorf("compact %q reads back as %+v, %v", r.Compact(), back, err)
			}
		})
	}
}

func TestSetRule(t *testing.T) {
	t.Parallel()
	r, _ := game.ParseRulesWithoutKomi("tromp-taylor")
	r, err := r.SetRule("ko", "simple")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = r.SetRule("suicide", "false"); err != nil {
		t.Fatal(err)
	}
	if r, err = r.SetRule("friendlyPassOk", "true"); err != nil {
		t.Fatal(err)
	}
	if r, err = r.SetRule("whiteHandicapBonus", "N"); err != nil {
		t.Fatal(err)
	}
	if got := r.QueryName(); got != "chinese" {
		t.Errorf("after the changes the rules are %q, want chinese", got)
	}
	if _, err := r.SetRule("bogus", "1"); err == nil {
		t.Error("an unknown rule was accepted")
	}
	if _, err := r.SetRule("ko", "sometimes"); err == nil {
		t.Error("an unknown ko rule was accepted")
	}
}
