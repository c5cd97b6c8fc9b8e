// Package fleet owns tesuji's GPU workers on EC2: it launches spot instances with
// CreateFleet when the queue's backlog needs them, retires them when they sit idle,
// replaces instances whose worker never heartbeats or has left, and keeps a daily
// instance-hour budget. The policy is the pure function Decide; Fleet runs it every interval against
// the queue (Source) and EC2 (EC2API, the real *ec2.Client).
//
// The package also owns how a worker instance gets its settings: UserData renders the
// launch template's user data (no secret in it), and LoadSettings reads the SSM
// SecureString parameter that holds the secrets. fleet/README.md is the operator's
// guide.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/tesuji/tesuji/internal/startstop"
	"github.com/tesuji/tesuji/queue"
)

// EC2API is the part of *ec2.Client the fleet uses.
type EC2API interface {
	CreateFleet(ctx context.Context, in *ec2.CreateFleetInput, opts ...func(*ec2.Options)) (*ec2.CreateFleetOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, opts ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// Source is what the fleet reads from the queue; queue.Queue satisfies it.
type Source interface {
	Stats(ctx context.Context) (queue.Stats, error)
	Workers(ctx context.Context) ([]queue.WorkerInfo, error)
}

var _ Source = queue.Queue(nil)

// consistencyWindow is how long the fleet trusts its own record of a launch or a
// termination over DescribeInstances, which is eventually consistent: a new instance
// may be missing from it, a terminated one still listed, for a while.
const consistencyWindow = 2 * time.Minute

// Fleet runs the policy against the queue and EC2. Build it with New; Start runs a
// decision every Config.Interval, Step runs one.
type Fleet struct {
	cfg Config
	ec2 EC2API
	src Source
	log *slog.Logger

	stepMu     sync.Mutex // one step at a time; guards the fields below
	heartbeats map[string]time.Time
	launched   map[string]Instance  // launched recently, by id
	terminated map[string]time.Time // terminated recently, by id
	avoid      map[pool]time.Time   // pool -> left out until
	blocked    time.Time            // no launch at all until (an account-level error)
	usage      meter
	budgetJobs map[string][]string // Decision.BudgetJobs of the last decision
	lastWanted int

	counts counts // for Collector

	life startstop.Lifecycle
}

// New returns a fleet. ec2 may be nil only with DryRun (the decisions then assume the
// fleet has no instance); a nil logger discards.
func New(cfg Config, ec2 EC2API, src Source, logger *slog.Logger) (*Fleet, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// The fleet keeps its own copies: a caller that reuses its slices cannot race it.
	cfg.InstanceTypes = slices.Clone(cfg.InstanceTypes)
	cfg.Subnets = slices.Clone(cfg.Subnets)
	cfg.Tags = maps.Clone(cfg.Tags)
	if src == nil {
		return nil, fmt.Errorf("%w: no queue to read", ErrConfig)
	}
	if ec2 == nil && !cfg.DryRun {
		return nil, fmt.Errorf("%w: no EC2 client (only a dry run can do without)", ErrConfig)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Fleet{
		cfg:        cfg,
		ec2:        ec2,
		src:        src,
		log:        logger.With("fleet", cfg.Name),
		heartbeats: make(map[string]time.Time),
		launched:   make(map[string]Instance),
		terminated: make(map[string]time.Time),
		avoid:      make(map[pool]time.Time),
		lastWanted: -1,
	}, nil
}

// Config returns the configuration with its defaults filled in.
func (f *Fleet) Config() Config { return f.cfg }

// Start runs a step at once and then every Config.Interval until ctx ends or Stop is
// called. A failed step is logged and the next one tries again.
func (f *Fleet) Start(ctx context.Context) error {
	ctx, err := f.life.Begin(ctx)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	f.life.Go(func() { f.loop(ctx) })
	f.life.Started()
	return nil
}

// Stop ends the loop and waits for the step in flight, or for ctx. Instances keep
// running: the fleet's state is in EC2's tags and the queue's registry, so a restarted
// fleet picks them up. Stop is idempotent and safe before Start.
func (f *Fleet) Stop(ctx context.Context) error {
	if err := f.life.Stop(ctx, nil); err != nil {
		return fmt.Errorf("fleet: stop: %w", err)
	}
	return nil
}

func (f *Fleet) loop(ctx context.Context) {
	tick := time.NewTicker(f.cfg.Interval)
	defer tick.Stop()
	for {
		if _, err := f.Step(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("fleet: step failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Step makes one decision and, unless DryRun, carries it out: terminations first, then
// launches. It returns the decision even when part of carrying it out failed; the
// error says what. A failure to read the queue or EC2 decides nothing, so that an
// outage never looks like an idle fleet.
func (f *Fleet) Step(ctx context.Context) (d Decision, err error) {
	f.stepMu.Lock()
	defer f.stepMu.Unlock()
	defer func() {
		if err != nil {
			f.counts.stepFailed()
		}
	}()
	now := time.Now()

	stats, err := f.src.Stats(ctx)
	if err != nil {
		return Decision{}, fmt.Errorf("fleet: queue stats: %w", err)
	}
	workers, err := f.src.Workers(ctx)
	if err != nil {
		return Decision{}, fmt.Errorf("fleet: worker registry: %w", err)
	}
	instances, err := f.instances(ctx, now)
	if err != nil {
		return Decision{}, err
	}
	// The worker of an instance the fleet terminated stays registered while it shuts
	// down, or until its entry expires; it must not count as a worker off the fleet.
	workers = slices.DeleteFunc(workers, func(w queue.WorkerInfo) bool {
		_, gone := f.terminated[w.InstanceID]
		return gone
	})
	for _, w := range workers {
		if w.InstanceID != "" && w.LastSeen.After(f.heartbeats[w.InstanceID]) {
			f.heartbeats[w.InstanceID] = w.LastSeen
		}
	}
	live := make(map[string]bool, len(instances))
	for i := range instances {
		live[instances[i].ID] = true
		instances[i].LastHeartbeat = f.heartbeats[instances[i].ID]
	}
	for id := range f.heartbeats {
		if !live[id] {
			delete(f.heartbeats, id)
		}
	}
	used := f.usage.observe(now, instances)

	d = Decide(f.cfg, Input{Now: now, Stats: stats, Workers: workers, Instances: instances, UsedHours: used, BudgetJobs: f.budgetJobs})
	f.budgetJobs = d.BudgetJobs
	if f.cfg.DryRun {
		f.counts.record(d, nil)
		f.logDecision(ctx, d)
		return d, nil
	}

	var errs []error
	if len(d.Terminate) > 0 {
		ids := make([]string, len(d.Terminate))
		for i, t := range d.Terminate {
			ids[i] = t.InstanceID
			switch t.Reason {
			case ReasonNoHeartbeat:
				f.log.Error("fleet: instance sent no heartbeat; check the AMI, the launch template's user data and the SSM parameter",
					"instance_id", t.InstanceID, "since", t.Since)
			case ReasonWorkerGone:
				f.log.Warn("fleet: the instance's worker left (after a spot rebalance recommendation, or it fails to start again); replacing the instance",
					"instance_id", t.InstanceID, "last_heartbeat", t.Since)
			}
		}
		if err := f.terminate(ctx, ids, now); err != nil {
			errs = append(errs, err)
		}
	}
	if d.Launch > 0 {
		ids, problems, err := f.launch(ctx, d.Launch, now)
		d.Launched, d.Problems = ids, problems
		f.usage.count += len(ids)
		if err != nil {
			errs = append(errs, err)
		}
	}
	f.counts.record(d, f.done(d))
	f.logDecision(ctx, d)
	return d, errors.Join(errs...)
}

// logDecision logs every decision that does something, or changes the desired count,
// at info; the steady state at debug.
func (f *Fleet) logDecision(ctx context.Context, d Decision) {
	level := slog.LevelDebug
	if d.DryRun || d.Launch > 0 || len(d.Terminate) > 0 || len(d.Problems) > 0 || d.Desired != f.lastWanted {
		level = slog.LevelInfo
	}
	f.lastWanted = d.Desired
	f.log.Log(ctx, level, "fleet: decision", "decision", d)
}

// meter counts instance-hours per UTC day from the instance counts it observes.
type meter struct {
	day   time.Time // the UTC midnight the count belongs to
	hours float64
	last  time.Time
	count int // instances since last
}

// observe adds the hours since the previous observation and returns today's total.
// The first observation counts the running instances' time since launch (or since
// midnight): what a restarted fleet can know of the day.
func (m *meter) observe(now time.Time, instances []Instance) float64 {
	midnight := now.UTC().Truncate(24 * time.Hour)
	switch {
	case m.last.IsZero():
		m.day = midnight
		for _, inst := range instances {
			start := inst.Launched
			if start.Before(midnight) {
				start = midnight
			}
			if now.After(start) {
				m.hours += now.Sub(start).Hours()
			}
		}
	case !midnight.Equal(m.day):
		m.day = midnight
		m.hours = float64(m.count) * now.Sub(midnight).Hours()
	default:
		m.hours += float64(m.count) * now.Sub(m.last).Hours()
	}
	m.last = now
	m.count = len(instances)
	return m.hours
}
