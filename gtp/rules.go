package gtp

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tesuji/tesuji/game"
)

// rules is a KataGo ruleset in full, as kata-get-rules reports it and kata-set-rules,
// kata-set-rule and kgs-rules change it. The game package knows only what the board needs
// (ko and suicide); the bridge keeps the rest so that it can answer kata-get-rules as
// KataGo does and send the server exactly the rules the GUI chose.
type rules struct {
	ko       string // SIMPLE, POSITIONAL, SITUATIONAL or SPIGHT
	scoring  string // AREA or TERRITORY
	tax      string // NONE, SEKI or ALL
	suicide  bool   // multi-stone suicide is legal
	button   bool
	whb      string // white handicap bonus: 0, N or N-1
	passOkay bool   // friendlyPassOk
}

// namedRules are KataGo's named rulesets (cpp/game/rules.cpp of KataGo v1.17), under the
// name the bridge sends to the server when a ruleset matches one, first match winning.
var namedRules = []struct {
	name  string
	nice  string // how KataGo names it in "Changed rules to ..." notices
	alias []string
	r     rules
}{
	{"tromp-taylor", "TrompTaylor", []string{"tromp-taylor", "tromp_taylor", "tromp taylor", "tromptaylor"},
		rules{"POSITIONAL", "AREA", "NONE", true, false, "0", false}},
	{"japanese", "Japanese", []string{"japanese", "korean"},
		rules{"SIMPLE", "TERRITORY", "SEKI", false, false, "0", false}},
	{"chinese", "Chinese", []string{"chinese"},
		rules{"SIMPLE", "AREA", "NONE", false, false, "N", true}},
	{"chinese-ogs", "Chinese-OGS", []string{"chineseogs", "chinese_ogs", "chinese-ogs", "chinesekgs", "chinese_kgs", "chinese-kgs"},
		rules{"POSITIONAL", "AREA", "NONE", false, false, "N", true}},
	{"aga", "AGA", []string{"aga", "bga", "french"},
		rules{"SITUATIONAL", "AREA", "NONE", false, false, "N-1", true}},
	{"stone-scoring", "StoneScoring", []string{"ancientarea", "ancient-area", "ancient_area", "ancient area", "stonescoring", "stone-scoring", "stone_scoring", "stone scoring"},
		rules{"SIMPLE", "AREA", "ALL", false, false, "0", true}},
	{"new-zealand", "NewZealand", []string{"nz", "newzealand", "new zealand", "new-zealand", "new_zealand"},
		rules{"SITUATIONAL", "AREA", "NONE", true, false, "0", true}},
	{"ancient-territory", "", []string{"ancientterritory", "ancient-territory", "ancient_territory", "ancient territory"},
		rules{"SIMPLE", "TERRITORY", "ALL", false, false, "0", false}},
	{"aga-button", "", []string{"agabutton", "aga-button", "aga_button", "aga button"},
		rules{"SITUATIONAL", "AREA", "NONE", false, true, "N-1", true}},
	{"goe", "", []string{"goe", "ing"},
		rules{"POSITIONAL", "AREA", "NONE", true, false, "0", true}},
}

var (
	koValues      = []string{"SIMPLE", "POSITIONAL", "SITUATIONAL", "SPIGHT"}
	scoringValues = []string{"AREA", "TERRITORY"}
	taxValues     = []string{"NONE", "SEKI", "ALL"}
	whbValues     = []string{"0", "N", "N-1"}
)

// parseRules reads a ruleset as KataGo's kata-set-rules does: a name ("japanese",
// "Tromp-Taylor", "nz", ...), a JSON object of rule fields, or KataGo's compact form
// such as "koPOSITIONALscoreAREAtaxNONEsui1". Komi is not part of it.
func parseRules(s string) (rules, error) {
	lower := strings.ToLower(strings.TrimSpace(s))
	for _, n := range namedRules {
		for _, a := range n.alias {
			if lower == a {
				return n.r, nil
			}
		}
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		return parseJSONRules(t)
	}
	return parseCompactRules(t)
}

func parseJSONRules(s string) (rules, error) {
	r := namedRules[0].r
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &fields); err != nil {
		return rules{}, fail("Could not parse rules: %s", s)
	}
	taxSet := false
	for k, v := range fields {
		var str string
		var b bool
		var err error
		switch k {
		case "ko", "score", "scoring", "tax", "whiteHandicapBonus":
			err = json.Unmarshal(v, &str)
		case "suicide", "hasButton", "friendlyPassOk":
			err = json.Unmarshal(v, &b)
		default:
			return rules{}, fail("Unknown rules option: %s", k)
		}
		if err != nil {
			return rules{}, fail("Could not parse rules: %s", s)
		}
		switch k {
		case "ko":
			err = setEnum(&r.ko, str, koValues, "ko")
		case "score", "scoring":
			err = setEnum(&r.scoring, str, scoringValues, "scoring")
		case "tax":
			err = setEnum(&r.tax, str, taxValues, "tax")
			taxSet = true
		case "whiteHandicapBonus":
			err = setEnum(&r.whb, str, whbValues, "whiteHandicapBonus")
		case "suicide":
			r.suicide = b
		case "hasButton":
			r.button = b
		case "friendlyPassOk":
			r.passOkay = b
		}
		if err != nil {
			return rules{}, err
		}
	}
	if !taxSet {
		r.tax = defaultTax(r.scoring)
	}
	return r, nil
}

func setEnum(dst *string, v string, allowed []string, what string) error {
	for _, a := range allowed {
		if v == a {
			*dst = v
			return nil
		}
	}
	return fail("Invalid %s rule: %s", what, v)
}

func defaultTax(scoring string) string {
	if scoring == "TERRITORY" {
		return "SEKI"
	}
	return "NONE"
}

// parseCompactRules reads KataGo's legacy compact format, each field a prefix and a value.
func parseCompactRules(s string) (rules, error) {
	bad := fail("Could not parse rules: %s", s)
	if s == "" {
		return rules{}, bad
	}
	r := namedRules[0].r
	taxSet := false
	take := func(rest *string, prefix string) bool {
		if strings.HasPrefix(*rest, prefix) {
			*rest = strings.TrimSpace((*rest)[len(prefix):])
			return true
		}
		return false
	}
	choose := func(rest *string, dst *string, values []string) bool {
		// Longest first, so "N-1" wins over "N".
		for i := len(values) - 1; i >= 0; i-- {
			if take(rest, values[i]) {
				*dst = values[i]
				return true
			}
		}
		return false
	}
	flag := func(rest *string, dst *bool) bool {
		switch {
		case take(rest, "1"):
			*dst = true
		case take(rest, "0"):
			*dst = false
		default:
			return false
		}
		return true
	}
	for rest := s; rest != ""; {
		ok := false
		switch {
		case take(&rest, "ko"):
			ok = choose(&rest, &r.ko, koValues)
		case take(&rest, "scoring"), take(&rest, "score"):
			ok = choose(&rest, &r.scoring, scoringValues)
		case take(&rest, "tax"):
			ok = choose(&rest, &r.tax, taxValues)
			taxSet = true
		case take(&rest, "sui"):
			ok = flag(&rest, &r.suicide)
		case take(&rest, "button"):
			ok = flag(&rest, &r.button)
		case take(&rest, "whb"):
			ok = choose(&rest, &r.whb, []string{"0", "N", "N-1"})
		case take(&rest, "fpok"):
			ok = flag(&rest, &r.passOkay)
		}
		if !ok {
			return rules{}, bad
		}
	}
	if !taxSet {
		r.tax = defaultTax(r.scoring)
	}
	return r, nil
}

// set changes one field as kata-set-rule does.
func (r rules) set(key, value string) (rules, error) {
	v := strings.ToUpper(strings.TrimSpace(value))
	var err error
	switch strings.TrimSpace(key) {
	case "ko":
		err = setEnum(&r.ko, v, koValues, "ko")
	case "score", "scoring":
		err = setEnum(&r.scoring, v, scoringValues, "scoring")
	case "tax":
		err = setEnum(&r.tax, v, taxValues, "tax")
	case "whiteHandicapBonus":
		err = setEnum(&r.whb, v, whbValues, "whiteHandicapBonus")
	case "suicide":
		r.suicide, err = parseBool(v)
	case "hasButton":
		r.button, err = parseBool(v)
	case "friendlyPassOk":
		r.passOkay, err = parseBool(v)
	default:
		err = fail("Unknown rules option: %s", key)
	}
	return r, err
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1", "t", "yes", "y":
		return true, nil
	case "false", "0", "f", "no", "n":
		return false, nil
	}
	return false, fail("Could not parse bool: %s", v)
}

// json is the ruleset as kata-get-rules answers: KataGo's JSON with keys in byte order.
func (r rules) json() string {
	return fmt.Sprintf(`{"friendlyPassOk":%t,"hasButton":%t,"ko":"%s","scoring":"%s","suicide":%t,"tax":"%s","whiteHandicapBonus":"%s"}`,
		r.passOkay, r.button, r.ko, r.scoring, r.suicide, r.tax, r.whb)
}

// jsonWithKomi is the ruleset with komi, as showboard prints it.
func (r rules) jsonWithKomi(komi float64) string {
	return fmt.Sprintf(`{"friendlyPassOk":%t,"hasButton":%t,"ko":"%s","komi":%s,"scoring":"%s","suicide":%t,"tax":"%s","whiteHandicapBonus":"%s"}`,
		r.passOkay, r.button, r.ko, cfloat(komi), r.scoring, r.suicide, r.tax, r.whb)
}

// compact is KataGo's compact form of the ruleset, which KataGo's analysis engine and the
// game package both read.
func (r rules) compact() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ko%sscore%stax%ssui%d", r.ko, r.scoring, r.tax, b2i(r.suicide))
	if r.button {
		b.WriteString("button1")
	}
	if r.whb != "0" {
		b.WriteString("whb" + r.whb)
	}
	if r.passOkay {
		b.WriteString("fpok1")
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// name is the rules string sent to the server: KataGo's name of the ruleset when it is a
// named one, else the compact form.
func (r rules) name() string {
	for _, n := range namedRules {
		if n.r == r {
			return n.name
		}
	}
	return r.compact()
}

// nice names the ruleset as KataGo's "Changed rules to" notice does.
func (r rules) nice() string {
	for _, n := range namedRules {
		if n.r == r && n.nice != "" {
			return n.nice
		}
	}
	return r.compact()
}

// ruleset is what the board needs to know: ko and multi-stone suicide.
func (r rules) ruleset() game.Ruleset {
	ko := game.KoPositional
	switch r.ko {
	case "SIMPLE":
		ko = game.KoSimple
	case "SITUATIONAL", "SPIGHT":
		ko = game.KoSituational
	}
	return game.Ruleset{Name: r.name(), Ko: ko, Suicide: r.suicide}
}

// integerResult reports whether a game under these rules and komi ends in a whole number
// of points, which decides how final_score rounds.
func (r rules) integerResult(komi float64) bool {
	integerKomi := komi == float64(int64(komi))
	return integerKomi != r.button
}
