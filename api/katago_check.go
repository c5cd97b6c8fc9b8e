package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/katago"
)

// maxKataGoPriority bounds priority and priorities, as KataGo's analysis engine does.
const maxKataGoPriority = 1<<62 - 1

// checkQuery returns the field and KataGo's error message for what KataGo would refuse in
// q, decoded from a query line whose fields raw holds; "" when q is acceptable. KataGo
// answers such a query with one error line and analyzes none of its turns, so the whole
// query is checked before any turn starts.
func checkQuery(raw map[string]json.RawMessage, q *katago.Query) (field, msg string) {
	// null is no value KataGo takes for any field; it would decode as if the field were
	// absent.
	for _, f := range slices.Sorted(maps.Keys(fieldErrors)) {
		if v, ok := raw[f]; ok && string(v) == "null" {
			return f, fieldErrors[f]
		}
	}
	// KataGo needs the board's size, each way present and then each from 2 to 19, and then
	// the moves, before anything else; a size it is not given is no default.
	sizes := []struct {
		field string
		size  int
	}{{"boardXSize", q.BoardXSize}, {"boardYSize", q.BoardYSize}}
	for _, b := range sizes {
		if _, ok := raw[b.field]; !ok {
			return b.field, fieldErrors[b.field]
		}
	}
	for _, b := range sizes {
		if b.size < 2 || b.size > game.MaxBoardSize {
			return b.field, fieldErrors[b.field]
		}
	}
	if _, ok := raw["moves"]; !ok {
		return "moves", "Must specify an array of [player,location] pairs"
	}
	// A move decodes into a pair whatever its length.
	for _, f := range []string{"initialStones", "moves"} {
		var moves []json.RawMessage
		_ = json.Unmarshal(raw[f], &moves)
		for _, m := range moves {
			var pair []json.RawMessage
			if json.Unmarshal(m, &pair) != nil || len(pair) != 2 {
				return f, movesError
			}
		}
	}
	for _, f := range []string{"avoidMoves", "allowMoves"} {
		var entries []map[string]json.RawMessage
		_ = json.Unmarshal(raw[f], &entries)
		for _, e := range entries {
			if e["player"] == nil || e["moves"] == nil || e["untilDepth"] == nil {
				return f, moveRestrictError
			}
		}
	}
	switch {
	case q.MaxVisits != nil && (*q.MaxVisits < 1 || int64(*q.MaxVisits) > 1<<50):
		return "maxVisits", fieldErrors["maxVisits"]
	case q.AnalysisPVLen != nil && (*q.AnalysisPVLen < 1 || *q.AnalysisPVLen > 1000):
		return "analysisPVLen", fieldErrors["analysisPVLen"]
	case outside(q.RootFpuReductionMax, 0, 2):
		return "rootFpuReductionMax", fieldErrors["rootFpuReductionMax"]
	case outside(q.RootPolicyTemperature, 0.01, 100):
		return "rootPolicyTemperature", fieldErrors["rootPolicyTemperature"]
	case outside(q.ReportDuringSearchEvery, 0.001, 1e6):
		return "reportDuringSearchEvery", searchSecondsError
	case outside(q.FirstReportDuringSearchAfter, 0.001, 1e6):
		return "firstReportDuringSearchAfter", searchSecondsError
	case q.Priority != nil && (*q.Priority < -maxKataGoPriority || *q.Priority > maxKataGoPriority):
		return "priority", fieldErrors["priority"]
	}
	for _, turn := range q.AnalyzeTurns {
		if turn < 0 || turn > len(q.Moves) {
			return "analyzeTurns", fmt.Sprintf("Invalid turn number: %d", turn)
		}
	}
	_, hasTurns := raw["analyzeTurns"]
	_, hasPriorities := raw["priorities"]
	if hasPriorities {
		switch {
		case !hasTurns:
			return "priorities", "Can only specify when also specifying analyzeTurns"
		case len(q.Priorities) != len(q.AnalyzeTurns):
			return "priorities", "Must be of matching length to analyzeTurns"
		}
		for _, p := range q.Priorities {
			if p < -maxKataGoPriority || p > maxKataGoPriority {
				return "priorities", fmt.Sprintf("Invalid priority: %d", p)
			}
		}
	}
	if _, ok := raw["priority"]; ok && hasPriorities {
		return "priority", "Cannot specify both priority and priorities"
	}
	return "", ""
}

// Messages of KataGo's error lines for a query field of the wrong type or out of range,
// by field (analysis.cpp).
const (
	movesError         = `Must be an array of pairs of the form: ["b" or "w", GTP board vertex]`
	moveRestrictError  = "Must be a list of dicts with subfields 'player', 'moves', 'untilDepth'"
	booleanError       = "Must be a boolean"
	searchSecondsError = "Must be number of seconds from 0.001 to 1000000.0"
)

var fieldErrors = map[string]string{
	"moves":                        movesError,
	"initialStones":                movesError,
	"initialPlayer":                `Must be "b" or "w"`,
	"analyzeTurns":                 "Must specify an array of integers indicating turns to analyze",
	"priorities":                   "Must specify an array of integers indicating priorities",
	"rules":                        `Must specify rules string, such as "chinese" or "tromp-taylor", or a JSON object with detailed rules parameters.`,
	"komi":                         "Must be a integer or half-integer from -400.0 to 400.0",
	"whiteHandicapBonus":           "Must be a string",
	"boardXSize":                   fmt.Sprintf("Must provide an integer from 2 to %d", game.MaxBoardSize),
	"boardYSize":                   fmt.Sprintf("Must provide an integer from 2 to %d", game.MaxBoardSize),
	"overrideSettings":             "Must be an object",
	"maxVisits":                    "Must be an integer from 1 to 2^50",
	"analysisPVLen":                "Must be an integer from 1 to 1000",
	"rootFpuReductionMax":          "Must be a number from 0.0 to 2.0",
	"rootPolicyTemperature":        "Must be a number from 0.01 to 100.0",
	"includeOwnership":             booleanError,
	"includeOwnershipStdev":        booleanError,
	"includeMovesOwnership":        booleanError,
	"includeMovesOwnershipStdev":   booleanError,
	"includePolicy":                booleanError,
	"includePVVisits":              booleanError,
	"includeNoResultValue":         booleanError,
	"reportDuringSearchEvery":      searchSecondsError,
	"firstReportDuringSearchAfter": searchSecondsError,
	"priority":                     "Must be a number between -2^62 and 2^62",
	"avoidMoves":                   moveRestrictError,
	"allowMoves":                   moveRestrictError,
}

// Errors inside an entry of avoidMoves or allowMoves, which KataGo names by the entry's
// own field.
var restrictionFieldErrors = map[string]string{
	"player":     `Must be "b" or "w"`,
	"moves":      "Must be an array of GTP board vertices",
	"untilDepth": "Must be a positive integer",
}

// outside reports whether x is set and outside lo..hi.
func outside(x *float64, lo, hi float64) bool { return x != nil && (*x < lo || *x > hi) }

// parseError returns the field and KataGo's message for err, the error of decoding a
// query line into katago.Query: a field of the wrong type.
func parseError(err error) (field, msg string) {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return "", "could not parse query"
	}
	field, sub, _ := strings.Cut(te.Field, ".")
	if m, ok := restrictionFieldErrors[sub]; ok && (field == "avoidMoves" || field == "allowMoves") {
		return sub, m
	}
	if m, ok := fieldErrors[field]; ok {
		return field, m
	}
	return field, "Must be " + jsonKind(te.Type)
}

// jsonKind names the JSON value that decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
