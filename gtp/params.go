package gtp

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tesuji/tesuji/client"
)

// The search parameters of kata-set-param and its relatives that make sense for a
// search on a shared server: the limits of a genmove's search, and the settings a
// server's job may carry (see analysis.JobSettings). KataGo's other parameters shape its
// process (threads, caches) or are fixed by the server's configuration; setting one is
// answered as KataGo answers a parameter it cannot override.

// paramKind is how a parameter's value is read and printed.
type paramKind int

const (
	paramInt paramKind = iota
	paramFloat
	paramString
)

// paramDef is one parameter, with KataGo's range and default.
type paramDef struct {
	name     string
	kind     paramKind
	min, max float64
	def      any // int64, float64 or string
	// special parameters are printed as KataGo prints its GTP-level ones: as strings in
	// kata-get-params, and listed before the search parameters in kata-list-params.
	special bool
}

// unlimited is KataGo's value of maxVisits and maxPlayouts when none is set.
const unlimited = int64(1) << 50

var paramDefs = []paramDef{
	{name: "analysisWideRootNoise", kind: paramFloat, min: 0, max: 5, def: 0.04, special: true},
	{name: "humanSLProfile", kind: paramString, def: "", special: true},
	{name: "maxPlayouts", kind: paramInt, min: 1, max: float64(unlimited), def: unlimited},
	{name: "maxTime", kind: paramFloat, min: 0, max: 1e20, def: 1e20},
	{name: "maxVisits", kind: paramInt, min: 1, max: float64(unlimited), def: unlimited},
	{name: "playoutDoublingAdvantage", kind: paramFloat, min: -3, max: 3, def: 0.0},
	{name: "wideRootNoise", kind: paramFloat, min: 0, max: 5, def: 0.0},
}

func findParam(name string) *paramDef {
	i := slices.IndexFunc(paramDefs, func(d paramDef) bool { return d.name == name })
	if i < 0 {
		return nil
	}
	return &paramDefs[i]
}

// params are a session's values of the parameters; a missing one has its default.
type params map[string]any

func (p params) get(d *paramDef) any {
	if v, ok := p[d.name]; ok {
		return v
	}
	return d.def
}

// set reads value for d as KataGo's config parser does, with its error texts.
func (p params) set(d *paramDef, value string) error {
	switch d.kind {
	case paramInt:
		n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return fail("Could not set params: Could not parse '%s' as int64_t for key '%s' in config file  and/or command-line and query overrides", value, d.name)
		}
		if float64(n) < d.min || float64(n) > d.max {
			return fail("Could not set params: Key '%s' must be in the range %d to %d in config file  and/or command-line and query overrides", d.name, int64(d.min), int64(d.max))
		}
		p[d.name] = n
	case paramFloat:
		x, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return fail("Could not set params: Could not parse '%s' as double for key '%s' in config file  and/or command-line and query overrides", value, d.name)
		}
		if math.IsNaN(x) {
			return fail("Could not set params: Key '%s' is nan in config file  and/or command-line and query overrides", d.name)
		}
		if x < d.min || x > d.max {
			return fail("Could not set params: Key '%s' must be in the range %s to %s in config file  and/or command-line and query overrides", d.name, cfloat(d.min), cfloat(d.max))
		}
		p[d.name] = x
	case paramString:
		p[d.name] = value
	}
	return nil
}

// jsonValue prints a value as KataGo's JSON library does (a float always with a point
// or an exponent).
func jsonValue(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return s
	case string:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return ""
}

// text prints a value as kata-get-param does: special float parameters with six
// significant digits, strings as they are.
func (d *paramDef) text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		if d.special {
			return cfloat(v)
		}
	}
	return jsonValue(v)
}

// applySearch puts the parameters that shape a genmove's search into req.
func (p params) applySearch(req *client.PositionRequest) {
	if v, ok := p["maxVisits"].(int64); ok {
		req.MaxVisits = int(min(v, math.MaxInt32))
	}
	if v, ok := p["maxTime"].(float64); ok && (req.MaxTime == 0 || v < req.MaxTime) {
		req.MaxTime = v
	}
	p.settings(req, "maxPlayouts", "playoutDoublingAdvantage", "humanSLProfile", "wideRootNoise")
}

// applyAnalysis puts the parameters that shape an analysis (which runs until the next
// command, so without genmove's limits) into req.
func (p params) applyAnalysis(req *client.PositionRequest) {
	p.settings(req, "playoutDoublingAdvantage", "humanSLProfile")
	if v, ok := p["analysisWideRootNoise"]; ok {
		p.setting(req, "wideRootNoise", v)
	}
}

func (p params) settings(req *client.PositionRequest, names ...string) {
	for _, n := range names {
		if v, ok := p[n]; ok {
			p.setting(req, n, v)
		}
	}
}

func (p params) setting(req *client.PositionRequest, name string, v any) {
	if req.OverrideSettings == nil {
		req.OverrideSettings = map[string]any{}
	}
	req.OverrideSettings[name] = v
}

func (s *session) listParams(context.Context, *command) (string, error) {
	var names []string
	for _, special := range []bool{true, false} {
		for _, d := range paramDefs {
			if d.special == special {
				names = append(names, d.name)
			}
		}
	}
	return strings.Join(names, " "), nil
}

func (s *session) getParam(_ context.Context, c *command) (string, error) {
	if len(c.args) != 1 {
		return "", fail("Expected one arguments for kata-get-param but got '%s'", strings.Join(c.args, " "))
	}
	d := findParam(c.args[0])
	if d == nil {
		return "", fail("Invalid parameter: %s", c.args[0])
	}
	return d.text(s.params.get(d)), nil
}

// getParams answers a JSON object of every parameter, keys sorted as KataGo's JSON
// library sorts them, special parameters as strings.
func (s *session) getParams(context.Context, *command) (string, error) {
	defs := slices.Clone(paramDefs)
	slices.SortFunc(defs, func(a, b paramDef) int { return strings.Compare(a.name, b.name) })
	var b strings.Builder
	b.WriteByte('{')
	for i := range defs {
		if i > 0 {
			b.WriteByte(',')
		}
		d := &defs[i]
		b.WriteString(jsonValue(d.name))
		b.WriteByte(':')
		v := s.params.get(d)
		if d.special {
			b.WriteString(jsonValue(d.text(v)))
		} else {
			b.WriteString(jsonValue(v))
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

// setParam is kata-set-param KEY [VALUE] and kata-set-params {JSON}. Every setting is
// checked before any is kept, as KataGo does.
func (s *session) setParam(_ context.Context, c *command) (string, error) {
	settings := map[string]string{}
	if c.name == "kata-set-param" {
		switch len(c.args) {
		case 1:
			settings[c.args[0]] = ""
		case 2:
			settings[c.args[0]] = c.args[1]
		default:
			return "", fail("Expected one or two arguments for kata-set-param but got '%s'", strings.Join(c.args, " "))
		}
	} else {
		if len(c.args) < 1 {
			return "", fail("Expected argument for kata-set-param but got '%s'", strings.Join(c.args, " "))
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(strings.Join(c.args, " ")), &obj); err != nil || obj == nil {
			return "", fail("Could not set params: Argument to kata-set-params must be a json object")
		}
		for k, raw := range obj {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				settings[k] = str
			} else {
				settings[k] = string(raw)
			}
		}
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	next := params{}
	for k, v := range s.params {
		next[k] = v
	}
	for _, k := range keys {
		d := findParam(k)
		if d == nil {
			return "", fail("Could not set params: Unrecognized or non-overridable parameter in kata-set-params: %s", k)
		}
		if err := next.set(d, settings[k]); err != nil {
			return "", err
		}
	}
	s.params = next
	return "", nil
}
