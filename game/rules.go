package game

import (
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
)

// Ruleset is what this package needs to know about one of KataGo's rulesets.
type Ruleset struct {
	Name    string  // KataGo's rules string, as the query sends it
	Ko      KoRule  // repetition rule
	Suicide bool    // multi-stone suicide is legal (single-stone suicide never is, in KataGo)
	Komi    float64 // KataGo's default komi for the ruleset
}

// DefaultRules is the ruleset of a record whose RU is missing or unknown (with a warning in
// Record.Warnings): Japanese, as KaTrain assumes, so that point losses compare with KaTrain's.
const DefaultRules = "japanese"

// katagoRulesets are KataGo's named rulesets (cpp/game/rules.cpp of KataGo v1.17), keyed by
// every spelling KataGo accepts once lower-cased.
var katagoRulesets = func() map[string]Ruleset {
	m := map[string]Ruleset{}
	add := func(r Ruleset, names ...string) {
		for _, n := range names {
			m[n] = r
		}
	}
	add(Ruleset{Name: "japanese", Ko: KoSimple, Komi: 6.5}, "japanese")
	add(Ruleset{Name: "korean", Ko: KoSimple, Komi: 6.5}, "korean")
	add(Ruleset{Name: "chinese", Ko: KoSimple, Komi: 7.5}, "chinese")
	add(Ruleset{Name: "chinese-ogs", Ko: KoPositional, Komi: 7.5}, "chineseogs", "chinese_ogs", "chinese-ogs")
	add(Ruleset{Name: "chinese-kgs", Ko: KoPositional, Komi: 7.5}, "chinesekgs", "chinese_kgs", "chinese-kgs")
	add(Ruleset{Name: "stone-scoring", Ko: KoSimple, Komi: 7.5}, "stonescoring", "stone-scoring", "stone_scoring", "stone scoring")
	add(Ruleset{Name: "ancient-area", Ko: KoSimple, Komi: 7.5}, "ancientarea", "ancient-area", "ancient_area", "ancient area")
	add(Ruleset{Name: "ancient-territory", Ko: KoSimple, Komi: 6.5}, "ancientterritory", "ancient-territory", "ancient_territory", "ancient territory")
	add(Ruleset{Name: "aga-button", Ko: KoSituational, Komi: 7}, "agabutton", "aga-button", "aga_button", "aga button")
	add(Ruleset{Name: "aga", Ko: KoSituational, Komi: 7.5}, "aga")
	add(Ruleset{Name: "bga", Ko: KoSituational, Komi: 7.5}, "bga")
	add(Ruleset{Name: "french", Ko: KoSituational, Komi: 7.5}, "french")
	add(Ruleset{Name: "new-zealand", Ko: KoSituational, Suicide: true, Komi: 7}, "nz", "newzealand", "new zealand", "new-zealand", "new_zealand")
	add(Ruleset{Name: "tromp-taylor", Ko: KoPositional, Suicide: true, Komi: 7.5}, "tromp-taylor", "tromp_taylor", "tromp taylor", "tromptaylor")
	add(Ruleset{Name: "goe", Ko: KoPositional, Suicide: true, Komi: 7.5}, "goe")
	add(Ruleset{Name: "ing", Ko: KoPositional, Suicide: true, Komi: 7.5}, "ing")
	return m
}()

// LookupRules returns the ruleset for a rules string KataGo accepts: a named ruleset
// ("japanese", "Tromp-Taylor", "nz", ...) or KataGo's compact form such as
// "koPOSITIONALscoreAREAtaxNONEsui1" that KataGo writes in its own SGF files. Spight ko is
// checked as situational superko.
func LookupRules(s string) (Ruleset, bool) {
	t := strings.TrimSpace(s)
	if r, ok := katagoRulesets[strings.ToLower(t)]; ok {
		return r, true
	}
	return parseCompactRules(t)
}

// parseCompactRules reads KataGo's compact rules format (komi not allowed, as a query gives
// komi on its own).
func parseCompactRules(s string) (Ruleset, bool) {
	if s == "" {
		return Ruleset{}, false
	}
	r := Ruleset{Name: s, Ko: KoPositional, Suicide: true}
	territory, button := false, false
	for rest := s; rest != ""; rest = strings.TrimSpace(rest) {
		var ok bool
		switch {
		case strings.HasPrefix(rest, "ko"):
			rest = rest[2:]
			switch {
			case strings.HasPrefix(rest, "SIMPLE"):
				r.Ko, rest, ok = KoSimple, rest[len("SIMPLE"):], true
			case strings.HasPrefix(rest, "POSITIONAL"):
				r.Ko, rest, ok = KoPositional, rest[len("POSITIONAL"):], true
			case strings.HasPrefix(rest, "SITUATIONAL"):
				r.Ko, rest, ok = KoSituational, rest[len("SITUATIONAL"):], true
			case strings.HasPrefix(rest, "SPIGHT"):
				r.Ko, rest, ok = KoSituational, rest[len("SPIGHT"):], true
			}
		case strings.HasPrefix(rest, "score"):
			rest = strings.TrimPrefix(rest[len("score"):], "ing")
			switch {
			case strings.HasPrefix(rest, "AREA"):
				territory, rest, ok = false, rest[len("AREA"):], true
			case strings.HasPrefix(rest, "TERRITORY"):
				territory, rest, ok = true, rest[len("TERRITORY"):], true
			}
		case strings.HasPrefix(rest, "tax"):
			rest = rest[len("tax"):]
			for _, v := range []string{"NONE", "SEKI", "ALL"} {
				if strings.HasPrefix(rest, v) {
					rest, ok = rest[len(v):], true
					break
				}
			}
		case strings.HasPrefix(rest, "sui"):
			rest = rest[len("sui"):]
			if rest != "" && (rest[0] == '0' || rest[0] == '1') {
				r.Suicide, rest, ok = rest[0] == '1', rest[1:], true
			}
		case strings.HasPrefix(rest, "button"):
			rest = rest[len("button"):]
			if rest != "" && (rest[0] == '0' || rest[0] == '1') {
				button, rest, ok = rest[0] == '1', rest[1:], true
			}
		case strings.HasPrefix(rest, "whb"):
			rest = rest[len("whb"):]
			for _, v := range []string{"N-1", "N", "0"} {
				if strings.HasPrefix(rest, v) {
					rest, ok = rest[len(v):], true
					break
				}
			}
		case strings.HasPrefix(rest, "fpok"):
			rest = rest[len("fpok"):]
			if rest != "" && (rest[0] == '0' || rest[0] == '1') {
				rest, ok = rest[1:], true
			}
		}
		if !ok {
			return Ruleset{}, false
		}
	}
	switch {
	case territory:
		r.Komi = 6.5
	case button:
		r.Komi = 7
	default:
		r.Komi = 7.5
	}
	return r, true
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
