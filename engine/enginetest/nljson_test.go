package enginetest

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tesuji/tesuji/engine/internal/transcript"
)

// FuzzParseJSON checks the nlohmann-style parser against encoding/json: it accepts only
// valid documents and every valid one but for nlohmann's own refusals, and its dump reads
// back the same.
func FuzzParseJSON(f *testing.F) {
	for _, name := range []string{"01", "04", "05", "06"} {
		for _, l := range transcript.Select(transcript.Load(f, name), "in") {
			f.Add(l)
		}
	}
	f.Add(`{"a":[1e5,-0,0.5e-3,"\ud83d\ude00"],"b":{}}`)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseJSON(s)
		if i := strings.IndexByte(s, 0); i >= 0 {
			s = s[:i] // nlohmann reads a NUL byte as the end of the input
		}
		valid := json.Valid([]byte(s)) && utf8.ValidString(s)
		if err == nil && !json.Valid([]byte(s)) {
			t.Fatalf("accepted invalid JSON %q", s)
		}
		if err != nil {
			// nlohmann is stricter than RFC 8259 in two places: numbers too large for a
			// double, and \u escapes of unpaired surrogates.
			if valid && !strings.Contains(err.Error(), "out_of_range.406") && !strings.Contains(err.Error(), "surrogate") {
				t.Fatalf("rejected valid JSON %q: %v", s, err)
			}
			return
		}
		d := v.dump()
		v2, err := parseJSON(d)
		if err != nil {
			t.Fatalf("dump %q does not parse: %v", d, err)
		}
		if d2 := v2.dump(); d2 != d {
			t.Fatalf("dump is not stable: %q then %q", d, d2)
		}
	})
}
