package analysis_test

import (
	"testing"

	"github.com/tesuji/tesuji/analysis"
)

func TestAdaptivePlan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		maxVisits int
		adaptive  bool // whether an adaptive review at maxVisits is one
		quick     int
		deep      int // DeepBudget of 100 turns
	}{
		{maxVisits: 16, adaptive: false, quick: 16, deep: 0},
		{maxVisits: 32, adaptive: false, quick: 16, deep: 0},
		{maxVisits: 63, adaptive: false, quick: 18, deep: 11},
		{maxVisits: 64, adaptive: true, quick: 19, deep: 10},    // 29.7% + 10.3%
		{maxVisits: 100, adaptive: true, quick: 30, deep: 10},   // 30% + 10%
		{maxVisits: 200, adaptive: true, quick: 60, deep: 10},   // 30% + 10%
		{maxVisits: 500, adaptive: true, quick: 150, deep: 10},  // 30% + 10%
		{maxVisits: 2000, adaptive: true, quick: 600, deep: 10}, // 30% + 10%
	}
	for _, tt := range tests {
		spec := &analysis.Spec{MaxVisits: tt.maxVisits, Adaptive: true}
		if got := spec.IsAdaptive(); got != tt.adaptive {
			t.Errorf("maxVisits %d: IsAdaptive %v, want %v", tt.maxVisits, got, tt.adaptive)
		}
		if tt.adaptive && tt.maxVisits <= 3*analysis.QuickVisits(tt.maxVisits) {
			t.Errorf("maxVisits %d: the deep search is not more than three quick ones (%d)", tt.maxVisits, analysis.QuickVisits(tt.maxVisits))
		}
		if got := analysis.QuickVisits(tt.maxVisits); got != tt.quick {
			t.Errorf("maxVisits %d: QuickVisits %d, want %d", tt.maxVisits, got, tt.quick)
		}
		if got := analysis.DeepBudget(100, tt.maxVisits); got != tt.deep {
			t.Errorf("maxVisits %d: DeepBudget(100) %d, want %d", tt.maxVisits, got, tt.deep)
		}
		for _, turns := range []int{0, 1, 2, 21, 100, 361, 1000} {
			uniform := int64(turns) * int64(tt.maxVisits)
			planned := spec.PlannedVisits(turns)
			if !tt.adaptive {
				if planned != uniform {
					t.Errorf("maxVisits %d, %d turns: planned %d, want a uniform review's %d", tt.maxVisits, turns, planned, uniform)
				}
				continue
			}
			if float64(planned) > analysis.AdaptiveShare*float64(uniform) {
				t.Errorf("maxVisits %d, %d turns: planned %d, over %.0f%% of a uniform review's %d", tt.maxVisits, turns,
					planned, 100*analysis.AdaptiveShare, uniform)
			}
			if deep := analysis.DeepBudget(turns, tt.maxVisits); deep < 0 || deep > turns {
				t.Errorf("maxVisits %d, %d turns: DeepBudget %d", tt.maxVisits, turns, deep)
			}
			// One more deep search would break the share: the budget is the most it allows.
			more := planned + int64(tt.maxVisits)
			if turns > 0 && float64(more) <= analysis.AdaptiveShare*float64(uniform) {
				t.Errorf("maxVisits %d, %d turns: planned %d leaves room for another deep search", tt.maxVisits, turns, planned)
			}
		}
	}
	if got := (&analysis.Spec{MaxVisits: 200}).PlannedVisits(10); got != 2000 {
		t.Errorf("uniform review of 10 turns at 200: planned %d, want 2000", got)
	}
	if got := analysis.DeepBudget(100, 0); got != 0 {
		t.Errorf("DeepBudget at 0 visits: %d, want 0", got)
	}
}

// TestReviewPercent: a review's progress weighs its searches by their visits, so an
// adaptive review's quick pass is not the whole of it.
func TestReviewPercent(t *testing.T) {
	t.Parallel()
	// review.sgf's 121 positions at 500 visits: a quick pass of 150 visits, then 12
	// positions again at 500; 24,150 visits planned.
	smart := &analysis.Spec{MaxVisits: 500, Adaptive: true}
	uniform := &analysis.Spec{MaxVisits: 500}
	tests := []struct {
		name                  string
		spec                  *analysis.Spec
		total, done, deepDone int
		want                  int
	}{
		{"nothing yet", smart, 121, 0, 0, 0},
		{"half the quick pass", smart, 121, 60, 0, 37},       // 9,000 of 24,150
		{"quick pass done", smart, 121, 121, 0, 75},          // 18,150
		{"four searched again", smart, 121, 121, 4, 83},      // 20,150
		{"every deep search", smart, 121, 121, 12, 100},      // 24,150
		{"more deep than planned", smart, 121, 121, 40, 100}, // a retried job counts no more
		{"uniform, by turns", uniform, 121, 60, 0, 49},
		{"uniform, done", uniform, 121, 121, 0, 100},
		{"adaptive too shallow to be one", &analysis.Spec{MaxVisits: 32, Adaptive: true}, 10, 5, 0, 50},
		{"no turns", smart, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.spec.Percent(tt.total, tt.done, tt.deepDone); got != tt.want {
			t.Errorf("%s: Percent(%d, %d, %d) = %d, want %d", tt.name, tt.total, tt.done, tt.deepDone, got, tt.want)
		}
	}
}
