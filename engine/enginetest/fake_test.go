package enginetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/katago/transcript"
)

// transcriptConfig is the analysis config the transcripts were recorded with.
const transcriptConfig = `reportAnalysisWinratesAs = BLACK
maxVisits = 100
numAnalysisThreads = 2
numSearchThreadsPerAnalysisThread = 1
nnMaxBatchSize = 8
nnCacheSizePowerOfTwo = 18
nnMutexPoolSizePowerOfTwo = 14
`

// fakeProc is the fake run directly, speaking the protocol over its pipes.
type fakeProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	got   []string
}

func startFake(t *testing.T, config string, env ...string) *fakeProc {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "analysis.cfg")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.bin.gz")
	if err := os.WriteFile(model, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Path(t), "analysis", "-config", cfg, "-model", model)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &fakeProc{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		defer close(f.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			f.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return f
}

func (f *fakeProc) send(lines ...string) {
	f.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(f.stdin, l+"\n"); err != nil {
			f.t.Fatal(err)
		}
	}
}

// waitFor reads lines until one satisfies pred.
func (f *fakeProc) waitFor(what string, pred func(*katago.Response) bool) {
	f.t.Helper()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-f.lines:
			if !ok {
				f.t.Fatalf("the fake ended before %s", what)
			}
			f.got = append(f.got, l)
			var r katago.Response
			if err := json.Unmarshal([]byte(l), &r); err == nil && pred(&r) {
				return
			}
		case <-timeout.C:
			f.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// finish closes stdin, as KataGo's users do to end it, and returns every line it wrote.
func (f *fakeProc) finish() []string {
	f.t.Helper()
	f.stdin.Close()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-f.lines:
			if !ok {
				if err := f.cmd.Wait(); err != nil {
					f.t.Fatalf("the fake exited with %v", err)
				}
				return f.got
			}
			f.got = append(f.got, l)
		case <-timeout.C:
			f.t.Fatal("the fake did not exit after stdin closed")
		}
	}
}

// shapes sums up lines per id: the exact text of errors, warnings and action answers, and
// the keys and turns of results.
func shapes(t *testing.T, lines []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, l := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		var r katago.Response
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Error != "" || r.Warning != "":
			cutParseError(&r)
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out[r.ID] = append(out[r.ID], canonical(t, string(b)))
		case r.Action == "query_models":
			var keys []string
			for _, mi := range r.Models {
				b, _ := json.Marshal(mi)
				keys = append(keys, "model "+strings.Join(jsonKeys(t, b), ","))
			}
			out[r.ID] = append(out[r.ID], "models: "+strings.Join(jsonKeys(t, []byte(l)), ",")+" "+strings.Join(keys, ";"))
		case r.Action != "":
			out[r.ID] = append(out[r.ID], canonical(t, l))
		case r.Partial():
			out[r.ID] = append(out[r.ID], "partial "+resultShape(t, l, &r))
		default:
			out[r.ID] = append(out[r.ID], fmt.Sprintf("final turn %d %s", *r.TurnNumber, resultShape(t, l, &r)))
		}
	}
	// Partial reports come as many as time allows; everything else must match in number.
	for id := range out {
		s := slices.Sorted(slices.Values(out[id]))
		out[id] = slices.CompactFunc(s, func(a, b string) bool { return a == b && strings.HasPrefix(a, "partial ") })
	}
	return out
}

func resultShape(t *testing.T, line string, r *katago.Response) string {
	var raw struct {
		MoveInfos []json.RawMessage `json:"moveInfos"`
		RootInfo  json.RawMessage   `json:"rootInfo"`
	}
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatal(err)
	}
	mi := map[string]bool{}
	for _, m := range raw.MoveInfos {
		for _, k := range jsonKeys(t, m) {
			if k != "isSymmetryOf" { // present only on symmetric positions
				mi[k] = true
			}
		}
	}
	root := ""
	if raw.RootInfo != nil {
		root = strings.Join(jsonKeys(t, raw.RootInfo), ",")
	}
	return fmt.Sprintf("keys=%s moveInfo=%s rootInfo=%s ownership=%d policy=%d",
		strings.Join(jsonKeys(t, []byte(line)), ","), strings.Join(slices.Sorted(mapKeysBool(mi)), ","), root, len(r.Ownership), len(r.Policy))
}

func mapKeysBool(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// canonical re-encodes a JSON line with its object keys sorted: the same values give the
// same text whatever order the keys came in.
func canonical(t *testing.T, line string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonKeys returns an object's keys, sorted.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(keys) // key order is not part of the protocol
	return keys
}

// TestFakeMatchesTranscripts feeds the fake the in lines of 01, 02, 04 and 05 and checks
// that it answers with lines of the same shape as KataGo's: the same keys, the same
// turns, one final each, and error, warning and action lines field for field.
func TestFakeMatchesTranscripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		// run feeds the in lines; the default sends them all and closes stdin.
		run func(f *fakeProc, in map[string]string) []string
	}{
		{name: "01-basic-multi-turn", env: []string{EnvSpeed + "=200"}},
		// 600 visits at 1000/s: long enough for reports every 0.25s.
		{name: "02-partial-reports", env: []string{EnvVisitsPerSec + "=1000"}},
		{name: "04-errors"},
		{
			name: "05-actions",
			env:  []string{EnvVisitsPerSec + "=1000"},
			run: func(f *fakeProc, in map[string]string) []string {
				// The same sequence as the recording: terminate "long" while it runs,
				// then terminate_all while "long2" runs.
				f.send(in["v"], in["long"])
				f.waitFor("a partial report of long", func(r *katago.Response) bool { return r.ID == "long" && r.Partial() })
				f.send(in["t1"], in["cc"], in["long2"])
				f.waitFor("the final result of long", func(r *katago.Response) bool { return r.ID == "long" && r.Final() })
				f.send(in["ta"], in["qm"])
				return f.finish()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lines := transcript.Load(t, tt.name)
			ins := transcript.Select(lines, "in")
			byID := map[string]string{}
			for _, l := range ins {
				var q struct{ ID string }
				if json.Unmarshal([]byte(l), &q) == nil {
					byID[q.ID] = l
				}
			}
			f := startFake(t, transcriptConfig, tt.env...)
			var got []string
			if tt.run != nil {
				got = tt.run(f, byID)
			} else {
				f.send(ins...)
				got = f.finish()
			}
			want := shapes(t, transcript.Select(lines, "out"))
			if diff := cmp.Diff(want, shapes(t, got)); diff != "" {
				t.Errorf("shapes differ from KataGo's (-katago +fake):\n%s", diff)
			}
		})
	}
}

// TestFakeErrors: the error and warning lines of 04 come out with KataGo's fields and
// messages, in KataGo's order.
func TestFakeErrors(t *testing.T) {
	t.Parallel()
	lines := transcript.Load(t, "04")
	f := startFake(t, transcriptConfig)
	f.send(transcript.Select(lines, "in")...)
	got := f.finish()
	if diff := cmp.Diff(messages(t, transcript.Select(lines, "out")), messages(t, got)); diff != "" {
		t.Errorf("(-katago +fake):\n%s", diff)
	}
}

// parseErrorSuffix ends KataGo's answer to a line that is not JSON; what comes before it
// is the JSON library's own text, which the fake does not reproduce.
const parseErrorSuffix = " - could not parse input line as json request: "

// messages decodes the error and warning lines among lines, in order, with the JSON
// library's part of a parse error cut off.
func messages(t *testing.T, lines []string) []katago.Response {
	t.Helper()
	var out []katago.Response
	for _, l := range lines {
		var r katago.Response
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if r.Error == "" && r.Warning == "" {
			continue
		}
		cutParseError(&r)
		out = append(out, r)
	}
	return out
}

// cutParseError replaces the JSON library's part of a parse error with a mark.
func cutParseError(r *katago.Response) {
	if i := strings.Index(r.Error, parseErrorSuffix); i >= 0 {
		r.Error = "(parse error)" + r.Error[i:]
	}
}

// TestFakeResultsMakeSense checks the invented results against the position: legal moves,
// visits that add up, orders, array lengths, the player to move, and determinism.
func TestFakeResultsMakeSense(t *testing.T) {
	t.Parallel()
	run := func(transcriptName string) map[string][]*katago.Response {
		lines := transcript.Load(t, transcriptName)
		f := startFake(t, transcriptConfig)
		f.send(transcript.Select(lines, "in")...)
		out := map[string][]*katago.Response{}
		for _, l := range f.finish() {
			r := new(katago.Response)
			if err := json.Unmarshal([]byte(l), r); err != nil {
				t.Fatal(err)
			}
			if r.Final() {
				out[r.ID] = append(out[r.ID], r)
			}
		}
		return out
	}
	for _, name := range []string{"01", "03", "06"} {
		lines := transcript.Load(t, name)
		got := run(name)
		for _, l := range transcript.Select(lines, "in") {
			var q katago.Query
			if err := json.Unmarshal([]byte(l), &q); err != nil {
				t.Fatal(err)
			}
			checkResults(t, &q, got[q.ID])
		}
		// KataGo's own currentPlayer for every turn.
		for _, l := range transcript.Select(lines, "out") {
			var want katago.Response
			if err := json.Unmarshal([]byte(l), &want); err != nil || !want.Final() {
				continue
			}
			for _, r := range got[want.ID] {
				if *r.TurnNumber == *want.TurnNumber && r.RootInfo.CurrentPlayer != want.RootInfo.CurrentPlayer {
					t.Errorf("%s turn %d: currentPlayer %s, KataGo says %s", want.ID, *r.TurnNumber, r.RootInfo.CurrentPlayer, want.RootInfo.CurrentPlayer)
				}
			}
		}
	}
	// The same position gives the same result.
	a, b := run("01"), run("01")
	key := func(rs []*katago.Response) map[int]string {
		m := map[int]string{}
		for _, r := range rs {
			line, _ := json.Marshal(r)
			m[*r.TurnNumber] = string(line)
		}
		return m
	}
	if diff := cmp.Diff(key(a["g1"]), key(b["g1"])); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
}

func checkResults(t *testing.T, q *katago.Query, results []*katago.Response) {
	t.Helper()
	turns := q.Turns()
	if len(results) != len(turns) {
		t.Errorf("%s: %d finals for turns %v", q.ID, len(results), turns)
		return
	}
	for _, r := range results {
		turn := *r.TurnNumber
		b := positionAt(t, q, turn)
		if want := b.toMove.String(); r.RootInfo.CurrentPlayer != want {
			t.Errorf("%s turn %d: currentPlayer %s, want %s", q.ID, turn, r.RootInfo.CurrentPlayer, want)
		}
		sum := 0
		for i, m := range r.MoveInfos {
			if m.Order != i {
				t.Errorf("%s turn %d: order %d at %d", q.ID, turn, m.Order, i)
			}
			if m.IsSymmetryOf == "" {
				sum += m.Visits
			}
			loc, ok := parseLoc(m.Move, b.w, b.h)
			if !ok || (loc != passLoc && !b.legal(loc, b.toMove)) {
				t.Errorf("%s turn %d: %s is not a legal move", q.ID, turn, m.Move)
			}
			if len(m.PV) == 0 || m.PV[0] != m.Move {
				t.Errorf("%s turn %d: pv %v does not start with %s", q.ID, turn, m.PV, m.Move)
			}
			if m.Winrate < 0 || m.Winrate > 1 {
				t.Errorf("%s turn %d: winrate %v", q.ID, turn, m.Winrate)
			}
			if q.IncludeMovesOwnership && len(m.Ownership) != b.w*b.h {
				t.Errorf("%s turn %d: move ownership has %d values", q.ID, turn, len(m.Ownership))
			}
			if q.IncludePVVisits && len(m.PVVisits) != len(m.PV) {
				t.Errorf("%s turn %d: %d pvVisits for %d pv moves", q.ID, turn, len(m.PVVisits), len(m.PV))
			}
		}
		if sum != r.RootInfo.Visits-1 {
			t.Errorf("%s turn %d: move visits sum to %d, root has %d", q.ID, turn, sum, r.RootInfo.Visits)
		}
		if q.IncludeOwnership && len(r.Ownership) != b.w*b.h {
			t.Errorf("%s turn %d: ownership has %d values", q.ID, turn, len(r.Ownership))
		}
		if q.IncludePolicy {
			if len(r.Policy) != b.w*b.h+1 {
				t.Errorf("%s turn %d: policy has %d values", q.ID, turn, len(r.Policy))
			}
			for loc := range b.w * b.h {
				c := b.at(loc)
				if (c != empty) != (r.Policy[loc] == -1) {
					t.Errorf("%s turn %d: policy %v at %s holding %v", q.ID, turn, r.Policy[loc], locString(loc, b.w, b.h), c)
				}
			}
		}
	}
}

// positionAt replays a query to a turn with the fake's board.
func positionAt(t *testing.T, q *katago.Query, turn int) *board {
	t.Helper()
	b := newBoard(q.BoardXSize, q.BoardYSize)
	for _, m := range q.InitialStones {
		loc, _ := parseLoc(m.Location(), b.w, b.h)
		c, _ := parsePlayer(m.Player())
		b.set(loc, c)
	}
	switch {
	case q.InitialPlayer != "":
		b.toMove, _ = parsePlayer(q.InitialPlayer)
	case len(q.Moves) > 0:
		b.toMove, _ = parsePlayer(q.Moves[0].Player())
	case len(q.InitialStones) >= 2:
		b.toMove = white
	}
	for _, m := range q.Moves[:turn] {
		loc, _ := parseLoc(m.Location(), b.w, b.h)
		c, _ := parsePlayer(m.Player())
		if !b.play(loc, c) {
			t.Fatalf("%s: illegal move %v", q.ID, m)
		}
	}
	return b
}

// TestFakePerspective: a position where Black is far ahead reads as such from BLACK, and
// the other way round from WHITE.
func TestFakePerspective(t *testing.T) {
	t.Parallel()
	q := `{"id":"p","moves":[],"initialStones":[["B","D4"],["B","Q16"],["B","D16"],["B","Q4"],["B","K10"]],"rules":"chinese","komi":0.5,"boardXSize":19,"boardYSize":19,"maxVisits":20}`
	for _, persp := range []string{"BLACK", "WHITE", "SIDETOMOVE"} {
		f := startFake(t, strings.Replace(transcriptConfig, "BLACK", persp, 1))
		f.send(q)
		var r katago.Response
		for _, l := range f.finish() {
			r = katago.Response{}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
		}
		if r.RootInfo.CurrentPlayer != "W" {
			t.Fatalf("currentPlayer %s, want W after handicap stones", r.RootInfo.CurrentPlayer)
		}
		blackAhead := persp == "BLACK"
		if (r.RootInfo.Winrate > 0.5) != blackAhead || (r.RootInfo.ScoreLead > 0) != blackAhead {
			t.Errorf("%s: winrate %v, lead %v", persp, r.RootInfo.Winrate, r.RootInfo.ScoreLead)
		}
	}
}

// TestFakeTerminate: turns never started answer noResults before the acknowledgement; the
// running one answers after it with what it found.
func TestFakeTerminate(t *testing.T) {
	t.Parallel()
	f := startFake(t, strings.Replace(transcriptConfig, "numAnalysisThreads = 2", "numAnalysisThreads = 1", 1), EnvVisitsPerSec+"=100")
	f.send(`{"id":"a","moves":[["B","D4"],["W","Q16"]],"analyzeTurns":[0,1,2],"rules":"chinese","komi":7.5,"boardXSize":19,"boardYSize":19,"reportDuringSearchEvery":0.05}`)
	f.waitFor("a partial report", func(r *katago.Response) bool { return r.Partial() })
	f.send(`{"id":"t","action":"terminate","terminateId":"a"}`)
	var kinds []string
	for _, l := range f.finish() {
		var r katago.Response
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		switch {
		case r.Action == "terminate":
			kinds = append(kinds, "ack")
		case r.NoResults:
			kinds = append(kinds, fmt.Sprintf("noResults %d", *r.TurnNumber))
		case r.Final():
			kinds = append(kinds, fmt.Sprintf("final %d", *r.TurnNumber))
		}
	}
	want := []string{"noResults 1", "noResults 2", "ack", "final 0"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestFakePriority: with one analysis thread, the higher priority query is analyzed first.
func TestFakePriority(t *testing.T) {
	t.Parallel()
	f := startFake(t, strings.Replace(transcriptConfig, "numAnalysisThreads = 2", "numAnalysisThreads = 1", 1), EnvSpeed+"=50")
	lines := transcript.Load(t, "06")
	for _, l := range transcript.Select(lines, "in") {
		if strings.Contains(l, `"prio-`) {
			f.send(strings.Replace(l, `"moves":[["B","Q16"],["W","D4"]]`, `"moves":[["B","Q16"],["W","D4"]],"analyzeTurns":[0,1,2]`, 1))
		}
	}
	var order []string
	for _, l := range f.finish() {
		var r katago.Response
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		order = append(order, r.ID)
	}
	// prio-lo came first and may have started; after that, prio-hi runs before the rest.
	if len(order) != 6 || order[len(order)-1] != "prio-lo" || order[1] != "prio-hi" {
		t.Errorf("order %v, want prio-hi before the rest of prio-lo", order)
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"this is not json", `{"a":1 "b"}`, `{1:2}`, `[1,]`, `{} x`, `1e999`, ``} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			if v, err := parseJSON(in); err == nil {
				t.Errorf("parseJSON(%q) = %s, want an error", in, v.dump())
			}
		})
	}
	v, err := parseJSON(`{"b":[1,-2,3.5,true,null,"\u00e9"],"a":{"z":1,"y":18446744073709551615}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.dump(), `{"a":{"y":18446744073709551615,"z":1},"b":[1,-2,3.5,true,null,"é"]}`; got != want {
		t.Errorf("dump %s, want %s", got, want)
	}
	if !v.get("a").get("y").isInteger() || v.get("b").a[2].isInteger() || !v.get("b").a[2].isNumber() {
		t.Error("integers and other numbers are not told apart")
	}
}

func TestFakeCommandLine(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(Path(t), "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "KataGo v1.17.2\n") {
		t.Errorf("version printed %q", out)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.cfg")
	os.WriteFile(cfg, []byte("maxVisits = 10\n"), 0o644)
	model := filepath.Join(dir, "m.bin.gz")
	os.WriteFile(model, nil, 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no model flag", []string{"analysis", "-config", cfg}, "-model MODELFILENAME.bin.gz was not specified"},
		{"no numAnalysisThreads", []string{"analysis", "-config", cfg, "-model", model}, "numAnalysisThreads"},
		{"missing config", []string{"analysis", "-config", filepath.Join(dir, "none.cfg"), "-model", model}, "none.cfg - does not exist"},
		{"unknown flag", []string{"analysis", "-config", cfg, "-model", model, "-bogus"}, "Couldn't find match"},
	}
	for _, tt := range tests {
		cmd := exec.Command(Path(t), tt.args...)
		msg, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(msg), tt.want) {
			t.Errorf("%s: exit %v, output %q, want an error mentioning %q", tt.name, err, msg, tt.want)
		}
	}
	// -override-config and -analysis-threads, as KataGo takes them.
	cmd := exec.Command(Path(t), "analysis", "-config", cfg, "-model", model, "-analysis-threads", "1", "-override-config", "maxVisits=7,reportAnalysisWinratesAs=WHITE")
	cmd.Stdin = strings.NewReader(`{"id":"x","moves":[],"rules":"chinese","komi":7.5,"boardXSize":9,"boardYSize":9}` + "\n")
	out, err = cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var r katago.Response
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	if r.RootInfo.Visits != 7 {
		t.Errorf("visits %d, want the override's 7", r.RootInfo.Visits)
	}
}

func TestPathIsCached(t *testing.T) {
	t.Parallel()
	p := Path(t)
	if p != Path(t) {
		t.Error("Path built twice")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}

func TestLocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		w, h int
		want string
		ok   bool
	}{
		{"Q16", 19, 19, "Q16", true},
		{"q16", 19, 19, "Q16", true},
		{"A19", 19, 19, "A19", true},
		{"T1", 19, 19, "T1", true},
		{"I5", 19, 19, "", false},
		{"Z99", 19, 19, "", false},
		{"U1", 19, 19, "", false},
		{"K6", 13, 9, "K6", true},
		{"PASS", 19, 19, "pass", true},
		{"(3,0)", 19, 19, "D19", true},
		{"J", 19, 19, "", false},
	}
	for _, tt := range tests {
		loc, ok := parseLoc(tt.in, tt.w, tt.h)
		if ok != tt.ok || (ok && locString(loc, tt.w, tt.h) != tt.want) {
			t.Errorf("parseLoc(%q) = %v %v", tt.in, loc, ok)
		}
	}
}

func TestBoardCaptures(t *testing.T) {
	t.Parallel()
	b := newBoard(9, 9)
	at := func(s string) int { l, _ := parseLoc(s, 9, 9); return l }
	for _, m := range []struct {
		c color
		p string
	}{{black, "A2"}, {white, "A1"}, {black, "B1"}} {
		if !b.play(at(m.p), m.c) {
			t.Fatalf("%s illegal", m.p)
		}
	}
	if b.at(at("A1")) != empty {
		t.Error("A1 was not captured")
	}
	if b.legal(at("A2"), white) {
		t.Error("an occupied point is legal")
	}
	// White at A1 now would be suicide: legal to replay (KataGo is tolerant) but not offered.
	if b.legal(at("A1"), white) {
		t.Error("suicide offered as a legal candidate")
	}
	if !b.play(at("A1"), white) || b.at(at("A1")) != empty {
		t.Error("a suicide replayed as KataGo does should remove the stone")
	}
}

// TestFakeMoveRestrictions: avoidMoves keeps its moves out of the candidates, allowMoves
// keeps every other move out, for the player to move, as KataGo's search does.
func TestFakeMoveRestrictions(t *testing.T) {
	t.Parallel()
	// The position has no symmetry, so every candidate is searched as itself.
	base := `{"id":"r","moves":[["B","Q16"],["W","D3"]],"rules":"chinese","komi":7.5,"boardXSize":19,"boardYSize":19,"maxVisits":200`
	moves := func(t *testing.T, q string) map[string]bool {
		t.Helper()
		f := startFake(t, transcriptConfig)
		f.send(q)
		var r katago.Response
		for _, l := range f.finish() {
			r = katago.Response{}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
		}
		if r.Error != "" {
			t.Fatalf("error %q", r.Error)
		}
		got := map[string]bool{}
		for _, mi := range r.MoveInfos {
			got[mi.Move] = true
		}
		return got
	}
	free := moves(t, base+`}`)
	var top []string
	for m := range free {
		top = append(top, m)
	}
	if len(top) < 3 {
		t.Fatalf("only %d candidates without restrictions", len(top))
	}
	avoid := top[:2]
	got := moves(t, base+`,"avoidMoves":[{"player":"B","moves":["`+avoid[0]+`","`+avoid[1]+`"],"untilDepth":1}]}`)
	if len(got) == 0 || got[avoid[0]] || got[avoid[1]] {
		t.Errorf("avoidMoves %v: candidates %v", avoid, got)
	}
	got = moves(t, base+`,"allowMoves":[{"player":"B","moves":["C3","R3"],"untilDepth":1}]}`)
	if diff := cmp.Diff(map[string]bool{"C3": true, "R3": true}, got); diff != "" {
		t.Errorf("allowMoves C3 R3: candidates (-want +got):\n%s", diff)
	}
	// A restriction for the other player leaves the player to move free.
	got = moves(t, base+`,"avoidMoves":[{"player":"W","moves":["`+avoid[0]+`"],"untilDepth":1}]}`)
	if diff := cmp.Diff(free, got); diff != "" {
		t.Errorf("avoidMoves for White changed Black's candidates (-want +got):\n%s", diff)
	}
}

// TestFakeOneVisit: a search of one visit evaluates the root alone, so the result has
// rootInfo and the policy but no moveInfos, as KataGo's (its genmove then plays from the
// policy).
func TestFakeOneVisit(t *testing.T) {
	t.Parallel()
	f := startFake(t, transcriptConfig)
	f.send(`{"id":"v1","moves":[["B","E5"]],"rules":"chinese","komi":7,"boardXSize":9,"boardYSize":9,"maxVisits":1,"includePolicy":true}`)
	var r katago.Response
	for _, l := range f.finish() {
		r = katago.Response{}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
	}
	if r.RootInfo == nil {
		t.Fatal("one visit: no rootInfo")
	}
	if r.RootInfo.Visits != 1 || len(r.MoveInfos) != 0 || len(r.Policy) != 82 {
		t.Errorf("one visit: root visits %d, %d moveInfos, %d policy values; want 1, 0, 82",
			r.RootInfo.Visits, len(r.MoveInfos), len(r.Policy))
	}
}

// TestFakeRefusesUnparsableSettings: an overrideSettings number given as a text that holds
// none is refused with KataGo's field and message (as KataGo 1.17.2 words it, before the config file's name), and
// one that holds a number is taken.
func TestFakeRefusesUnparsableSettings(t *testing.T) {
	t.Parallel()
	f := startFake(t, transcriptConfig)
	q := func(id, settings string) string {
		return `{"id":"` + id + `","moves":[["B","E5"]],"rules":"chinese","komi":7,"boardXSize":9,"boardYSize":9,"maxVisits":5,"overrideSettings":` + settings + `}`
	}
	f.send(q("double", `{"wideRootNoise":"abc"}`), q("int", `{"maxPlayouts":"12x"}`), q("number", `{"wideRootNoise":"0.04"}`))
	got := map[string]katago.Response{}
	for _, l := range f.finish() {
		var r katago.Response
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Error != "" || r.Final() {
			got[r.ID] = r
		}
	}
	want := map[string]string{
		"double": "Could not set settings: Could not parse 'abc' as double for key 'wideRootNoise'",
		"int":    "Could not set settings: Could not parse '12x' as int64_t for key 'maxPlayouts'",
	}
	for id, msg := range want {
		if r := got[id]; r.Field != "overrideSettings" || !strings.HasPrefix(r.Error, msg) {
			t.Errorf("%s: field %q, error %q; want overrideSettings, %q", id, r.Field, r.Error, msg)
		}
	}
	if r := got["number"]; r.Error != "" || !r.Final() {
		t.Errorf("a number given as text: %+v, want a final result", r)
	}
}
