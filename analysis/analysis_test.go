package analysis_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/katago"
)

func TestFailureRoundTrips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		stored string // what the queue holds; "" means Encode of want
		want   analysis.Failure
		text   string
	}{
		{name: "rejected with a field", want: analysis.Failure{Code: analysis.FailureRejected, Field: "komi", Message: "Must be a integer"},
			text: "katago rejected the query: field komi: Must be a integer"},
		{name: "rejected", want: analysis.Failure{Code: analysis.FailureRejected, Message: "Illegal move"},
			text: "katago rejected the query: Illegal move"},
		{name: "worker", want: analysis.Failure{Code: analysis.FailureWorker, Message: "worker: panic: boom"},
			text: "worker: panic: boom"},
		{name: "written by the queue", stored: "lease expired",
			want: analysis.Failure{Code: analysis.FailureQueue, Message: "lease expired"}, text: "lease expired"},
		{name: "JSON without a code", stored: `{"message":"x"}`,
			want: analysis.Failure{Code: analysis.FailureQueue, Message: `{"message":"x"}`}, text: `{"message":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stored := tt.stored
			if stored == "" {
				stored = tt.want.Encode()
			}
			got := analysis.ParseFailure(stored)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFailure (-want +got):\n%s", diff)
			}
			if got.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", got.Error(), tt.text)
			}
		})
	}
}

func TestSpecRoundTripsAndBuildsItsQuery(t *testing.T) {
	t.Parallel()
	komi := 6.5
	req := analysis.PositionRequest{
		Position: analysis.Position{Moves: []katago.Move{{"B", "E5"}, {"W", "C3"}}, BoardXSize: 9, BoardYSize: 9,
			Komi: &komi, Rules: "japanese"},
		MaxVisits: 50, MaxTime: 2, IncludeOwnership: true, ReportEvery: 0.5,
		SearchOptions:    analysis.SearchOptions{IncludePolicy: true, AvoidMoves: []katago.MoveRestriction{{Player: "B", Moves: []string{"A1"}, UntilDepth: 1}}},
		OverrideSettings: map[string]any{"playoutDoublingAdvantage": 0.5},
	}
	g, err := req.Game()
	if err != nil {
		t.Fatal(err)
	}
	data, err := req.Spec(g, true).Encode()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := analysis.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !spec.Ponder || spec.Game.Komi != 6.5 || len(spec.Game.Moves) != 2 {
		t.Fatalf("decoded spec %+v lost its position or ponder", spec)
	}
	q := spec.Query([]int{2})
	visits, every := 50, 0.5
	want := katago.Query{MaxVisits: &visits, ReportDuringSearchEvery: &every, IncludeOwnership: true, IncludePolicy: true,
		AvoidMoves:       req.AvoidMoves,
		OverrideSettings: map[string]any{"playoutDoublingAdvantage": 0.5, "maxTime": 2.0}}
	got := katago.Query{MaxVisits: q.MaxVisits, ReportDuringSearchEvery: q.ReportDuringSearchEvery,
		IncludeOwnership: q.IncludeOwnership, IncludePolicy: q.IncludePolicy, AvoidMoves: q.AvoidMoves,
		OverrideSettings: q.OverrideSettings}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	if len(q.AnalyzeTurns) != 1 || q.AnalyzeTurns[0] != 2 {
		t.Errorf("analyzeTurns = %v, want [2]", q.AnalyzeTurns)
	}
}

func TestDecodeRejectsAPayloadWithoutAGame(t *testing.T) {
	t.Parallel()
	for _, data := range []string{`{}`, `{"game":null}`, `not json`} {
		if _, err := analysis.Decode([]byte(data)); err == nil {
			t.Errorf("Decode(%s) = nil error", data)
		}
	}
	if _, err := (&analysis.Spec{}).Encode(); err == nil {
		t.Error("Encode of a spec without a game = nil error")
	}
}
