package game

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// KoRule is how a ruleset forbids repetition.
type KoRule int8

// The ko rules KataGo knows.
const (
	// KoSimple forbids retaking a single-stone ko at once.
	KoSimple KoRule = iota
	// KoPositional forbids recreating any earlier board position.
	KoPositional
	// KoSituational forbids recreating an earlier board position with the same player to move.
	KoSituational
	// KoSpight is KataGo's SPIGHT rule; the board checks it as situational superko.
	KoSpight
)

var koNames = []string{"SIMPLE", "POSITIONAL", "SITUATIONAL", "SPIGHT"}

// String returns the rule as KataGo writes it: SIMPLE, POSITIONAL, SITUATIONAL or SPIGHT.
func (k KoRule) String() string {
	if int(k) < len(koNames) {
		return koNames[k]
	}
	return "KoRule(" + strconv.Itoa(int(k)) + ")"
}

// Ruleset is one of KataGo's rulesets in full. The board needs only Ko and Suicide; the
// rest lets the GTP bridge answer kata-get-rules as KataGo does and send exactly the rules
// a GUI chose, and the fake engine check queries as KataGo does.
type Ruleset struct {
	Name    string  // KataGo's rules string, as the query sends it
	Ko      KoRule  // repetition rule
	Suicide bool    // multi-stone suicide is legal (single-stone suicide never is, in KataGo)
	Komi    float64 // KataGo's default komi for the ruleset

	Scoring            string // AREA or TERRITORY
	Tax                string // NONE, SEKI or ALL
	Button             bool   // hasButton
	WhiteHandicapBonus string // 0, N or N-1
	FriendlyPassOk     bool
}

// SameRules reports whether r and o play and score alike, whatever their names and komi.
func (r Ruleset) SameRules(o Ruleset) bool {
	r.Name, r.Komi, o.Name, o.Komi = "", 0, "", 0
	return r == o
}

// DefaultRules is the ruleset of a record whose RU is missing or unknown (with a warning in
// Record.Warnings): Japanese, as KaTrain assumes, so that point losses compare with KaTrain's.
const DefaultRules = "japanese"

// namedRulesets are KataGo's named rulesets (cpp/game/rules.cpp of KataGo v1.17) with every
// spelling KataGo accepts once lower-cased. Where two have the same rules, the first one's
// name is the one QueryName gives.
var namedRulesets = []struct {
	r       Ruleset
	aliases []string
}{
	{Ruleset{Name: "tromp-taylor", Ko: KoPositional, Suicide: true, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "0"},
		[]string{"tromp-taylor", "tromp_taylor", "tromp taylor", "tromptaylor"}},
	{Ruleset{Name: "japanese", Ko: KoSimple, Komi: 6.5, Scoring: "TERRITORY", Tax: "SEKI", WhiteHandicapBonus: "0"},
		[]string{"japanese"}},
	{Ruleset{Name: "korean", Ko: KoSimple, Komi: 6.5, Scoring: "TERRITORY", Tax: "SEKI", WhiteHandicapBonus: "0"},
		[]string{"korean"}},
	{Ruleset{Name: "chinese", Ko: KoSimple, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "N", FriendlyPassOk: true},
		[]string{"chinese"}},
	{Ruleset{Name: "chinese-ogs", Ko: KoPositional, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "N", FriendlyPassOk: true},
		[]string{"chineseogs", "chinese_ogs", "chinese-ogs"}},
	{Ruleset{Name: "chinese-kgs", Ko: KoPositional, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "N", FriendlyPassOk: true},
		[]string{"chinesekgs", "chinese_kgs", "chinese-kgs"}},
	{Ruleset{Name: "aga", Ko: KoSituational, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "N-1", FriendlyPassOk: true},
		[]string{"aga"}},
	{Ruleset{Name: "bga", Ko: KoSituational, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "N-1", FriendlyPassOk: true},
		[]string{"bga"}},
	{Ruleset{Name: "french", Ko: KoSituational, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "N-1", FriendlyPassOk: true},
		[]string{"french"}},
	{Ruleset{Name: "stone-scoring", Ko: KoSimple, Komi: 7.5, Scoring: "AREA", Tax: "ALL", WhiteHandicapBonus: "0", FriendlyPassOk: true},
		[]string{"stonescoring", "stone-scoring", "stone_scoring", "stone scoring"}},
	{Ruleset{Name: "ancient-area", Ko: KoSimple, Komi: 7.5, Scoring: "AREA", Tax: "ALL", WhiteHandicapBonus: "0", FriendlyPassOk: true},
		[]string{"ancientarea", "ancient-area", "ancient_area", "ancient area"}},
	{Ruleset{Name: "new-zealand", Ko: KoSituational, Suicide: true, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "0", FriendlyPassOk: true},
		[]string{"nz", "newzealand", "new zealand", "new-zealand", "new_zealand"}},
	{Ruleset{Name: "ancient-territory", Ko: KoSimple, Komi: 6.5, Scoring: "TERRITORY", Tax: "ALL", WhiteHandicapBonus: "0"},
		[]string{"ancientterritory", "ancient-territory", "ancient_territory", "ancient territory"}},
	{Ruleset{Name: "aga-button", Ko: KoSituational, Komi: 7, Scoring: "AREA", Tax: "NONE", Button: true, WhiteHandicapBonus: "N-1", FriendlyPassOk: true},
		[]string{"agabutton", "aga-button", "aga_button", "aga button"}},
	{Ruleset{Name: "goe", Ko: KoPositional, Suicide: true, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "0", FriendlyPassOk: true},
		[]string{"goe"}},
	{Ruleset{Name: "ing", Ko: KoPositional, Suicide: true, Komi: 7.5, Scoring: "AREA", Tax: "NONE", WhiteHandicapBonus: "0", FriendlyPassOk: true},
		[]string{"ing"}},
}

// katagoRulesets indexes namedRulesets by alias.
var katagoRulesets = func() map[string]Ruleset {
	m := map[string]Ruleset{}
	for _, n := range namedRulesets {
		for _, a := range n.aliases {
			m[a] = n.r
		}
	}
	return m
}()

// LookupRules returns the ruleset for a rules string KataGo accepts: a named ruleset
// ("japanese", "Tromp-Taylor", "nz", ...) or KataGo's compact form such as
// "koPOSITIONALscoreAREAtaxNONEsui1" that KataGo writes in its own SGF files (without komi,
// which a query gives on its own).
func LookupRules(s string) (Ruleset, bool) {
	t := strings.TrimSpace(s)
	if r, ok := katagoRulesets[strings.ToLower(t)]; ok {
		return r, true
	}
	r, err := parseCompactRules(t, false)
	return r, err == nil
}

// ParseRules reads rules as KataGo's analysis engine does (Rules::tryParseRules): a name,
// the compact form, or a JSON object of rule fields, komi allowed in the last two.
func ParseRules(s string) (Ruleset, error) { return parseRules(s, true) }

// ParseRulesWithoutKomi reads rules as KataGo's GTP kata-set-rules does: as ParseRules,
// but komi is not part of them.
func ParseRulesWithoutKomi(s string) (Ruleset, error) { return parseRules(s, false) }

func parseRules(s string, allowKomi bool) (Ruleset, error) {
	t := strings.TrimSpace(s)
	if r, ok := katagoRulesets[strings.ToLower(t)]; ok {
		return r, nil
	}
	if strings.HasPrefix(t, "{") {
		return parseJSONRules(t, allowKomi)
	}
	return parseCompactRules(t, allowKomi)
}

// baseRules is what a compact or JSON ruleset starts from: KataGo's default rules.
func baseRules(name string) Ruleset {
	r := namedRulesets[0].r
	r.Name = name
	return r
}

// finish fills in what KataGo derives from the other fields when they were not given.
func (r *Ruleset) finish(taxSet, komiSet bool) {
	if !taxSet {
		r.Tax = "NONE"
		if r.Scoring == "TERRITORY" {
			r.Tax = "SEKI"
		}
	}
	if !komiSet {
		switch {
		case r.Scoring == "TERRITORY":
			r.Komi = 6.5
		case r.Button:
			r.Komi = 7
		default:
			r.Komi = 7.5
		}
	}
}

// SetRule changes one field as kata-set-rule does: ko, score (or scoring), tax, suicide,
// hasButton, whiteHandicapBonus or friendlyPassOk, values in any case.
func (r Ruleset) SetRule(key, value string) (Ruleset, error) {
	v := strings.ToUpper(strings.TrimSpace(value))
	var err error
	switch strings.TrimSpace(key) {
	case "ko":
		var i int
		if i, err = enum(v, koNames, "ko"); err == nil {
			r.Ko = KoRule(i)
		}
	case "score", "scoring":
		err = setEnum(&r.Scoring, v, scoringValues, "scoring")
	case "tax":
		err = setEnum(&r.Tax, v, taxValues, "tax")
	case "whiteHandicapBonus":
		err = setEnum(&r.WhiteHandicapBonus, v, whbValues, "whiteHandicapBonus")
	case "suicide":
		r.Suicide, err = ParseRuleBool(v)
	case "hasButton":
		r.Button, err = ParseRuleBool(v)
	case "friendlyPassOk":
		r.FriendlyPassOk, err = ParseRuleBool(v)
	default:
		err = fmt.Errorf("Unknown rules option: %s", key)
	}
	if err != nil {
		return Ruleset{}, err
	}
	r.Name = r.QueryName()
	return r, nil
}

var (
	scoringValues = []string{"AREA", "TERRITORY"}
	taxValues     = []string{"NONE", "SEKI", "ALL"}
	whbValues     = []string{"0", "N", "N-1"}
)

// The errors below carry KataGo's own messages, which the GTP bridge and the fake engine
// pass on as KataGo does; hence their capitals.

func enum(v string, allowed []string, what string) (int, error) {
	for i, a := range allowed {
		if v == a {
			return i, nil
		}
	}
	return 0, fmt.Errorf("Invalid %s rule: %s", what, v)
}

func setEnum(dst *string, v string, allowed []string, what string) error {
	i, err := enum(v, allowed, what)
	if err == nil {
		*dst = allowed[i]
	}
	return err
}

// ParseRuleBool reads a boolean as KataGo's Global::stringToBool does, for rule values and
// GTP arguments alike.
func ParseRuleBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "1", "t", "yes", "y":
		return true, nil
	case "false", "0", "f", "no", "n":
		return false, nil
	}
	return false, fmt.Errorf("Could not parse bool: %s", v)
}

// parseJSONRules reads KataGo's JSON rules object.
func parseJSONRules(s string, allowKomi bool) (Ruleset, error) {
	bad := fmt.Errorf("Could not parse rules: %s", s)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &fields); err != nil {
		return Ruleset{}, bad
	}
	r := baseRules("")
	taxSet, komiSet := false, false
	for k, v := range fields {
		var str string
		var b bool
		var err error
		switch k {
		case "ko", "score", "scoring", "tax", "whiteHandicapBonus":
			err = json.Unmarshal(v, &str)
		case "suicide", "hasButton", "friendlyPassOk":
			err = json.Unmarshal(v, &b)
		case "komi":
			if !allowKomi {
				return Ruleset{}, fmt.Errorf("Unknown rules option: %s", k)
			}
			var f float64
			if err := json.Unmarshal(v, &f); err != nil {
				return Ruleset{}, bad
			}
			k32 := float64(float32(f))
			if k32 < -400 || k32 > 400 || k32*2 != math.Trunc(k32*2) {
				return Ruleset{}, bad
			}
			r.Komi, komiSet = k32, true
			continue
		default:
			return Ruleset{}, fmt.Errorf("Unknown rules option: %s", k)
		}
		if err != nil {
			return Ruleset{}, bad
		}
		switch k {
		case "ko":
			var i int
			if i, err = enum(str, koNames, "ko"); err == nil {
				r.Ko = KoRule(i)
			}
		case "score", "scoring":
			err = setEnum(&r.Scoring, str, scoringValues, "scoring")
		case "tax":
			err = setEnum(&r.Tax, str, taxValues, "tax")
			taxSet = true
		case "whiteHandicapBonus":
			err = setEnum(&r.WhiteHandicapBonus, str, whbValues, "whiteHandicapBonus")
		case "suicide":
			r.Suicide = b
		case "hasButton":
			r.Button = b
		case "friendlyPassOk":
			r.FriendlyPassOk = b
		}
		if err != nil {
			return Ruleset{}, err
		}
	}
	r.finish(taxSet, komiSet)
	r.Name = r.QueryName()
	return r, nil
}

// parseCompactRules reads KataGo's compact rules format, each field a prefix and a value,
// such as "koPOSITIONALscoreAREAtaxNONEsui1"; komi ("komi7.5") only when allowKomi.
func parseCompactRules(s string, allowKomi bool) (Ruleset, error) {
	bad := fmt.Errorf("Could not parse rules: %s", s)
	if s == "" {
		return Ruleset{}, bad
	}
	r := baseRules(s)
	taxSet, komiSet := false, false
	take := func(rest *string, prefix string) bool {
		if strings.HasPrefix(*rest, prefix) {
			*rest = strings.TrimSpace((*rest)[len(prefix):])
			return true
		}
		return false
	}
	choose := func(rest *string, values []string) (int, bool) {
		// Longest first, so "N-1" wins over "N" and "SITUATIONAL" over nothing shorter.
		best := -1
		for i, v := range values {
			if strings.HasPrefix(*rest, v) && (best < 0 || len(v) > len(values[best])) {
				best = i
			}
		}
		if best < 0 {
			return 0, false
		}
		take(rest, values[best])
		return best, true
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
		var i int
		switch {
		case allowKomi && take(&rest, "komi"):
			end := strings.IndexFunc(rest, func(c rune) bool { return unicode.IsLetter(c) || c == ' ' || c == '\t' })
			if end < 0 {
				end = len(rest)
			}
			k, err := strconv.ParseFloat(rest[:end], 64)
			if ok = err == nil && math.Abs(k) <= 1e5; ok {
				r.Komi, komiSet, rest = k, true, strings.TrimSpace(rest[end:])
			}
		case take(&rest, "ko"):
			if i, ok = choose(&rest, koNames); ok {
				r.Ko = KoRule(i)
			}
		case take(&rest, "scoring"), take(&rest, "score"):
			if i, ok = choose(&rest, scoringValues); ok {
				r.Scoring = scoringValues[i]
			}
		case take(&rest, "tax"):
			if i, ok = choose(&rest, taxValues); ok {
				r.Tax, taxSet = taxValues[i], true
			}
		case take(&rest, "sui"):
			ok = flag(&rest, &r.Suicide)
		case take(&rest, "button"):
			ok = flag(&rest, &r.Button)
		case take(&rest, "whb"):
			if i, ok = choose(&rest, whbValues); ok {
				r.WhiteHandicapBonus = whbValues[i]
			}
		case take(&rest, "fpok"):
			ok = flag(&rest, &r.FriendlyPassOk)
		}
		if !ok {
			return Ruleset{}, bad
		}
	}
	r.finish(taxSet, komiSet)
	return r, nil
}

// Compact is the ruleset in KataGo's compact form, which KataGo and this package read back
// as the same rules.
func (r Ruleset) Compact() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ko%sscore%stax%ssui%d", r.Ko, r.Scoring, r.Tax, b2i(r.Suicide))
	if r.Button {
		b.WriteString("button1")
	}
	if r.WhiteHandicapBonus != "0" && r.WhiteHandicapBonus != "" {
		b.WriteString("whb" + r.WhiteHandicapBonus)
	}
	if r.FriendlyPassOk {
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

// QueryName is the rules string to send KataGo: the name of the first named ruleset with
// the same rules, else the compact form.
func (r Ruleset) QueryName() string {
	for _, n := range namedRulesets {
		if n.r.SameRules(r) {
			return n.r.Name
		}
	}
	return r.Compact()
}

// sgfRulesAliases maps what SGF writers put in RU, lower-cased and stripped of everything
// but letters, to KataGo's ruleset names.
var sgfRulesAliases = map[string]string{
	"japanese": "japanese", "japan": "japanese", "jp": "japanese", "jpn": "japanese", "ja": "japanese",
	"nihonkiin": "japanese", "japanese1989": "japanese",
	"korean": "korean", "korea": "korean", "kr": "korean", "kor": "korean",
	"chinese": "chinese", "china": "chinese", "cn": "chinese", "chn": "chinese", "zh": "chinese",
	"aga": "aga", "american": "aga", "agarules": "aga",
	"bga": "bga", "british": "bga",
	"french": "french", "ffg": "french",
	"nz": "new-zealand", "newzealand": "new-zealand",
	"tromptaylor": "tromp-taylor", "tt": "tromp-taylor",
	"goe": "goe", "ing": "ing", "ings": "ing", "ingsgoe": "ing", "ingrules": "ing",
	"chineseogs": "chinese-ogs", "chinesekgs": "chinese-kgs",
	"stonescoring": "stone-scoring",
	"中国":           "chinese", "中國": "chinese", "中国规则": "chinese", "中國規則": "chinese", "中": "chinese",
	"日本": "japanese", "日本规则": "japanese", "日本規則": "japanese", "日": "japanese",
	"韩国": "korean", "韓國": "korean", "韩国规则": "korean", "韓國規則": "korean", "한국": "korean",
	"中国围棋规则": "chinese", "應氏": "ing", "应氏": "ing",
}

// RulesFromSGF maps an SGF RU value to one of KataGo's rulesets. It knows KataGo's own
// names, the names SGF writers use (Japanese, Chinese, Korean, AGA, BGA, French, NZ,
// New Zealand, Tromp-Taylor, Ing, GOE, their usual abbreviations, and the Chinese, Japanese
// and Korean words for them). ok is false for an empty or unknown value.
func RulesFromSGF(ru string) (r Ruleset, ok bool) {
	if strings.TrimSpace(ru) == "" {
		return Ruleset{}, false
	}
	if r, ok := LookupRules(ru); ok {
		return r, true
	}
	var b strings.Builder
	for _, c := range strings.ToLower(ru) {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(c)
		}
	}
	key := b.String()
	if name, ok := sgfRulesAliases[key]; ok {
		return katagoRulesets[name], true
	}
	// Longer descriptions such as "Japanese (1989)" or "Chinese rules, 7.5 komi".
	for _, w := range []string{"japanese", "chinese", "korean", "newzealand", "tromptaylor"} {
		if strings.Contains(key, w) {
			return katagoRulesets[sgfRulesAliases[w]], true
		}
	}
	return Ruleset{}, false
}
