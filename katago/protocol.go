package katago

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Slices carry `omitzero`, not `omitempty`: a nil slice is left out and an empty one is
// written as [], which KataGo tells apart (analyzeTurns: [] analyzes nothing, an absent
// analyzeTurns the last turn).

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
	b, _ := json.Marshal(name) // a string always encodes
	return b
}

// Query is one analysis request, or an action when Action is set.
type Query struct {
	ID     string `json:"id"`
	Action string `json:"action,omitempty"` // query_version, query_models, clear_cache, terminate, terminate_all

	// TerminateID and TurnNumbers are the arguments of the terminate actions.
	TerminateID string `json:"terminateId,omitempty"`
	TurnNumbers []int  `json:"turnNumbers,omitzero"`

	// Moves is always written for an analysis query, as [] when nil: KataGo requires it.
	Moves              []Move          `json:"moves,omitzero"`
	InitialStones      []Move          `json:"initialStones,omitzero"`
	InitialPlayer      string          `json:"initialPlayer,omitempty"`
	Rules              json.RawMessage `json:"rules,omitempty"` // a string such as "chinese", or an object of rule parameters
	Komi               *float64        `json:"komi,omitempty"`
	WhiteHandicapBonus string          `json:"whiteHandicapBonus,omitempty"`
	BoardXSize         int             `json:"boardXSize,omitempty"`
	BoardYSize         int             `json:"boardYSize,omitempty"`
	// AnalyzeTurns lists the turns to analyze; nil means the last one, turn len(Moves), and
	// an empty non-nil slice means none.
	AnalyzeTurns []int `json:"analyzeTurns,omitzero"`

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

	AvoidMoves []MoveRestriction `json:"avoidMoves,omitzero"`
	AllowMoves []MoveRestriction `json:"allowMoves,omitzero"`

	OverrideSettings map[string]any `json:"overrideSettings,omitzero"`

	ReportDuringSearchEvery      *float64 `json:"reportDuringSearchEvery,omitempty"`
	FirstReportDuringSearchAfter *float64 `json:"firstReportDuringSearchAfter,omitempty"`

	Priority   *int  `json:"priority,omitempty"`
	Priorities []int `json:"priorities,omitzero"`

	// Extra holds any other top-level fields, passed to KataGo as they are (it answers an
	// unknown one with a warning), so a client that knows newer fields than tesuji still works.
	Extra map[string]json.RawMessage `json:"-"`
}

// queryFields is the set of JSON keys Query's fields take.
var queryFields = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Query]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
})

// plainQuery is Query without its methods, so that encoding/json handles its fields.
type plainQuery Query

// UnmarshalJSON decodes a query and keeps the keys Query does not name in Extra. Keys
// match exactly, as KataGo's do: "Komi" is an unknown key, not komi.
func (q *Query) UnmarshalJSON(data []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	known := queryFields()
	var extra map[string]json.RawMessage
	folded := false
	for k, v := range all {
		if known[k] {
			continue
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[k] = v
		delete(all, k)
		for f := range known {
			folded = folded || strings.EqualFold(f, k)
		}
	}
	if folded {
		// encoding/json would match such a key to a field; decode the exact keys alone.
		var err error
		if data, err = json.Marshal(all); err != nil {
			return err
		}
	}
	var p plainQuery
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	p.Extra = extra
	*q = Query(p)
	return nil
}

// MarshalJSON encodes a query with its Extra keys beside the known ones; an Extra key
// that names a field of Query is an error rather than a silent overwrite.
func (q Query) MarshalJSON() ([]byte, error) {
	if q.Action == "" && q.Moves == nil {
		q.Moves = []Move{}
	}
	b, err := json.Marshal(plainQuery(q))
	if err != nil || len(q.Extra) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	known := queryFields()
	for k, v := range q.Extra {
		if known[k] {
			return nil, fmt.Errorf("katago: query extra key %q is a known field", k)
		}
		all[k] = v
	}
	return json.Marshal(all)
}

// Turns returns the turns KataGo analyzes for q, without duplicates, in increasing order.
func (q *Query) Turns() []int {
	if q.AnalyzeTurns == nil {
		return []int{len(q.Moves)}
	}
	out := slices.Clone(q.AnalyzeTurns)
	slices.Sort(out)
	return slices.Compact(out)
}

// MoveRestriction is one entry of avoidMoves or allowMoves.
type MoveRestriction struct {
	Player     string   `json:"player"`
	Moves      []string `json:"moves"`
	UntilDepth int      `json:"untilDepth"`
}

// Response is one line KataGo writes: a result (partial or final), an action's answer,
// an error or a warning.
type Response struct {
	ID         string `json:"id,omitempty"`
	TurnNumber *int   `json:"turnNumber,omitempty"`
	// IsDuringSearch is true on a partial report and false on the one final result of a turn.
	IsDuringSearch *bool      `json:"isDuringSearch,omitempty"`
	MoveInfos      []MoveInfo `json:"moveInfos,omitzero"`
	RootInfo       *RootInfo  `json:"rootInfo,omitempty"`
	Ownership      []float64  `json:"ownership,omitzero"`
	OwnershipStdev []float64  `json:"ownershipStdev,omitzero"`
	Policy         []float64  `json:"policy,omitzero"`
	HumanPolicy    []float64  `json:"humanPolicy,omitzero"`
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
	TurnNumbers []int       `json:"turnNumbers,omitzero"`
	Models      []ModelInfo `json:"models,omitzero"`
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
	PVVisits           []int     `json:"pvVisits,omitzero"`
	PVEdgeVisits       []int     `json:"pvEdgeVisits,omitzero"`
	Ownership          []float64 `json:"ownership,omitzero"`
	OwnershipStdev     []float64 `json:"ownershipStdev,omitzero"`
	NoResultValue      *float64  `json:"noResultValue,omitempty"`
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
	SymmetriesUsed        []int    `json:"symmetriesUsed,omitzero"`
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
}

// ModelInfo is one entry of query_models' answer. Its fields are in the byte order of
// their keys, the order KataGo writes them (kata-get-models prints this JSON as it is).
type ModelInfo struct {
	InternalName       string `json:"internalName"`
	MaxBatchSize       int    `json:"maxBatchSize"`
	Name               string `json:"name"`
	UsesHumanSLProfile bool   `json:"usesHumanSLProfile"`
	UsingFP16          string `json:"usingFP16"`
	Version            int    `json:"version"`
}

// Version is KataGo's answer to query_version.
type Version struct {
	Version string // the release, such as "1.17.2"
	GitHash string // the commit KataGo was built from, or "<omitted>"
}

// PeekID returns the top-level "id" of a JSON object, reading no further than it must, so
// it finds the id of a line cut short (KataGo writes "id" before the long arrays).
func PeekID(line []byte) string {
	d := json.NewDecoder(strings.NewReader(string(line)))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			return ""
		}
		if k == "id" {
			var id string
			if d.Decode(&id) != nil {
				return ""
			}
			return id
		}
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}
