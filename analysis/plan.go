package analysis

// QuickVisits is the visits of an adaptive review's quick pass for a review at maxVisits:
// an eighth of them, and at least 16, below which KataGo's score estimates are too noisy to
// tell a mistake from a good move. With at most DeepShare of the turns searched again, an
// adaptive review spends at most 1/8 + DeepShare (37.5%) of a uniform review's visits.
func QuickVisits(maxVisits int) int { return max(16, maxVisits/8) }

// DeepShare is the most of a review's turns that an adaptive review searches again at its
// full visits.
const DeepShare = 0.25

// DeepBudget is how many of turns positions an adaptive review searches again.
func DeepBudget(turns int) int { return int(float64(turns) * DeepShare) }

// IsAdaptive reports whether the spec asks for an adaptive review that can be one: the
// deep search must be at least twice the quick one to be worth a second search.
func (s *Spec) IsAdaptive() bool {
	return s.Adaptive && s.MaxVisits >= 2*QuickVisits(s.MaxVisits)
}

// PlannedVisits is the most visits a review of the spec over turns positions spends: what
// the queue's backlog and the autoscaler count it as.
func (s *Spec) PlannedVisits(turns int) int64 {
	if !s.IsAdaptive() {
		return int64(turns) * int64(s.MaxVisits)
	}
	return int64(turns)*int64(QuickVisits(s.MaxVisits)) + int64(DeepBudget(turns))*int64(s.MaxVisits)
}
