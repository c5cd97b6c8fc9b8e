package fleet_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tesuji/tesuji/fleet"
	"github.com/tesuji/tesuji/queue"
)

// The simulation drives the pure policy over a synthetic day: jobs arrive along a
// curve, instances boot, workers claim jobs in order and analyze them at a fixed rate,
// and the policy decides every interval. It measures what an operator pays and what a
// user waits.

const (
	simStep       = 5 * time.Second
	simBoot       = 3 * time.Minute // launch to first heartbeat of a GPU AMI
	simRate       = 1200.0          // positions (visits) per second a worker really does
	simPrice      = 0.35            // dollars per instance-hour: a g5.xlarge spot, roughly
	simVisits     = 500
	simDay        = 24 * time.Hour
	simDrainAfter = 2 * time.Hour // the simulation runs on until the last job is done
)

// simArrivals is the synthetic day: reviews per hour by hour of day (UTC), quiet at
// night, busy in the evening, and a burst of simBurst games at 20:00 (a tournament's
// round uploaded at once).
var simArrivals = [24]int{
	1, 0, 0, 0, 0, 0, 1, 2, 4, 6, 8, 8,
	10, 10, 8, 8, 10, 14, 20, 30, 30, 24, 12, 4,
}

const simBurst = 12

type simJob struct {
	id        string
	arrived   time.Time
	claimed   time.Time
	positions int64
	left      float64 // positions still to analyze
}

type simInstance struct {
	fleet.Instance
	worker    *queue.WorkerInfo // nil while booting
	job       *simJob
	claimed   time.Time // when it claimed job
	idleSince time.Time
	rate      float64 // measured, reported after the first job
	// budgetSeen is the first decision that saw the budget spent and this worker
	// registered: a job claimed by then is one the policy lets it finish.
	budgetSeen time.Time
}

type simHour struct {
	arrivals     int
	positions    int64
	maxInstances int
	hours        float64
	worstWait    time.Duration
}

type simResult struct {
	hours      [24]simHour
	total      float64 // instance-hours
	worstWait  time.Duration
	jobs, done int
	maxSeen    int
	tail       time.Duration // how long after midnight the last job finished
}

// simulate runs one day under cfg and returns what it measured.
func simulate(t *testing.T, cfg fleet.Config, seed uint64) simResult {
	t.Helper()
	return simulateArrivals(t, cfg, seed, simArrivals, simBurst)
}

// simulateArrivals runs one day with arrivals jobs in each hour and burst at 20:00.
func simulateArrivals(t *testing.T, cfg fleet.Config, seed uint64, arrivals [24]int, burst int) simResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

	// Arrival times: uniform within each hour, plus the burst.
	var jobs []*simJob
	newJob := func(at time.Time) {
		turns := 120 + rng.IntN(200) // a whole game's review
		p := int64(turns) * simVisits
		jobs = append(jobs, &simJob{id: fmt.Sprintf("j%d", len(jobs)), arrived: at, positions: p, left: float64(p)})
	}
	for h, n := range arrivals {
		for range n {
			newJob(start.Add(time.Duration(h)*time.Hour + time.Duration(rng.Int64N(int64(time.Hour)))))
		}
	}
	for range burst {
		newJob(start.Add(20 * time.Hour))
	}
	slices.SortFunc(jobs, func(a, b *simJob) int { return a.arrived.Compare(b.arrived) })

	var (
		res       simResult
		instances []*simInstance
		queued    []*simJob
		next      int // next job to arrive
		used      float64
		seq       int
		day       = start
		held      map[string][]string // the last decision's BudgetJobs
	)
	res.jobs = len(jobs)
	end := start.Add(simDay + simDrainAfter)
	decideEvery := int(cfg.Interval / simStep)
	for step := 0; ; step++ {
		now := start.Add(time.Duration(step) * simStep)
		if now.After(end) {
			break
		}
		if next == len(jobs) && len(queued) == 0 && !slices.ContainsFunc(instances, func(i *simInstance) bool { return i.job != nil }) {
			res.tail = now.Sub(start.Add(simDay))
			break
		}
		for next < len(jobs) && !jobs[next].arrived.After(now) {
			queued = append(queued, jobs[next])
			next++
		}
		// Instances boot, then work.
		for _, in := range instances {
			if in.worker == nil && now.Sub(in.Launched) >= simBoot {
				in.worker = &queue.WorkerInfo{ID: "w-" + in.ID, InstanceID: in.ID, StartedAt: now}
				in.idleSince = now
			}
			if in.worker == nil {
				continue
			}
			if in.job != nil {
				in.job.left -= simRate * simStep.Seconds()
				if in.job.left <= 0 {
					in.job, in.rate = nil, simRate
					in.idleSince = now
					res.done++
				}
			}
			if in.job == nil && len(queued) > 0 {
				in.job, queued = queued[0], queued[1:]
				in.claimed = now
				if in.job.claimed.IsZero() { // not one handed back
					in.job.claimed = now
					wait := now.Sub(in.job.arrived)
					res.worstWait = max(res.worstWait, wait)
					if h := in.job.arrived.Sub(start) / time.Hour; h < 24 {
						res.hours[h].worstWait = max(res.hours[h].worstWait, wait)
					}
				}
			}
		}
		// Instance-hours and the budget's day.
		if now.Sub(day) >= 24*time.Hour {
			day, used = day.Add(24*time.Hour), 0
			for _, i := range instances {
				i.budgetSeen = time.Time{}
			}
		}
		dt := simStep.Hours() * float64(len(instances))
		used += dt
		res.total += dt
		if h := now.Sub(start) / time.Hour; h < 24 {
			res.hours[h].hours += dt
			res.hours[h].maxInstances = max(res.hours[h].maxInstances, len(instances))
		}
		res.maxSeen = max(res.maxSeen, len(instances))

		if step%decideEvery != 0 {
			continue
		}
		in := fleet.Input{Now: now, UsedHours: used, BudgetJobs: held}
		var waiting int64
		for _, j := range queued {
			waiting += j.positions
		}
		running := 0
		for _, i := range instances {
			in.Instances = append(in.Instances, i.Instance)
			if i.worker == nil {
				continue
			}
			w := *i.worker
			w.LastSeen, w.PositionsPerSec = now, i.rate
			if i.budgetSeen.IsZero() && cfg.BudgetHoursPerDay >= 0 && used >= cfg.BudgetHoursPerDay {
				i.budgetSeen = now
			}
			if i.job != nil {
				w.CurrentJobs = []string{i.job.id}
				waiting += int64(i.job.left)
				running++
			} else {
				w.IdleSince = i.idleSince
			}
			in.Workers = append(in.Workers, w)
		}
		in.Stats = queue.Stats{Queued: map[queue.Priority]int{queue.PriorityReview: len(queued)}, Running: running, PositionsWaiting: waiting}
		d := fleet.Decide(cfg, in)
		held = d.BudgetJobs
		if d.Desired > cfg.Max && cfg.Max > 0 {
			t.Fatalf("%s: desired %d above max %d", now, d.Desired, cfg.Max)
		}
		for _, term := range d.Terminate {
			i := slices.IndexFunc(instances, func(i *simInstance) bool { return i.ID == term.InstanceID })
			if inst := instances[i]; inst.job != nil {
				// Only the budget stops a job, and only one claimed after the budget ran
				// out; it goes back to the queue with its analyzed turns kept.
				if term.Reason != fleet.ReasonBudget || inst.budgetSeen.IsZero() || !inst.claimed.After(inst.budgetSeen) {
					t.Fatalf("%s: the policy terminated %s (%s) while it ran job %s", now, term.InstanceID, term.Reason, inst.job.id)
				}
				queued = append([]*simJob{inst.job}, queued...)
			}
			instances = slices.Delete(instances, i, i+1)
		}
		for range d.Launch {
			seq++
			instances = append(instances, &simInstance{Instance: fleet.Instance{
				ID: fmt.Sprintf("i-%04d", seq), Type: "g5.xlarge", State: "pending", Launched: now,
			}})
		}
	}
	for h := range res.hours {
		for _, j := range jobs {
			if j.arrived.Sub(start)/time.Hour == time.Duration(h) {
				res.hours[h].arrivals++
				res.hours[h].positions += j.positions
			}
		}
	}
	return res
}

func (r simResult) table(cfg fleet.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy: min %d, max %d, drain %v, idle timeout %v, interval %v; boot %v, %0.f positions/s per worker\n",
		cfg.Min, cfg.Max, cfg.TargetDrain, cfg.IdleTimeout, cfg.Interval, simBoot, simRate)
	b.WriteString("| hour (UTC) | jobs in | positions | max instances | instance-hours | worst wait |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for h, s := range r.hours {
		fmt.Fprintf(&b, "| %02d | %d | %d | %d | %.2f | %v |\n", h, s.arrivals, s.positions, s.maxInstances, s.hours, s.worstWait.Round(time.Second))
	}
	fmt.Fprintf(&b, "| total | %d | | %d | %.2f | %v |\n", r.jobs, r.maxSeen, r.total, r.worstWait.Round(time.Second))
	fmt.Fprintf(&b, "cost at $%.2f per instance-hour: $%.2f for the day (always-on max: $%.2f)\n",
		simPrice, r.total*simPrice, float64(cfg.Max)*24*simPrice)
	return b.String()
}

func TestSimulatedDay(t *testing.T) {
	t.Parallel()
	cfg := fleet.Config{
		LaunchTemplateName: "tesuji-worker",
		Max:                4,
		Interval:           30 * time.Second,
		BudgetHoursPerDay:  -1,
	}
	res := simulate(t, cfg, 1)
	if res.done != res.jobs {
		t.Fatalf("simulation did not drain: %d of %d jobs done", res.done, res.jobs)
	}
	t.Logf("simulated day:\n%s", res.table(fleet.Config{Max: 4, Interval: 30 * time.Second, TargetDrain: fleet.DefaultTargetDrain, IdleTimeout: fleet.DefaultIdleTimeout}))

	if res.done != res.jobs {
		t.Errorf("%d of %d jobs done", res.done, res.jobs)
	}
	if res.maxSeen > cfg.Max {
		t.Errorf("ran %d instances, max is %d", res.maxSeen, cfg.Max)
	}
	// The burst queues behind max capacity: 12 games of up to 320 turns on 4 workers
	// take about 10 minutes.
	if res.worstWait > 15*time.Minute {
		t.Errorf("worst wait %v, want under 15m", res.worstWait)
	}
	// Outside the burst a job waits no longer than a cold start plus the drain target.
	for h, s := range res.hours {
		if h != 20 && s.worstWait > simBoot+fleet.DefaultTargetDrain+cfg.Interval+time.Minute {
			t.Errorf("hour %02d: worst wait %v", h, s.worstWait)
		}
	}
	// Scale to zero: the quiet hours cost nothing once the night's one job is done.
	for _, h := range []int{2, 3, 4, 5} {
		if s := res.hours[h]; s.hours != 0 {
			t.Errorf("hour %02d: %.2f instance-hours with no job", h, s.hours)
		}
	}
	// Far cheaper than running max all day, and the work itself needs about this much.
	var work float64
	for _, s := range res.hours {
		work += float64(s.positions) / simRate / 3600
	}
	if res.total > 0.5*float64(cfg.Max)*24 {
		t.Errorf("%.1f instance-hours, more than half of always-on max", res.total)
	}
	if res.total < work {
		t.Errorf("%.1f instance-hours cannot do %.1f hours of work", res.total, work)
	}
}

func TestSimulatedDayWithinBudget(t *testing.T) {
	t.Parallel()
	cfg := fleet.Config{LaunchTemplateName: "tesuji-worker", Max: 4, Interval: 30 * time.Second, BudgetHoursPerDay: 5}
	res := simulate(t, cfg, 1)
	var day float64
	for _, s := range res.hours {
		day += s.hours
	}
	t.Logf("budget 5 instance-hours: %.2f used in the day, %d of %d jobs done by 02:00 the next day", day, res.done, res.jobs)
	// The cap stops launches; instances already busy finish their job (one job each
	// past the cap, 320 turns at most), so the day ends a little over it, and the rest
	// of the work waits for the next day's budget.
	if limit := 5 + float64(cfg.Max)*320*simVisits/simRate/3600; day > limit {
		t.Errorf("%.2f instance-hours in the day with a budget of 5, want at most %.2f", day, limit)
	}
	// The work the budget could not pay for waited for the next day's.
	if res.worstWait < time.Hour {
		t.Errorf("worst wait %v: the budget held nothing back", res.worstWait)
	}
}

// TestSimulatedBudgetUnderBacklog asserts that the budget stops a fleet whose workers
// are never idle: with a backlog all day, each claims its next job the moment it
// finishes one.
func TestSimulatedBudgetUnderBacklog(t *testing.T) {
	t.Parallel()
	cfg := fleet.Config{LaunchTemplateName: "tesuji-worker", Max: 2, Interval: 30 * time.Second, BudgetHoursPerDay: 1}
	res := simulateArrivals(t, cfg, 1, [24]int{0: 150}, 0)
	var day float64
	for _, s := range res.hours {
		day += s.hours
	}
	t.Logf("budget 1 instance-hour, 150 jobs at midnight: %.2f used in the day, %d jobs done by 02:00 the next day", day, res.done)
	// Each instance finishes the job it held when the budget ran out, and no other.
	if limit := 1 + float64(cfg.Max)*320*simVisits/simRate/3600; day > limit {
		t.Errorf("%.2f instance-hours in the day with a budget of 1, want at most %.2f", day, limit)
	}
}

// TestSimulatedPolicies compares the knobs over the same day: what a warm worker or a
// longer idle timeout buys in waiting, and what it costs.
func TestSimulatedPolicies(t *testing.T) {
	t.Parallel()
	base := fleet.Config{LaunchTemplateName: "tesuji-worker", Max: 4, Interval: 30 * time.Second, BudgetHoursPerDay: -1}
	tests := []struct {
		name string
		cfg  func(c *fleet.Config)
	}{
		{"defaults (min 0, idle 10m, drain 5m)", func(*fleet.Config) {}},
		{"idle timeout 30m", func(c *fleet.Config) { c.IdleTimeout = 30 * time.Minute }},
		{"min 1", func(c *fleet.Config) { c.Min = 1 }},
		{"drain 2m", func(c *fleet.Config) { c.TargetDrain = 2 * time.Minute }},
		{"max 2", func(c *fleet.Config) { c.Max = 2 }},
	}
	var b strings.Builder
	jobs := 0
	b.WriteString("| policy | instance-hours | cost/day | worst wait | worst wait outside the burst |\n|---|---|---|---|---|\n")
	for _, tt := range tests {
		cfg := base
		tt.cfg(&cfg)
		res := simulate(t, cfg, 1)
		jobs = res.jobs
		if res.done != res.jobs {
			t.Errorf("%s: %d of %d jobs done", tt.name, res.done, res.jobs)
		}
		if res.maxSeen > cfg.Max {
			t.Errorf("%s: %d instances, max %d", tt.name, res.maxSeen, cfg.Max)
		}
		var outside time.Duration
		for h, s := range res.hours {
			if h != 20 {
				outside = max(outside, s.worstWait)
			}
		}
		if cfg.Min > 0 && res.total < 24*float64(cfg.Min) {
			t.Errorf("%s: %.1f instance-hours, below min all day", tt.name, res.total)
		}
		fmt.Fprintf(&b, "| %s | %.1f | $%.2f | %v | %v |\n", tt.name, res.total, res.total*simPrice,
			res.worstWait.Round(time.Second), outside.Round(time.Second))
	}
	t.Logf("policies over the same day (%d jobs, $%.2f per instance-hour):\n%s", jobs, simPrice, b.String())
}
