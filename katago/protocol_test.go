package katago

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago/transcript"
)

// protocols says which protocol each recorded session speaks. A new transcript must be
// classified here, so none is silently left out of the tests below.
var protocols = map[string]string{
	"01-basic-multi-turn":    "analysis",
	"02-partial-reports":     "analysis",
	"03-ownership-policy":    "analysis",
	"04-errors":              "analysis",
	"05-actions":             "analysis",
	"06-handicap-pass-small": "analysis",
	// 07 is KataGo's GTP engine driven the way Lizzie drives it: text lines, not the
	// analysis engine's JSON, so the analysis types do not apply to it.
	"07-gtp-lizzie-session": "gtp",
}

func TestTranscriptsAreClassified(t *testing.T) {
	t.Parallel()
	for _, name := range transcript.Names(t) {
		if _, ok := protocols[name]; !ok {
			t.Errorf("transcript %s is not classified in protocols", name)
		}
	}
}

// generic decodes a JSON document into maps, slices and numbers, the form two encodings
// of the same values share.
func generic(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// TestResponseRoundTrip decodes every line KataGo printed with Response, each key known
// to the types, and checks that re-encoding gives back the same values.
func TestResponseRoundTrip(t *testing.T) {
	t.Parallel()
	roundTrip[Response](t, "out")
}

// TestQueryRoundTrip decodes every query written to KataGo and checks that re-encoding
// keeps every key and value, unknown keys included (in Extra).
func TestQueryRoundTrip(t *testing.T) {
	t.Parallel()
	roundTrip[Query](t, "in")
}

// roundTrip decodes the lines of one direction of every analysis transcript into a T,
// refusing keys T does not know, and compares their re-encoding with the line.
func roundTrip[T any](t *testing.T, dir string) {
	for _, name := range transcript.Names(t) {
		if protocols[name] != "analysis" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			lines := transcript.Select(transcript.Load(t, name), dir)
			if len(lines) == 0 {
				t.Fatalf("no %s lines", dir)
			}
			for i, line := range lines {
				if !json.Valid([]byte(line)) || (dir == "in" && !strings.Contains(line, `"id"`)) {
					continue // 04's line that is not JSON, and its query without an id (always written)
				}
				d := json.NewDecoder(strings.NewReader(line))
				d.DisallowUnknownFields()
				var v T
				if err := d.Decode(&v); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				got, err := json.Marshal(&v)
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if diff := cmp.Diff(generic(t, []byte(line)), generic(t, got)); diff != "" {
					t.Errorf("line %d re-encodes differently (-transcript +re-encoded):\n%s", i, diff)
				}
			}
		})
	}
}

func TestQueryEncoding(t *testing.T) {
	t.Parallel()
	komi := 7.5
	visits := 30
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{
			name: "moves always written for an analysis query",
			q:    Query{ID: "a", Rules: RulesString("chinese"), BoardXSize: 19, BoardYSize: 19},
			want: `{"id":"a","moves":[],"rules":"chinese","boardXSize":19,"boardYSize":19}`,
		},
		{
			name: "action without moves",
			q:    Query{ID: "t", Action: "terminate", TerminateID: "q1", TurnNumbers: []int{1, 2}},
			want: `{"action":"terminate","id":"t","terminateId":"q1","turnNumbers":[1,2]}`,
		},
		{
			name: "empty analyzeTurns kept, extra merged",
			q: Query{
				ID: "b", Moves: []Move{{"B", "Q16"}}, AnalyzeTurns: []int{}, Komi: &komi, MaxVisits: &visits,
				Rules: json.RawMessage(`{"ko":"SIMPLE"}`),
				Extra: map[string]json.RawMessage{"frobnicate": json.RawMessage(`[1,2]`), "zzz": json.RawMessage(`true`)},
			},
			want: `{"analyzeTurns":[],"frobnicate":[1,2],"id":"b","komi":7.5,"maxVisits":30,"moves":[["B","Q16"]],"rules":{"ko":"SIMPLE"},"zzz":true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := json.Marshal(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(generic(t, []byte(tt.want)), generic(t, got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var back Query
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if back.Moves == nil && tt.q.Action == "" {
				t.Error("moves lost")
			}
			if diff := cmp.Diff(tt.q.Extra, back.Extra); diff != "" {
				t.Errorf("extra (-sent +decoded):\n%s", diff)
			}
		})
	}
}

func TestQueryEncodingErrors(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tests := []struct {
		name string
		q    Query
	}{
		{"invalid raw extra", Query{ID: "a", Extra: map[string]json.RawMessage{"x": json.RawMessage(`{`)}}},
		{"extra shadows a field", Query{ID: "a", Extra: map[string]json.RawMessage{"komi": json.RawMessage(`1`)}}},
		{"NaN komi", Query{ID: "a", Komi: &nan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if b, err := json.Marshal(tt.q); err == nil {
				t.Fatalf("encoded without error: %s", b)
			}
		})
	}
}

func TestQueryDecodeErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"id":3}`, `{"moves":"Q16"}`, `{"komi":"7.5"}`, `[]`, `{"id":"a"`} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			var q Query
			if err := json.Unmarshal([]byte(in), &q); err == nil {
				t.Fatalf("decoded %s without error: %+v", in, q)
			}
		})
	}
}

func TestQueryTurns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    Query
		want []int
	}{
		{"absent means the last turn", Query{Moves: []Move{{"B", "D4"}, {"W", "Q16"}}}, []int{2}},
		{"no moves", Query{}, []int{0}},
		{"sorted without duplicates", Query{AnalyzeTurns: []int{3, 1, 3, 0}}, []int{0, 1, 3}},
		{"empty means none", Query{AnalyzeTurns: []int{}}, []int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.q.Turns()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeekID(t *testing.T) {
	t.Parallel()
	line := transcript.Select(transcript.Load(t, "01"), "out")[0]
	tests := []struct {
		name, line, want string
	}{
		{"whole line", line, "g1"},
		{"cut short after the id", line[:len(line)/2], "g1"},
		{"id after other keys", `{"error":"x","field":"moves","id":"q7"}`, "q7"},
		{"no id", `{"error":"Request must have a string \"id\" field"}`, ""},
		{"id not a string", `{"id":3}`, ""},
		{"not an object", `["id","x"]`, ""},
		{"not json", `this is not json`, ""},
		{"cut inside an array", `{"id":"q1","moveInfos":[`, "q1"},
		{"cut after the id", `{"error":"x","field":"y","id":"a"`, "a"},
		{"cut before the id's value", `{"moveInfos":[{"move":"D4"}],"id"`, ""},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PeekID([]byte(tt.line)); got != tt.want {
				t.Errorf("PeekID = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFinalAndPartial(t *testing.T) {
	t.Parallel()
	turn, yes, no := 3, true, false
	tests := []struct {
		name           string
		r              Response
		final, partial bool
	}{
		{"final", Response{ID: "a", TurnNumber: &turn, IsDuringSearch: &no}, true, false},
		{"partial", Response{ID: "a", TurnNumber: &turn, IsDuringSearch: &yes}, false, true},
		{"no results", Response{ID: "a", TurnNumber: &turn, IsDuringSearch: &no, NoResults: true}, true, false},
		{"error", Response{ID: "a", Error: "x", Field: "moves"}, false, false},
		{"warning", Response{ID: "a", Warning: "x", Field: "frobnicate"}, false, false},
		{"action", Response{ID: "a", Action: "terminate", TurnNumber: &turn}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.r.Final(); got != tt.final {
				t.Errorf("Final = %v, want %v", got, tt.final)
			}
			if got := tt.r.Partial(); got != tt.partial {
				t.Errorf("Partial = %v, want %v", got, tt.partial)
			}
		})
	}
}

// FuzzQuery checks that whatever Query decodes re-encodes to the same values, unknown
// keys included.
func FuzzQuery(f *testing.F) {
	for _, name := range []string{"01", "04", "05", "06"} {
		for _, l := range transcript.Select(transcript.Load(f, name), "in") {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		var q Query
		if json.Unmarshal([]byte(s), &q) != nil {
			return
		}
		b, err := json.Marshal(q)
		if err != nil {
			return // a NaN cannot come from JSON; an Extra key never shadows a field
		}
		var back Query
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", b, err)
		}
		b2, err := json.Marshal(back)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(generic(t, b), generic(t, b2)); diff != "" {
			t.Errorf("not stable (-first +second):\n%s", diff)
		}
	})
}
