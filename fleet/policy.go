package fleet

import (
	"cmp"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tesuji/tesuji/queue"
)

// Instance is one of the fleet's EC2 instances (pending or running) as the policy sees
// it.
type Instance struct {
	ID       string
	Type     string
	Subnet   string
	Zone     string
	State    string // "pending" or "running"
	Launched time.Time
	// LastHeartbeat is the last time the fleet saw a worker on this instance in the
	// registry; zero when it never did. A worker in Input.Workers counts too.
	LastHeartbeat time.Time
}

// Input is everything one decision depends on.
type Input struct {
	Now       time.Time
	Stats     queue.Stats
	Workers   []queue.WorkerInfo // the live registry entries
	Instances []Instance         // the fleet's pending and running instances
	UsedHours float64            // instance-hours spent so far this UTC day
	// BudgetJobs is the previous decision's Decision.BudgetJobs: with today's budget
	// spent, the jobs each instance held when the fleet first saw it so.
	BudgetJobs map[string][]string
}

// Reason says why an instance is terminated.
type Reason string

const (
	// ReasonNoHeartbeat: no worker on the instance was seen within BootGrace of its
	// launch. The AMI, the user data or the SSM parameter is likely wrong.
	ReasonNoHeartbeat Reason = "no-heartbeat"
	// ReasonWorkerGone: the instance's worker left the registry and none came back
	// within RestartGrace of its last heartbeat. It exited after a spot rebalance
	// recommendation (systemd does not restart that exit), or keeps failing to start.
	ReasonWorkerGone Reason = "worker-gone"
	// ReasonIdle: the fleet has more workers than it needs and this one has had no job
	// for IdleTimeout.
	ReasonIdle Reason = "idle"
	// ReasonBudget: today's instance-hours are spent and this instance has finished the
	// jobs it held then: it is idle, or has moved on to a job it claimed since, which its
	// worker hands back to the queue as it stops (no attempt counted).
	ReasonBudget Reason = "budget"
)

// Termination is one instance the decision terminates.
type Termination struct {
	InstanceID string
	Reason     Reason
	// Since is when the instance became idle (idle, budget), its launch (no-heartbeat),
	// its last heartbeat (worker-gone), or the decision's time for an instance retired
	// for the budget while on a job it claimed after the budget ran out.
	Since time.Time
}

// Decision is what one step of the fleet decided, and for a step that acted, what
// happened. String renders it for `tesuji fleet --dry-run`.
type Decision struct {
	Time   time.Time
	DryRun bool

	Backlog   int64   // positions waiting (queue.Stats.PositionsWaiting)
	Jobs      int     // queued plus running jobs
	Rate      float64 // positions per second assumed per fleet worker
	Instances int     // the fleet's pending and running instances
	Static    int     // registered workers that are not on the fleet's instances
	UsedHours float64 // instance-hours spent today

	Desired   int    // instances the fleet wants
	Why       string // how Desired came about
	Launch    int    // instances to launch
	Terminate []Termination
	// BudgetJobs is, with today's budget spent, the jobs each instance held when a
	// decision first saw the budget spent and the instance's worker registered; nil
	// while the budget lasts. Pass it to the next decision as Input.BudgetJobs.
	BudgetJobs map[string][]string

	// Filled in by Fleet.Step when it acts (never in dry-run).
	Launched []string // ids of the instances launched
	Problems []string // capacity errors and other failures that did not fail the step
}

// Decide is the fleet's policy, a pure function of its input, so a simulation can run it
// over a synthetic day:
//
//   - Workers needed: the backlog (positions waiting; each is turns times visits) over
//     TargetDrain gives the throughput needed. Registered workers that are not on the
//     fleet's instances (a local GPU of `tesuji serve`) contribute their measured rate
//     first; the rest is divided by the fleet workers' mean measured rate (else
//     DefaultPositionsPerSec) and rounded up. A job runs on one worker and a running
//     one never moves, so never more instances than queued jobs plus the instances
//     busy now; queued jobs and no worker at all means at least one.
//   - Clamped to [Min, Max]. With today's budget spent: zero, Min notwithstanding.
//   - Instances with no heartbeat within BootGrace of their launch are terminated and
//     replaced, and so are instances whose worker left the registry and did not come
//     back within RestartGrace of its last heartbeat. Until then both count as
//     capacity: they are booting, or their worker is restarting.
//   - Beyond the desired count, instances whose worker has been idle for IdleTimeout
//     are retired, longest idle first. A busy worker is never retired for idleness.
//   - With the budget spent, every instance is retired once it has finished the jobs
//     it held when the budget ran out (Input.BudgetJobs): at once when idle. A worker
//     claims its next job the moment it finishes one, so waiting for it to be idle
//     could last all day; the job it moved on to goes back to the queue, no attempt
//     counted, when the worker stops.
//   - Instances that are booting count as capacity, so a surge launches once.
func Decide(cfg Config, in Input) Decision {
	cfg = cfg.withDefaults()
	d := Decision{
		Time:      in.Now,
		DryRun:    cfg.DryRun,
		Backlog:   in.Stats.PositionsWaiting,
		Instances: len(in.Instances),
		UsedHours: in.UsedHours,
	}
	queued := 0
	for _, n := range in.Stats.Queued {
		queued += n
	}
	d.Jobs = queued + in.Stats.Running

	ours := make(map[string]bool, len(in.Instances))
	for _, inst := range in.Instances {
		ours[inst.ID] = true
	}
	onInstance := make(map[string][]queue.WorkerInfo)
	var static []queue.WorkerInfo
	var rateSum float64
	var rateN int
	for _, w := range in.Workers {
		if w.InstanceID != "" && ours[w.InstanceID] {
			onInstance[w.InstanceID] = append(onInstance[w.InstanceID], w)
			if w.PositionsPerSec > 0 {
				rateSum += w.PositionsPerSec
				rateN++
			}
			continue
		}
		static = append(static, w)
	}
	d.Static = len(static)
	d.Rate = cfg.DefaultPositionsPerSec
	if rateN > 0 {
		d.Rate = rateSum / float64(rateN)
	}
	var staticRate float64
	for _, w := range static {
		staticRate += cmp.Or(w.PositionsPerSec, d.Rate)
	}

	// Workers needed for the backlog.
	need := float64(d.Backlog) / cfg.TargetDrain.Seconds()
	desired := 0
	var why strings.Builder
	fmt.Fprintf(&why, "%d positions in %d jobs need %.0f/s to drain in %v", d.Backlog, d.Jobs, need, cfg.TargetDrain)
	if len(static) > 0 {
		fmt.Fprintf(&why, ", %d other workers give %.0f/s", len(static), staticRate)
	}
	if need > staticRate {
		desired = int(math.Ceil((need - staticRate) / d.Rate))
		fmt.Fprintf(&why, ", %d at %.0f/s each", desired, d.Rate)
	}
	// A new instance can only take a queued job: a running one stays where it is, and a
	// worker runs several at once. So no more instances than queued jobs plus the
	// instances busy now.
	busy := 0
	for _, inst := range in.Instances {
		if slices.ContainsFunc(onInstance[inst.ID], func(w queue.WorkerInfo) bool { return len(w.CurrentJobs) > 0 }) {
			busy++
		}
	}
	if limit := queued + busy; desired > limit {
		desired = limit
		fmt.Fprintf(&why, ", %d queued jobs and %d busy instances: %d", queued, busy, desired)
	}
	if desired == 0 && queued > 0 && len(static) == 0 {
		desired = 1
		why.WriteString(", a queued job needs one")
	}
	budgetSpent := cfg.BudgetHoursPerDay >= 0 && in.UsedHours >= cfg.BudgetHoursPerDay
	switch {
	case budgetSpent:
		desired = 0
		fmt.Fprintf(&why, "; budget spent (%.1f of %.0f instance-hours today): 0", in.UsedHours, cfg.BudgetHoursPerDay)
	case desired < cfg.Min:
		desired = cfg.Min
		fmt.Fprintf(&why, "; min %d", cfg.Min)
	case desired > cfg.Max:
		desired = cfg.Max
		fmt.Fprintf(&why, "; max %d", cfg.Max)
	}
	d.Desired = desired
	d.Why = why.String()
	if budgetSpent {
		d.BudgetJobs = budgetJobs(in, onInstance)
	}

	// Instances that never heartbeat, or whose worker left.
	var alive []Instance
	for _, inst := range in.Instances {
		since, grace, reason := inst.Launched, cfg.BootGrace, ReasonNoHeartbeat
		if inst.LastHeartbeat.After(since) {
			since = inst.LastHeartbeat
		}
		ws := onInstance[inst.ID]
		for _, w := range ws {
			if w.LastSeen.After(since) {
				since = w.LastSeen
			}
		}
		if len(ws) == 0 && !inst.LastHeartbeat.IsZero() {
			grace, reason = cfg.RestartGrace, ReasonWorkerGone
		}
		if in.Now.Sub(since) > grace {
			d.Terminate = append(d.Terminate, Termination{InstanceID: inst.ID, Reason: reason, Since: since})
			continue
		}
		alive = append(alive, inst)
	}

	// Scale in: idle workers beyond the desired count.
	if excess := len(alive) - desired; excess > 0 {
		type idle struct {
			id    string
			since time.Time
		}
		var idles []idle
		for _, inst := range alive {
			since, ok := idleSince(onInstance[inst.ID], in.Now)
			held, recorded := d.BudgetJobs[inst.ID]
			switch {
			case budgetSpent && !ok && recorded && movedOn(held, onInstance[inst.ID]):
				idles = append(idles, idle{inst.ID, in.Now})
			case ok && (budgetSpent || in.Now.Sub(since) >= cfg.IdleTimeout):
				idles = append(idles, idle{inst.ID, since})
			}
		}
		slices.SortFunc(idles, func(a, b idle) int {
			return cmp.Or(a.since.Compare(b.since), cmp.Compare(a.id, b.id))
		})
		reason := ReasonIdle
		if budgetSpent {
			reason = ReasonBudget
		}
		for _, i := range idles[:min(excess, len(idles))] {
			d.Terminate = append(d.Terminate, Termination{InstanceID: i.id, Reason: reason, Since: i.since})
		}
	}

	d.Launch = max(0, desired-len(alive))
	return d
}

// budgetJobs carries the jobs each instance held when the budget ran out over from the
// previous decision, and records them for the instances it has no record of yet and
// whose worker is registered now.
func budgetJobs(in Input, onInstance map[string][]queue.WorkerInfo) map[string][]string {
	held := make(map[string][]string, len(in.Instances))
	for _, inst := range in.Instances {
		if jobs, ok := in.BudgetJobs[inst.ID]; ok {
			held[inst.ID] = jobs
			continue
		}
		ws := onInstance[inst.ID]
		if len(ws) == 0 {
			continue // booting or restarting: recorded once its worker is back
		}
		var jobs []string
		for _, w := range ws {
			jobs = append(jobs, w.CurrentJobs...)
		}
		held[inst.ID] = jobs
	}
	return held
}

// movedOn reports whether the workers on an instance are registered and hold none of
// the jobs it held when the budget ran out.
func movedOn(held []string, ws []queue.WorkerInfo) bool {
	if len(ws) == 0 {
		return false
	}
	for _, w := range ws {
		for _, j := range w.CurrentJobs {
			if slices.Contains(held, j) {
				return false
			}
		}
	}
	return true
}

// idleSince reports when the workers on one instance became idle; ok is false when
// one has a job or none is registered (a booting instance is not idle, it is late).
func idleSince(ws []queue.WorkerInfo, now time.Time) (since time.Time, ok bool) {
	if len(ws) == 0 {
		return time.Time{}, false
	}
	for _, w := range ws {
		if len(w.CurrentJobs) > 0 {
			return time.Time{}, false
		}
		s := w.IdleSince
		if s.IsZero() {
			s = w.StartedAt // never had a job
		}
		if s.IsZero() {
			s = now // unknown: not idle for long
		}
		if s.After(since) {
			since = s
		}
	}
	return since, true
}

// String renders the decision on one line, then one indented line per termination,
// launch and problem.
func (d Decision) String() string {
	var b strings.Builder
	if d.DryRun {
		b.WriteString("[dry-run] ")
	}
	fmt.Fprintf(&b, "%s desired %d, have %d: launch %d, terminate %d (%s)",
		d.Time.UTC().Format(time.RFC3339), d.Desired, d.Instances, d.Launch, len(d.Terminate), d.Why)
	for _, t := range d.Terminate {
		fmt.Fprintf(&b, "\n  terminate %s: %s since %s (%v)", t.InstanceID, t.Reason,
			t.Since.UTC().Format(time.RFC3339), d.Time.Sub(t.Since).Round(time.Second))
	}
	for _, id := range d.Launched {
		fmt.Fprintf(&b, "\n  launched %s", id)
	}
	for _, p := range d.Problems {
		fmt.Fprintf(&b, "\n  problem: %s", p)
	}
	return b.String()
}

// LogValue makes a decision a structured log attribute.
func (d Decision) LogValue() slog.Value {
	term := make([]string, len(d.Terminate))
	for i, t := range d.Terminate {
		term[i] = t.InstanceID + ":" + string(t.Reason)
	}
	return slog.GroupValue(
		slog.Bool("dry_run", d.DryRun),
		slog.Int64("backlog", d.Backlog),
		slog.Int("jobs", d.Jobs),
		slog.Float64("rate", d.Rate),
		slog.Int("instances", d.Instances),
		slog.Int("static_workers", d.Static),
		slog.Float64("used_hours", math.Round(d.UsedHours*100)/100),
		slog.Int("desired", d.Desired),
		slog.String("why", d.Why),
		slog.Int("launch", d.Launch),
		slog.Any("terminate", term),
		slog.Any("launched", d.Launched),
		slog.Any("problems", d.Problems),
	)
}
