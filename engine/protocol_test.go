package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/engine/internal/transcript"
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

// TestResponseRoundTrip decodes every line KataGo printed with Response and checks that
// re-encoding gives back the very same bytes: no key, value or number format is lost.
func TestResponseRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range transcript.Names(t) {
		if protocols[name] != "analysis" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			outs := transcript.Select(transcript.Load(t, name), "out")
			if len(outs) == 0 {
				t.Fatal("no out lines")
			}
			for i, line := range outs {
				var r Response
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				// MarshalJSON itself, not json.Marshal, which would escape '<' in "<omitted>".
				got, err := r.MarshalJSON()
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if string(got) != line {
					t.Errorf("line %d re-encodes differently:\n%s", i, diffAt(line, string(got)))
				}
				if len(r.Extra) != 0 {
					t.Errorf("line %d: keys unknown to Response: %v", i, slices.Sorted(mapsKeys(r.Extra)))
				}
				checkNoExtra(t, i, &r)
			}
		})
	}
}

func checkNoExtra(t *testing.T, i int, r *Response) {
	t.Helper()
	for j, m := range r.MoveInfos {
		if len(m.Extra) != 0 {
			t.Errorf("line %d moveInfo %d: keys unknown to MoveInfo: %v", i, j, slices.Sorted(mapsKeys(m.Extra)))
		}
	}
	if r.RootInfo != nil && len(r.RootInfo.Extra) != 0 {
		t.Errorf("line %d: keys unknown to RootInfo: %v", i, slices.Sorted(mapsKeys(r.RootInfo.Extra)))
	}
	for _, m := range r.Models {
		if len(m.Extra) != 0 {
			t.Errorf("line %d: keys unknown to ModelInfo: %v", i, slices.Sorted(mapsKeys(m.Extra)))
		}
	}
}

func mapsKeys(m map[string]json.RawMessage) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func diffAt(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-80)
	return "want …" + want[lo:min(len(want), i+80)] + "\n got …" + got[lo:min(len(got), i+80)]
}

// TestQueryRoundTrip decodes every query written to KataGo and checks that re-encoding
// keeps every key and value.
func TestQueryRoundTrip(t *testing.T) {
	t.Parallel()
	for _, name := range transcript.Names(t) {
		if protocols[name] != "analysis" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for i, line := range transcript.Select(transcript.Load(t, name), "in") {
				if !json.Valid([]byte(line)) {
					var q Query
					if err := json.Unmarshal([]byte(line), &q); err == nil {
						t.Errorf("line %d: %q decoded without error", i, line)
					}
					continue
				}
				var q Query
				if err := json.Unmarshal([]byte(line), &q); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				got, err := json.Marshal(q)
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				var want, have map[string]any
				mustUnmarshal(t, []byte(line), &want)
				mustUnmarshal(t, got, &have)
				if _, ok := want["id"]; !ok {
					delete(have, "id") // an absent id encodes as ""
				}
				if diff := cmp.Diff(want, have); diff != "" {
					t.Errorf("line %d changed on re-encoding (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
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
			want: `{"boardXSize":19,"boardYSize":19,"id":"a","moves":[],"rules":"chinese"}`,
		},
		{
			name: "action without moves",
			q:    Query{ID: "t", Action: "terminate", TerminateID: "q1", TurnNumbers: []int{1, 2}},
			want: `{"action":"terminate","id":"t","terminateId":"q1","turnNumbers":[1,2]}`,
		},
		{
			name: "empty analyzeTurns kept, extra merged in order, raw values compacted",
			q: Query{
				ID: "b", Moves: []Move{{"B", "Q16"}}, AnalyzeTurns: []int{}, Komi: &komi, MaxVisits: &visits,
				Rules: json.RawMessage("{\n \"ko\": \"SIMPLE\"\n}"),
				Extra: map[string]json.RawMessage{"frobnicate": json.RawMessage(" [1, 2] "), "zzz": json.RawMessage(`true`), "komi": json.RawMessage(`1`)},
			},
			want: `{"analyzeTurns":[],"frobnicate":[1,2],"id":"b","komi":7.5,"maxVisits":30,"moves":[["B","Q16"]],"rules":{"ko":"SIMPLE"},"zzz":true}`,
		},
		{
			name: "strings escaped like KataGo",
			q:    Query{ID: "é\"\\\n\x01/<", Action: "query_version"},
			want: `{"action":"query_version","id":"é\"\\\n\u0001/<"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.q.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			var back Query
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestQueryEncodingRejectsInvalidRaw(t *testing.T) {
	t.Parallel()
	q := Query{ID: "a", Extra: map[string]json.RawMessage{"x": json.RawMessage(`{`)}}
	if _, err := json.Marshal(q); err == nil {
		t.Fatal("invalid raw value encoded without error")
	}
	nan := math.NaN()
	q = Query{ID: "a", Komi: &nan}
	if _, err := json.Marshal(q); err == nil {
		t.Fatal("NaN komi encoded without error")
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

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"not json", "this is not json"},
		{"truncated", `{"id":"a"`},
		{"trailing data", `{"id":"a"} x`},
		{"float into int", `{"turnNumber":1.5}`},
		{"string into float", `{"moveInfos":[{"winrate":"x"}]}`},
		{"int overflow", `{"turnNumber":99999999999999999999}`},
		{"float overflow", `{"ownership":[1e400]}`},
		{"bad escape", `{"id":"\x"}`},
		{"control character", "{\"id\":\"a\x01\"}"},
		{"leading zero", `{"turnNumber":01}`},
		{"bare minus", `{"turnNumber":-}`},
		{"missing value", `{"id":}`},
		{"trailing comma", `{"id":"a",}`},
		{"array trailing comma", `{"policy":[1,]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var r Response
			if err := r.UnmarshalJSON([]byte(tt.in)); err == nil {
				t.Fatalf("%s decoded without error", tt.in)
			}
			var ref struct {
				TurnNumber *int      `json:"turnNumber"`
				Ownership  []float64 `json:"ownership"`
				MoveInfos  []struct {
					Winrate float64 `json:"winrate"`
				} `json:"moveInfos"`
			}
			if err := json.Unmarshal([]byte(tt.in), &ref); err == nil {
				t.Errorf("encoding/json accepts %s, so should the decoder", tt.in)
			}
		})
	}
	var q Query
	if err := json.Unmarshal([]byte(`{"moves":[["B","Q16","x"]]}`), &q); err == nil {
		t.Error("a move of three elements decoded without error")
	}
	if err := json.Unmarshal([]byte(`{"moves":[["B"]]}`), &q); err == nil {
		t.Error("a move of one element decoded without error")
	}
}

func TestDecodeNullAndUnknown(t *testing.T) {
	t.Parallel()
	in := `{"id":null,"turnNumber":null,"rootInfo":null,"moveInfos":[{"move":"D4","pv":null,"newField":{"a":[1,"x"]}}],"Id":"case matters","future":[1,2.50]}`
	var r Response
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	want := Response{
		MoveInfos: []MoveInfo{{Move: "D4", Extra: map[string]json.RawMessage{"newField": json.RawMessage(`{"a":[1,"x"]}`)}}},
		Extra:     map[string]json.RawMessage{"Id": json.RawMessage(`"case matters"`), "future": json.RawMessage(`[1,2.50]`)},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"Id":"case matters","future":[1,2.50],"moveInfos":[{"lcb":0.0,"move":"D4","newField":{"a":[1,"x"]},"order":0,"prior":0.0,"scoreLead":0.0,"scoreMean":0.0,"scoreSelfplay":0.0,"scoreStdev":0.0,"utility":0.0,"utilityLcb":0.0,"visits":0,"winrate":0.0}]}`
	if string(got) != wantJSON {
		t.Errorf("got  %s\nwant %s", got, wantJSON)
	}
}

func TestDecodeEscapedStrings(t *testing.T) {
	t.Parallel()
	in := `{"id":"a\"b\u00e9\ud83d\ude00","warning":"caf\u00e9 ok","field":"` + "\xff" + `"}`
	var r Response
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	var ref struct {
		ID      string `json:"id"`
		Warning string `json:"warning"`
		Field   string `json:"field"`
	}
	if err := json.Unmarshal([]byte(in), &ref); err != nil {
		t.Fatal(err)
	}
	if r.ID != ref.ID || r.Warning != ref.Warning || r.Field != ref.Field {
		t.Errorf("got %q %q %q, encoding/json gives %q %q %q", r.ID, r.Warning, r.Field, ref.ID, ref.Warning, ref.Field)
	}
}

// FuzzResponse checks the hand-written decoder against encoding/json: it accepts only valid
// JSON, and whatever it decodes re-encodes to the same values, unknown keys included.
func FuzzResponse(f *testing.F) {
	for _, name := range []string{"01", "03", "04", "05", "06"} {
		for _, line := range transcript.Select(transcript.Load(f, name), "out") {
			f.Add([]byte(line))
		}
	}
	f.Add([]byte(`{"id":"x","moveInfos":[{"move":"A1","pv":[],"zz":null}],"new":{"a":[]}}`))
	f.Add([]byte(`{"id":"\u00e9\ud800","turnNumber":-0,"isDuringSearch":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Response
		if err := r.UnmarshalJSON(data); err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("invalid JSON %q decoded without error", data)
		}
		out, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("re-encoding %q: %v", data, err)
		}
		var again Response
		if err := again.UnmarshalJSON(out); err != nil {
			t.Fatalf("decoding re-encoded %q: %v", out, err)
		}
		if diff := cmp.Diff(r, again); diff != "" {
			t.Fatalf("re-encoding changed the response (-first +second):\n%s", diff)
		}
		var orig, enc map[string]any
		if err := json.Unmarshal(data, &orig); err != nil {
			return // a JSON array or scalar fails both decoders anyway
		}
		if err := json.Unmarshal(out, &enc); err != nil {
			t.Fatalf("encoding/json rejects %q: %v", out, err)
		}
		compareKept(t, "", orig, enc)
	})
}

// compareKept checks that every value of want survives in got, except null, "" and false:
// the types write a known string or flag only when it is set.
func compareKept(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Fatalf("%s: got %T, want an object", path, got)
		}
		for k, v := range w {
			if v == nil || v == "" || v == false {
				continue
			}
			gv, ok := g[k]
			if !ok {
				t.Fatalf("%s.%s lost", path, k)
			}
			compareKept(t, path+"."+k, v, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: got %v, want %v", path, got, want)
		}
		for i := range w {
			compareKept(t, path, w[i], g[i])
		}
	default:
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s: got %v, want %v", path, got, want)
		}
	}
}

func FuzzQuery(f *testing.F) {
	for _, name := range []string{"01", "02", "03", "04", "05", "06"} {
		for _, line := range transcript.Select(transcript.Load(f, name), "in") {
			f.Add([]byte(line))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var q Query
		if err := q.UnmarshalJSON(data); err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("invalid JSON %q decoded without error", data)
		}
		out, err := q.MarshalJSON()
		if err != nil {
			return // an overrideSettings value encoding/json cannot write back
		}
		if bytes.ContainsAny(out, "\n\r") {
			t.Fatalf("encoded query spans lines: %q", out)
		}
		var again Query
		if err := again.UnmarshalJSON(out); err != nil {
			t.Fatalf("decoding re-encoded %q: %v", out, err)
		}
		out2, err := again.MarshalJSON()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable:\n%s\n%s (%v)", out, out2, err)
		}
	})
}
