package fleet_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/fleet"
	"github.com/tesuji/tesuji/queue"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return t0.Add(-d) }

func stats(queued, running int, positions int64) queue.Stats {
	return queue.Stats{
		Queued:           map[queue.Priority]int{queue.PriorityReview: queued, queue.PriorityInteractive: 0},
		Running:          running,
		PositionsWaiting: positions,
	}
}

func inst(id string, launched time.Duration) fleet.Instance {
	return fleet.Instance{ID: id, Type: "g5.xlarge", State: "running", Launched: ago(launched)}
}

// idleWorker is a registered worker on instance id, idle for d.
func idleWorker(id string, d time.Duration) queue.WorkerInfo {
	return queue.WorkerInfo{ID: "w-" + id, InstanceID: id, StartedAt: ago(time.Hour), IdleSince: ago(d), LastSeen: t0}
}

func busyWorker(id string, job string) queue.WorkerInfo {
	return queue.WorkerInfo{ID: "w-" + id, InstanceID: id, StartedAt: ago(time.Hour), CurrentJobs: []string{job}, LastSeen: t0}
}

type outcome struct {
	Desired    int
	Launch     int
	Terminate  []fleet.Termination
	BudgetJobs map[string][]string
}

func TestDecide(t *testing.T) {
	t.Parallel()
	base := fleet.Config{LaunchTemplateName: "tesuji-worker"} // defaults: drain 5m, 1000/s, max 4, idle 10m, grace 10m
	tests := []struct {
		name string
		cfg  func(c *fleet.Config)
		in   fleet.Input
		want outcome
	}{
		{
			name: "empty queue, nothing running",
			in:   fleet.Input{Stats: stats(0, 0, 0)},
			want: outcome{},
		},
		{
			name: "min keeps a warm worker",
			cfg:  func(c *fleet.Config) { c.Min = 1 },
			in:   fleet.Input{Stats: stats(0, 0, 0)},
			want: outcome{Desired: 1, Launch: 1},
		},
		{
			name: "backlog divided by throughput and drain time",
			// 900k positions / 300s = 3000/s = 3 workers at the default 1000/s.
			in:   fleet.Input{Stats: stats(5, 0, 900_000)},
			want: outcome{Desired: 3, Launch: 3},
		},
		{
			name: "rounds up",
			in:   fleet.Input{Stats: stats(5, 0, 900_001)},
			want: outcome{Desired: 4, Launch: 4},
		},
		{
			name: "never more workers than jobs",
			in:   fleet.Input{Stats: stats(2, 0, 900_000)},
			want: outcome{Desired: 2, Launch: 2},
		},
		{
			// Running jobs stay on their worker: with none queued, a busy instance wants no company.
			name: "running jobs call for no new instance",
			in: fleet.Input{
				Stats:     stats(0, 2, 1_200_000),
				Instances: []fleet.Instance{inst("i-1", time.Hour)},
				Workers:   []queue.WorkerInfo{withJobs(busyWorker("i-1", "j1"), "j2")},
			},
			want: outcome{Desired: 1},
		},
		{
			// Only queued jobs can go to a new instance: two queued, one busy instance, three wanted.
			name: "one more instance per queued job",
			in: fleet.Input{
				Stats:     stats(2, 2, 3_000_000),
				Instances: []fleet.Instance{inst("i-1", time.Hour)},
				Workers:   []queue.WorkerInfo{withJobs(busyWorker("i-1", "j1"), "j2")},
			},
			want: outcome{Desired: 3, Launch: 2},
		},
		{
			// An idle instance beside a busy one with two running jobs and none queued is retired.
			name: "idle beside a worker running two jobs: retired",
			in: fleet.Input{
				Stats:     stats(0, 2, 1_200_000),
				Instances: []fleet.Instance{inst("i-1", time.Hour), inst("i-2", time.Hour)},
				Workers:   []queue.WorkerInfo{withJobs(busyWorker("i-1", "j1"), "j2"), idleWorker("i-2", 30*time.Minute)},
			},
			want: outcome{Desired: 1, Terminate: []fleet.Termination{
				{InstanceID: "i-2", Reason: fleet.ReasonIdle, Since: ago(30 * time.Minute)},
			}},
		},
		{
			name: "capped at max",
			in:   fleet.Input{Stats: stats(50, 0, 90_000_000)},
			want: outcome{Desired: 4, Launch: 4},
		},
		{
			name: "a queued job of unknown size still gets a worker",
			in:   fleet.Input{Stats: stats(1, 0, 0)},
			want: outcome{Desired: 1, Launch: 1},
		},
		{
			name: "measured rate replaces the default",
			// 900k / 300s = 3000/s; the one worker measures 3000/s.
			in: fleet.Input{
				Stats:     stats(4, 1, 900_000),
				Instances: []fleet.Instance{inst("i-1", time.Hour)},
				Workers:   []queue.WorkerInfo{withRate(busyWorker("i-1", "j1"), 3000)},
			},
			want: outcome{Desired: 1},
		},
		{
			name: "workers off the fleet count first",
			in: fleet.Input{
				Stats:   stats(4, 0, 900_000),
				Workers: []queue.WorkerInfo{{ID: "local-gpu", PositionsPerSec: 2500, LastSeen: t0}},
			},
			// 3000/s needed, 2500/s local: 500/s more is one fleet worker.
			want: outcome{Desired: 1, Launch: 1},
		},
		{
			name: "a worker off the fleet covers a small backlog",
			in: fleet.Input{
				Stats:   stats(1, 0, 100_000),
				Workers: []queue.WorkerInfo{{ID: "local-gpu", PositionsPerSec: 2500, LastSeen: t0}},
			},
			want: outcome{},
		},
		{
			name: "booting instances count as capacity",
			in: fleet.Input{
				Stats:     stats(5, 0, 900_000),
				Instances: []fleet.Instance{inst("i-1", time.Minute), inst("i-2", time.Minute)},
			},
			want: outcome{Desired: 3, Launch: 1},
		},
		{
			name: "no heartbeat within the boot grace: terminated and replaced",
			in: fleet.Input{
				Stats:     stats(1, 0, 100_000),
				Instances: []fleet.Instance{inst("i-late", 11*time.Minute)},
			},
			want: outcome{Desired: 1, Launch: 1, Terminate: []fleet.Termination{
				{InstanceID: "i-late", Reason: fleet.ReasonNoHeartbeat, Since: ago(11 * time.Minute)},
			}},
		},
		{
			// A worker that left is given the restart grace, not the boot grace, from its last heartbeat.
			name: "worker left: terminated after the restart grace",
			in: fleet.Input{
				Stats: stats(0, 0, 0),
				Instances: []fleet.Instance{
					withHeartbeat(inst("i-left", time.Hour), ago(4*time.Minute)),
					withHeartbeat(inst("i-restarting", time.Hour), ago(2*time.Minute)),
				},
			},
			want: outcome{Terminate: []fleet.Termination{
				{InstanceID: "i-left", Reason: fleet.ReasonWorkerGone, Since: ago(4 * time.Minute)},
			}},
		},
		{
			// Within the restart grace the instance counts as capacity for a queued job.
			name: "worker restarting: counted as capacity",
			in: fleet.Input{
				Stats:     stats(1, 0, 300_000),
				Instances: []fleet.Instance{withHeartbeat(inst("i-restarting", time.Hour), ago(2*time.Minute))},
			},
			want: outcome{Desired: 1},
		},
		{
			// After a rebalance recommendation the worker exits for good: its instance is replaced.
			name: "worker left for good: replaced",
			in: fleet.Input{
				Stats:     stats(1, 0, 300_000),
				Instances: []fleet.Instance{withHeartbeat(inst("i-left", time.Hour), ago(4*time.Minute))},
			},
			want: outcome{Desired: 1, Launch: 1, Terminate: []fleet.Termination{
				{InstanceID: "i-left", Reason: fleet.ReasonWorkerGone, Since: ago(4 * time.Minute)},
			}},
		},
		{
			// A live worker keeps its instance however old the fleet's last record of it.
			name: "worker registered: kept",
			in: fleet.Input{
				Stats:     stats(0, 1, 1000),
				Instances: []fleet.Instance{withHeartbeat(inst("i-1", time.Hour), ago(20*time.Minute))},
				Workers:   []queue.WorkerInfo{busyWorker("i-1", "j1")},
			},
			want: outcome{Desired: 1},
		},
		{
			name: "idle beyond the timeout retired, longest idle first",
			in: fleet.Input{
				Stats:     stats(0, 0, 0),
				Instances: []fleet.Instance{inst("i-1", time.Hour), inst("i-2", time.Hour), inst("i-3", time.Hour)},
				Workers:   []queue.WorkerInfo{idleWorker("i-1", 12*time.Minute), idleWorker("i-2", 15*time.Minute), idleWorker("i-3", 5*time.Minute)},
			},
			want: outcome{Terminate: []fleet.Termination{
				{InstanceID: "i-2", Reason: fleet.ReasonIdle, Since: ago(15 * time.Minute)},
				{InstanceID: "i-1", Reason: fleet.ReasonIdle, Since: ago(12 * time.Minute)},
			}},
		},
		{
			name: "idle workers kept while the backlog needs them",
			in: fleet.Input{
				Stats:     stats(3, 0, 900_000),
				Instances: []fleet.Instance{inst("i-1", time.Hour), inst("i-2", time.Hour)},
				Workers:   []queue.WorkerInfo{idleWorker("i-1", time.Hour), idleWorker("i-2", time.Hour)},
			},
			want: outcome{Desired: 3, Launch: 1},
		},
		{
			name: "busy workers are never retired",
			in: fleet.Input{
				Stats:     stats(0, 2, 1000),
				Instances: []fleet.Instance{inst("i-1", time.Hour), inst("i-2", time.Hour)},
				Workers:   []queue.WorkerInfo{busyWorker("i-1", "j1"), busyWorker("i-2", "j2")},
			},
			want: outcome{Desired: 1},
		},
		{
			name: "min keeps the most recently idle",
			cfg:  func(c *fleet.Config) { c.Min = 1 },
			in: fleet.Input{
				Stats:     stats(0, 0, 0),
				Instances: []fleet.Instance{inst("i-1", time.Hour), inst("i-2", time.Hour)},
				Workers:   []queue.WorkerInfo{idleWorker("i-1", 30*time.Minute), idleWorker("i-2", 20*time.Minute)},
			},
			want: outcome{Desired: 1, Terminate: []fleet.Termination{
				{InstanceID: "i-1", Reason: fleet.ReasonIdle, Since: ago(30 * time.Minute)},
			}},
		},
		{
			name: "budget spent: no launch, idle retired at once, busy kept",
			cfg:  func(c *fleet.Config) { c.BudgetHoursPerDay = 10; c.Min = 1 },
			in: fleet.Input{
				Stats:     stats(5, 1, 900_000),
				Instances: []fleet.Instance{inst("i-1", time.Hour), inst("i-2", time.Hour)},
				Workers:   []queue.WorkerInfo{idleWorker("i-1", time.Minute), busyWorker("i-2", "j1")},
				UsedHours: 10,
			},
			want: outcome{Terminate: []fleet.Termination{
				{InstanceID: "i-1", Reason: fleet.ReasonBudget, Since: ago(time.Minute)},
			}, BudgetJobs: map[string][]string{"i-1": nil, "i-2": {"j1"}}},
		},
		{
			// The jobs an instance held when the budget ran out are recorded once; a booting instance's when its worker registers.
			name: "budget spent: the jobs held then are kept from the first decision that saw it",
			cfg:  func(c *fleet.Config) { c.BudgetHoursPerDay = 10 },
			in: fleet.Input{
				Stats:      stats(5, 2, 900_000),
				Instances:  []fleet.Instance{inst("i-1", time.Hour), inst("i-2", time.Hour), inst("i-booting", time.Minute)},
				Workers:    []queue.WorkerInfo{busyWorker("i-1", "j1"), withJobs(busyWorker("i-2", "j3"), "j4")},
				UsedHours:  10.5,
				BudgetJobs: map[string][]string{"i-1": {"j1"}, "i-2": {"j2", "j3"}},
			},
			want: outcome{BudgetJobs: map[string][]string{"i-1": {"j1"}, "i-2": {"j2", "j3"}}},
		},
		{
			// A worker busy with a job it claimed after the budget ran out is retired: it finished the one it held.
			name: "budget spent: a worker that moved on to another job is retired",
			cfg:  func(c *fleet.Config) { c.BudgetHoursPerDay = 10 },
			in: fleet.Input{
				Stats:      stats(5, 1, 900_000),
				Instances:  []fleet.Instance{inst("i-1", time.Hour)},
				Workers:    []queue.WorkerInfo{busyWorker("i-1", "j2")},
				UsedHours:  10.5,
				BudgetJobs: map[string][]string{"i-1": {"j1"}},
			},
			want: outcome{Terminate: []fleet.Termination{
				{InstanceID: "i-1", Reason: fleet.ReasonBudget, Since: t0},
			}, BudgetJobs: map[string][]string{"i-1": {"j1"}}},
		},
		{
			// While the budget lasts nothing is recorded, whatever the previous decision passed on.
			name: "budget not spent: no jobs recorded",
			cfg:  func(c *fleet.Config) { c.BudgetHoursPerDay = 10 },
			in: fleet.Input{
				Stats:      stats(0, 1, 1000),
				Instances:  []fleet.Instance{inst("i-1", time.Hour)},
				Workers:    []queue.WorkerInfo{busyWorker("i-1", "j2")},
				UsedHours:  0.1,
				BudgetJobs: map[string][]string{"i-1": {"j1"}},
			},
			want: outcome{Desired: 1},
		},
		{
			name: "negative budget means no cap",
			cfg:  func(c *fleet.Config) { c.BudgetHoursPerDay = -1 },
			in:   fleet.Input{Stats: stats(1, 0, 1000), UsedHours: 10_000},
			want: outcome{Desired: 1, Launch: 1},
		},
		{
			name: "a worker on another fleet's instance is not ours",
			in: fleet.Input{
				Stats:   stats(0, 0, 0),
				Workers: []queue.WorkerInfo{idleWorker("i-other", time.Hour)},
			},
			want: outcome{},
		},
		{
			name: "registered worker that never had a job is idle since it started",
			in: fleet.Input{
				Stats:     stats(0, 0, 0),
				Instances: []fleet.Instance{inst("i-1", time.Hour)},
				Workers:   []queue.WorkerInfo{{ID: "w", InstanceID: "i-1", StartedAt: ago(11 * time.Minute), LastSeen: t0}},
			},
			want: outcome{Terminate: []fleet.Termination{
				{InstanceID: "i-1", Reason: fleet.ReasonIdle, Since: ago(11 * time.Minute)},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			in := tt.in
			in.Now = t0
			d := fleet.Decide(cfg, in)
			got := outcome{Desired: d.Desired, Launch: d.Launch, Terminate: d.Terminate, BudgetJobs: d.BudgetJobs}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decision (-want +got):\n%s\n%s", diff, d)
			}
			if d.Why == "" {
				t.Error("decision says nothing about why")
			}
		})
	}
}

func withRate(w queue.WorkerInfo, rate float64) queue.WorkerInfo {
	w.PositionsPerSec = rate
	return w
}

func withJobs(w queue.WorkerInfo, jobs ...string) queue.WorkerInfo {
	w.CurrentJobs = append(w.CurrentJobs, jobs...)
	return w
}

func withHeartbeat(i fleet.Instance, at time.Time) fleet.Instance {
	i.LastHeartbeat = at
	return i
}

func TestDecisionString(t *testing.T) {
	t.Parallel()
	cfg := fleet.Config{DryRun: true}
	d := fleet.Decide(cfg, fleet.Input{
		Now:       t0,
		Stats:     stats(2, 0, 600_000),
		Instances: []fleet.Instance{inst("i-late", 11*time.Minute)},
	})
	got := d.String()
	for _, want := range []string{
		"[dry-run] 2026-03-01T12:00:00Z desired 2, have 1: launch 2, terminate 1",
		"600000 positions in 2 jobs need 2000/s to drain in 5m0s",
		"terminate i-late: no-heartbeat since 2026-03-01T11:49:00Z (11m0s)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("String() = %q\nwant it to contain %q", got, want)
		}
	}
}

// BenchmarkDecide measures one decision for a large fleet: 200 instances, 200 workers
// and 20 workers off the fleet.
func BenchmarkDecide(b *testing.B) {
	in := fleet.Input{Now: t0, Stats: stats(500, 200, 200_000_000)}
	for i := range 200 {
		id := fmt.Sprintf("i-%04d", i)
		in.Instances = append(in.Instances, inst(id, time.Hour))
		w := idleWorker(id, time.Duration(i)*time.Minute)
		if i%2 == 0 {
			w = withRate(busyWorker(id, "j"), 1200)
		}
		in.Workers = append(in.Workers, w)
	}
	for i := range 20 {
		in.Workers = append(in.Workers, queue.WorkerInfo{ID: fmt.Sprintf("local-%d", i), PositionsPerSec: 900, LastSeen: t0})
	}
	cfg := fleet.Config{Max: 300}
	b.ReportAllocs()
	for b.Loop() {
		fleet.Decide(cfg, in)
	}
}
