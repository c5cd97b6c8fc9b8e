package fleet_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/fleet"
	"github.com/tesuji/tesuji/fleet/fleettest"
	"github.com/tesuji/tesuji/queue"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// source is the queue as the fleet reads it, set by the test.
type source struct {
	mu      sync.Mutex
	stats   queue.Stats
	workers []queue.WorkerInfo
	err     error
}

func (s *source) Stats(context.Context) (queue.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats, s.err
}

// Workers returns the workers set, seen just now: the registry lists only workers
// whose heartbeats are current.
func (s *source) Workers(context.Context) ([]queue.WorkerInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.workers)
	for i := range out {
		out[i].LastSeen = time.Now()
	}
	return out, s.err
}

func (s *source) set(st queue.Stats, workers ...queue.WorkerInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats, s.workers = st, workers
}

// ec2Client is the real SDK client pointed at a fake endpoint. httpClient nil means
// real HTTP; the retryer is the SDK's standard one with a short backoff so that
// throttling tests take milliseconds.
func ec2Client(t *testing.T, endpoint string, httpClient ec2.HTTPClient) *ec2.Client {
	t.Helper()
	return ec2.New(ec2.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = 5 * time.Millisecond
		}),
	})
}

type harness struct {
	ec2   *fleettest.EC2
	src   *source
	fleet *fleet.Fleet
}

func baseConfig() fleet.Config {
	return fleet.Config{
		Name:             "test",
		LaunchTemplateID: "lt-0123456789abcdef0",
		InstanceTypes:    []string{"g5.xlarge", "g4dn.xlarge"},
		Subnets:          []string{"subnet-a", "subnet-b"},
		Tags:             map[string]string{"team": "go"},
	}
}

func newHarness(t *testing.T, cfg fleet.Config) *harness {
	t.Helper()
	e := fleettest.NewEC2Server(t)
	e.AddLaunchTemplate("lt-0123456789abcdef0", "tesuji-worker")
	e.AddSubnet("subnet-a", "us-east-1a")
	e.AddSubnet("subnet-b", "us-east-1b")
	src := &source{}
	f, err := fleet.New(cfg, ec2Client(t, e.URL, nil), src, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Stop(context.Background()) })
	return &harness{ec2: e, src: src, fleet: f}
}

func (h *harness) step(t *testing.T) fleet.Decision {
	t.Helper()
	d, err := h.fleet.Step(t.Context())
	if err != nil {
		t.Fatalf("step: %v\n%s", err, d)
	}
	t.Logf("decision: %s", d)
	return d
}

// backlog is a queue that needs n workers at the default rate and drain time.
func backlog(n int) queue.Stats {
	return stats(n, 0, int64(n)*300_000)
}

func TestLaunchDescribeTerminate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	h.src.set(backlog(2))

	d := h.step(t)
	if d.Launch != 2 || len(d.Launched) != 2 {
		t.Fatalf("launch %d, launched %v; want 2", d.Launch, d.Launched)
	}
	if diff := cmp.Diff(d.Launched, h.ec2.Live()); diff != "" {
		t.Errorf("launched vs EC2's live instances (-decision +ec2):\n%s", diff)
	}
	for _, inst := range h.ec2.Instances() {
		want := map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker", "Name": "test-worker", "team": "go"}
		if diff := cmp.Diff(want, inst.Tags); diff != "" {
			t.Errorf("%s tags (-want +got):\n%s", inst.ID, diff)
		}
	}

	reqs := h.ec2.Requests("CreateFleet")
	if len(reqs) != 1 {
		t.Fatalf("%d CreateFleet requests, want 1", len(reqs))
	}
	form := reqs[0]
	wantForm := map[string]string{
		"Type":                           "instant",
		"SpotOptions.AllocationStrategy": "price-capacity-optimized",
		"TargetCapacitySpecification.TotalTargetCapacity":                      "2",
		"TargetCapacitySpecification.SpotTargetCapacity":                       "2",
		"TargetCapacitySpecification.DefaultTargetCapacityType":                "spot",
		"LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateId": "lt-0123456789abcdef0",
		"LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version":          "$Default",
		"TagSpecification.1.ResourceType":                                      "instance",
		"TagSpecification.2.ResourceType":                                      "fleet",
	}
	for k, v := range wantForm {
		if got := form.Get(k); got != v {
			t.Errorf("CreateFleet %s = %q, want %q", k, got, v)
		}
	}
	if form.Get("ClientToken") == "" {
		t.Error("CreateFleet without a ClientToken: a retried launch could launch twice")
	}
	wantPools := []string{"g5.xlarge/subnet-a", "g5.xlarge/subnet-b", "g4dn.xlarge/subnet-a", "g4dn.xlarge/subnet-b"}
	if diff := cmp.Diff(wantPools, overrides(form)); diff != "" {
		t.Errorf("overrides (-want +got):\n%s", diff)
	}

	// The next step finds them through DescribeInstances and launches nothing more.
	d = h.step(t)
	if d.Instances != 2 || d.Launch != 0 {
		t.Fatalf("second step: instances %d, launch %d; want 2, 0", d.Instances, d.Launch)
	}
	desc := h.ec2.Requests("DescribeInstances")
	wantFilters := []string{"tag:tesuji:fleet=test", "tag:tesuji:role=worker", "instance-state-name=pending,running"}
	if diff := cmp.Diff(wantFilters, filters(desc[len(desc)-1])); diff != "" {
		t.Errorf("DescribeInstances filters (-want +got):\n%s", diff)
	}

	// The queue drains; both workers sit idle past the timeout and are retired.
	ids := h.ec2.Live()
	h.src.set(stats(0, 0, 0),
		queue.WorkerInfo{ID: "w1", InstanceID: ids[0], IdleSince: time.Now().Add(-20 * time.Minute), LastSeen: time.Now()},
		queue.WorkerInfo{ID: "w2", InstanceID: ids[1], IdleSince: time.Now().Add(-11 * time.Minute), LastSeen: time.Now()},
	)
	d = h.step(t)
	var terminated []string
	for _, term := range d.Terminate {
		if term.Reason != fleet.ReasonIdle {
			t.Errorf("%s terminated for %s, want idle", term.InstanceID, term.Reason)
		}
		terminated = append(terminated, term.InstanceID)
	}
	if diff := cmp.Diff(ids, terminated); diff != "" {
		t.Errorf("terminated (-want +got):\n%s", diff)
	}
	if live := h.ec2.Live(); len(live) != 0 {
		t.Errorf("still live after termination: %v", live)
	}
	if d := h.step(t); d.Instances != 0 || d.Launch != 0 || len(d.Terminate) != 0 {
		t.Errorf("after scale-in: %s", d)
	}
}

// overrides lists a CreateFleet request's pools as type/subnet.
func overrides(form url.Values) []string {
	var out []string
	for i := 1; ; i++ {
		p := "LaunchTemplateConfigs.1.Overrides." + strconv.Itoa(i) + "."
		typ, ok := form[p+"InstanceType"]
		if !ok {
			return out
		}
		out = append(out, typ[0]+"/"+form.Get(p+"SubnetId"))
	}
}

// filters lists a DescribeInstances request's filters as name=v1,v2.
func filters(form url.Values) []string {
	var out []string
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i) + "."
		name, ok := form[p+"Name"]
		if !ok {
			return out
		}
		var vals []string
		for j := 1; ; j++ {
			v, ok := form[p+"Value."+strconv.Itoa(j)]
			if !ok {
				break
			}
			vals = append(vals, v[0])
		}
		out = append(out, name[0]+"="+strings.Join(vals, ","))
	}
}

func TestCapacityErrorInsideSuccessfulCreateFleet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	// No g5 capacity in either zone: price-capacity-optimized tries them, reports them
	// in Errors, and launches g4dn instead. The call itself succeeds.
	h.ec2.Capacity("g5.xlarge", "subnet-a", 0)
	h.ec2.Capacity("g5.xlarge", "subnet-b", 0)
	h.src.set(backlog(3))

	d := h.step(t)
	if len(d.Launched) != 3 {
		t.Fatalf("launched %v, want 3 instances", d.Launched)
	}
	if len(d.Problems) != 2 || !strings.Contains(d.Problems[0], "InsufficientInstanceCapacity") {
		t.Errorf("problems %q, want the two g5 pools' capacity errors", d.Problems)
	}
	for _, inst := range h.ec2.Instances() {
		if inst.Type != "g4dn.xlarge" {
			t.Errorf("%s is a %s", inst.ID, inst.Type)
		}
	}

	// While avoided, the g5 pools are left out of the request.
	h.src.set(backlog(4))
	h.step(t)
	reqs := h.ec2.Requests("CreateFleet")
	if diff := cmp.Diff([]string{"g4dn.xlarge/subnet-a", "g4dn.xlarge/subnet-b"}, overrides(reqs[len(reqs)-1])); diff != "" {
		t.Errorf("overrides while g5 is avoided (-want +got):\n%s", diff)
	}
}

func TestLaunchTriesOtherPoolsInRounds(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.Subnets = []string{"subnet-a"}
	h := newHarness(t, cfg)
	h.ec2.Capacity("g5.xlarge", "subnet-a", 1)
	h.ec2.Capacity("g4dn.xlarge", "subnet-a", 0)
	h.src.set(backlog(3))

	d, err := h.fleet.Step(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Launched) != 1 {
		t.Errorf("launched %v, want the one instance there was room for", d.Launched)
	}
	// Round 1 asks both pools (g4dn fails, g5 gives 1); round 2 asks g5 alone (now
	// full, it fails too); then no pool is left.
	reqs := h.ec2.Requests("CreateFleet")
	var rounds [][]string
	for _, r := range reqs {
		rounds = append(rounds, overrides(r))
	}
	want := [][]string{{"g5.xlarge/subnet-a", "g4dn.xlarge/subnet-a"}, {"g5.xlarge/subnet-a"}}
	if diff := cmp.Diff(want, rounds); diff != "" {
		t.Errorf("CreateFleet rounds (-want +got):\n%s", diff)
	}
	if last := d.Problems[len(d.Problems)-1]; !strings.Contains(last, "every instance type and subnet is avoided") {
		t.Errorf("last problem %q", last)
	}
}

func TestThrottlingRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	h.ec2.Fail("DescribeInstances", 503, "RequestLimitExceeded", "Request limit exceeded.")
	h.ec2.Fail("CreateFleet", 503, "RequestLimitExceeded", "Request limit exceeded.")
	h.ec2.Fail("CreateFleet", 503, "RequestLimitExceeded", "Request limit exceeded.")
	h.src.set(backlog(2))

	d := h.step(t)
	if len(d.Launched) != 2 || len(h.ec2.Live()) != 2 {
		t.Errorf("launched %v, live %v; want 2 once", d.Launched, h.ec2.Live())
	}
	if n := len(h.ec2.Requests("DescribeInstances")); n != 2 {
		t.Errorf("%d DescribeInstances requests, want 2 (one throttled)", n)
	}
	if n := len(h.ec2.Requests("CreateFleet")); n != 3 {
		t.Errorf("%d CreateFleet requests, want 3 (two throttled)", n)
	}
}

func TestThrottlingExhausted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	for range 3 { // the standard retryer makes 3 attempts
		h.ec2.Fail("DescribeInstances", 503, "RequestLimitExceeded", "Request limit exceeded.")
	}
	h.src.set(backlog(2))
	_, err := h.fleet.Step(t.Context())
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "RequestLimitExceeded" {
		t.Fatalf("step error = %v, want RequestLimitExceeded", err)
	}
	if n := len(h.ec2.Requests("CreateFleet")); n != 0 {
		t.Errorf("%d CreateFleet requests after a failed describe: a blind step", n)
	}
}

func TestLostCreateFleetResponseLaunchesOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	// EC2 launches, then the response is lost (500): the SDK retries with the same
	// ClientToken, and EC2 answers with the instances it already launched.
	h.ec2.FailAfterCommit("CreateFleet", 500, "InternalError", "An internal error has occurred")
	h.src.set(backlog(2))

	d := h.step(t)
	reqs := h.ec2.Requests("CreateFleet")
	if len(reqs) != 2 || reqs[0].Get("ClientToken") != reqs[1].Get("ClientToken") {
		t.Fatalf("CreateFleet requests: %d; a retry must repeat the ClientToken", len(reqs))
	}
	if live := h.ec2.Live(); len(live) != 2 || !slices.Equal(live, d.Launched) {
		t.Errorf("live %v, launched %v; want the same 2", live, d.Launched)
	}
}

func TestAccountLevelErrorPausesLaunches(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	h.ec2.SpotLimit(1)
	h.src.set(backlog(3))

	d := h.step(t)
	if len(d.Launched) != 1 || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "MaxSpotInstanceCountExceeded") {
		t.Fatalf("launched %v, problems %q", d.Launched, d.Problems)
	}
	h.step(t)
	if n := len(h.ec2.Requests("CreateFleet")); n != 1 {
		t.Errorf("%d CreateFleet requests; launches should pause after an account limit", n)
	}
}

func TestOnlyOwnInstancesAreManaged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	old := time.Now().Add(-2 * time.Hour)
	mine := h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", Subnet: "subnet-a", LaunchTime: old,
		Tags: map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker"}})
	h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: old,
		Tags: map[string]string{"tesuji:fleet": "other", "tesuji:role": "worker"}})
	h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: old,
		Tags: map[string]string{"tesuji:fleet": "test", "tesuji:role": "api"}})
	h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: old})
	h.src.set(stats(0, 0, 0))

	d := h.step(t)
	want := []fleet.Termination{{InstanceID: mine, Reason: fleet.ReasonNoHeartbeat, Since: old.UTC().Truncate(time.Millisecond)}}
	if diff := cmp.Diff(want, d.Terminate); diff != "" {
		t.Errorf("terminations (-want +got):\n%s", diff)
	}
	if live := h.ec2.Live(); len(live) != 3 || slices.Contains(live, mine) {
		t.Errorf("live after step: %v", live)
	}
}

func TestDescribePages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	h.ec2.PageSize(2)
	for range 5 {
		h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", State: "pending",
			Tags: map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker"}})
	}
	h.src.set(stats(0, 0, 0))
	d := h.step(t)
	if d.Instances != 5 {
		t.Errorf("saw %d instances, want 5", d.Instances)
	}
	if n := len(h.ec2.Requests("DescribeInstances")); n != 3 {
		t.Errorf("%d DescribeInstances pages, want 3", n)
	}
}

// TestTerminatedInstanceWorkerIsNotStatic asserts that the worker of an instance the
// fleet just retired, still registered while it shuts down, does not stand in for the
// instance a new job needs.
func TestTerminatedInstanceWorkerIsNotStatic(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	id := h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: time.Now().Add(-time.Hour),
		Tags: map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker"}})
	w := idleWorkerSince(id, time.Now().Add(-20*time.Minute))
	h.src.set(stats(0, 0, 0), w)
	if d := h.step(t); len(d.Terminate) != 1 {
		t.Fatalf("the idle instance was not retired: %s", d)
	}
	h.src.set(backlog(1), w)
	if d := h.step(t); d.Static != 0 || d.Launch != 1 {
		t.Errorf("a job waits, the retired instance's worker is still registered: static %d, launch %d; want 0, 1", d.Static, d.Launch)
	}
}

// TestBudgetRetiresAWorkerThatMovedOn asserts that the fleet remembers, from step to
// step, the job a worker held when the budget ran out, and retires the worker once it
// has moved on to another.
func TestBudgetRetiresAWorkerThatMovedOn(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.BudgetHoursPerDay = 1e-9 // spent by the instance's time since launch or midnight
	h := newHarness(t, cfg)
	id := h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: time.Now().Add(-time.Hour),
		Tags: map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker"}})
	w := busyWorkerNow(id)
	h.src.set(backlog(3), w)
	if d := h.step(t); len(d.Terminate) != 0 {
		t.Fatalf("retired while on the job it held when the budget ran out: %s", d)
	}
	w.CurrentJobs = []string{"next"}
	h.src.set(backlog(2), w)
	if d := h.step(t); len(d.Terminate) != 1 || d.Terminate[0].Reason != fleet.ReasonBudget {
		t.Errorf("on a job claimed after the budget ran out: terminate %v, want it retired for the budget", d.Terminate)
	}
}

func TestDescribeLagDoesNotLaunchTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	h.ec2.DescribeLag(3)
	h.src.set(backlog(3))
	if d := h.step(t); len(d.Launched) != 3 {
		t.Fatalf("launched %v", d.Launched)
	}
	d := h.step(t)
	if d.Instances != 3 || d.Launch != 0 {
		t.Errorf("while EC2 does not list them yet: instances %d, launch %d; want 3, 0", d.Instances, d.Launch)
	}
	if live := h.ec2.Live(); len(live) != 3 {
		t.Errorf("live: %v", live)
	}
}

func TestTerminateWhenOneIsAlreadyGone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	old := time.Now().Add(-time.Hour)
	tags := map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker"}
	a := h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: old, Tags: tags})
	b := h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: old, Tags: tags})
	// The batch call fails as if one instance vanished between describe and terminate.
	h.ec2.Fail("TerminateInstances", 400, "InvalidInstanceID.NotFound", "The instance ID 'i-x' does not exist")
	h.src.set(stats(0, 0, 0))
	d := h.step(t)
	if len(d.Terminate) != 2 {
		t.Fatalf("terminate %v", d.Terminate)
	}
	if live := h.ec2.Live(); len(live) != 0 {
		t.Errorf("live after step: %v (want %s and %s terminated one by one)", live, a, b)
	}
}

func TestOutageDecidesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, baseConfig())
	h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: time.Now().Add(-time.Hour),
		Tags: map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker"}})
	h.src.err = errors.New("redis: connection refused")
	if _, err := h.fleet.Step(t.Context()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("step error = %v", err)
	}
	if n := len(h.ec2.Requests("TerminateInstances")); n != 0 {
		t.Error("terminated instances while the queue was unreachable")
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.DryRun = true
	h := newHarness(t, cfg)
	h.ec2.AddInstance(fleettest.Instance{Type: "g5.xlarge", LaunchTime: time.Now().Add(-time.Hour),
		Tags: map[string]string{"tesuji:fleet": "test", "tesuji:role": "worker"}})
	h.src.set(backlog(2))
	d := h.step(t)
	if !d.DryRun || d.Launch != 2 || len(d.Terminate) != 1 || len(d.Launched) != 0 {
		t.Errorf("dry-run decision: %s", d)
	}
	if !strings.HasPrefix(d.String(), "[dry-run] ") {
		t.Errorf("String() = %q", d.String())
	}
	if n := len(h.ec2.Requests("CreateFleet")) + len(h.ec2.Requests("TerminateInstances")); n != 0 {
		t.Errorf("dry run made %d changing EC2 calls", n)
	}

	// Without an EC2 client at all.
	f, err := fleet.New(fleet.Config{DryRun: true}, nil, h.src, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err = f.Step(t.Context())
	if err != nil || d.Launch != 2 {
		t.Errorf("dry run without EC2: %v, %s", err, d)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	src := &source{}
	client := ec2.New(ec2.Options{Region: "us-east-1"})
	tests := []struct {
		name string
		cfg  fleet.Config
		ec2  fleet.EC2API
	}{
		{"no launch template", fleet.Config{}, client},
		{"both template id and name", fleet.Config{LaunchTemplateID: "lt-1", LaunchTemplateName: "x"}, client},
		{"min above max", fleet.Config{LaunchTemplateID: "lt-1", Min: 3, Max: 2}, client},
		{"negative min", fleet.Config{LaunchTemplateID: "lt-1", Min: -1}, client},
		{"not a subnet id", fleet.Config{LaunchTemplateID: "lt-1", Subnets: []string{"us-east-1a"}}, client},
		{"overrides the fleet's tag", fleet.Config{LaunchTemplateID: "lt-1", Tags: map[string]string{"tesuji:fleet": "x"}}, client},
		{"reserved tag prefix", fleet.Config{LaunchTemplateID: "lt-1", Tags: map[string]string{"aws:x": "y"}}, client},
		{"no EC2 client", fleet.Config{LaunchTemplateID: "lt-1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := fleet.New(tt.cfg, tt.ec2, src, nil)
			if !errors.Is(err, fleet.ErrConfig) {
				t.Errorf("New = %v, want ErrConfig", err)
			}
		})
	}
	if _, err := fleet.New(fleet.Config{LaunchTemplateID: "lt-1"}, client, nil, nil); !errors.Is(err, fleet.ErrConfig) {
		t.Errorf("New without a source = %v, want ErrConfig", err)
	}
	f, err := fleet.New(fleet.Config{LaunchTemplateName: "tesuji-worker", Min: 6}, client, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := f.Config()
	if got.Max != 6 || got.Interval != fleet.DefaultInterval || got.LaunchTemplateVersion != "$Default" || !slices.Equal(got.InstanceTypes, fleet.DefaultInstanceTypes) {
		t.Errorf("defaults: %+v", got)
	}
}

// TestEndpointFromEnvironment shows the standard AWS configuration path: region,
// credentials and the EC2 endpoint override from the environment. It cannot run in
// parallel: it sets process-wide variables.
func TestEndpointFromEnvironment(t *testing.T) {
	e := fleettest.NewEC2Server(t)
	e.AddLaunchTemplate("lt-env", "tesuji-worker")
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL_EC2", e.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	awsCfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	src := &source{}
	src.set(backlog(1))
	f, err := fleet.New(fleet.Config{LaunchTemplateName: "tesuji-worker"}, ec2.NewFromConfig(awsCfg), src, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.Step(t.Context())
	if err != nil || len(d.Launched) != 1 {
		t.Fatalf("step through the environment's endpoint: %v, %s", err, d)
	}
}

// TestLoop runs the fleet's own loop over a day's morning in a synctest bubble, with
// the real SDK talking to the fake through an in-memory client and the SDK's default
// retryer.
func TestLoop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := fleettest.NewEC2()
		e.AddLaunchTemplate("lt-0123456789abcdef0", "tesuji-worker")
		e.Capacity("g5.xlarge", "subnet-a", 0)
		client := ec2.New(ec2.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
			BaseEndpoint: aws.String("http://ec2.invalid"),
			HTTPClient:   e.Client(),
		})
		src := &source{}
		cfg := baseConfig()
		cfg.BudgetHoursPerDay = 1
		f, err := fleet.New(cfg, client, src, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Stop(t.Context()); err != nil {
			t.Fatalf("stop before start: %v", err)
		}
		f, _ = fleet.New(cfg, client, src, testLogger(t))

		src.set(backlog(1))
		e.Fail("DescribeInstances", 503, "RequestLimitExceeded", "Request limit exceeded.")
		if err := f.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := f.Start(t.Context()); err == nil {
			t.Error("second Start succeeded")
		}
		time.Sleep(10 * time.Second) // the throttled describe's backoff, on the bubble's clock
		live := e.Live()
		if len(live) != 1 {
			t.Fatalf("after the first step (throttled once): live %v", live)
		}
		// The worker boots and takes the job; a minute later it is done and idle.
		time.Sleep(2 * time.Minute)
		src.set(queue.Stats{}, busyWorkerNow(live[0]))
		time.Sleep(time.Minute)
		idleAt := time.Now()
		src.set(queue.Stats{}, idleWorkerSince(live[0], idleAt))
		// Kept until the idle timeout, then retired by the next step.
		time.Sleep(fleet.DefaultIdleTimeout - time.Second)
		if len(e.Live()) != 1 {
			t.Fatal("retired before the idle timeout")
		}
		time.Sleep(fleet.DefaultInterval + time.Second)
		if live := e.Live(); len(live) != 0 {
			t.Fatalf("still live after the idle timeout: %v", live)
		}

		// The first launch found no capacity in g5.xlarge/subnet-a; more than AvoidFor
		// later the pool is asked for again.
		src.set(backlog(1))
		time.Sleep(fleet.DefaultInterval)
		reqs := e.Requests("CreateFleet")
		if len(reqs) != 2 {
			t.Fatalf("%d CreateFleet requests, want 2", len(reqs))
		}
		for i, r := range reqs {
			if !slices.Contains(overrides(r), "g5.xlarge/subnet-a") {
				t.Errorf("launch %d left out g5.xlarge/subnet-a: %v", i, overrides(r))
			}
		}

		// Budget: one instance-hour a day. The new worker stays busy past it; then the
		// fleet launches nothing however long the queue, and retires the worker the
		// moment it is idle.
		live = e.Live()
		if len(live) != 1 {
			t.Fatalf("live %v", live)
		}
		src.set(backlog(1), busyWorkerNow(live[0]))
		time.Sleep(time.Hour)
		src.set(backlog(4), busyWorkerNow(live[0]))
		d, err := f.Step(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if d.UsedHours < 1 || d.Desired != 0 || d.Launch != 0 {
			t.Errorf("with the budget spent: %s (used %.2f)", d, d.UsedHours)
		}
		src.set(backlog(4), idleWorkerSince(live[0], time.Now()))
		d, err = f.Step(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Terminate) != 1 || d.Terminate[0].Reason != fleet.ReasonBudget {
			t.Errorf("idle worker with the budget spent: %s", d)
		}

		for range 2 {
			if err := f.Stop(t.Context()); err != nil {
				t.Fatalf("stop: %v", err)
			}
		}
		n := len(e.Requests("DescribeInstances"))
		time.Sleep(10 * fleet.DefaultInterval)
		if got := len(e.Requests("DescribeInstances")); got != n {
			t.Errorf("%d steps after Stop", got-n)
		}
	})
}

func busyWorkerNow(id string) queue.WorkerInfo {
	return queue.WorkerInfo{ID: "w-" + id, InstanceID: id, StartedAt: time.Now(), CurrentJobs: []string{"j"}, LastSeen: time.Now()}
}

func idleWorkerSince(id string, at time.Time) queue.WorkerInfo {
	return queue.WorkerInfo{ID: "w-" + id, InstanceID: id, StartedAt: at, IdleSince: at, LastSeen: time.Now(), PositionsPerSec: 1200}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	cfg := baseConfig()
	cfg.Subnets = []string{"subnet-a"}
	h := newHarness(t, cfg)
	h.ec2.Capacity("g5.xlarge", "subnet-a", 0)
	h.src.set(backlog(2))
	h.step(t)
	ids := h.ec2.Live()
	idle := time.Now().Add(-time.Hour)
	h.src.set(stats(0, 0, 0),
		queue.WorkerInfo{ID: "w1", InstanceID: ids[0], IdleSince: idle},
		queue.WorkerInfo{ID: "w2", InstanceID: ids[1], IdleSince: idle})
	h.step(t)
	for range 3 {
		h.ec2.Fail("DescribeInstances", 503, "RequestLimitExceeded", "Request limit exceeded.")
	}
	if _, err := h.fleet.Step(t.Context()); err == nil {
		t.Fatal("step with EC2 throttling every attempt succeeded")
	}

	want := `
# HELP tesuji_fleet_desired_instances Instances the last decision wanted.
# TYPE tesuji_fleet_desired_instances gauge
tesuji_fleet_desired_instances{fleet="test"} 0
# HELP tesuji_fleet_instances The fleet's pending and running instances at the last decision.
# TYPE tesuji_fleet_instances gauge
tesuji_fleet_instances{fleet="test"} 2
# HELP tesuji_fleet_launch_problems_total Capacity errors and other launch failures reported inside successful CreateFleet calls.
# TYPE tesuji_fleet_launch_problems_total counter
tesuji_fleet_launch_problems_total{fleet="test"} 1
# HELP tesuji_fleet_launched_instances_total Instances launched.
# TYPE tesuji_fleet_launched_instances_total counter
tesuji_fleet_launched_instances_total{fleet="test"} 2
# HELP tesuji_fleet_step_errors_total Steps that failed (queue or EC2 unreachable, a call refused).
# TYPE tesuji_fleet_step_errors_total counter
tesuji_fleet_step_errors_total{fleet="test"} 1
# HELP tesuji_fleet_terminated_instances_total Instances terminated, by reason (idle, no-heartbeat, worker-gone, budget).
# TYPE tesuji_fleet_terminated_instances_total counter
tesuji_fleet_terminated_instances_total{fleet="test",reason="budget"} 0
tesuji_fleet_terminated_instances_total{fleet="test",reason="idle"} 2
tesuji_fleet_terminated_instances_total{fleet="test",reason="no-heartbeat"} 0
tesuji_fleet_terminated_instances_total{fleet="test",reason="worker-gone"} 0
`
	if err := testutil.CollectAndCompare(h.fleet.Collector(), strings.NewReader(want),
		"tesuji_fleet_desired_instances", "tesuji_fleet_instances", "tesuji_fleet_launch_problems_total",
		"tesuji_fleet_launched_instances_total", "tesuji_fleet_step_errors_total", "tesuji_fleet_terminated_instances_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(h.fleet.Collector()); n != 11 {
		t.Errorf("%d metrics, want 11", n)
	}
}
