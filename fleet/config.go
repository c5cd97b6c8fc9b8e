package fleet

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// Tag keys every instance of a fleet carries. DescribeInstances finds the fleet's
// instances by them, so an instance launched by hand with the same tags is managed too.
const (
	TagFleet = "tesuji:fleet" // value: Config.Name
	TagRole  = "tesuji:role"  // value: RoleWorker
	// RoleWorker is the TagRole value of GPU workers.
	RoleWorker = "worker"
)

// Defaults of Config, applied where a field is zero.
const (
	DefaultName                  = "tesuji"
	DefaultLaunchTemplateVersion = "$Default"
	DefaultMax                   = 4
	DefaultTargetDrain           = 5 * time.Minute
	DefaultPositionsPerSec       = 1000
	DefaultIdleTimeout           = 10 * time.Minute
	DefaultBootGrace             = 10 * time.Minute
	DefaultRestartGrace          = 3 * time.Minute
	DefaultBudgetHoursPerDay     = 24
	DefaultInterval              = 30 * time.Second
	DefaultAvoidFor              = 5 * time.Minute
)

// DefaultInstanceTypes are single-GPU types KataGo runs well on, in several families so
// that price-capacity-optimized has pools to choose from: NVIDIA T4, A10G and L4.
var DefaultInstanceTypes = []string{"g4dn.xlarge", "g5.xlarge", "g6.xlarge"}

// Config configures a Fleet. The zero value of every field means its default; the
// region and credentials are the AWS SDK's (environment, shared config, instance
// profile) and live in the EC2 client handed to New.
type Config struct {
	// Name is the value of the tesuji:fleet tag: the fleet manages the instances tagged
	// with it and no others. Default "tesuji".
	Name string
	// LaunchTemplateID or LaunchTemplateName names the launch template that holds the
	// AMI (from `make ami`), the instance profile, security groups, the IMDS options and
	// the user data (see UserData). One of them is required unless DryRun.
	LaunchTemplateID   string
	LaunchTemplateName string
	// LaunchTemplateVersion is the template version to launch. Default "$Default".
	LaunchTemplateVersion string
	// InstanceTypes are the instance types to ask for; every type is tried in every
	// subnet. Default DefaultInstanceTypes.
	InstanceTypes []string
	// Subnets are the subnet ids to launch in, one per availability zone you want.
	// Default none: the launch template's network settings (or the default VPC) decide.
	Subnets []string
	// Min is the number of instances kept running with an empty queue. Default 0: the
	// fleet scales to zero.
	Min int
	// Max caps the number of instances. Default 4.
	Max int
	// TargetDrain is how long the backlog may take to drain: the fleet wants enough
	// workers to analyze every waiting position within it. Default 5m.
	TargetDrain time.Duration
	// DefaultPositionsPerSec is a worker's throughput, in the unit of queue.Job.Positions
	// (visits) per second, assumed until workers report a measured one. Default 1000.
	DefaultPositionsPerSec float64
	// IdleTimeout is how long a worker may sit without a job before its instance is
	// retired (when the fleet has more than it needs). Default 10m.
	IdleTimeout time.Duration
	// BootGrace is how long an instance may run from its launch without a worker
	// heartbeat before it is terminated and replaced. Default 10m.
	BootGrace time.Duration
	// RestartGrace is how long an instance whose worker has left the registry may go
	// without one, counted from its last heartbeat, before it is terminated and
	// replaced. It is longer than systemd takes to restart a failed worker (seconds); a
	// worker that exits 0 after a spot notice is not restarted. Default 3m.
	RestartGrace time.Duration
	// BudgetHoursPerDay caps instance-hours per UTC day: once spent, the fleet launches
	// nothing and retires each instance as soon as it has finished the jobs it held
	// then (see Decide). Default 24; negative means no cap.
	BudgetHoursPerDay float64
	// Interval is the time between decisions. Default 30s.
	Interval time.Duration
	// AvoidFor is how long an instance type and subnet pool that reported no capacity is
	// left out of launches. Default 5m.
	AvoidFor time.Duration
	// DryRun makes decisions and logs them without launching or terminating anything;
	// DescribeInstances (read only) is still called when an EC2 client is given.
	// Default false.
	DryRun bool
	// Tags are extra tags for launched instances (cost allocation, owner). They may not
	// set tesuji:fleet or tesuji:role. Default none; a Name tag "<Name>-worker" is added
	// unless Tags has one.
	Tags map[string]string
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.LaunchTemplateVersion == "" {
		c.LaunchTemplateVersion = DefaultLaunchTemplateVersion
	}
	if len(c.InstanceTypes) == 0 {
		c.InstanceTypes = DefaultInstanceTypes
	}
	if c.Max == 0 {
		c.Max = max(DefaultMax, c.Min)
	}
	if c.TargetDrain <= 0 {
		c.TargetDrain = DefaultTargetDrain
	}
	if c.DefaultPositionsPerSec <= 0 {
		c.DefaultPositionsPerSec = DefaultPositionsPerSec
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.BootGrace <= 0 {
		c.BootGrace = DefaultBootGrace
	}
	if c.RestartGrace <= 0 {
		c.RestartGrace = DefaultRestartGrace
	}
	if c.BudgetHoursPerDay == 0 {
		c.BudgetHoursPerDay = DefaultBudgetHoursPerDay
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.AvoidFor <= 0 {
		c.AvoidFor = DefaultAvoidFor
	}
	return c
}

// ErrConfig is what every configuration error matches with errors.Is.
var ErrConfig = errors.New("fleet: invalid config")

// validate checks a config that has its defaults.
func (c Config) validate() error {
	var errs []error
	if c.Min < 0 || c.Max < 0 {
		errs = append(errs, fmt.Errorf("min %d and max %d must not be negative", c.Min, c.Max))
	}
	if c.Min > c.Max {
		errs = append(errs, fmt.Errorf("min %d is above max %d", c.Min, c.Max))
	}
	if !c.DryRun && c.LaunchTemplateID == "" && c.LaunchTemplateName == "" {
		errs = append(errs, errors.New("a launch template id or name is required"))
	}
	if c.LaunchTemplateID != "" && c.LaunchTemplateName != "" {
		errs = append(errs, errors.New("give the launch template's id or its name, not both"))
	}
	for _, s := range c.InstanceTypes {
		if strings.TrimSpace(s) == "" {
			errs = append(errs, errors.New("an instance type is empty"))
		}
	}
	for _, s := range c.Subnets {
		if !strings.HasPrefix(s, "subnet-") {
			errs = append(errs, fmt.Errorf("subnet %q is not a subnet id (subnet-...)", s))
		}
	}
	for k := range c.Tags {
		if k == TagFleet || k == TagRole {
			errs = append(errs, fmt.Errorf("tag %s is the fleet's own", k))
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			errs = append(errs, fmt.Errorf("tag %s: the aws: prefix is reserved", k))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}

// tags returns every tag a launched instance carries.
func (c Config) tags() map[string]string {
	t := maps.Clone(c.Tags)
	if t == nil {
		t = make(map[string]string)
	}
	if _, ok := t["Name"]; !ok {
		t["Name"] = c.Name + "-worker"
	}
	t[TagFleet] = c.Name
	t[TagRole] = RoleWorker
	return t
}
