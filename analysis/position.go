package analysis

import (
	"encoding/json"

	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// Position is one position: a move list with the board, komi and rules, or an SGF and a
// variation path (the position after the last move of that line). Zero fields are left to
// the defaults of KataGo's query.
type Position struct {
	Moves         []katago.Move `json:"moves"`
	InitialStones []katago.Move `json:"initialStones,omitempty"`
	InitialPlayer string        `json:"initialPlayer,omitempty"` // "B" or "W"
	BoardXSize    int           `json:"boardXSize,omitempty"`
	BoardYSize    int           `json:"boardYSize,omitempty"`
	Komi          *float64      `json:"komi,omitempty"`
	Rules         string        `json:"rules,omitempty"` // KataGo's rules string

	SGF  string `json:"sgf,omitempty"`
	Path string `json:"path,omitempty"`
}

// Game builds and validates the game of a position given by its move list (SGF empty).
func (p *Position) Game() (*game.Game, error) {
	var rules json.RawMessage
	if p.Rules != "" {
		rules, _ = json.Marshal(p.Rules)
	}
	g, err := game.GameFromQuery(katago.Query{
		Moves: p.Moves, InitialStones: p.InitialStones, InitialPlayer: p.InitialPlayer,
		BoardXSize: p.BoardXSize, BoardYSize: p.BoardYSize, Komi: p.Komi, Rules: rules,
	})
	if err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// PositionRequest is the body of POST /api/v1/positions: one position and how to search
// it. Zero fields are left to the server's defaults.
type PositionRequest struct {
	Position

	MaxVisits        int     `json:"maxVisits,omitempty"`
	MaxTime          float64 `json:"maxTime,omitempty"` // seconds; 0: no limit but visits
	IncludeOwnership bool    `json:"includeOwnership,omitempty"`
	// ReportEvery is the seconds between partial reports of a streamed request; the server
	// defaults it to 0.5 and allows no less than 0.05.
	ReportEvery float64 `json:"reportEvery,omitempty"`

	// SearchOptions are KataGo's query fields of the same names.
	SearchOptions
	// OverrideSettings takes the search parameters of JobSettings but maxTime (a field of
	// its own here).
	OverrideSettings map[string]any `json:"overrideSettings,omitempty"`
}

// Spec is the job of r for its game g, validated; ponder marks an open-ended search.
func (r *PositionRequest) Spec(g *game.Game, ponder bool) *Spec {
	return &Spec{Game: g, MaxVisits: r.MaxVisits, MaxTime: r.MaxTime, IncludeOwnership: r.IncludeOwnership,
		ReportEvery: r.ReportEvery, Ponder: ponder, SearchOptions: r.SearchOptions, Settings: r.OverrideSettings}
}
