package fleet

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// counts is what the fleet has done since it started, for its Prometheus metrics.
type counts struct {
	mu         sync.Mutex
	decided    bool
	last       Decision
	launched   int
	terminated map[Reason]int
	problems   int
	stepErrors int
}

func (c *counts) record(d Decision, terminated []Termination) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.decided, c.last = true, d
	c.launched += len(d.Launched)
	c.problems += len(d.Problems)
	if c.terminated == nil {
		c.terminated = make(map[Reason]int)
	}
	for _, t := range terminated {
		c.terminated[t.Reason]++
	}
}

func (c *counts) stepFailed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stepErrors++
}

var (
	descInstances  = prometheus.NewDesc("tesuji_fleet_instances", "The fleet's pending and running instances at the last decision.", []string{"fleet"}, nil)
	descDesired    = prometheus.NewDesc("tesuji_fleet_desired_instances", "Instances the last decision wanted.", []string{"fleet"}, nil)
	descUsedHours  = prometheus.NewDesc("tesuji_fleet_instance_hours_today", "Instance-hours spent this UTC day, against the budget.", []string{"fleet"}, nil)
	descBudget     = prometheus.NewDesc("tesuji_fleet_budget_instance_hours", "The daily instance-hour budget (-1: none).", []string{"fleet"}, nil)
	descLaunched   = prometheus.NewDesc("tesuji_fleet_launched_instances_total", "Instances launched.", []string{"fleet"}, nil)
	descTerminated = prometheus.NewDesc("tesuji_fleet_terminated_instances_total", "Instances terminated, by reason (idle, no-heartbeat, worker-gone, budget).", []string{"fleet", "reason"}, nil)
	descProblems   = prometheus.NewDesc("tesuji_fleet_launch_problems_total", "Capacity errors and other launch failures reported inside successful CreateFleet calls.", []string{"fleet"}, nil)
	descStepErrors = prometheus.NewDesc("tesuji_fleet_step_errors_total", "Steps that failed (queue or EC2 unreachable, a call refused).", []string{"fleet"}, nil)
)

// Collector returns the fleet's Prometheus metrics, for the registry of whatever
// serves /metrics (`tesuji fleet --metrics-addr`).
func (f *Fleet) Collector() prometheus.Collector { return (*collector)(f) }

type collector Fleet

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInstances, descDesired, descUsedHours, descBudget, descLaunched, descTerminated, descProblems, descStepErrors} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	f := (*Fleet)(c)
	name := f.cfg.Name
	s := &f.counts
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.decided {
		ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(s.last.Instances), name)
		ch <- prometheus.MustNewConstMetric(descDesired, prometheus.GaugeValue, float64(s.last.Desired), name)
		ch <- prometheus.MustNewConstMetric(descUsedHours, prometheus.GaugeValue, s.last.UsedHours, name)
	}
	ch <- prometheus.MustNewConstMetric(descBudget, prometheus.GaugeValue, max(f.cfg.BudgetHoursPerDay, -1), name)
	ch <- prometheus.MustNewConstMetric(descLaunched, prometheus.CounterValue, float64(s.launched), name)
	for _, r := range []Reason{ReasonIdle, ReasonNoHeartbeat, ReasonWorkerGone, ReasonBudget} {
		ch <- prometheus.MustNewConstMetric(descTerminated, prometheus.CounterValue, float64(s.terminated[r]), name, string(r))
	}
	ch <- prometheus.MustNewConstMetric(descProblems, prometheus.CounterValue, float64(s.problems), name)
	ch <- prometheus.MustNewConstMetric(descStepErrors, prometheus.CounterValue, float64(s.stepErrors), name)
}

// done lists the decision's terminations that went through.
func (f *Fleet) done(d Decision) []Termination {
	return slices.DeleteFunc(slices.Clone(d.Terminate), func(t Termination) bool {
		_, ok := f.terminated[t.InstanceID]
		return !ok
	})
}
