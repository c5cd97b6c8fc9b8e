package enginetest

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tesuji/tesuji/game"
)

// This file validates a query the way KataGo's analysis engine does, in the same order
// and with the same messages, so the fake rejects the same inputs with the same lines.

// request is a validated analysis query.
type request struct {
	id                   string
	w, h                 int
	moves                []move
	initial              []move
	initialPlayer        color
	turns                []int
	priorities           map[int]int64
	priority             int64
	komi                 float64
	rules                string
	ruleset              game.Ruleset
	maxVisits            int64 // 0: search until terminated
	pvLen                int
	includeOwnership     bool
	includeOwnershipSD   bool
	includeMovesOwner    bool
	includeMovesOwnerSD  bool
	includePolicy        bool
	includePVVisits      bool
	includeNoResultValue bool
	reportEvery          float64 // seconds; 0: no partial reports
	firstReportAfter     float64
	perspective          string // BLACK, WHITE or SIDETOMOVE
	positions            []*board
	// avoid and allow are the root moves of avoidMoves and allowMoves, by player: an
	// avoided move is never searched, and with allowMoves only the allowed ones are.
	avoid, allow map[color]map[int]bool
}

// restricted reports whether avoidMoves or allowMoves keep c from playing loc at the root.
func (r *request) restricted(c color, loc int) bool {
	if r.avoid[c][loc] {
		return true
	}
	if allowed, ok := r.allow[c]; ok && !allowed[loc] {
		return true
	}
	return false
}

type move struct {
	c   color
	loc int
}

// fieldErr is KataGo's error for a query field.
type fieldErr struct{ field, msg string }

// expectedKeys are the query fields KataGo reads; others draw a warning.
var expectedKeys = map[string]bool{
	"id": true, "action": true, "moves": true, "initialStones": true, "initialPlayer": true,
	"rules": true, "komi": true, "whiteHandicapBonus": true, "boardXSize": true, "boardYSize": true,
	"analyzeTurns": true, "maxVisits": true, "rootPolicyTemperature": true, "rootFpuReductionMax": true,
	"analysisPVLen": true, "includeOwnership": true, "includeOwnershipStdev": true,
	"includeMovesOwnership": true, "includeMovesOwnershipStdev": true, "includePolicy": true,
	"includePVVisits": true, "includeNoResultValue": true, "avoidMoves": true, "allowMoves": true,
	"overrideSettings": true, "reportDuringSearchEvery": true, "firstReportDuringSearchAfter": true,
	"priority": true, "priorities": true,
}

const (
	maxBoardLen   = 19
	minKomi       = -400.0
	maxKomi       = 400.0
	maxPriority   = 0x3FFFffffFFFFffff
	boardSizeMsg  = "Must provide an integer from 2 to 19"
	komiMsg       = "Must be a integer or half-integer from -400.0 to 400.0"
	movesShapeMsg = `Must be an array of pairs of the form: ["b" or "w", GTP board vertex]`
)

// parseRequest validates in; warnings come back for the caller to write before the
// request runs (KataGo writes them before checking the moves for legality).
func (f *fake) parseRequest(in *jv, id string) (*request, []fieldErr, *fieldErr) {
	var warnings []fieldErr
	r := &request{
		id:          id,
		maxVisits:   f.cfg.maxVisits,
		pvLen:       f.cfg.pvLen,
		perspective: f.cfg.perspective,
	}
	integer := func(field string, min, max int64, msg string) (int64, *fieldErr) {
		v := in.get(field)
		if !v.isInteger() {
			return 0, &fieldErr{field, msg}
		}
		x := v.int64()
		if v.unsigned || x < min || x > max {
			return 0, &fieldErr{field, msg}
		}
		return x, nil
	}
	double := func(v *jv, field string, min, max float64, msg string) (float64, *fieldErr) {
		if !v.isNumber() {
			return 0, &fieldErr{field, msg}
		}
		x := v.float()
		if math.IsNaN(x) || math.IsInf(x, 0) || x < min || x > max {
			return 0, &fieldErr{field, msg}
		}
		return x, nil
	}
	boolean := func(field string, dst *bool) *fieldErr {
		v := in.get(field)
		if v == nil {
			return nil
		}
		if !v.isBool() {
			return &fieldErr{field, "Must be a boolean"}
		}
		*dst = v.b
		return nil
	}

	if !in.has("boardXSize") {
		return nil, warnings, &fieldErr{"boardXSize", boardSizeMsg}
	}
	if !in.has("boardYSize") {
		return nil, warnings, &fieldErr{"boardYSize", boardSizeMsg}
	}
	x, fe := integer("boardXSize", 2, maxBoardLen, boardSizeMsg)
	if fe != nil {
		return nil, warnings, fe
	}
	y, fe := integer("boardYSize", 2, maxBoardLen, boardSizeMsg)
	if fe != nil {
		return nil, warnings, fe
	}
	r.w, r.h = int(x), int(y)

	if v := in.get("initialStones"); v != nil {
		if r.initial, fe = parseMoves(v, "initialStones", r.w, r.h, false); fe != nil {
			return nil, warnings, fe
		}
	}
	v := in.get("moves")
	if v == nil {
		return nil, warnings, &fieldErr{"moves", "Must specify an array of [player,location] pairs"}
	}
	if r.moves, fe = parseMoves(v, "moves", r.w, r.h, true); fe != nil {
		return nil, warnings, fe
	}
	if v := in.get("initialPlayer"); v != nil {
		s, _ := v.str()
		c, ok := parsePlayer(s)
		if !ok {
			return nil, warnings, &fieldErr{"initialPlayer", `Must be "b" or "w"`}
		}
		r.initialPlayer = c
	}

	shouldAnalyze := make([]bool, len(r.moves)+1)
	var analyzeTurns []int64
	if v := in.get("analyzeTurns"); v != nil {
		turns, ok := v.ints()
		if !ok {
			return nil, warnings, &fieldErr{"analyzeTurns", "Must specify an array of integers indicating turns to analyze"}
		}
		for _, t := range turns {
			t32 := int64(int32(t))
			if t32 < 0 || t32 >= int64(len(shouldAnalyze)) {
				return nil, warnings, &fieldErr{"analyzeTurns", fmt.Sprintf("Invalid turn number: %d", t32)}
			}
			shouldAnalyze[t32] = true
		}
		analyzeTurns = turns
	} else {
		shouldAnalyze[len(r.moves)] = true
	}
	if v := in.get("priorities"); v != nil {
		prios, ok := v.ints()
		if !ok {
			return nil, warnings, &fieldErr{"priorities", "Must specify an array of integers indicating priorities"}
		}
		if !in.has("analyzeTurns") {
			return nil, warnings, &fieldErr{"priorities", "Can only specify when also specifying analyzeTurns"}
		}
		if len(prios) != len(analyzeTurns) {
			return nil, warnings, &fieldErr{"priorities", "Must be of matching length to analyzeTurns"}
		}
		r.priorities = map[int]int64{}
		for i, p := range prios {
			if p < -maxPriority || p > maxPriority {
				return nil, warnings, &fieldErr{"priorities", fmt.Sprintf("Invalid priority: %d", p)}
			}
			r.priorities[int(int32(analyzeTurns[i]))] = p
		}
	}

	rules := in.get("rules")
	var text string
	switch {
	case rules.isString():
		text = rules.s
	case rules.isObject():
		text = rules.dump()
	default:
		return nil, warnings, &fieldErr{"rules", `Must specify rules string, such as "chinese" or "tromp-taylor", or a JSON object with detailed rules parameters.`}
	}
	rs, err := game.ParseRules(text)
	if err != nil {
		return nil, warnings, &fieldErr{"rules", "Could not parse rules: " + text}
	}
	r.ruleset, r.rules, r.komi = rs, rs.Name, rs.Komi
	if v := in.get("komi"); v != nil {
		k, fe := double(v, "komi", minKomi, maxKomi, komiMsg)
		if fe != nil {
			return nil, warnings, fe
		}
		k32 := float64(float32(k))
		if k32*2 != math.Trunc(k32*2) {
			return nil, warnings, &fieldErr{"komi", komiMsg}
		}
		r.komi = k32
	}
	if v := in.get("whiteHandicapBonus"); v != nil {
		s, ok := v.str()
		if !ok {
			return nil, warnings, &fieldErr{"whiteHandicapBonus", "Must be a string"}
		}
		if s != "0" && s != "N" && s != "N-1" {
			return nil, warnings, &fieldErr{"whiteHandicapBonus", "Rules::parseWhiteHandicapBonusRule: Invalid whiteHandicapBonus rule: " + s}
		}
	}
	if v := in.get("overrideSettings"); v != nil {
		if !v.isObject() {
			return nil, warnings, &fieldErr{"overrideSettings", "Must be an object"}
		}
		if p := v.get("reportAnalysisWinratesAs"); p != nil {
			s, _ := p.str()
			persp, ok := parsePerspective(s)
			if !ok {
				return nil, warnings, &fieldErr{"overrideSettings", "Could not set settings: Could not parse reportAnalysisWinratesAs: " + s}
			}
			r.perspective = persp
		}
		var unknown []string
		for _, k := range sortedKeys(v.o) {
			if !searchParams[k] {
				unknown = append(unknown, k)
			}
			if err := numericSetting(k, v.o[k]); err != nil {
				return nil, warnings, err
			}
		}
		if len(unknown) > 0 {
			warnings = append(warnings, fieldErr{"overrideSettings", "Unknown config params: " + strings.Join(unknown, ",")})
		}
	}
	if in.has("maxVisits") {
		if r.maxVisits, fe = integer("maxVisits", 1, 1<<50, "Must be an integer from 1 to 2^50"); fe != nil {
			return nil, warnings, fe
		}
	}
	if in.has("analysisPVLen") {
		n, fe := integer("analysisPVLen", 1, 1000, "Must be an integer from 1 to 1000")
		if fe != nil {
			return nil, warnings, fe
		}
		r.pvLen = int(n)
	}
	if v := in.get("rootFpuReductionMax"); v != nil {
		if _, fe := double(v, "rootFpuReductionMax", 0, 2, "Must be a number from 0.0 to 2.0"); fe != nil {
			return nil, warnings, fe
		}
	}
	if v := in.get("rootPolicyTemperature"); v != nil {
		if _, fe := double(v, "rootPolicyTemperature", 0.01, 100, "Must be a number from 0.01 to 100.0"); fe != nil {
			return nil, warnings, fe
		}
	}
	for _, b := range []struct {
		field string
		dst   *bool
	}{
		{"includeMovesOwnership", &r.includeMovesOwner},
		{"includeMovesOwnershipStdev", &r.includeMovesOwnerSD},
		{"includeOwnership", &r.includeOwnership},
		{"includeOwnershipStdev", &r.includeOwnershipSD},
		{"includePolicy", &r.includePolicy},
		{"includePVVisits", &r.includePVVisits},
		{"includeNoResultValue", &r.includeNoResultValue},
	} {
		if fe := boolean(b.field, b.dst); fe != nil {
			return nil, warnings, fe
		}
	}
	const secondsMsg = "Must be number of seconds from 0.001 to 1000000.0"
	if v := in.get("reportDuringSearchEvery"); v != nil {
		if r.reportEvery, fe = double(v, "reportDuringSearchEvery", 0.001, 1e6, secondsMsg); fe != nil {
			return nil, warnings, fe
		}
		r.firstReportAfter = r.reportEvery
	}
	if v := in.get("firstReportDuringSearchAfter"); v != nil {
		if r.firstReportAfter, fe = double(v, "firstReportDuringSearchAfter", 0.001, 1e6, secondsMsg); fe != nil {
			return nil, warnings, fe
		}
		if r.reportEvery == 0 {
			r.reportEvery = 1e30
		}
	}
	if in.has("priority") {
		if in.has("priorities") {
			return nil, warnings, &fieldErr{"priority", "Cannot specify both priority and priorities"}
		}
		if r.priority, fe = integer("priority", -maxPriority, maxPriority, "Must be a number between -2^62 and 2^62"); fe != nil {
			return nil, warnings, fe
		}
	}
	if fe := checkMoveRestrictions(in, r); fe != nil {
		return nil, warnings, fe
	}

	// The position at each turn; the initial player follows KataGo's rule.
	b := newBoard(r.w, r.h)
	b.g.SetRules(r.ruleset)
	handicap := 0
	for _, m := range r.initial {
		b.set(m.loc, m.c)
		if m.c == black {
			handicap++
		}
	}
	if r.initialPlayer == empty {
		switch {
		case len(r.moves) > 0:
			r.initialPlayer = r.moves[0].c
		case handicap >= 2 && b.count(white) == 0: // KataGo's numHandicapStonesOnBoard
			r.initialPlayer = white
		default:
			r.initialPlayer = black
		}
	}
	b.toMove = r.initialPlayer

	for _, k := range sortedKeys(in.o) {
		if !expectedKeys[k] {
			warnings = append(warnings, fieldErr{k, "Unexpected or unused field, do you have a typo? (set warnUnusedFields=false in the config to disable this warning)"})
		}
	}

	for t := 0; t <= len(r.moves); t++ {
		if shouldAnalyze[t] {
			r.turns = append(r.turns, t)
			r.positions = append(r.positions, b.clone())
		}
		if t == len(r.moves) {
			break
		}
		m := r.moves[t]
		if !b.play(m.loc, m.c) {
			return nil, warnings, &fieldErr{"moves", fmt.Sprintf("Illegal move %d: %s", t, locString(m.loc, r.w, r.h))}
		}
	}
	return r, warnings, nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func parseMoves(v *jv, field string, w, h int, allowPass bool) ([]move, *fieldErr) {
	if !v.isArray() {
		return nil, &fieldErr{field, movesShapeMsg}
	}
	var out []move
	for _, e := range v.a {
		if !e.isArray() || len(e.a) != 2 {
			return nil, &fieldErr{field, movesShapeMsg}
		}
		ps, ok1 := e.a[0].str()
		ls, ok2 := e.a[1].str()
		if !ok1 || !ok2 {
			return nil, &fieldErr{field, movesShapeMsg}
		}
		c, ok := parsePlayer(ps)
		if !ok {
			return nil, &fieldErr{field, "Could not parse player: " + ps}
		}
		loc, ok := parseLoc(ls, w, h)
		if !ok || (!allowPass && loc == passLoc) {
			return nil, &fieldErr{field, "Could not parse board location: " + ls}
		}
		out = append(out, move{c, loc})
	}
	return out, nil
}

func checkMoveRestrictions(in *jv, r *request) *fieldErr {
	w, h := r.w, r.h
	allow, avoid := in.get("allowMoves"), in.get("avoidMoves")
	if allow == nil && avoid == nil {
		return nil
	}
	if allow != nil && avoid != nil {
		return &fieldErr{"allowMoves", "Cannot specify both allowMoves and avoidMoves"}
	}
	field, list := "avoidMoves", avoid
	if allow != nil {
		field, list = "allowMoves", allow
	}
	const shape = "Must be a list of dicts with subfields 'player', 'moves', 'untilDepth'"
	if !list.isArray() {
		return &fieldErr{field, shape}
	}
	if allow != nil && len(list.a) > 2 {
		return &fieldErr{field, "Currently allowMoves only allows at most one entry per player"}
	}
	seen := map[color]bool{}
	for _, e := range list.a {
		if !e.has("moves") || !e.has("untilDepth") || !e.has("player") {
			return &fieldErr{field, shape}
		}
		s, _ := e.get("player").str()
		c, ok := parsePlayer(s)
		if !ok {
			return &fieldErr{"player", `Must be "b" or "w"`}
		}
		mv := e.get("moves")
		if !mv.isArray() {
			return &fieldErr{"moves", "Must be an array of GTP board vertices"}
		}
		locs := map[int]bool{}
		for _, m := range mv.a {
			ls, ok := m.str()
			if !ok {
				return &fieldErr{"moves", "Must be an array of GTP board vertices"}
			}
			loc, ok := parseLoc(ls, w, h)
			if !ok {
				return &fieldErr{"moves", "Could not parse board location: " + ls}
			}
			locs[loc] = true
		}
		d := e.get("untilDepth")
		if !d.isInteger() || d.int64() < 1 || d.int64() > 1000000000 {
			return &fieldErr{"untilDepth", "Must be a positive integer"}
		}
		if allow != nil {
			if seen[c] {
				return &fieldErr{field, "Cannot specify allowMoves more than once for the same player"}
			}
			seen[c] = true
		}
		target := &r.avoid
		if allow != nil {
			target = &r.allow
		}
		if *target == nil {
			*target = map[color]map[int]bool{}
		}
		if (*target)[c] == nil {
			(*target)[c] = map[int]bool{}
		}
		for loc := range locs {
			(*target)[c][loc] = true
		}
	}
	return nil
}

func parsePerspective(s string) (string, bool) {
	switch strings.ToUpper(s) {
	case "BLACK", "B":
		return "BLACK", true
	case "WHITE", "W":
		return "WHITE", true
	case "SIDETOMOVE":
		return "SIDETOMOVE", true
	}
	return "", false
}

// numericParams are overrideSettings keys KataGo reads as numbers, by the type its config
// parser names: those tesuji's jobs set, and the visit limits.
var numericParams = map[string]string{
	"maxVisits": "int64_t", "maxPlayouts": "int64_t", "maxTime": "double", "wideRootNoise": "double",
	"playoutDoublingAdvantage": "double", "rootPolicyOptimism": "double", "policyOptimism": "double",
}

// numericSetting refuses, as KataGo does, a setting of numericParams given as a text that
// holds no number of its type; KataGo reads every setting from its text.
func numericSetting(key string, v *jv) *fieldErr {
	typ := numericParams[key]
	s, ok := v.str()
	if typ == "" || !ok {
		return nil
	}
	var err error
	if typ == "int64_t" {
		_, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	} else {
		_, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
	}
	if err == nil {
		return nil
	}
	return &fieldErr{"overrideSettings", fmt.Sprintf("Could not set settings: Could not parse '%s' as %s for key '%s'", s, typ, key)}
}

// searchParams are the config keys KataGo's search reads, which a query may override in
// overrideSettings; any other key draws KataGo's "Unknown config params" warning.
var searchParams = func() map[string]bool {
	m := map[string]bool{"reportAnalysisWinratesAs": true}
	for _, k := range strings.Fields(`
		alwaysComputePassAliveUnderSuicideRules antiMirror avoidRepeatedPatternUtility chosenMovePrune
		chosenMoveSubtract chosenMoveTemperature chosenMoveTemperatureEarly chosenMoveTemperatureHalflife
		chosenMoveTemperatureOnlyBelowProb conservativePass cpuctExploration cpuctExplorationBase
		cpuctExplorationLog cpuctUtilityStdevPrior cpuctUtilityStdevPriorWeight cpuctUtilityStdevScale
		drawEquivalentWinsForWhite dynamicScoreCenterScale dynamicScoreCenterZeroWeight
		dynamicScoreUtilityFactor enableMorePassingHacks enablePassingHacks endgameTurnTimeDecay
		evalCacheMinVisits fillDameBeforePass fpuLossProp fpuParentWeight fpuParentWeightByVisitedPolicy
		fpuParentWeightByVisitedPolicyPow fpuReductionMax futileVisitsThreshold graphSearchCatchUpLeakProb
		graphSearchCatchUpProp graphSearchRepBound humanSLChosenMoveIgnorePass humanSLChosenMovePiklLambda
		humanSLChosenMoveProp humanSLCpuctExploration humanSLCpuctPermanent humanSLOppExploreProbWeightful
		humanSLOppExploreProbWeightless humanSLPlaExploreProbWeightful humanSLPlaExploreProbWeightless
		humanSLProfile humanSLRootExploreProbWeightful humanSLRootExploreProbWeightless ignoreAllHistory
		ignorePreRootHistory lagBuffer lcbStdevs maxPlayouts maxPlayoutsPondering maxTime maxTimePondering
		maxVisits maxVisitsPondering midgameTimeFactor midgameTurnPeakTime minPlayoutsPerThread
		minVisitPropForLCB nnPolicyTemperature noResultUtilityForWhite nodeTableShardsPowerOfTwo
		noisePruneUtilityScale noisePruningCap numSearchThreads numVirtualLossesPerThread
		obviousMovesPolicyEntropyTolerance obviousMovesPolicySurpriseTolerance obviousMovesTimeFactor
		overallocateTimeFactor playoutDoublingAdvantage playoutDoublingAdvantagePla policyOptimism
		rootDesiredPerChildVisitsCoeff rootDirichletNoiseTotalConcentration rootDirichletNoiseWeight
		rootEndingBonusPoints rootFpuLossProp rootFpuReductionMax rootNoiseEnabled rootNumSymmetriesToSample
		rootPolicyOptimism rootPolicyTemperature rootPolicyTemperatureEarly rootPruneUselessMoves
		rootSymmetryPruning searchFactorAfterOnePass searchFactorAfterTwoPass staticScoreUtilityFactor
		subtreeValueBiasFactor subtreeValueBiasFreeProp subtreeValueBiasWeightExponent
		treeReuseCarryOverTimeFactor uncertaintyCoeff uncertaintyExponent uncertaintyMaxWeight useEvalCache
		useGraphSearch useLcbForSelection useNoisePruning useNonBuggyLcb useUncertainty valueWeightExponent
		wideRootNoise winLossUtilityFactor`) {
		m[k] = true
	}
	return m
}()
