package enginetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago/transcript"
)

// trickyInputs are lines KataGo rejects or warns about, beyond those recorded in 04.
var trickyInputs = []string{
	`{"id":"x","action":"bogus"}`,
	`[1,2]`,
	`"just a string"`,
	`{"a":1 "b"}`,
	`{"id":5}`,
	`{}`,
	`{"id":"t","action":"terminate"}`,
	`{"id":"t2","action":"terminate","terminateId":"zz","turnNumbers":"x"}`,
	`{"id":"a1","moves":[],"rules":"chinese","komi":7.5,"boardXSize":19,"boardYSize":19,"analyzeTurns":"x"}`,
	`{"id":"a2","moves":[],"rules":{"ko":"SIMPLE","foo":1},"boardXSize":19,"boardYSize":19}`,
	`{"id":"a3","moves":[],"rules":5,"boardXSize":19,"boardYSize":19}`,
	`{"id":"a4","moves":[["B","D4"]],"rules":"chinese","boardXSize":9,"boardYSize":9,"includePolicy":"yes"}`,
	`{"id":"a5","moves":[["B","pass"]],"initialStones":[["B","pass"]],"rules":"chinese","boardXSize":9,"boardYSize":9}`,
	`{"id":"a6","moves":[],"rules":"chinese","komi":7.25,"boardXSize":9,"boardYSize":9}`,
	`{"id":"a7","moves":[],"rules":"chinese","komi":"7","boardXSize":9,"boardYSize":9}`,
	`{"id":"a8","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"whiteHandicapBonus":"x"}`,
	`{"id":"a9","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"priority":1,"priorities":[1],"analyzeTurns":[0]}`,
	`{"id":"b1","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"avoidMoves":[{"player":"B","moves":["Z9"],"untilDepth":1}]}`,
	`{"id":"b2","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"maxVisits":0}`,
	`{"id":"b3","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"maxVisits":1.5}`,
	`{"id":"b4","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"analysisPVLen":0}`,
	`{"id":"b5","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"rootPolicyTemperature":0}`,
	`{"id":"b6","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"reportDuringSearchEvery":0}`,
	`{"id":"b7","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"priorities":[1,2],"analyzeTurns":[0]}`,
	`{"id":"b8","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"priorities":[1]}`,
	`{"id":"b9","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"initialPlayer":"X"}`,
	`{"id":"c1","moves":"D4","rules":"chinese","boardXSize":9,"boardYSize":9}`,
	`{"id":"c2","moves":[["B","D4","x"]],"rules":"chinese","boardXSize":9,"boardYSize":9}`,
	`{"id":"c3","moves":[],"rules":"chinese","boardXSize":9}`,
	`{"id":"c4","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"allowMoves":[],"avoidMoves":[]}`,
	`{"id":"c5","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"avoidMoves":[{"player":"B","moves":["D4"],"untilDepth":0}]}`,
	`{"id":"c6","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"avoidMoves":[{"player":"B","moves":["D4"]}]}`,
	`{"id":"c7","moves":[["B","D4"],["W","D4"]],"rules":"chinese","boardXSize":9,"boardYSize":9,"bogus1":1,"bogus2":2}`,
	`{"id":"c8","moves":[],"boardXSize":1,"boardYSize":9,"rules":"chinese"}`,
	`{"id":"c9","moves":[],"boardXSize":9.0,"boardYSize":9,"rules":"chinese"}`,
	`{"id":"d1","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"overrideSettings":{"bogusParam":1,"another":"x"},"maxVisits":3}`,
	`{"id":"d2","moves":[],"rules":"Japanese","boardXSize":9,"boardYSize":9,"maxVisits":3}`,
	`{"id":"d3","moves":[],"rules":"koSIMPLEscoreTERRITORYtaxSEKIsui0","boardXSize":9,"boardYSize":9,"maxVisits":3}`,
	`{"id":"d4","moves":[["W","C3"],["W","D4"]],"rules":"chinese","boardXSize":9,"boardYSize":9,"maxVisits":3}`,
	`{"id":"d5","moves":[],"rules":"chinese","boardXSize":9,"boardYSize":9,"maxVisits":3,"includeOwnership":true,"includePolicy":true,"includePVVisits":true}`,
}

// TestFakeAgreesWithKataGo sends the same lines to the fake and to the real KataGo and
// compares what comes back: errors and warnings field for field and in order, results
// by shape. It runs when TESUJI_KATAGO and TESUJI_MODEL name a KataGo binary and a network.
func TestFakeAgreesWithKataGo(t *testing.T) {
	t.Parallel()
	bin, model := os.Getenv("TESUJI_KATAGO"), os.Getenv("TESUJI_MODEL")
	if bin == "" || model == "" {
		t.Skip("set TESUJI_KATAGO (the katago binary) and TESUJI_MODEL (a network file) to compare the fake with KataGo")
	}
	inputs := append(transcript.Select(transcript.Load(t, "04"), "in"), trickyInputs...)
	run := func(binary string) []string {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "analysis.cfg")
		if err := os.WriteFile(cfg, []byte(transcriptConfig+"logDir = "+dir+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, "analysis", "-config", cfg, "-model", model)
		cmd.Stdin = strings.NewReader(strings.Join(inputs, "\n") + "\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", binary, err)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	real, fake := run(bin), run(Path(t))
	split := func(lines []string) (msgs []string, results []string) {
		for _, l := range lines {
			if strings.Contains(l, `"error":`) || strings.Contains(l, `"warning":`) {
				msgs = append(msgs, l)
			} else {
				results = append(results, l)
			}
		}
		return msgs, results
	}
	realMsgs, realResults := split(real)
	fakeMsgs, fakeResults := split(fake)
	if diff := cmp.Diff(messages(t, realMsgs), messages(t, fakeMsgs)); diff != "" {
		t.Errorf("errors and warnings (-katago +fake):\n%s", diff)
	}
	if diff := cmp.Diff(shapes(t, realResults), shapes(t, fakeResults)); diff != "" {
		t.Errorf("results (-katago +fake):\n%s", diff)
	}
	if len(realMsgs) < len(trickyInputs) || len(realResults) == 0 {
		t.Errorf("KataGo answered with %d errors and warnings and %d results: the comparison compared little", len(realMsgs), len(realResults))
	}
	t.Logf("compared %d errors and warnings and %d results", len(realMsgs), len(realResults))
}
