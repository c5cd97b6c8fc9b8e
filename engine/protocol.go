package engine

import (
	"encoding/json"
	"fmt"
	"github.com/tesuji/tesuji/engine/internal/jsonfmt"
	"slices"
)

// This file holds the Go types for KataGo's JSON analysis protocol, as documented in
// KataGo's docs/Analysis_Engine.md (v1.17). Field names and JSON keys follow KataGo exactly.
//
// Encoding rules, chosen so that a decoded KataGo line re-encodes to the same bytes:
//   - keys are written in byte order, as KataGo writes them;
//   - a slice is written when it is non-nil (an empty one as []), a pointer when non-nil,
//     a string when non-empty, a bool flag when true; plain numbers are always written;
//   - floats are written like KataGo's JSON library ("19.0", "9.30622409e-05");
//   - keys this package does not know are kept in Extra and written back in their place.
//
// MarshalJSON returns exactly these bytes; json.Marshal around it escapes '<', '>' and '&'
// as it does for any Marshaler, which reads back the same.
//
// Decoding matches keys exactly (KataGo's keys are case-sensitive), treats null as absent,
// and rejects a value of the wrong type, as encoding/json does.

// Move is one entry of a query's moves or initialStones: a player ("B" or "W") and a
// GTP location ("Q16", "pass"). It encodes as KataGo's two-element array.
type Move [2]string

// Player returns the move's player, "B" or "W".
func (m Move) Player() string { return m[0] }

// Location returns the move's GTP location, such as "Q16" or "pass".
func (m Move) Location() string { return m[1] }

// RulesString returns the rules value for a rules name KataGo knows, such as "chinese",
// "japanese" or "tromp-taylor".
func RulesString(name string) json.RawMessage {
	return jsonfmt.AppendString(nil, name)
}

// Query is one analysis request, or an action when Action is set.
type Query struct {
	ID     string `json:"id"`
	Action string `json:"action,omitempty"` // query_version, query_models, clear_cache, terminate, terminate_all

	// TerminateID and TurnNumbers are the arguments of the terminate actions.
	TerminateID string `json:"terminateId,omitempty"`
	TurnNumbers []int  `json:"turnNumbers,omitempty"`

	// Moves is always written for an analysis query, as [] when nil: KataGo requires it.
	Moves              []Move          `json:"moves"`
	InitialStones      []Move          `json:"initialStones,omitempty"`
	InitialPlayer      string          `json:"initialPlayer,omitempty"`
	Rules              json.RawMessage `json:"rules,omitempty"` // a string such as "chinese", or an object of rule parameters
	Komi               *float64        `json:"komi,omitempty"`
	WhiteHandicapBonus string          `json:"whiteHandicapBonus,omitempty"`
	BoardXSize         int             `json:"boardXSize,omitempty"`
	BoardYSize         int             `json:"boardYSize,omitempty"`
	// AnalyzeTurns lists the turns to analyze; nil means the last one, turn len(Moves), and
	// an empty non-nil slice means none.
	AnalyzeTurns []int `json:"analyzeTurns,omitempty"`

	MaxVisits             *int     `json:"maxVisits,omitempty"`
	RootPolicyTemperature *float64 `json:"rootPolicyTemperature,omitempty"`
	RootFpuReductionMax   *float64 `json:"rootFpuReductionMax,omitempty"`
	AnalysisPVLen         *int     `json:"analysisPVLen,omitempty"`

	IncludeOwnership           bool `json:"includeOwnership,omitempty"`
	IncludeOwnershipStdev      bool `json:"includeOwnershipStdev,omitempty"`
	IncludeMovesOwnership      bool `json:"includeMovesOwnership,omitempty"`
	IncludeMovesOwnershipStdev bool `json:"includeMovesOwnershipStdev,omitempty"`
	IncludePolicy              bool `json:"includePolicy,omitempty"`
	IncludePVVisits            bool `json:"includePVVisits,omitempty"`
	IncludeNoResultValue       bool `json:"includeNoResultValue,omitempty"`

	AvoidMoves []MoveRestriction `json:"avoidMoves,omitempty"`
	AllowMoves []MoveRestriction `json:"allowMoves,omitempty"`

	OverrideSettings map[string]any `json:"overrideSettings,omitempty"`

	ReportDuringSearchEvery      *float64 `json:"reportDuringSearchEvery,omitempty"`
	FirstReportDuringSearchAfter *float64 `json:"firstReportDuringSearchAfter,omitempty"`

	Priority   *int  `json:"priority,omitempty"`
	Priorities []int `json:"priorities,omitempty"`

	// Extra holds any other top-level fields, passed to KataGo as they are (it answers an
	// unknown one with a warning), so a client that knows newer fields than tesuji still works.
	Extra map[string]json.RawMessage `json:"-"`
}

// Turns returns the turns KataGo analyzes for q, without duplicates, in increasing order.
func (q *Query) Turns() []int {
	if q.AnalyzeTurns == nil {
		return []int{len(q.Moves)}
	}
	seen := make(map[int]bool, len(q.AnalyzeTurns))
	out := make([]int, 0, len(q.AnalyzeTurns))
	for _, t := range q.AnalyzeTurns {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// MoveRestriction is one entry of avoidMoves or allowMoves.
type MoveRestriction struct {
	Player     string   `json:"player"`
	Moves      []string `json:"moves"`
	UntilDepth int      `json:"untilDepth"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Response is one line KataGo writes: a result (partial or final), an action's answer,
// an error or a warning.
type Response struct {
	ID         string `json:"id,omitempty"`
	TurnNumber *int   `json:"turnNumber,omitempty"`
	// IsDuringSearch is true on a partial report and false on the one final result of a turn.
	IsDuringSearch *bool      `json:"isDuringSearch,omitempty"`
	MoveInfos      []MoveInfo `json:"moveInfos,omitempty"`
	RootInfo       *RootInfo  `json:"rootInfo,omitempty"`
	Ownership      []float64  `json:"ownership,omitempty"`
	OwnershipStdev []float64  `json:"ownershipStdev,omitempty"`
	Policy         []float64  `json:"policy,omitempty"`
	HumanPolicy    []float64  `json:"humanPolicy,omitempty"`
	// NoResults marks the final result of a turn that was terminated before its search began.
	NoResults bool `json:"noResults,omitempty"`

	// Error, Warning and Field come on error and warning lines.
	Error   string `json:"error,omitempty"`
	Warning string `json:"warning,omitempty"`
	Field   string `json:"field,omitempty"`

	// Action answers echo the action query and add these.
	Action      string      `json:"action,omitempty"`
	Version     string      `json:"version,omitempty"`
	GitHash     string      `json:"git_hash,omitempty"`
	TerminateID string      `json:"terminateId,omitempty"`
	TurnNumbers []int       `json:"turnNumbers,omitempty"`
	Models      []ModelInfo `json:"models,omitempty"`

	// Extra holds top-level keys this package does not know yet.
	Extra map[string]json.RawMessage `json:"-"`
}

// Final reports whether r is the final result of a turn (not a partial report, an error,
// a warning or an action answer).
func (r *Response) Final() bool {
	return r.TurnNumber != nil && (r.IsDuringSearch == nil || !*r.IsDuringSearch) &&
		r.Error == "" && r.Warning == "" && r.Action == ""
}

// Partial reports whether r is a report made during the search of a turn.
func (r *Response) Partial() bool {
	return r.TurnNumber != nil && r.IsDuringSearch != nil && *r.IsDuringSearch &&
		r.Error == "" && r.Warning == ""
}

// MoveInfo is one candidate move of a result. Values are from the perspective the
// config's reportAnalysisWinratesAs names; tesuji always configures BLACK.
type MoveInfo struct {
	Move               string    `json:"move"`
	Visits             int       `json:"visits"`
	EdgeVisits         *int      `json:"edgeVisits,omitempty"`
	Winrate            float64   `json:"winrate"`
	ScoreMean          float64   `json:"scoreMean"`
	ScoreStdev         float64   `json:"scoreStdev"`
	ScoreLead          float64   `json:"scoreLead"`
	ScoreSelfplay      float64   `json:"scoreSelfplay"`
	Prior              float64   `json:"prior"`
	HumanPrior         *float64  `json:"humanPrior,omitempty"`
	Utility            float64   `json:"utility"`
	Lcb                float64   `json:"lcb"`
	UtilityLcb         float64   `json:"utilityLcb"`
	Weight             *float64  `json:"weight,omitempty"`
	EdgeWeight         *float64  `json:"edgeWeight,omitempty"`
	PlaySelectionValue *float64  `json:"playSelectionValue,omitempty"`
	Order              int       `json:"order"`
	IsSymmetryOf       string    `json:"isSymmetryOf,omitempty"`
	PV                 []string  `json:"pv"`
	PVVisits           []int     `json:"pvVisits,omitempty"`
	PVEdgeVisits       []int     `json:"pvEdgeVisits,omitempty"`
	Ownership          []float64 `json:"ownership,omitempty"`
	OwnershipStdev     []float64 `json:"ownershipStdev,omitempty"`
	NoResultValue      *float64  `json:"noResultValue,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// RootInfo describes the analyzed position as a whole.
type RootInfo struct {
	Winrate               float64  `json:"winrate"`
	ScoreLead             float64  `json:"scoreLead"`
	ScoreSelfplay         float64  `json:"scoreSelfplay"`
	ScoreStdev            *float64 `json:"scoreStdev,omitempty"`
	Utility               float64  `json:"utility"`
	Visits                int      `json:"visits"`
	Weight                *float64 `json:"weight,omitempty"`
	Lcb                   *float64 `json:"lcb,omitempty"`
	ThisHash              string   `json:"thisHash,omitempty"`
	SymHash               string   `json:"symHash,omitempty"`
	SymmetriesUsed        []int    `json:"symmetriesUsed,omitempty"`
	CurrentPlayer         string   `json:"currentPlayer,omitempty"`
	RawWinrate            *float64 `json:"rawWinrate,omitempty"`
	RawLead               *float64 `json:"rawLead,omitempty"`
	RawScoreSelfplay      *float64 `json:"rawScoreSelfplay,omitempty"`
	RawScoreSelfplayStdev *float64 `json:"rawScoreSelfplayStdev,omitempty"`
	RawNoResultProb       *float64 `json:"rawNoResultProb,omitempty"`
	RawStWrError          *float64 `json:"rawStWrError,omitempty"`
	RawStScoreError       *float64 `json:"rawStScoreError,omitempty"`
	RawVarTimeLeft        *float64 `json:"rawVarTimeLeft,omitempty"`
	HumanWinrate          *float64 `json:"humanWinrate,omitempty"`
	HumanScoreMean        *float64 `json:"humanScoreMean,omitempty"`
	HumanScoreStdev       *float64 `json:"humanScoreStdev,omitempty"`
	HumanStWrError        *float64 `json:"humanStWrError,omitempty"`
	HumanStScoreError     *float64 `json:"humanStScoreError,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// ModelInfo is one entry of query_models' answer.
type ModelInfo struct {
	Name               string `json:"name"`
	InternalName       string `json:"internalName"`
	MaxBatchSize       int    `json:"maxBatchSize"`
	UsesHumanSLProfile bool   `json:"usesHumanSLProfile"`
	UsingFP16          string `json:"usingFP16"`
	Version            int    `json:"version"`

	Extra map[string]json.RawMessage `json:"-"`
}

// decodeTop runs decode over one whole JSON document.
func decodeTop(data []byte, what string, decode func(*decoder) error) error {
	d := decoder{data: data}
	if err := decode(&d); err != nil {
		return fmt.Errorf("engine: decode %s: %w", what, err)
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("engine: decode %s: %w", what, err)
	}
	return nil
}

// UnmarshalJSON decodes a query, keeping unknown keys in Extra.
func (q *Query) UnmarshalJSON(data []byte) error {
	*q = Query{}
	return decodeTop(data, "query", q.decode)
}

// MarshalJSON encodes a query on one line, Extra included.
func (q Query) MarshalJSON() ([]byte, error) { return q.appendJSON(nil) }

// UnmarshalJSON decodes a response line, keeping unknown keys in Extra.
func (r *Response) UnmarshalJSON(data []byte) error {
	*r = Response{}
	return decodeTop(data, "response", r.decode)
}

// MarshalJSON encodes a response the way KataGo writes it, Extra included.
func (r Response) MarshalJSON() ([]byte, error) { return r.appendJSON(nil) }

// UnmarshalJSON decodes a move info, keeping unknown keys in Extra.
func (m *MoveInfo) UnmarshalJSON(data []byte) error {
	*m = MoveInfo{}
	return decodeTop(data, "move info", m.decode)
}

// MarshalJSON encodes a move info the way KataGo writes it, Extra included.
func (m MoveInfo) MarshalJSON() ([]byte, error) { return m.appendJSON(nil) }

// UnmarshalJSON decodes a root info, keeping unknown keys in Extra.
func (ri *RootInfo) UnmarshalJSON(data []byte) error {
	*ri = RootInfo{}
	return decodeTop(data, "root info", ri.decode)
}

// MarshalJSON encodes a root info the way KataGo writes it, Extra included.
func (ri RootInfo) MarshalJSON() ([]byte, error) { return ri.appendJSON(nil) }

// UnmarshalJSON decodes a model description, keeping unknown keys in Extra.
func (mi *ModelInfo) UnmarshalJSON(data []byte) error {
	*mi = ModelInfo{}
	return decodeTop(data, "model info", mi.decode)
}

// MarshalJSON encodes a model description the way KataGo writes it, Extra included.
func (mi ModelInfo) MarshalJSON() ([]byte, error) { return mi.appendJSON(nil) }

// UnmarshalJSON decodes an avoidMoves or allowMoves entry, keeping unknown keys in Extra.
func (mr *MoveRestriction) UnmarshalJSON(data []byte) error {
	*mr = MoveRestriction{}
	return decodeTop(data, "move restriction", mr.decode)
}

// MarshalJSON encodes an avoidMoves or allowMoves entry, Extra included.
func (mr MoveRestriction) MarshalJSON() ([]byte, error) { return mr.appendJSON(nil) }

// UnmarshalJSON decodes a [player, location] pair.
func (m *Move) UnmarshalJSON(data []byte) error {
	*m = Move{}
	return decodeTop(data, "move", m.decode)
}

// MarshalJSON encodes a [player, location] pair.
func (m Move) MarshalJSON() ([]byte, error) { return m.appendJSON(nil), nil }

func (m *Move) decode(d *decoder) error {
	if err := d.arrayStart(); err != nil {
		return err
	}
	n := 0
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if n == 2 {
			return d.errorf("a move has two elements, player and location")
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		m[n] = s
		n++
	}
	if n != 2 {
		return d.errorf("a move has two elements, player and location")
	}
	return nil
}

func (m Move) appendJSON(b []byte) []byte {
	b = append(b, '[')
	b = jsonfmt.AppendString(b, m[0])
	b = append(b, ',')
	b = jsonfmt.AppendString(b, m[1])
	return append(b, ']')
}

func decodeMoves(d *decoder) ([]Move, error) {
	if d.null() {
		return nil, nil
	}
	if err := d.arrayStart(); err != nil {
		return nil, err
	}
	out := []Move{}
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		var m Move
		if err := m.decode(d); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
}

func (w *objWriter) moves(k string, v []Move, always bool) {
	if v == nil && !always {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, m := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = m.appendJSON(w.b)
	}
	w.b = append(w.b, ']')
}

func decodeRestrictions(d *decoder) ([]MoveRestriction, error) {
	if d.null() {
		return nil, nil
	}
	if err := d.arrayStart(); err != nil {
		return nil, err
	}
	out := []MoveRestriction{}
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		var mr MoveRestriction
		if err := mr.decode(d); err != nil {
			return nil, err
		}
		out = append(out, mr)
	}
}

func (w *objWriter) restrictions(k string, v []MoveRestriction) {
	if v == nil {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, mr := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		var err error
		w.b, err = mr.appendJSON(w.b)
		w.fail(err)
	}
	w.b = append(w.b, ']')
}

func (mr *MoveRestriction) decode(d *decoder) error {
	if err := d.objectStart(); err != nil {
		return err
	}
	for first := true; ; {
		key, ok, err := d.nextKey(&first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "player":
			mr.Player, err = d.nStr()
		case "moves":
			mr.Moves, err = d.nStrs()
		case "untilDepth":
			mr.UntilDepth, err = d.nInt()
		default:
			err = setExtra(&mr.Extra, key, d)
		}
		if err != nil {
			return fieldError(key, err)
		}
	}
}

func (mr *MoveRestriction) appendJSON(b []byte) ([]byte, error) {
	w := newObjWriter(b, mr.Extra, "engine: encode move restriction")
	w.strs("moves", mr.Moves)
	w.str("player", mr.Player)
	w.int("untilDepth", mr.UntilDepth)
	return w.close()
}

func (q *Query) decode(d *decoder) error {
	if err := d.objectStart(); err != nil {
		return err
	}
	for first := true; ; {
		key, ok, err := d.nextKey(&first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "id":
			q.ID, err = d.nStr()
		case "action":
			q.Action, err = d.nStr()
		case "terminateId":
			q.TerminateID, err = d.nStr()
		case "turnNumbers":
			q.TurnNumbers, err = d.nInts()
		case "moves":
			q.Moves, err = decodeMoves(d)
		case "initialStones":
			q.InitialStones, err = decodeMoves(d)
		case "initialPlayer":
			q.InitialPlayer, err = d.nStr()
		case "rules":
			if d.null() {
				q.Rules = nil
			} else {
				q.Rules, err = d.raw()
			}
		case "komi":
			q.Komi, err = d.optFloat()
		case "whiteHandicapBonus":
			q.WhiteHandicapBonus, err = d.nStr()
		case "boardXSize":
			q.BoardXSize, err = d.nInt()
		case "boardYSize":
			q.BoardYSize, err = d.nInt()
		case "analyzeTurns":
			q.AnalyzeTurns, err = d.nInts()
		case "maxVisits":
			q.MaxVisits, err = d.optInt()
		case "rootPolicyTemperature":
			q.RootPolicyTemperature, err = d.optFloat()
		case "rootFpuReductionMax":
			q.RootFpuReductionMax, err = d.optFloat()
		case "analysisPVLen":
			q.AnalysisPVLen, err = d.optInt()
		case "includeOwnership":
			q.IncludeOwnership, err = d.nBool()
		case "includeOwnershipStdev":
			q.IncludeOwnershipStdev, err = d.nBool()
		case "includeMovesOwnership":
			q.IncludeMovesOwnership, err = d.nBool()
		case "includeMovesOwnershipStdev":
			q.IncludeMovesOwnershipStdev, err = d.nBool()
		case "includePolicy":
			q.IncludePolicy, err = d.nBool()
		case "includePVVisits":
			q.IncludePVVisits, err = d.nBool()
		case "includeNoResultValue":
			q.IncludeNoResultValue, err = d.nBool()
		case "avoidMoves":
			q.AvoidMoves, err = decodeRestrictions(d)
		case "allowMoves":
			q.AllowMoves, err = decodeRestrictions(d)
		case "overrideSettings":
			if d.null() {
				q.OverrideSettings = nil
				break
			}
			var raw json.RawMessage
			if raw, err = d.raw(); err == nil {
				q.OverrideSettings = nil
				err = json.Unmarshal(raw, &q.OverrideSettings)
			}
		case "reportDuringSearchEvery":
			q.ReportDuringSearchEvery, err = d.optFloat()
		case "firstReportDuringSearchAfter":
			q.FirstReportDuringSearchAfter, err = d.optFloat()
		case "priority":
			q.Priority, err = d.optInt()
		case "priorities":
			q.Priorities, err = d.nInts()
		default:
			err = setExtra(&q.Extra, key, d)
		}
		if err != nil {
			return fieldError(key, err)
		}
	}
}

func (q *Query) appendJSON(b []byte) ([]byte, error) {
	w := newObjWriter(b, q.Extra, "engine: encode query")
	w.strOmit("action", q.Action)
	w.restrictions("allowMoves", q.AllowMoves)
	w.optInt("analysisPVLen", q.AnalysisPVLen)
	w.ints("analyzeTurns", q.AnalyzeTurns)
	w.restrictions("avoidMoves", q.AvoidMoves)
	if q.BoardXSize != 0 {
		w.int("boardXSize", q.BoardXSize)
	}
	if q.BoardYSize != 0 {
		w.int("boardYSize", q.BoardYSize)
	}
	w.optFloat("firstReportDuringSearchAfter", q.FirstReportDuringSearchAfter)
	w.str("id", q.ID)
	w.boolOmit("includeMovesOwnership", q.IncludeMovesOwnership)
	w.boolOmit("includeMovesOwnershipStdev", q.IncludeMovesOwnershipStdev)
	w.boolOmit("includeNoResultValue", q.IncludeNoResultValue)
	w.boolOmit("includeOwnership", q.IncludeOwnership)
	w.boolOmit("includeOwnershipStdev", q.IncludeOwnershipStdev)
	w.boolOmit("includePVVisits", q.IncludePVVisits)
	w.boolOmit("includePolicy", q.IncludePolicy)
	w.strOmit("initialPlayer", q.InitialPlayer)
	w.moves("initialStones", q.InitialStones, false)
	w.optFloat("komi", q.Komi)
	w.optInt("maxVisits", q.MaxVisits)
	w.moves("moves", q.Moves, q.Action == "")
	if q.OverrideSettings != nil {
		w.value("overrideSettings", q.OverrideSettings)
	}
	w.ints("priorities", q.Priorities)
	w.optInt("priority", q.Priority)
	w.optFloat("reportDuringSearchEvery", q.ReportDuringSearchEvery)
	w.optFloat("rootFpuReductionMax", q.RootFpuReductionMax)
	w.optFloat("rootPolicyTemperature", q.RootPolicyTemperature)
	w.raw("rules", q.Rules)
	w.strOmit("terminateId", q.TerminateID)
	w.ints("turnNumbers", q.TurnNumbers)
	w.strOmit("whiteHandicapBonus", q.WhiteHandicapBonus)
	return w.close()
}

func (r *Response) decode(d *decoder) error {
	if err := d.objectStart(); err != nil {
		return err
	}
	for first := true; ; {
		key, ok, err := d.nextKey(&first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "id":
			r.ID, err = d.nStr()
		case "turnNumber":
			r.TurnNumber, err = d.optInt()
		case "isDuringSearch":
			r.IsDuringSearch, err = d.optBool()
		case "moveInfos":
			r.MoveInfos, err = decodeMoveInfos(d)
		case "rootInfo":
			if d.null() {
				r.RootInfo = nil
				break
			}
			r.RootInfo = new(RootInfo)
			err = r.RootInfo.decode(d)
		case "ownership":
			r.Ownership, err = d.nFloats()
		case "ownershipStdev":
			r.OwnershipStdev, err = d.nFloats()
		case "policy":
			r.Policy, err = d.nFloats()
		case "humanPolicy":
			r.HumanPolicy, err = d.nFloats()
		case "noResults":
			r.NoResults, err = d.nBool()
		case "error":
			r.Error, err = d.nStr()
		case "warning":
			r.Warning, err = d.nStr()
		case "field":
			r.Field, err = d.nStr()
		case "action":
			r.Action, err = d.nStr()
		case "version":
			r.Version, err = d.nStr()
		case "git_hash":
			r.GitHash, err = d.nStr()
		case "terminateId":
			r.TerminateID, err = d.nStr()
		case "turnNumbers":
			r.TurnNumbers, err = d.nInts()
		case "models":
			r.Models, err = decodeModels(d)
		default:
			err = setExtra(&r.Extra, key, d)
		}
		if err != nil {
			return fieldError(key, err)
		}
	}
}

func (r *Response) appendJSON(b []byte) ([]byte, error) {
	w := newObjWriter(b, r.Extra, "engine: encode response")
	w.strOmit("action", r.Action)
	w.strOmit("error", r.Error)
	w.strOmit("field", r.Field)
	w.strOmit("git_hash", r.GitHash)
	w.floats("humanPolicy", r.HumanPolicy)
	w.strOmit("id", r.ID)
	w.optBool("isDuringSearch", r.IsDuringSearch)
	if r.Models != nil {
		w.key("models")
		w.b = append(w.b, '[')
		for i := range r.Models {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			var err error
			w.b, err = r.Models[i].appendJSON(w.b)
			w.fail(err)
		}
		w.b = append(w.b, ']')
	}
	if r.MoveInfos != nil {
		w.key("moveInfos")
		w.b = append(w.b, '[')
		for i := range r.MoveInfos {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			var err error
			w.b, err = r.MoveInfos[i].appendJSON(w.b)
			w.fail(err)
		}
		w.b = append(w.b, ']')
	}
	w.boolOmit("noResults", r.NoResults)
	w.floats("ownership", r.Ownership)
	w.floats("ownershipStdev", r.OwnershipStdev)
	w.floats("policy", r.Policy)
	if r.RootInfo != nil {
		w.key("rootInfo")
		var err error
		w.b, err = r.RootInfo.appendJSON(w.b)
		w.fail(err)
	}
	w.strOmit("terminateId", r.TerminateID)
	w.optInt("turnNumber", r.TurnNumber)
	w.ints("turnNumbers", r.TurnNumbers)
	w.strOmit("version", r.Version)
	w.strOmit("warning", r.Warning)
	return w.close()
}

func decodeMoveInfos(d *decoder) ([]MoveInfo, error) {
	if d.null() {
		return nil, nil
	}
	if err := d.arrayStart(); err != nil {
		return nil, err
	}
	out := make([]MoveInfo, 0, 16)
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, MoveInfo{})
		if err := out[len(out)-1].decode(d); err != nil {
			return nil, err
		}
	}
}

func decodeModels(d *decoder) ([]ModelInfo, error) {
	if d.null() {
		return nil, nil
	}
	if err := d.arrayStart(); err != nil {
		return nil, err
	}
	out := []ModelInfo{}
	for first := true; ; {
		ok, err := d.nextElem(&first)
		if err != nil {
			return nil, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, ModelInfo{})
		if err := out[len(out)-1].decode(d); err != nil {
			return nil, err
		}
	}
}

func (m *MoveInfo) decode(d *decoder) error {
	if err := d.objectStart(); err != nil {
		return err
	}
	for first := true; ; {
		key, ok, err := d.nextKey(&first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "move":
			m.Move, err = d.nStr()
		case "visits":
			m.Visits, err = d.nInt()
		case "edgeVisits":
			m.EdgeVisits, err = d.optInt()
		case "winrate":
			m.Winrate, err = d.nFloat()
		case "scoreMean":
			m.ScoreMean, err = d.nFloat()
		case "scoreStdev":
			m.ScoreStdev, err = d.nFloat()
		case "scoreLead":
			m.ScoreLead, err = d.nFloat()
		case "scoreSelfplay":
			m.ScoreSelfplay, err = d.nFloat()
		case "prior":
			m.Prior, err = d.nFloat()
		case "humanPrior":
			m.HumanPrior, err = d.optFloat()
		case "utility":
			m.Utility, err = d.nFloat()
		case "lcb":
			m.Lcb, err = d.nFloat()
		case "utilityLcb":
			m.UtilityLcb, err = d.nFloat()
		case "weight":
			m.Weight, err = d.optFloat()
		case "edgeWeight":
			m.EdgeWeight, err = d.optFloat()
		case "playSelectionValue":
			m.PlaySelectionValue, err = d.optFloat()
		case "order":
			m.Order, err = d.nInt()
		case "isSymmetryOf":
			m.IsSymmetryOf, err = d.nStr()
		case "pv":
			m.PV, err = d.nStrs()
		case "pvVisits":
			m.PVVisits, err = d.nInts()
		case "pvEdgeVisits":
			m.PVEdgeVisits, err = d.nInts()
		case "ownership":
			m.Ownership, err = d.nFloats()
		case "ownershipStdev":
			m.OwnershipStdev, err = d.nFloats()
		case "noResultValue":
			m.NoResultValue, err = d.optFloat()
		default:
			err = setExtra(&m.Extra, key, d)
		}
		if err != nil {
			return fieldError(key, err)
		}
	}
}

func (m *MoveInfo) appendJSON(b []byte) ([]byte, error) {
	w := newObjWriter(b, m.Extra, "engine: encode move info")
	w.optInt("edgeVisits", m.EdgeVisits)
	w.optFloat("edgeWeight", m.EdgeWeight)
	w.optFloat("humanPrior", m.HumanPrior)
	w.strOmit("isSymmetryOf", m.IsSymmetryOf)
	w.float("lcb", m.Lcb)
	w.str("move", m.Move)
	w.optFloat("noResultValue", m.NoResultValue)
	w.int("order", m.Order)
	w.floats("ownership", m.Ownership)
	w.floats("ownershipStdev", m.OwnershipStdev)
	w.optFloat("playSelectionValue", m.PlaySelectionValue)
	w.float("prior", m.Prior)
	w.strs("pv", m.PV)
	w.ints("pvEdgeVisits", m.PVEdgeVisits)
	w.ints("pvVisits", m.PVVisits)
	w.float("scoreLead", m.ScoreLead)
	w.float("scoreMean", m.ScoreMean)
	w.float("scoreSelfplay", m.ScoreSelfplay)
	w.float("scoreStdev", m.ScoreStdev)
	w.float("utility", m.Utility)
	w.float("utilityLcb", m.UtilityLcb)
	w.int("visits", m.Visits)
	w.optFloat("weight", m.Weight)
	w.float("winrate", m.Winrate)
	return w.close()
}

func (ri *RootInfo) decode(d *decoder) error {
	if err := d.objectStart(); err != nil {
		return err
	}
	for first := true; ; {
		key, ok, err := d.nextKey(&first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "winrate":
			ri.Winrate, err = d.nFloat()
		case "scoreLead":
			ri.ScoreLead, err = d.nFloat()
		case "scoreSelfplay":
			ri.ScoreSelfplay, err = d.nFloat()
		case "scoreStdev":
			ri.ScoreStdev, err = d.optFloat()
		case "utility":
			ri.Utility, err = d.nFloat()
		case "visits":
			ri.Visits, err = d.nInt()
		case "weight":
			ri.Weight, err = d.optFloat()
		case "lcb":
			ri.Lcb, err = d.optFloat()
		case "thisHash":
			ri.ThisHash, err = d.nStr()
		case "symHash":
			ri.SymHash, err = d.nStr()
		case "symmetriesUsed":
			ri.SymmetriesUsed, err = d.nInts()
		case "currentPlayer":
			ri.CurrentPlayer, err = d.nStr()
		case "rawWinrate":
			ri.RawWinrate, err = d.optFloat()
		case "rawLead":
			ri.RawLead, err = d.optFloat()
		case "rawScoreSelfplay":
			ri.RawScoreSelfplay, err = d.optFloat()
		case "rawScoreSelfplayStdev":
			ri.RawScoreSelfplayStdev, err = d.optFloat()
		case "rawNoResultProb":
			ri.RawNoResultProb, err = d.optFloat()
		case "rawStWrError":
			ri.RawStWrError, err = d.optFloat()
		case "rawStScoreError":
			ri.RawStScoreError, err = d.optFloat()
		case "rawVarTimeLeft":
			ri.RawVarTimeLeft, err = d.optFloat()
		case "humanWinrate":
			ri.HumanWinrate, err = d.optFloat()
		case "humanScoreMean":
			ri.HumanScoreMean, err = d.optFloat()
		case "humanScoreStdev":
			ri.HumanScoreStdev, err = d.optFloat()
		case "humanStWrError":
			ri.HumanStWrError, err = d.optFloat()
		case "humanStScoreError":
			ri.HumanStScoreError, err = d.optFloat()
		default:
			err = setExtra(&ri.Extra, key, d)
		}
		if err != nil {
			return fieldError(key, err)
		}
	}
}

func (ri *RootInfo) appendJSON(b []byte) ([]byte, error) {
	w := newObjWriter(b, ri.Extra, "engine: encode root info")
	w.strOmit("currentPlayer", ri.CurrentPlayer)
	w.optFloat("humanScoreMean", ri.HumanScoreMean)
	w.optFloat("humanScoreStdev", ri.HumanScoreStdev)
	w.optFloat("humanStScoreError", ri.HumanStScoreError)
	w.optFloat("humanStWrError", ri.HumanStWrError)
	w.optFloat("humanWinrate", ri.HumanWinrate)
	w.optFloat("lcb", ri.Lcb)
	w.optFloat("rawLead", ri.RawLead)
	w.optFloat("rawNoResultProb", ri.RawNoResultProb)
	w.optFloat("rawScoreSelfplay", ri.RawScoreSelfplay)
	w.optFloat("rawScoreSelfplayStdev", ri.RawScoreSelfplayStdev)
	w.optFloat("rawStScoreError", ri.RawStScoreError)
	w.optFloat("rawStWrError", ri.RawStWrError)
	w.optFloat("rawVarTimeLeft", ri.RawVarTimeLeft)
	w.optFloat("rawWinrate", ri.RawWinrate)
	w.float("scoreLead", ri.ScoreLead)
	w.float("scoreSelfplay", ri.ScoreSelfplay)
	w.optFloat("scoreStdev", ri.ScoreStdev)
	w.strOmit("symHash", ri.SymHash)
	w.ints("symmetriesUsed", ri.SymmetriesUsed)
	w.strOmit("thisHash", ri.ThisHash)
	w.float("utility", ri.Utility)
	w.int("visits", ri.Visits)
	w.optFloat("weight", ri.Weight)
	w.float("winrate", ri.Winrate)
	return w.close()
}

func (mi *ModelInfo) decode(d *decoder) error {
	if err := d.objectStart(); err != nil {
		return err
	}
	for first := true; ; {
		key, ok, err := d.nextKey(&first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		switch string(key) {
		case "name":
			mi.Name, err = d.nStr()
		case "internalName":
			mi.InternalName, err = d.nStr()
		case "maxBatchSize":
			mi.MaxBatchSize, err = d.nInt()
		case "usesHumanSLProfile":
			mi.UsesHumanSLProfile, err = d.nBool()
		case "usingFP16":
			mi.UsingFP16, err = d.nStr()
		case "version":
			mi.Version, err = d.nInt()
		default:
			err = setExtra(&mi.Extra, key, d)
		}
		if err != nil {
			return fieldError(key, err)
		}
	}
}

func (mi *ModelInfo) appendJSON(b []byte) ([]byte, error) {
	w := newObjWriter(b, mi.Extra, "engine: encode model info")
	w.str("internalName", mi.InternalName)
	w.int("maxBatchSize", mi.MaxBatchSize)
	w.str("name", mi.Name)
	w.bool("usesHumanSLProfile", mi.UsesHumanSLProfile)
	w.str("usingFP16", mi.UsingFP16)
	w.int("version", mi.Version)
	return w.close()
}
