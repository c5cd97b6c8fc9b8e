package api

import (
	"encoding/json"
	"fmt"

	"github.com/tesuji/tesuji/katago"
)

// maxKataGoPriority bounds priority and priorities, as KataGo's analysis engine does.
const maxKataGoPriority = 1<<62 - 1

// checkQuery returns the field and KataGo's error message for what KataGo would refuse in
// q, decoded from a query line whose fields raw holds; "" when q is acceptable. KataGo
// answers such a query with one error line and analyzes none of its turns, so the whole
// query is checked before any turn starts.
func checkQuery(raw map[string]json.RawMessage, q *katago.Query) (field, msg string) {
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
