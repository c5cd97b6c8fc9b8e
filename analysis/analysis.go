// Package analysis defines what a job asks KataGo for: a game and the turns to analyze, or
// one position, with its search options (Spec, the payload the API enqueues and a worker
// runs), the position request that the API takes and its client sends (PositionRequest),
// and how a failed job says why (Failure). The queue treats a Spec as opaque bytes.
package analysis

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// Spec is a job's payload: what the API enqueues and a worker analyzes.
type Spec struct {
	// Game is the validated game; its turns are the positions after 0..len(Moves) moves.
	Game *game.Game `json:"game"`
	// SGF is the uploaded record, as uploaded, that the annotated SGF is built from; empty for
	// jobs made from a move list.
	SGF []byte `json:"sgf,omitempty"`
	// Path selects the variation of SGF that Game was read from.
	Path string `json:"path,omitempty"`
	// MaxVisits caps KataGo's visits per position; 0 means the engine's configured default.
	MaxVisits int `json:"maxVisits,omitempty"`
	// MaxTime caps the search time per position in seconds; 0 means no cap.
	MaxTime float64 `json:"maxTime,omitempty"`
	// IncludeOwnership asks for the ownership map of every position.
	IncludeOwnership bool `json:"includeOwnership,omitempty"`
	// Adaptive reviews the game in two passes: every turn at a fraction of MaxVisits (the
	// QuickVisits), then the moves that quick pass is least sure of again at MaxVisits,
	// within AdaptiveShare of a uniform review's visits. It needs a MaxVisits of at least
	// MinAdaptiveVisits (64); below that the review is uniform.
	Adaptive bool `json:"adaptive,omitempty"`
	// ReportEvery, when positive, publishes partial reports every so many seconds while a
	// position is searched (the live stream of a single position).
	ReportEvery float64 `json:"reportEvery,omitempty"`
	// Ponder marks an open-ended interactive search (GTP analysis, KaTrain's pondering):
	// it runs until its client stops it, so a worker that shuts down ends it at once,
	// keeping its latest report as the result, instead of handing it to another worker.
	Ponder bool `json:"ponder,omitempty"`

	SearchOptions
	// Settings are KataGo search parameters passed in overrideSettings (such as
	// playoutDoublingAdvantage, maxPlayouts or humanSLProfile).
	Settings map[string]any `json:"settings,omitempty"`
}

// SearchOptions are fields of KataGo's query, under its names, that a position request
// and a job carry to KataGo as they are.
type SearchOptions struct {
	IncludeOwnershipStdev      bool                     `json:"includeOwnershipStdev,omitempty"`
	IncludeMovesOwnership      bool                     `json:"includeMovesOwnership,omitempty"`
	IncludeMovesOwnershipStdev bool                     `json:"includeMovesOwnershipStdev,omitempty"`
	IncludePVVisits            bool                     `json:"includePVVisits,omitempty"`
	IncludePolicy              bool                     `json:"includePolicy,omitempty"`
	IncludeNoResultValue       bool                     `json:"includeNoResultValue,omitempty"`
	AvoidMoves                 []katago.MoveRestriction `json:"avoidMoves,omitempty"`
	AllowMoves                 []katago.MoveRestriction `json:"allowMoves,omitempty"`
}

// OptionsOf returns the search options q sets.
func OptionsOf(q *katago.Query) SearchOptions {
	return SearchOptions{IncludeOwnershipStdev: q.IncludeOwnershipStdev, IncludeMovesOwnership: q.IncludeMovesOwnership,
		IncludeMovesOwnershipStdev: q.IncludeMovesOwnershipStdev, IncludePVVisits: q.IncludePVVisits,
		IncludePolicy: q.IncludePolicy, IncludeNoResultValue: q.IncludeNoResultValue,
		AvoidMoves: q.AvoidMoves, AllowMoves: q.AllowMoves}
}

func (o *SearchOptions) apply(q *katago.Query) {
	q.IncludeOwnershipStdev = o.IncludeOwnershipStdev
	q.IncludeMovesOwnership = o.IncludeMovesOwnership
	q.IncludeMovesOwnershipStdev = o.IncludeMovesOwnershipStdev
	q.IncludePVVisits = o.IncludePVVisits
	q.IncludePolicy = o.IncludePolicy
	q.IncludeNoResultValue = o.IncludeNoResultValue
	q.AvoidMoves = o.AvoidMoves
	q.AllowMoves = o.AllowMoves
}

// JobSettings are the KataGo search parameters a job may set through Settings: those that
// change one search and nothing else of the engine the job shares with others.
var JobSettings = map[string]bool{
	"maxPlayouts": true, "playoutDoublingAdvantage": true, "humanSLProfile": true,
	"wideRootNoise": true, "maxTime": true, "rootPolicyOptimism": true,
}

// Encode returns the payload bytes for s.
func (s *Spec) Encode() ([]byte, error) {
	if s.Game == nil {
		return nil, errors.New("analysis: spec without a game")
	}
	return json.Marshal(s)
}

// Decode reads a payload written by Encode.
func Decode(data []byte) (*Spec, error) {
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("analysis: decode job payload: %w", err)
	}
	if s.Game == nil {
		return nil, errors.New("analysis: job payload has no game")
	}
	return &s, nil
}

// Query is the KataGo query for the given turns of s's game, priority aside.
func (s *Spec) Query(turns []int) katago.Query {
	q := s.Game.Query(turns)
	if s.MaxVisits > 0 {
		v := s.MaxVisits
		q.MaxVisits = &v
	}
	if len(s.Settings) > 0 || s.MaxTime > 0 {
		q.OverrideSettings = make(map[string]any, len(s.Settings)+1)
		for k, v := range s.Settings {
			q.OverrideSettings[k] = v
		}
		if s.MaxTime > 0 {
			q.OverrideSettings["maxTime"] = s.MaxTime
		}
	}
	q.IncludeOwnership = s.IncludeOwnership
	s.SearchOptions.apply(&q)
	if s.ReportEvery > 0 {
		r := s.ReportEvery
		q.ReportDuringSearchEvery = &r
	}
	return q
}
