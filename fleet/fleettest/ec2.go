// Package fleettest holds local stand-ins for the AWS endpoints the fleet talks to, for
// tests that drive the real AWS SDK: an EC2 Query API endpoint (CreateFleet,
// DescribeInstances, TerminateInstances) that keeps instances in memory, and an SSM
// JSON endpoint (GetParameter). Point a client at one with BaseEndpoint (or
// AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL_SSM) and static credentials.
package fleettest

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/internal/httpfake"
)

// Namespace is the XML namespace of EC2 API responses.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// apiVersion is the EC2 API version the SDK sends.
const apiVersion = "2016-11-15"

// Instance is an instance the fake keeps.
type Instance struct {
	ID            string
	Type          string
	Subnet        string
	Zone          string
	State         string // pending, running, shutting-down, terminated
	LaunchTime    time.Time
	Lifecycle     string // "spot" for CreateFleet launches
	Tags          map[string]string
	ClientToken   string
	reservationID string
}

// LaunchTemplate is a launch template the fake knows.
type LaunchTemplate struct{ ID, Name string }

type poolKey struct{ typ, subnet string }

type failure struct {
	status      int
	code, msg   string
	afterCommit bool
}

type fleetResult struct {
	fleetID   string
	instances []fleetInstance
	errors    []fleetError
}

type fleetInstance struct {
	typ, subnet, zone string
	ids               []string
}

type fleetError struct {
	typ, subnet, zone string
	code, msg         string
	pool              bool
}

// EC2 is the fake EC2 endpoint. It is an http.Handler; NewEC2Server also serves it on
// a loopback httptest server. It answers the EC2 Query API (form-encoded POST, SigV4
// signed) with the XML the real service sends, and rejects what it does not know (an
// unknown action, filter, instance or launch template) the way EC2 does.
type EC2 struct {
	// URL is the base URL of the httptest server (NewEC2Server only).
	URL string

	mu          sync.Mutex
	instances   map[string]*Instance
	order       []string
	seq         int
	templates   []LaunchTemplate
	zones       map[string]string // subnet -> availability zone
	capacity    map[poolKey]int   // pool -> instances it can still launch; absent: unlimited
	spotLimit   int               // pending+running spot instances allowed; 0: unlimited
	failures    map[string][]failure
	tokens      map[string]*fleetResult
	requests    map[string][]url.Values
	pageSize    int
	describeLag map[string]int // instance -> describes it is still missing from
	lag         int
}

// NewEC2 returns a fake with no instances and no launch template.
func NewEC2() *EC2 {
	return &EC2{
		instances:   make(map[string]*Instance),
		zones:       make(map[string]string),
		capacity:    make(map[poolKey]int),
		failures:    make(map[string][]failure),
		tokens:      make(map[string]*fleetResult),
		requests:    make(map[string][]url.Values),
		describeLag: make(map[string]int),
	}
}

// NewEC2Server starts a fake on a loopback httptest server, closed by t.Cleanup.
func NewEC2Server(t testing.TB) *EC2 {
	t.Helper()
	e := NewEC2()
	e.URL = httpfake.Serve(t, e)
	return e
}

// Client returns an in-memory HTTP client for the fake, for tests inside a
// testing/synctest bubble (a loopback connection keeps a bubble from going idle).
func (e *EC2) Client() *httpfake.Client { return &httpfake.Client{Handler: e} }

// AddLaunchTemplate makes a launch template known by id and name.
func (e *EC2) AddLaunchTemplate(id, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.templates = append(e.templates, LaunchTemplate{ID: id, Name: name})
}

// AddSubnet places a subnet in an availability zone. Unknown subnets are in
// "us-east-1a"; launches without a subnet go to "subnet-default" there.
func (e *EC2) AddSubnet(id, zone string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.zones[id] = zone
}

// Capacity limits how many more instances of a type the subnet can launch; 0 makes
// every launch there fail with InsufficientInstanceCapacity. subnet "" is the default
// subnet. Pools not given are unlimited.
func (e *EC2) Capacity(instanceType, subnet string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.capacity[poolKey{instanceType, subnet}] = n
}

// SpotLimit caps the account's pending and running spot instances; CreateFleet then
// reports MaxSpotInstanceCountExceeded, an error that names no pool. 0: no limit.
func (e *EC2) SpotLimit(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.spotLimit = n
}

// Fail makes the next request of action answer an EC2 error (for example 503
// RequestLimitExceeded) without doing anything. Calls queue up.
func (e *EC2) Fail(action string, status int, code, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures[action] = append(e.failures[action], failure{status: status, code: code, msg: message})
}

// FailAfterCommit makes the next request of action do its work and then answer an
// error, as when a response is lost: a retry must not do the work twice.
func (e *EC2) FailAfterCommit(action string, status int, code, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures[action] = append(e.failures[action], failure{status: status, code: code, msg: message, afterCommit: true})
}

// PageSize caps DescribeInstances pages below the request's MaxResults. 0: no cap.
func (e *EC2) PageSize(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pageSize = n
}

// DescribeLag makes instances launched from now on invisible to the next n
// DescribeInstances calls, as EC2's eventual consistency may.
func (e *EC2) DescribeLag(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lag = n
}

// AddInstance plants an instance, as if launched outside the fleet. ID, State and
// LaunchTime get defaults (a fresh id, running, now) when empty.
func (e *EC2) AddInstance(inst Instance) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inst.ID == "" {
		inst.ID = e.newID("i")
	}
	if inst.State == "" {
		inst.State = "running"
	}
	if inst.LaunchTime.IsZero() {
		inst.LaunchTime = time.Now()
	}
	if inst.Zone == "" {
		inst.Zone = e.zoneOf(inst.Subnet)
	}
	if inst.reservationID == "" {
		inst.reservationID = e.newID("r")
	}
	e.put(&inst)
	return inst.ID
}

// SetState moves an instance to a state, as EC2 does when an instance boots or a spot
// instance is reclaimed.
func (e *EC2) SetState(id, state string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inst, ok := e.instances[id]; ok {
		inst.State = state
	}
}

// Instances returns a copy of every instance, in launch order.
func (e *EC2) Instances() []Instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Instance, 0, len(e.order))
	for _, id := range e.order {
		inst := *e.instances[id]
		inst.Tags = maps.Clone(inst.Tags)
		out = append(out, inst)
	}
	return out
}

// Live returns the ids of the pending and running instances, in launch order.
func (e *EC2) Live() []string {
	var ids []string
	for _, inst := range e.Instances() {
		if inst.State == "pending" || inst.State == "running" {
			ids = append(ids, inst.ID)
		}
	}
	return ids
}

// Requests returns the forms of the requests received for action, failed ones
// included, in order.
func (e *EC2) Requests(action string) []url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests[action])
}

func (e *EC2) newID(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s-%017x", prefix, 0x0f1ee7000000000+e.seq)
}

func (e *EC2) zoneOf(subnet string) string {
	if z, ok := e.zones[subnet]; ok {
		return z
	}
	return "us-east-1a"
}

func (e *EC2) put(inst *Instance) {
	e.instances[inst.ID] = inst
	e.order = append(e.order, inst.ID)
}

// ServeHTTP answers one EC2 Query API request.
func (e *EC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusBadRequest, "InvalidAction", "POST / only")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		writeError(w, http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	form := r.PostForm
	action := form.Get("Action")
	if form.Get("Version") != apiVersion {
		writeError(w, http.StatusBadRequest, "InvalidParameterValue", "unsupported API version "+form.Get("Version"))
		return
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests[action] = append(e.requests[action], form)
	var fail *failure
	if fs := e.failures[action]; len(fs) > 0 {
		f := fs[0]
		e.failures[action] = fs[1:]
		if !f.afterCommit {
			writeError(w, f.status, f.code, f.msg)
			return
		}
		fail = &f
	}

	var resp any
	var apiErr *apiError
	switch action {
	case "CreateFleet":
		resp, apiErr = e.createFleet(form)
	case "DescribeInstances":
		resp, apiErr = e.describeInstances(form)
	case "TerminateInstances":
		resp, apiErr = e.terminateInstances(form)
	default:
		apiErr = &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action)}
	}
	if apiErr != nil {
		writeError(w, apiErr.status, apiErr.code, apiErr.msg)
		return
	}
	if fail != nil {
		writeError(w, fail.status, fail.code, fail.msg)
		return
	}
	body, err := xml.MarshalIndent(resp, "", " ")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write([]byte(xml.Header))
	w.Write(body)
}

type apiError struct {
	status    int
	code, msg string
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	type errorXML struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	type response struct {
		XMLName   xml.Name   `xml:"Response"`
		Errors    []errorXML `xml:"Errors>Error"`
		RequestID string     `xml:"RequestID"`
	}
	body, _ := xml.Marshal(response{Errors: []errorXML{{code, msg}}, RequestID: "fake-request"})
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// list reads an EC2 query list: prefix.1, prefix.2, ... (or prefix.1.suffix, ...).
func list(form url.Values, prefix, suffix string) []string {
	var out []string
	for i := 1; ; i++ {
		key := prefix + "." + strconv.Itoa(i)
		if suffix != "" {
			key += "." + suffix
		}
		v, ok := form[key]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

// --- CreateFleet ---

type ltSpecXML struct {
	LaunchTemplateID   string `xml:"launchTemplateId,omitempty"`
	LaunchTemplateName string `xml:"launchTemplateName,omitempty"`
	Version            string `xml:"version,omitempty"`
}

type overridesXML struct {
	InstanceType     string `xml:"instanceType,omitempty"`
	SubnetID         string `xml:"subnetId,omitempty"`
	AvailabilityZone string `xml:"availabilityZone,omitempty"`
}

type ltAndOverridesXML struct {
	Spec      ltSpecXML     `xml:"launchTemplateSpecification"`
	Overrides *overridesXML `xml:"overrides,omitempty"`
}

type createFleetResponse struct {
	XMLName   xml.Name           `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateFleetResponse"`
	RequestID string             `xml:"requestId"`
	FleetID   string             `xml:"fleetId"`
	Errors    []fleetErrorXML    `xml:"errorSet>item"`
	Instances []fleetInstanceXML `xml:"fleetInstanceSet>item"`
}

type fleetErrorXML struct {
	LT        ltAndOverridesXML `xml:"launchTemplateAndOverrides"`
	Lifecycle string            `xml:"lifecycle"`
	Code      string            `xml:"errorCode"`
	Message   string            `xml:"errorMessage"`
}

type fleetInstanceXML struct {
	LT           ltAndOverridesXML `xml:"launchTemplateAndOverrides"`
	Lifecycle    string            `xml:"lifecycle"`
	InstanceIDs  []string          `xml:"instanceIds>item"`
	InstanceType string            `xml:"instanceType"`
}

func (e *EC2) createFleet(form url.Values) (any, *apiError) {
	bad := func(msg string) (any, *apiError) {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterValue", msg}
	}
	if form.Get("Type") != "instant" {
		return bad("the fake supports Type instant only, not " + strconv.Quote(form.Get("Type")))
	}
	const lt = "LaunchTemplateConfigs.1."
	if _, ok := form["LaunchTemplateConfigs.2.LaunchTemplateSpecification.Version"]; ok {
		return bad("the fake supports one launch template config")
	}
	spec := ltSpecXML{
		LaunchTemplateID:   form.Get(lt + "LaunchTemplateSpecification.LaunchTemplateId"),
		LaunchTemplateName: form.Get(lt + "LaunchTemplateSpecification.LaunchTemplateName"),
		Version:            form.Get(lt + "LaunchTemplateSpecification.Version"),
	}
	if (spec.LaunchTemplateID == "") == (spec.LaunchTemplateName == "") {
		return bad("specify either a launch template id or a name")
	}
	known := slices.ContainsFunc(e.templates, func(t LaunchTemplate) bool {
		return (spec.LaunchTemplateID != "" && t.ID == spec.LaunchTemplateID) || (spec.LaunchTemplateName != "" && t.Name == spec.LaunchTemplateName)
	})
	if !known {
		if spec.LaunchTemplateID != "" {
			return nil, &apiError{http.StatusBadRequest, "InvalidLaunchTemplateId.NotFound", fmt.Sprintf("The specified launch template, with template ID %s, does not exist.", spec.LaunchTemplateID)}
		}
		return nil, &apiError{http.StatusBadRequest, "InvalidLaunchTemplateName.NotFoundException", fmt.Sprintf("The specified launch template, with template name %s, does not exist.", spec.LaunchTemplateName)}
	}
	target, err := strconv.Atoi(form.Get("TargetCapacitySpecification.TotalTargetCapacity"))
	if err != nil || target < 1 {
		return bad("TotalTargetCapacity must be a positive integer")
	}
	if form.Get("TargetCapacitySpecification.DefaultTargetCapacityType") != "spot" {
		return bad("the fake launches spot capacity only")
	}
	if s := form.Get("SpotOptions.AllocationStrategy"); s != "" && s != "price-capacity-optimized" && s != "capacity-optimized" && s != "lowest-price" && s != "diversified" {
		return bad("unknown allocation strategy " + s)
	}

	token := form.Get("ClientToken")
	if prev, ok := e.tokens[token]; ok && token != "" {
		return e.fleetResponse(spec, prev), nil
	}

	tags := make(map[string]string)
	for i := 1; ; i++ {
		p := "TagSpecification." + strconv.Itoa(i) + "."
		rt, ok := form[p+"ResourceType"]
		if !ok {
			break
		}
		if rt[0] != "instance" && rt[0] != "fleet" {
			return bad("tags are supported for fleet and instance resources only, not " + rt[0])
		}
		if rt[0] != "instance" {
			continue
		}
		keys, values := list(form, p+"Tag", "Key"), list(form, p+"Tag", "Value")
		if len(keys) != len(values) {
			return bad("a tag without a value")
		}
		for j, k := range keys {
			tags[k] = values[j]
		}
	}

	type override struct{ typ, subnet string }
	var overrides []override
	for i := 1; ; i++ {
		p := lt + "Overrides." + strconv.Itoa(i) + "."
		typ, hasType := form[p+"InstanceType"]
		subnet, hasSubnet := form[p+"SubnetId"]
		if !hasType && !hasSubnet {
			break
		}
		o := override{}
		if hasType {
			o.typ = typ[0]
		}
		if hasSubnet {
			o.subnet = subnet[0]
		}
		if o.typ == "" {
			return bad("the fake needs an instance type in every override")
		}
		overrides = append(overrides, o)
	}
	if len(overrides) == 0 {
		return bad("the fake needs overrides")
	}

	res := &fleetResult{fleetID: "fleet-" + e.newID("x")[2:]}
	left := target
	if e.spotLimit > 0 {
		live := 0
		for _, inst := range e.instances {
			if inst.Lifecycle == "spot" && (inst.State == "pending" || inst.State == "running") {
				live++
			}
		}
		if allowed := max(0, e.spotLimit-live); allowed < left {
			left = allowed
			res.errors = append(res.errors, fleetError{code: "MaxSpotInstanceCountExceeded", msg: "Max spot instance count exceeded"})
		}
	}
	for _, o := range overrides {
		if left == 0 {
			break
		}
		zone := e.zoneOf(o.subnet)
		n := left
		if c, limited := e.capacity[poolKey{o.typ, o.subnet}]; limited {
			n = min(n, c)
			e.capacity[poolKey{o.typ, o.subnet}] = c - n
		}
		if n == 0 {
			res.errors = append(res.errors, fleetError{
				typ: o.typ, subnet: o.subnet, zone: zone, pool: true,
				code: "InsufficientInstanceCapacity",
				msg:  "We currently do not have sufficient " + o.typ + " capacity in the Availability Zone you requested (" + zone + ").",
			})
			continue
		}
		fi := fleetInstance{typ: o.typ, subnet: o.subnet, zone: zone}
		reservation := e.newID("r")
		for range n {
			inst := &Instance{
				ID:            e.newID("i"),
				Type:          o.typ,
				Subnet:        cmp.Or(o.subnet, "subnet-default"),
				Zone:          zone,
				State:         "pending",
				LaunchTime:    time.Now().UTC().Truncate(time.Millisecond),
				Lifecycle:     "spot",
				Tags:          maps.Clone(tags),
				ClientToken:   token,
				reservationID: reservation,
			}
			e.put(inst)
			if e.lag > 0 {
				e.describeLag[inst.ID] = e.lag
			}
			fi.ids = append(fi.ids, inst.ID)
		}
		res.instances = append(res.instances, fi)
		left -= n
	}
	if token != "" {
		e.tokens[token] = res
	}
	return e.fleetResponse(spec, res), nil
}

func (e *EC2) fleetResponse(spec ltSpecXML, res *fleetResult) *createFleetResponse {
	out := &createFleetResponse{RequestID: "fake-request", FleetID: res.fleetID}
	for _, fe := range res.errors {
		x := fleetErrorXML{LT: ltAndOverridesXML{Spec: spec}, Lifecycle: "spot", Code: fe.code, Message: fe.msg}
		if fe.pool {
			x.LT.Overrides = &overridesXML{InstanceType: fe.typ, SubnetID: fe.subnet, AvailabilityZone: fe.zone}
		}
		out.Errors = append(out.Errors, x)
	}
	for _, fi := range res.instances {
		out.Instances = append(out.Instances, fleetInstanceXML{
			LT:           ltAndOverridesXML{Spec: spec, Overrides: &overridesXML{InstanceType: fi.typ, SubnetID: fi.subnet, AvailabilityZone: fi.zone}},
			Lifecycle:    "spot",
			InstanceIDs:  fi.ids,
			InstanceType: fi.typ,
		})
	}
	return out
}

// --- DescribeInstances ---

type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

var stateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type instanceXML struct {
	InstanceID   string   `xml:"instanceId"`
	ImageID      string   `xml:"imageId"`
	State        stateXML `xml:"instanceState"`
	InstanceType string   `xml:"instanceType"`
	LaunchTime   string   `xml:"launchTime"`
	Placement    struct {
		AvailabilityZone string `xml:"availabilityZone"`
		Tenancy          string `xml:"tenancy"`
	} `xml:"placement"`
	SubnetID    string   `xml:"subnetId"`
	ClientToken string   `xml:"clientToken,omitempty"`
	Lifecycle   string   `xml:"instanceLifecycle,omitempty"`
	Tags        []tagXML `xml:"tagSet>item"`
}

type reservationXML struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []instanceXML `xml:"instancesSet>item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name         `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeInstancesResponse"`
	RequestID    string           `xml:"requestId"`
	Reservations []reservationXML `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

func (e *EC2) describeInstances(form url.Values) (any, *apiError) {
	bad := func(code, msg string) (any, *apiError) {
		return nil, &apiError{http.StatusBadRequest, code, msg}
	}
	type filter struct {
		name   string
		values []string
	}
	var filters []filter
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i) + "."
		name, ok := form[p+"Name"]
		if !ok {
			break
		}
		f := filter{name: name[0], values: list(form, p+"Value", "")}
		switch {
		case strings.HasPrefix(f.name, "tag:"), f.name == "tag-key", f.name == "instance-state-name",
			f.name == "instance-id", f.name == "instance-type", f.name == "subnet-id":
		default:
			return bad("InvalidParameterValue", fmt.Sprintf("The filter '%s' is invalid", f.name))
		}
		filters = append(filters, f)
	}
	ids := list(form, "InstanceId", "")
	maxResults := 0
	if v := form.Get("MaxResults"); v != "" {
		if len(ids) > 0 {
			return bad("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return bad("InvalidParameterValue", "MaxResults must be between 5 and 1000")
		}
		maxResults = n
	}
	for _, id := range ids {
		if _, ok := e.instances[id]; !ok {
			return bad("InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", id))
		}
	}

	var match []*Instance
	for _, id := range e.order {
		inst := e.instances[id]
		if len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		if e.describeLag[id] > 0 {
			continue
		}
		ok := true
		for _, f := range filters {
			var have []string
			switch {
			case strings.HasPrefix(f.name, "tag:"):
				if v, set := inst.Tags[strings.TrimPrefix(f.name, "tag:")]; set {
					have = []string{v}
				}
			case f.name == "tag-key":
				for k := range inst.Tags {
					have = append(have, k)
				}
			case f.name == "instance-state-name":
				have = []string{inst.State}
			case f.name == "instance-id":
				have = []string{inst.ID}
			case f.name == "instance-type":
				have = []string{inst.Type}
			case f.name == "subnet-id":
				have = []string{inst.Subnet}
			}
			if !slices.ContainsFunc(have, func(h string) bool { return slices.Contains(f.values, h) }) {
				ok = false
				break
			}
		}
		if ok {
			match = append(match, inst)
		}
	}
	for id, n := range e.describeLag {
		if n--; n <= 0 {
			delete(e.describeLag, id)
		} else {
			e.describeLag[id] = n
		}
	}

	start := 0
	if tok := form.Get("NextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil || n < 0 || n > len(match) {
			return bad("InvalidParameterValue", "invalid NextToken")
		}
		start = n
	}
	size := len(match) - start
	if maxResults > 0 {
		size = min(size, maxResults)
	}
	if e.pageSize > 0 {
		size = min(size, e.pageSize)
	}
	out := &describeInstancesResponse{RequestID: "fake-request"}
	if start+size < len(match) {
		out.NextToken = "page-" + strconv.Itoa(start+size)
	}
	byReservation := make(map[string]int)
	for _, inst := range match[start : start+size] {
		x := instanceXML{
			InstanceID:   inst.ID,
			ImageID:      "ami-0fake",
			State:        stateXML{stateCodes[inst.State], inst.State},
			InstanceType: inst.Type,
			LaunchTime:   inst.LaunchTime.UTC().Format("2006-01-02T15:04:05.000Z"),
			SubnetID:     inst.Subnet,
			ClientToken:  inst.ClientToken,
			Lifecycle:    inst.Lifecycle,
		}
		x.Placement.AvailabilityZone = inst.Zone
		x.Placement.Tenancy = "default"
		for _, k := range slices.Sorted(maps.Keys(inst.Tags)) {
			x.Tags = append(x.Tags, tagXML{k, inst.Tags[k]})
		}
		i, ok := byReservation[inst.reservationID]
		if !ok {
			i = len(out.Reservations)
			byReservation[inst.reservationID] = i
			out.Reservations = append(out.Reservations, reservationXML{ReservationID: inst.reservationID, OwnerID: "123456789012"})
		}
		out.Reservations[i].Instances = append(out.Reservations[i].Instances, x)
	}
	// The pending instances the caller has now seen come up, as real ones do.
	for _, inst := range match[start : start+size] {
		if inst.State == "pending" {
			inst.State = "running"
		} else if inst.State == "shutting-down" {
			inst.State = "terminated"
		}
	}
	return out, nil
}

// --- TerminateInstances ---

type terminateInstancesResponse struct {
	XMLName   xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ TerminateInstancesResponse"`
	RequestID string   `xml:"requestId"`
	Instances []struct {
		InstanceID    string   `xml:"instanceId"`
		CurrentState  stateXML `xml:"currentState"`
		PreviousState stateXML `xml:"previousState"`
	} `xml:"instancesSet>item"`
}

func (e *EC2) terminateInstances(form url.Values) (any, *apiError) {
	ids := list(form, "InstanceId", "")
	if len(ids) == 0 {
		return nil, &apiError{http.StatusBadRequest, "MissingParameter", "The request must contain the parameter InstanceId"}
	}
	for _, id := range ids {
		if _, ok := e.instances[id]; !ok {
			return nil, &apiError{http.StatusBadRequest, "InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", id)}
		}
	}
	out := &terminateInstancesResponse{RequestID: "fake-request"}
	for _, id := range ids {
		inst := e.instances[id]
		prev := inst.State
		if prev != "terminated" {
			inst.State = "shutting-down"
		}
		out.Instances = append(out.Instances, struct {
			InstanceID    string   `xml:"instanceId"`
			CurrentState  stateXML `xml:"currentState"`
			PreviousState stateXML `xml:"previousState"`
		}{id, stateXML{stateCodes[inst.State], inst.State}, stateXML{stateCodes[prev], prev}})
	}
	return out, nil
}
