package gtp

import (
	"fmt"

	"github.com/tesuji/tesuji/game"
)

// The rules of a session are a game.Ruleset in full (game owns KataGo's rulesets and their
// parsers); this file holds only how GTP shows them.

// niceNames name rulesets as KataGo's "Changed rules to ..." notices do, by QueryName.
var niceNames = map[string]string{
	"tromp-taylor": "TrompTaylor", "japanese": "Japanese", "chinese": "Chinese", "chinese-ogs": "Chinese-OGS",
	"aga": "AGA", "stone-scoring": "StoneScoring", "new-zealand": "NewZealand",
}

// niceName names the ruleset as KataGo's "Changed rules to" notice does.
func niceName(r game.Ruleset) string {
	n := r.QueryName()
	if nice, ok := niceNames[n]; ok {
		return nice
	}
	return r.Compact()
}

// rulesJSON is the ruleset as kata-get-rules answers: KataGo's JSON with keys in byte order.
func rulesJSON(r game.Ruleset) string {
	return fmt.Sprintf(`{"friendlyPassOk":%t,"hasButton":%t,"ko":"%s","scoring":"%s","suicide":%t,"tax":"%s","whiteHandicapBonus":"%s"}`,
		r.FriendlyPassOk, r.Button, r.Ko, r.Scoring, r.Suicide, r.Tax, r.WhiteHandicapBonus)
}

// rulesJSONWithKomi is the ruleset with komi, as showboard prints it.
func rulesJSONWithKomi(r game.Ruleset, komi float64) string {
	return fmt.Sprintf(`{"friendlyPassOk":%t,"hasButton":%t,"ko":"%s","komi":%s,"scoring":"%s","suicide":%t,"tax":"%s","whiteHandicapBonus":"%s"}`,
		r.FriendlyPassOk, r.Button, r.Ko, cfloat(komi), r.Scoring, r.Suicide, r.Tax, r.WhiteHandicapBonus)
}

// integerResult reports whether a game under these rules and komi ends in a whole number
// of points, which decides how final_score rounds.
func integerResult(r game.Ruleset, komi float64) bool {
	integerKomi := komi == float64(int64(komi))
	return integerKomi != r.Button
}

// parseBool reads a GTP argument as KataGo's Global::stringToBool does.
func parseBool(v string) (bool, error) {
	b, err := game.ParseRuleBool(v)
	if err != nil {
		return false, fail("%s", err)
	}
	return b, nil
}
