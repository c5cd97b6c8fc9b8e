package worker

import (
	"slices"
	"testing"
)

// TestUntrackKeepsTheNextRun: a job handed back and claimed again at once by another of
// the worker's slots is tracked by the new run before the old one ends; the old run's end
// must not take it out of the worker's entry (which the autoscaler reads to find idle
// workers) or out of the runs a shutdown stops.
func TestUntrackKeepsTheNextRun(t *testing.T) {
	w := New(nil, Config{ID: "w"})
	first, again := &runningJob{}, &runningJob{}
	w.track("j", first)
	w.track("j", again) // claimed again before the first run returned
	w.untrack("j", first)
	if info := w.info(); !slices.Equal(info.CurrentJobs, []string{"j"}) || !info.IdleSince.IsZero() {
		t.Fatalf("after the first run ended: current jobs %v, idle since %v; want j, not idle", info.CurrentJobs, info.IdleSince)
	}
	w.untrack("j", again)
	if info := w.info(); len(info.CurrentJobs) != 0 || info.IdleSince.IsZero() {
		t.Fatalf("after both runs ended: current jobs %v, idle since %v; want none, idle", info.CurrentJobs, info.IdleSince)
	}
}
