package analysis

import "github.com/tesuji/tesuji/game"

// AdaptiveShare is the most of a uniform review's visits that an adaptive review spends:
// its quick pass over every turn and its deeper searches together.
const AdaptiveShare = 0.40

// QuickVisits is the visits of an adaptive review's quick pass for a review at maxVisits:
// three tenths of them, and at least 16, below which KataGo's score estimates are too noisy
// to tell a mistake from a good move.
//
// A quick pass at three tenths leaves a tenth of the positions to search again within
// AdaptiveShare. Measured on real KataGo reviews (worker/testdata/adaptive), a quick pass at
// an eighth of the visits errs on so many moves that even a selection told the deep
// results in advance could not correct enough of them within the budget; at three tenths
// the quick pass alone agrees with a uniform review at maxVisits nearly as well as another
// uniform review does, and the deeper searches go to the moves where it is least sure.
func QuickVisits(maxVisits int) int { return max(minQuickVisits, maxVisits*3/10) }

const minQuickVisits = 16

// DeepBudget is how many of turns positions an adaptive review at maxVisits searches again
// at maxVisits: as many as AdaptiveShare leaves after the quick pass, so that the review
// spends at most 40% of a uniform one's visits whatever maxVisits is (10% of the positions
// from 54 visits up, where the quick pass is three tenths).
func DeepBudget(turns, maxVisits int) int {
	if turns <= 0 || maxVisits <= 0 {
		return 0
	}
	// floor(turns × (2/5 − quick/maxVisits)), in integers.
	return max(0, turns*(2*maxVisits-5*QuickVisits(maxVisits))/(5*maxVisits))
}

// MinAdaptiveVisits is the least MaxVisits an adaptive review runs at: from there up the
// deep search is more than three quick ones and the budget searches a tenth of the
// positions again. Below it, a review asked for as adaptive is a uniform one.
const MinAdaptiveVisits = 64

// IsAdaptive reports whether the spec asks for an adaptive review that can be one.
func (s *Spec) IsAdaptive() bool { return s.Adaptive && s.MaxVisits >= MinAdaptiveVisits }

// PlannedVisits is the most visits a review of the spec over turns positions spends: what
// the queue's backlog and the autoscaler count it as.
func (s *Spec) PlannedVisits(turns int) int64 {
	if !s.IsAdaptive() {
		return int64(turns) * int64(s.MaxVisits)
	}
	return int64(turns)*int64(QuickVisits(s.MaxVisits)) + int64(DeepBudget(turns, s.MaxVisits))*int64(s.MaxVisits)
}

// Percent is how far a review of the spec over total turns has come, in percent of the
// visits it plans: done turns searched once, and of an adaptive review deepDone turns
// searched again at MaxVisits. From 54 visits up an adaptive review's quick pass is 75% of
// it (three tenths of the visits of every turn, of 40%); counting turns alone, it would read
// 100% while a quarter of its work, the deeper searches, is still to come.
func (s *Spec) Percent(total, done, deepDone int) int {
	planned := s.PlannedVisits(total)
	if planned <= 0 {
		return 0
	}
	perTurn, deep := s.MaxVisits, 0
	if s.IsAdaptive() {
		perTurn, deep = QuickVisits(s.MaxVisits), min(deepDone, DeepBudget(total, s.MaxVisits))
	}
	work := int64(min(done, total))*int64(perTurn) + int64(deep)*int64(s.MaxVisits)
	return int(work * 100 / planned)
}

// Progress is how far a review has come, as the API shows it and `tesuji analyze` draws it.
type Progress struct {
	// Done of Total turns are analyzed.
	Done  int `json:"done"`
	Total int `json:"total"`
	// DeepDone of the at most DeepTotal turns an adaptive review searches again at
	// MaxVisits are searched again so far; both 0 for a uniform review.
	DeepDone  int `json:"deepDone,omitempty"`
	DeepTotal int `json:"deepTotal,omitempty"`
	// Percent is Spec.Percent: by the visits the review plans.
	Percent int `json:"percent"`
}

// Progress counts the progress of a review of the spec over total turns from the turns
// analyzed so far (each once, with its latest result).
func (s *Spec) Progress(total int, turns []game.Turn) Progress {
	p := Progress{Done: len(turns), Total: total}
	if s.IsAdaptive() {
		p.DeepTotal = DeepBudget(total, s.MaxVisits)
		for i := range turns {
			if turns[i].Deepened() {
				p.DeepDone++
			}
		}
	}
	p.Percent = s.Percent(total, p.Done, p.DeepDone)
	return p
}
