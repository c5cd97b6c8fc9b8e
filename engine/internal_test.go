package engine

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/katago"
)

func TestConfigText(t *testing.T) {
	t.Parallel()
	dev := 3
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{
			name: "defaults",
			cfg:  Config{Model: "m.bin.gz", LogDir: "logs"},
			want: `# KataGo analysis config written by tesuji from engine.Config.
logDir = logs
logAllRequests = false
logAllResponses = false
logSearchInfo = false
reportAnalysisWinratesAs = BLACK
maxVisits = 500
numAnalysisThreads = 2
numSearchThreadsPerAnalysisThread = 8
nnMaxBatchSize = 16
nnCacheSizePowerOfTwo = 20
`,
		},
		{
			name: "typed fields, device and settings",
			cfg: Config{
				Model: "m", LogDir: "l", AnalysisThreads: 4, SearchThreadsPerAnalysisThread: 2, CacheSizePowerOfTwo: 18,
				MaxVisits: 1000, Device: &dev, Settings: map[string]string{"nnMaxBatchSize": "32", "cudaUseFP16": "true"},
			},
			want: `# KataGo analysis config written by tesuji from engine.Config.
logDir = l
logAllRequests = false
logAllResponses = false
logSearchInfo = false
reportAnalysisWinratesAs = BLACK
maxVisits = 1000
numAnalysisThreads = 4
numSearchThreadsPerAnalysisThread = 2
nnMaxBatchSize = 32
nnCacheSizePowerOfTwo = 18
cudaDeviceToUse = 3
trtDeviceToUse = 3
openclDeviceToUse = 3
cudaUseFP16 = true
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := tt.cfg.withDefaults().settings()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, configText(s)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := (Config{Settings: map[string]string{"a": "b\nmaxVisits = 1"}}).withDefaults().settings(); err == nil {
		t.Error("a setting spanning lines was accepted")
	}
}

func TestArgs(t *testing.T) {
	t.Parallel()
	got, err := Config{Model: "m"}.withDefaults().args("gen.cfg")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"analysis", "-config", "gen.cfg", "-model", "m"}, got); diff != "" {
		t.Errorf("generated config (-want +got):\n%s", diff)
	}
	got, err = Config{Model: "m", ConfigFile: "mine.cfg", Settings: map[string]string{"maxVisits": "9"}}.withDefaults().args("mine.cfg")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"analysis", "-config", "mine.cfg", "-model", "m", "-override-config", "reportAnalysisWinratesAs=BLACK,maxVisits=9"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("override file (-want +got):\n%s", diff)
	}
	if _, err := (Config{Model: "m", ConfigFile: "c", Settings: map[string]string{"x": "a,b"}}).withDefaults().args("c"); err == nil {
		t.Error("a value with a comma was passed to -override-config")
	}
}

// TestReadLine: lines over the limit are skipped whether they overflow the reader's
// buffer or fit in it.
func TestReadLine(t *testing.T) {
	t.Parallel()
	in := "a\r\n" + strings.Repeat("x", 50000) + "\n" + strings.Repeat("y", 300) + "\n" + strings.Repeat("z", 1001) + "\nlast"
	for _, size := range []int{16, 64 << 10} {
		r := bufio.NewReaderSize(strings.NewReader(in), size)
		var buf []byte
		var got []string
		for {
			line, err := readLine(r, &buf, 1000)
			if errors.Is(err, errLineTooLong) {
				got = append(got, "TOO LONG:"+string(line[:3]))
				continue
			}
			got = append(got, string(line))
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"a", "TOO LONG:xxx", strings.Repeat("y", 300), "TOO LONG:zzz", "last"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("buffer of %d bytes (-want +got):\n%s", size, diff)
		}
	}
}

// testProcess is a process with no KataGo behind it, for feeding lines to the router.
func testProcess() *process {
	e := New(Config{})
	return &process{e: e, calls: map[string]*call{}, maxLineBytes: defaultMaxLineBytes}
}

func TestAnonymousErrors(t *testing.T) {
	t.Parallel()
	p := testProcess()
	c := newCall("q7", []int{0}, false)
	other := newCall("q70", []int{0}, false)
	for _, x := range []*call{c, other} {
		if err := p.register(x); err != nil {
			t.Fatal(err)
		}
	}
	// KataGo quotes the line it could not parse; the id in it names the query.
	p.route([]byte(`{"error":"[json.exception.parse_error.101] parse error at line 1, column 40: syntax error - could not parse input line as json request: {\"id\":\"q7\",\"moves\":[}"}`))
	_, err, _ := c.take()
	var qe *QueryError
	if !errors.As(err, &qe) || !strings.Contains(qe.Message, "could not parse input line") {
		t.Fatalf("q7: %v, want its parse error", err)
	}
	if _, err, _ := other.take(); err != nil {
		t.Errorf("q70 failed too: %v", err)
	}
	// An error naming no query is only logged.
	p.route([]byte(`{"error":"Request must have a string \"id\" field"}`))
	if _, err, _ := other.take(); err != nil {
		t.Errorf("q70 failed: %v", err)
	}
}

func TestRouteUndecodable(t *testing.T) {
	t.Parallel()
	p := testProcess()
	c := newCall("q1", []int{0}, false)
	if err := p.register(c); err != nil {
		t.Fatal(err)
	}
	p.route([]byte(`not json at all`))
	if _, err, _ := c.take(); err != nil {
		t.Fatalf("garbage without an id failed q1: %v", err)
	}
	p.route([]byte(`{"id":"q1","turnNumber":"zero"}`))
	if _, err, _ := c.take(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("got %v, want ErrProtocol", err)
	}
}

func TestCallTurns(t *testing.T) {
	t.Parallel()
	c := newCall("q1", []int{0, 2}, false)
	lines := []string{
		`{"id":"q1","isDuringSearch":true,"turnNumber":2}`,
		`{"id":"q1","isDuringSearch":true,"turnNumber":2}`,  // replaces the one not yet taken
		`{"id":"q1","isDuringSearch":false,"turnNumber":5}`, // not requested
		`{"id":"q1","isDuringSearch":false,"noResults":true,"turnNumber":0}`,
		`{"id":"q1","isDuringSearch":false,"noResults":true,"turnNumber":0}`, // duplicate
		`{"id":"q1","isDuringSearch":false,"turnNumber":2}`,
	}
	var notes []string
	var done bool
	for _, l := range lines {
		r := new(katago.Response)
		if err := json.Unmarshal([]byte(l), r); err != nil {
			t.Fatal(err)
		}
		var note string
		done, note = c.accept(r)
		if note != "" {
			notes = append(notes, note)
		}
	}
	if !done {
		t.Error("the call is not done after a final for every turn")
	}
	items, err, finished := c.take()
	if err != nil || !finished {
		t.Fatalf("take: %v %v", err, finished)
	}
	var kinds []string
	for _, r := range items {
		kind := "partial"
		switch {
		case r.NoResults:
			kind = "noResults"
		case r.Final():
			kind = "final"
		}
		kinds = append(kinds, kind+"@"+string(rune('0'+*r.TurnNumber)))
	}
	if diff := cmp.Diff([]string{"partial@2", "noResults@0", "final@2"}, kinds); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if len(notes) != 2 {
		t.Errorf("notes %q, want the unrequested turn and the duplicate", notes)
	}
}
