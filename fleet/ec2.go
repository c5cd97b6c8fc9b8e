package fleet

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// pool is one instance type in one subnet: the unit EC2 reports capacity for. An empty
// field in an avoided pool stands for every type or every subnet.
type pool struct {
	typ    string
	subnet string
}

func (p pool) String() string {
	return fmt.Sprintf("%s in %s", cmp.Or(p.typ, "any type"), cmp.Or(p.subnet, "the template's subnet"))
}

// maxLaunchRounds bounds the CreateFleet calls of one step: each round leaves out the
// pools that just reported no capacity.
const maxLaunchRounds = 3

// instances lists the fleet's pending and running instances, corrected by what the
// fleet itself launched and terminated within the consistency window.
func (f *Fleet) instances(ctx context.Context, now time.Time) ([]Instance, error) {
	for id, inst := range f.launched {
		if now.Sub(inst.Launched) > consistencyWindow {
			delete(f.launched, id)
		}
	}
	for id, at := range f.terminated {
		if now.Sub(at) > consistencyWindow {
			delete(f.terminated, id)
		}
	}
	if f.ec2 == nil {
		return nil, nil
	}
	in := &ec2.DescribeInstancesInput{
		Filters: []types.Filter{
			{Name: aws.String("tag:" + TagFleet), Values: []string{f.cfg.Name}},
			{Name: aws.String("tag:" + TagRole), Values: []string{RoleWorker}},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
		},
		MaxResults: aws.Int32(1000),
	}
	var out []Instance
	seen := make(map[string]bool)
	pages := ec2.NewDescribeInstancesPaginator(f.ec2, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("fleet: describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				id := aws.ToString(i.InstanceId)
				if id == "" || seen[id] {
					continue
				}
				seen[id] = true
				delete(f.launched, id)
				if _, gone := f.terminated[id]; gone {
					continue
				}
				inst := Instance{
					ID:       id,
					Type:     string(i.InstanceType),
					Subnet:   aws.ToString(i.SubnetId),
					Launched: aws.ToTime(i.LaunchTime),
				}
				if i.State != nil {
					inst.State = string(i.State.Name)
				}
				if i.Placement != nil {
					inst.Zone = aws.ToString(i.Placement.AvailabilityZone)
				}
				out = append(out, inst)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(f.launched)) {
		out = append(out, f.launched[id])
	}
	return out, nil
}

// terminate terminates the instances. When the batch call fails (one id already gone
// fails it all), each instance is tried alone and the ones EC2 no longer knows are
// taken as terminated.
func (f *Fleet) terminate(ctx context.Context, ids []string, now time.Time) error {
	_, err := f.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err == nil {
		for _, id := range ids {
			f.terminated[id] = now
		}
		return nil
	}
	if len(ids) == 1 {
		return f.terminateOne(ids[0], now, err)
	}
	var errs []error
	for _, id := range ids {
		_, err := f.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		if err := f.terminateOne(id, now, err); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (f *Fleet) terminateOne(id string, now time.Time, err error) error {
	var api smithy.APIError
	if err == nil || (errors.As(err, &api) && api.ErrorCode() == "InvalidInstanceID.NotFound") {
		f.terminated[id] = now
		return nil
	}
	return fmt.Errorf("fleet: terminate %s: %w", id, err)
}

// launch asks CreateFleet for n spot instances over every pool not avoided. Pools that
// report a failure in the response's Errors are avoided for AvoidFor and the rest is
// asked again from the remaining pools. problems lists those failures; err is a failed
// call.
func (f *Fleet) launch(ctx context.Context, n int, now time.Time) (ids, problems []string, err error) {
	if now.Before(f.blocked) {
		return nil, []string{fmt.Sprintf("launches paused until %s after an account-level error", f.blocked.UTC().Format(time.RFC3339))}, nil
	}
	for round := 0; round < maxLaunchRounds && n > 0; round++ {
		pools := f.pools(now)
		if len(pools) == 0 {
			problems = append(problems, "every instance type and subnet is avoided after capacity errors")
			break
		}
		out, err := f.ec2.CreateFleet(ctx, f.fleetInput(n, pools))
		if err != nil {
			return ids, problems, fmt.Errorf("fleet: create fleet: %w", err)
		}
		got := 0
		for _, fi := range out.Instances {
			inst := Instance{Type: string(fi.InstanceType), State: "pending", Launched: now}
			if o := overridesOf(fi.LaunchTemplateAndOverrides); o != nil {
				inst.Subnet = aws.ToString(o.SubnetId)
				inst.Zone = aws.ToString(o.AvailabilityZone)
			}
			for _, id := range fi.InstanceIds {
				inst.ID = id
				f.launched[id] = inst
				ids = append(ids, id)
				got++
			}
		}
		n -= got
		avoided := 0
		for _, e := range out.Errors {
			code, msg := aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)
			p, ok := poolOf(e)
			if !ok {
				f.blocked = now.Add(f.cfg.AvoidFor)
				problems = append(problems, fmt.Sprintf("%s: %s (launches paused for %v)", code, msg, f.cfg.AvoidFor))
				f.log.Warn("fleet: launch error", "error_code", code, "error_message", msg)
				return ids, problems, nil
			}
			if until, ok := f.avoid[p]; !ok || until.Before(now) {
				avoided++
			}
			f.avoid[p] = now.Add(f.cfg.AvoidFor)
			problems = append(problems, fmt.Sprintf("%s: %s: %s (avoided for %v)", p, code, msg, f.cfg.AvoidFor))
			f.log.Warn("fleet: pool failed", "instance_type", p.typ, "subnet", p.subnet, "error_code", code, "error_message", msg)
		}
		if avoided == 0 {
			break // nothing new to leave out: another round would get the same answer
		}
	}
	return ids, problems, nil
}

func overridesOf(lt *types.LaunchTemplateAndOverridesResponse) *types.FleetLaunchTemplateOverrides {
	if lt == nil {
		return nil
	}
	return lt.Overrides
}

// poolOf names the pool a CreateFleet error is about; ok is false for an error that
// names none (an account limit, a bad template).
func poolOf(e types.CreateFleetError) (pool, bool) {
	o := overridesOf(e.LaunchTemplateAndOverrides)
	if o == nil {
		return pool{}, false
	}
	p := pool{typ: string(o.InstanceType), subnet: aws.ToString(o.SubnetId)}
	return p, p.typ != "" || p.subnet != ""
}

// pools returns every instance type in every subnet, less the avoided ones.
func (f *Fleet) pools(now time.Time) []pool {
	for p, until := range f.avoid {
		if !now.Before(until) {
			delete(f.avoid, p)
		}
	}
	subnets := f.cfg.Subnets
	if len(subnets) == 0 {
		subnets = []string{""}
	}
	var out []pool
	for _, t := range f.cfg.InstanceTypes {
		for _, s := range subnets {
			p := pool{typ: t, subnet: s}
			_, a := f.avoid[p]
			_, b := f.avoid[pool{typ: t}]
			_, c := f.avoid[pool{subnet: s}]
			if s == "" {
				c = false
			}
			if !a && !b && !c {
				out = append(out, p)
			}
		}
	}
	return out
}

// fleetInput is one instant, spot, price-capacity-optimized CreateFleet request. The
// client token makes the SDK's retries of this call idempotent: a retried request
// whose first attempt did launch returns those instances instead of launching more.
func (f *Fleet) fleetInput(n int, pools []pool) *ec2.CreateFleetInput {
	spec := &types.FleetLaunchTemplateSpecificationRequest{Version: aws.String(f.cfg.LaunchTemplateVersion)}
	if f.cfg.LaunchTemplateID != "" {
		spec.LaunchTemplateId = aws.String(f.cfg.LaunchTemplateID)
	} else {
		spec.LaunchTemplateName = aws.String(f.cfg.LaunchTemplateName)
	}
	overrides := make([]types.FleetLaunchTemplateOverridesRequest, len(pools))
	for i, p := range pools {
		overrides[i] = types.FleetLaunchTemplateOverridesRequest{InstanceType: types.InstanceType(p.typ)}
		if p.subnet != "" {
			overrides[i].SubnetId = aws.String(p.subnet)
		}
	}
	tagMap := f.cfg.tags()
	tags := make([]types.Tag, 0, len(tagMap))
	for _, k := range slices.Sorted(maps.Keys(tagMap)) {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(tagMap[k])})
	}
	return &ec2.CreateFleetInput{
		Type:        types.FleetTypeInstant,
		ClientToken: aws.String(rand.Text()),
		LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
			LaunchTemplateSpecification: spec,
			Overrides:                   overrides,
		}},
		SpotOptions: &types.SpotOptionsRequest{
			AllocationStrategy: types.SpotAllocationStrategyPriceCapacityOptimized,
		},
		TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{
			TotalTargetCapacity:       aws.Int32(int32(n)),
			SpotTargetCapacity:        aws.Int32(int32(n)),
			DefaultTargetCapacityType: types.DefaultTargetCapacityTypeSpot,
		},
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: tags},
			{ResourceType: types.ResourceTypeFleet, Tags: tags},
		},
	}
}
