package game

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Ruleset
		wantErr string // "" when the rules parse
	}{
		{in: "NZ", want: Ruleset{Name: "new-zealand", Ko: KoSituational, Suicide: true, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "0", FriendlyPassOk: true}},
		{in: " Japanese ", want: Ruleset{Name: "japanese", Ko: KoSimple, Komi: 6.5, Scoring: "TERRITORY", Tax: "SEKI", WhiteHandicapBonus: "0"}},
		{in: "koSPIGHTscoreTERRITORYsui0", want: Ruleset{Name: "koSPIGHTscoreTERRITORYsui0", Ko: KoSpight, Komi: 6.5, Scoring: "TERRITORY", Tax: "SEKI", WhiteHandicapBonus: "0"}},
		{in: "koSIMPLEscoreAREAtaxALLsui0komi6.5", want: Ruleset{Name: "koSIMPLEscoreAREAtaxALLsui0komi6.5", Ko: KoSimple, Komi: 6.5, Scoring: "AREA", Tax: "ALL", WhiteHandicapBonus: "0"}},
		{in: "koSIMPLEscoreAREAbutton1whbN-1", want: Ruleset{Name: "koSIMPLEscoreAREAbutton1whbN-1", Ko: KoSimple, Suicide: true, Komi: 7, Scoring: "AREA", Tax: "NONE", Button: true, WhiteHandicapBonus: "N-1"}},
		{in: `{"ko":"SIMPLE","scoring":"AREA","suicide":false,"whiteHandicapBonus":"N","friendlyPassOk":true,"komi":5}`,
			want: Ruleset{Name: "chinese", Ko: KoSimple, Komi: 5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "N", FriendlyPassOk: true}},
		{in: "", wantErr: "Could not parse rules: "},
		{in: "nonsense-rules", wantErr: "Could not parse rules: nonsense-rules"},
		{in: "koSIMPLEkomi", wantErr: "Could not parse rules: koSIMPLEkomi"},
		{in: `{"ko":"NONE"}`, wantErr: "Invalid ko rule: NONE"},
		{in: `{"bogus":1}`, wantErr: "Unknown rules option: bogus"},
		{in: `{"komi":7.25}`, wantErr: `Could not parse rules: {"komi":7.25}`},
		{in: `{"ko":`, wantErr: `Could not parse rules: {"ko":`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRules(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParseRules(%q) = %+v, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			back, err := ParseRules(got.Compact())
			if err != nil || !back.SameRules(got) {
				t.Errorf("compact %q reads back as %+v, %v", got.Compact(), back, err)
			}
		})
	}
	// Without komi, as kata-set-rules and a query's rules string read them.
	for _, in := range []string{`{"komi":7.5}`, "koSIMPLEkomi7.5"} {
		if r, err := ParseRulesWithoutKomi(in); err == nil {
			t.Errorf("ParseRulesWithoutKomi(%q) = %+v, want an error", in, r)
		}
		if r, ok := LookupRules(in); ok {
			t.Errorf("LookupRules(%q) = %+v, want false", in, r)
		}
	}
}

func TestRulesetQueryName(t *testing.T) {
	t.Parallel()
	for _, n := range namedRulesets {
		back, ok := LookupRules(n.r.QueryName())
		if !ok || !back.SameRules(n.r) {
			t.Errorf("%s: QueryName %q reads back as %+v", n.r.Name, n.r.QueryName(), back)
		}
	}
	korean, _ := LookupRules("korean")
	if got := korean.QueryName(); got != "japanese" {
		t.Errorf("korean's QueryName = %q, want the first ruleset with its rules, japanese", got)
	}
}
