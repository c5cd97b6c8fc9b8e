package worker

import (
	"encoding/json"
	"fmt"

	"github.com/tesuji/tesuji/game"
)

// Spec is a job's payload: what the API enqueues and a worker analyzes. The queue treats
// it as opaque bytes.
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
	// Adaptive reviews the game in two passes: every turn at QuickVisits(MaxVisits), then
	// the turns that decide the game (selectDeep) again at MaxVisits. It needs a MaxVisits
	// of at least twice its quick visits; below that the review is uniform.
	Adaptive bool `json:"adaptive,omitempty"`
	// ReportEvery, when positive, publishes partial reports every so many seconds while a
	// position is searched (the live stream of a single position).
	ReportEvery float64 `json:"reportEvery,omitempty"`
}

// EncodeSpec returns the payload bytes for s.
func EncodeSpec(s *Spec) ([]byte, error) {
	if s.Game == nil {
		return nil, fmt.Errorf("worker: spec without a game")
	}
	return json.Marshal(s)
}

// DecodeSpec reads a payload written by EncodeSpec.
func DecodeSpec(data []byte) (*Spec, error) {
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("worker: decode job payload: %w", err)
	}
	if s.Game == nil {
		return nil, fmt.Errorf("worker: job payload has no game")
	}
	return &s, nil
}
