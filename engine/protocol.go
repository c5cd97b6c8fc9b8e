package engine

import "encoding/json"

// This file holds the Go types for KataGo's JSON analysis protocol, as documented in
// KataGo's docs/Analysis_Engine.md. Field names and JSON keys follow KataGo exactly.
// Optional fields are pointers or omitempty so that re-encoding a decoded line keeps
// exactly the keys KataGo wrote.

// Move is one entry of a query's moves or initialStones: a player ("B" or "W") and a
// GTP location ("Q16", "pass"). It encodes as KataGo's two-element array.
type Move [2]string

// Query is one analysis request, or an action when Action is set.
type Query struct {
	ID     string `json:"id"`
	Action string `json:"action,omitempty"` // query_version, clear_cache, terminate, terminate_all, query_models

	// TerminateID and TurnNumbers are the arguments of the terminate action.
	TerminateID string `json:"terminateId,omitempty"`
	TurnNumbers []int  `json:"turnNumbers,omitempty"`

	Moves              []Move          `json:"moves,omitempty"`
	InitialStones      []Move          `json:"initialStones,omitempty"`
	InitialPlayer      string          `json:"initialPlayer,omitempty"`
	Rules              json.RawMessage `json:"rules,omitempty"` // a string such as "chinese", or an object of rule parameters
	Komi               *float64        `json:"komi,omitempty"`
	WhiteHandicapBonus string          `json:"whiteHandicapBonus,omitempty"`
	BoardXSize         int             `json:"boardXSize,omitempty"`
	BoardYSize         int             `json:"boardYSize,omitempty"`
	AnalyzeTurns       []int           `json:"analyzeTurns,omitempty"`

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

// MoveRestriction is one entry of avoidMoves or allowMoves.
type MoveRestriction struct {
	Player     string   `json:"player"`
	Moves      []string `json:"moves"`
	UntilDepth int      `json:"untilDepth"`
}

// Response is one line KataGo writes: a result (partial or final), an action's answer,
// an error or a warning.
type Response struct {
	ID             string     `json:"id,omitempty"`
	TurnNumber     *int       `json:"turnNumber,omitempty"`
	IsDuringSearch *bool      `json:"isDuringSearch,omitempty"`
	MoveInfos      []MoveInfo `json:"moveInfos,omitempty"`
	RootInfo       *RootInfo  `json:"rootInfo,omitempty"`
	Ownership      []float64  `json:"ownership,omitempty"`
	OwnershipStdev []float64  `json:"ownershipStdev,omitempty"`
	Policy         []float64  `json:"policy,omitempty"`
	HumanPolicy    []float64  `json:"humanPolicy,omitempty"`
	NoResults      bool       `json:"noResults,omitempty"`

	// Error, Warning and Field come on error and warning lines.
	Error   string `json:"error,omitempty"`
	Warning string `json:"warning,omitempty"`
	Field   string `json:"field,omitempty"`

	// Action answers.
	Action      string      `json:"action,omitempty"`
	Version     string      `json:"version,omitempty"`
	GitHash     string      `json:"git_hash,omitempty"`
	TerminateID string      `json:"terminateId,omitempty"`
	TurnNumbers []int       `json:"turnNumbers,omitempty"`
	Models      []ModelInfo `json:"models,omitempty"`

	// Extra holds top-level keys this package does not know yet.
	Extra map[string]json.RawMessage `json:"-"`
}

// MoveInfo is one candidate move of a result.
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
	ThisHash              string   `json:"thisHash,omitempty"`
	SymHash               string   `json:"symHash,omitempty"`
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
