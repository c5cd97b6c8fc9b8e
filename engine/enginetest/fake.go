package enginetest

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tesuji/tesuji/internal/prio"
	"github.com/tesuji/tesuji/katago"
)

// The environment variables that switch the fake's behaviour; see the package doc.
const (
	EnvSpeed          = "TESUJI_FAKE_SPEED"
	EnvVisitsPerSec   = "TESUJI_FAKE_VISITS_PER_SECOND"
	EnvCrashAfter     = "TESUJI_FAKE_CRASH_AFTER"
	EnvCrashOnce      = "TESUJI_FAKE_CRASH_ONCE"
	EnvCrashMidLine   = "TESUJI_FAKE_CRASH_MID_LINE"
	EnvHangAfter      = "TESUJI_FAKE_HANG_AFTER"
	EnvHangOnce       = "TESUJI_FAKE_HANG_ONCE"
	EnvLineBytes      = "TESUJI_FAKE_LINE_BYTES"
	EnvReadyDelay     = "TESUJI_FAKE_READY_DELAY"
	EnvStartError     = "TESUJI_FAKE_START_ERROR"
	EnvIgnoreEOF      = "TESUJI_FAKE_IGNORE_EOF"
	EnvIgnoreSIGTERM  = "TESUJI_FAKE_IGNORE_SIGTERM"
	EnvTrace          = "TESUJI_FAKE_TRACE"
	EnvBackend        = "TESUJI_FAKE_BACKEND"
	fakeVersion       = "1.17.2"
	fakeGitHash       = "<omitted>"
	unknownActionText = "'action' field must be 'query_version' or 'query_models' or 'clear_cache' or 'terminate' or 'terminate_all'"
)

// fakeConfig is what the fake reads from KataGo's config file and command line.
type fakeConfig struct {
	analysisThreads    int
	perspective        string
	maxVisits          int64 // 0: none, so a query without maxVisits searches until terminated
	pvLen              int
	maxBatchSize       int
	model              string
	configPath         string
	quitWithoutWaiting bool
}

type faults struct {
	speed         float64 // positions per second for the whole engine; 0: unlimited
	visitsPerSec  float64 // visits per second per analysis thread; 0: unlimited
	crashAfter    int     // -1: never
	crashOnce     string
	crashMidLine  bool
	hangAfter     int // -1: never
	hangOnce      string
	lineBytes     int
	readyDelay    time.Duration
	startError    string
	ignoreEOF     bool
	ignoreSIGTERM bool
	trace         string
}

type taskState int

const (
	queued taskState = iota
	running
	finished
)

// task is one turn of one query, as KataGo queues it.
type task struct {
	req        *request
	turn       int
	pos        *board
	priority   int64
	seq        int64
	state      taskState
	terminated bool
	stop       chan struct{}
}

type fake struct {
	cfg    fakeConfig
	flt    faults
	stderr io.Writer

	outMu   sync.Mutex
	out     *bufio.Writer
	finals  int
	hung    bool
	cutNext bool // crash halfway through the next line

	mu      sync.Mutex
	idle    []chan *task      // threads waiting for work
	queue   prio.Queue[*task] // as KataGo orders tasks: higher priority first, then earlier
	seq     int64
	open    map[*task]bool
	closed  bool
	quit    chan struct{}
	threads sync.WaitGroup

	traceMu sync.Mutex
	trace   *os.File
}

// Main runs the fake with KataGo's command line (args without the program name) and
// returns its exit code. It is what the fakekatago program runs.
func Main(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: katago SUBCOMMAND")
		return 1
	}
	switch args[0] {
	case "version":
		backend := getenv(EnvBackend)
		if backend == "" {
			backend = "dummy"
		}
		fmt.Fprintf(stdout, "KataGo v%s\nGit revision: %s\nCompile Time: %s\nUsing %s backend\n", fakeVersion, fakeGitHash, "<omitted>", backend)
		return 0
	case "analysis":
	default:
		fmt.Fprintf(stderr, "Unknown subcommand: %s\n", args[0])
		return 1
	}
	f := &fake{stderr: stderr, out: bufio.NewWriterSize(stdout, 64<<10), open: map[*task]bool{}, quit: make(chan struct{})}
	var err error
	if f.flt, err = readFaults(getenv); err != nil {
		fmt.Fprintf(stderr, "fakekatago: %v\n", err)
		return 1
	}
	if f.flt.startError != "" {
		fmt.Fprintln(stderr, f.flt.startError)
		return 1
	}
	if f.flt.ignoreSIGTERM {
		signal.Ignore(syscall.SIGTERM)
	}
	var settings []string
	if f.cfg, settings, err = readArgs(args[1:]); err != nil {
		var ab *abortError
		if errors.As(err, &ab) {
			// An uncaught C++ exception: the runtime prints it and aborts.
			fmt.Fprintf(stderr, "terminate called after throwing an instance of '%s'\n  what():  %s\n", ab.kind, ab.msg)
			return 134
		}
		fmt.Fprintln(stderr, err)
		return 1
	}
	if f.flt.trace != "" {
		if f.trace, err = os.OpenFile(f.flt.trace, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			fmt.Fprintf(stderr, "fakekatago: %v\n", err)
			return 1
		}
		defer f.trace.Close()
	}
	f.log("Running with following config:\n" + strings.Join(settings, "\n") + "\n")
	f.log("Analysis Engine starting...")
	f.log("KataGo v" + fakeVersion)
	f.log(fmt.Sprintf("After dedups: nnModelFile0 = %s useFP16 auto", f.cfg.model))
	f.log("Initializing neural net buffer to be size 19 * 19 allowing smaller boards")
	if _, err := os.Stat(f.cfg.model); err != nil {
		fmt.Fprintf(stderr, "terminate called after throwing an instance of 'StringError'\n  what():  Error loading or parsing model file %s: Could not open file %s - does not exist or invalid permissions?\n", f.cfg.model, f.cfg.model)
		return 134
	}
	f.log("Dummy backend: Model version 8")
	f.log("Dummy backend: Model name: " + modelInternalName(f.cfg.model))
	f.log("Loaded config " + f.cfg.configPath)
	f.log("Loaded model " + f.cfg.model)
	if f.flt.readyDelay > 0 {
		time.Sleep(f.flt.readyDelay)
	}
	for i := 0; i < f.cfg.analysisThreads; i++ {
		work := make(chan *task, 1)
		f.idle = append(f.idle, work)
		f.threads.Add(1)
		go f.analysisThread(work)
	}
	f.log(fmt.Sprintf("Analyzing up to %d positions at a time in parallel", f.cfg.analysisThreads))
	f.log("Started, ready to begin handling requests")
	if f.flt.hangAfter == 0 {
		f.outMu.Lock()
		f.maybeHang()
		f.outMu.Unlock()
	}

	r := bufio.NewReaderSize(stdin, 64<<10)
	for {
		line, err := r.ReadString('\n')
		if len(line) > 0 {
			f.traceLine(line)
			if l := strings.TrimSpace(line); l != "" {
				f.handle(l)
			}
		}
		if err != nil {
			break
		}
	}
	if f.flt.ignoreEOF {
		select {} // a wedged engine: only a signal ends it
	}
	f.mu.Lock()
	f.closed = true
	if f.cfg.quitWithoutWaiting {
		close(f.quit)
	}
	f.dispatch()
	f.mu.Unlock()
	f.threads.Wait()
	f.outMu.Lock()
	f.out.Flush()
	f.outMu.Unlock()
	f.log("All cleaned up, quitting")
	return 0
}

func stamp() string { return time.Now().Format("2006-01-02 15:04:05-0700") }

// log writes a line on stderr as KataGo's logger does.
func (f *fake) log(msg string) { fmt.Fprintf(f.stderr, "%s: %s\n", stamp(), msg) }

func (f *fake) traceLine(line string) {
	if f.trace == nil {
		return
	}
	f.traceMu.Lock()
	defer f.traceMu.Unlock()
	f.trace.WriteString(strings.TrimRight(line, "\r\n") + "\n")
}

func modelInternalName(path string) string {
	name := filepath.Base(path)
	for _, ext := range []string{".bin.gz", ".txt.gz", ".bin", ".gz"} {
		if strings.HasSuffix(name, ext) {
			return strings.TrimSuffix(name, ext)
		}
	}
	return name
}

func readFaults(getenv func(string) string) (faults, error) {
	f := faults{crashAfter: -1, hangAfter: -1}
	var err error
	num := func(key string) (float64, error) {
		s := getenv(key)
		if s == "" {
			return 0, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s=%q: want a number >= 0", key, s)
		}
		return v, nil
	}
	count := func(key string) (int, error) {
		s := getenv(key)
		if s == "" {
			return -1, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s=%q: want an integer >= 0", key, s)
		}
		return n, nil
	}
	if f.speed, err = num(EnvSpeed); err != nil {
		return f, err
	}
	if f.visitsPerSec, err = num(EnvVisitsPerSec); err != nil {
		return f, err
	}
	if f.crashAfter, err = count(EnvCrashAfter); err != nil {
		return f, err
	}
	if f.hangAfter, err = count(EnvHangAfter); err != nil {
		return f, err
	}
	f.crashOnce, f.hangOnce = getenv(EnvCrashOnce), getenv(EnvHangOnce)
	f.crashMidLine = getenv(EnvCrashMidLine) != ""
	if f.crashOnce != "" && f.crashAfter < 0 {
		f.crashAfter = 0
	}
	if f.hangOnce != "" && f.hangAfter < 0 {
		f.hangAfter = 0
	}
	lb, err := num(EnvLineBytes)
	if err != nil {
		return f, err
	}
	f.lineBytes = int(lb)
	if s := getenv(EnvReadyDelay); s != "" {
		if f.readyDelay, err = time.ParseDuration(s); err != nil {
			secs, err2 := strconv.ParseFloat(s, 64)
			if err2 != nil {
				return f, fmt.Errorf("%s=%q: want a duration", EnvReadyDelay, s)
			}
			f.readyDelay = time.Duration(secs * float64(time.Second))
		}
	}
	f.startError = getenv(EnvStartError)
	f.ignoreEOF = getenv(EnvIgnoreEOF) != ""
	f.ignoreSIGTERM = getenv(EnvIgnoreSIGTERM) != ""
	f.trace = getenv(EnvTrace)
	return f, nil
}

// abortError is a start failure KataGo reports as an uncaught C++ exception.
type abortError struct{ kind, msg string }

func (e *abortError) Error() string { return e.kind + ": " + e.msg }

// readArgs reads katago analysis's flags and its config file; it also returns the
// settings as KataGo prints them at start.
func readArgs(args []string) (fakeConfig, []string, error) {
	var cfgPath, model string
	var overrides []string
	threadsFlag := 0
	quit := false
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		val := func() (string, error) {
			if k, v, ok := strings.Cut(a, "="); ok {
				a = k
				return v, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("PARSE ERROR: Argument: -%s\n             Missing a value for this argument", a)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name, _, _ := strings.Cut(a, "="); name {
		case "config":
			cfgPath, err = val()
		case "model":
			model, err = val()
		case "override-config":
			var v string
			v, err = val()
			overrides = append(overrides, v)
		case "analysis-threads":
			var v string
			if v, err = val(); err == nil {
				threadsFlag, err = strconv.Atoi(v)
			}
		case "quit-without-waiting":
			quit = true
		default:
			return fakeConfig{}, nil, fmt.Errorf("PARSE ERROR: Argument: %s\n             Couldn't find match for argument\n\nBrief USAGE: \n   analysis  -config <FILE> ... [-model <FILE>] [-human-model <FILE>]\n             [...other flags...]", args[i])
		}
		if err != nil {
			return fakeConfig{}, nil, err
		}
	}
	if cfgPath == "" {
		return fakeConfig{}, nil, errors.New("PARSE ERROR: Required argument missing: config")
	}
	settings, err := readConfigFile(cfgPath)
	if err != nil {
		return fakeConfig{}, nil, err
	}
	if model == "" {
		return fakeConfig{}, nil, &abortError{"StringError", "-model MODELFILENAME.bin.gz was not specified to tell KataGo where to find the neural net model, and default was not found at default_model.bin.gz"}
	}
	for _, o := range overrides {
		for _, kv := range strings.Split(o, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return fakeConfig{}, nil, &abortError{"IOError", "Could not parse override-config: " + o}
			}
			settings[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if v, ok := settings["numSearchThreadsPerAnalysisThread"]; ok { // KataGo's alias
		delete(settings, "numSearchThreadsPerAnalysisThread")
		settings["numSearchThreads"] = v
	}
	var printed []string
	for _, k := range sortedKeys(settings) {
		printed = append(printed, k+" = "+settings[k])
	}
	c := fakeConfig{model: model, configPath: cfgPath, quitWithoutWaiting: quit, pvLen: 15, maxBatchSize: 8, perspective: "SIDETOMOVE"}
	badValue := func(key string) error {
		return &abortError{"IOError", fmt.Sprintf("Could not parse '%s' as int for key '%s' in config file %s", settings[key], key, cfgPath)}
	}
	intSetting := func(key string, min, max int64) (int64, bool, error) {
		s, ok := settings[key]
		if !ok {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < min || n > max {
			return 0, false, badValue(key)
		}
		return n, true, nil
	}
	n, ok, err := intSetting("numAnalysisThreads", 1, 16384)
	switch {
	case err != nil:
		return c, nil, err
	case ok && threadsFlag > 0:
		return c, nil, &abortError{"StringError", fmt.Sprintf("When specifying numAnalysisThreads in the config (%s), it is redundant and disallowed to also specify it via -analysis-threads", cfgPath)}
	case ok:
		c.analysisThreads = int(n)
	case threadsFlag > 0:
		c.analysisThreads = threadsFlag
	default:
		return c, nil, &abortError{"IOError", fmt.Sprintf("Could not find key 'numAnalysisThreads' in config file %s", cfgPath)}
	}
	if n, ok, err := intSetting("maxVisits", 1, 1<<50); err != nil {
		return c, nil, err
	} else if ok {
		c.maxVisits = n
	}
	if n, ok, err := intSetting("analysisPVLen", 1, 100); err != nil {
		return c, nil, err
	} else if ok {
		c.pvLen = int(n)
	}
	if n, ok, err := intSetting("nnMaxBatchSize", 1, 1<<20); err != nil {
		return c, nil, err
	} else if ok {
		c.maxBatchSize = int(n)
	}
	if s, ok := settings["reportAnalysisWinratesAs"]; ok {
		p, ok := parsePerspective(s)
		if !ok {
			return c, nil, &abortError{"IOError", fmt.Sprintf("Could not parse '%s' for key 'reportAnalysisWinratesAs' in config file %s", s, cfgPath)}
		}
		c.perspective = p
	}
	return c, printed, nil
}

// readConfigFile reads KataGo's "key = value" format with # comments.
func readConfigFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &abortError{"IOError", fmt.Sprintf("Could not open file %s - does not exist or invalid permissions?", path)}
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, &abortError{"IOError", fmt.Sprintf("Could not parse line in config file %s: %s", path, line)}
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// emit writes one line; final lines count towards the crash and hang faults.
func (f *fake) emit(line []byte, final bool) {
	f.outMu.Lock()
	defer f.outMu.Unlock()
	if f.hung {
		return
	}
	if f.cutNext {
		f.out.Write(line[:len(line)/2])
		f.out.Flush()
		f.crash()
	}
	f.out.Write(line)
	f.out.WriteByte('\n')
	f.out.Flush()
	if !final {
		return
	}
	f.finals++
	if f.flt.crashAfter > 0 && f.finals >= f.flt.crashAfter && armed(f.flt.crashOnce) {
		f.crashOrCut()
	}
	if f.flt.hangAfter > 0 && f.finals >= f.flt.hangAfter {
		f.maybeHang()
	}
}

// crashOrCut crashes now or, with TESUJI_FAKE_CRASH_MID_LINE, halfway through the next
// line written. Callers hold outMu.
func (f *fake) crashOrCut() {
	if f.flt.crashMidLine {
		f.cutNext = true
		return
	}
	f.crash()
}

// crash ends the process the way a segfault would: no goodbye, no flushing of queues.
func (f *fake) crash() {
	fmt.Fprintf(f.stderr, "%s: fakekatago: crashing after %d final results (%s)\n", stamp(), f.finals, EnvCrashAfter)
	os.Exit(134)
}

// maybeHang makes the process go silent. Callers hold outMu.
func (f *fake) maybeHang() {
	if armed(f.flt.hangOnce) {
		f.hung = true
		fmt.Fprintf(f.stderr, "%s: fakekatago: hanging after %d final results (%s)\n", stamp(), f.finals, EnvHangAfter)
	}
}

// armed reports whether a once-only fault should fire, creating its marker file if so.
func armed(onceFile string) bool {
	if onceFile == "" {
		return true
	}
	fd, err := os.OpenFile(onceFile, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return false
	}
	fd.Close()
	return true
}

func (f *fake) emitResponse(r *katago.Response, final bool) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("fakekatago: encode response: %v", err))
	}
	if final && f.flt.lineBytes > len(b) && len(r.MoveInfos) > 0 {
		b = pad(r, len(b), f.flt.lineBytes)
	}
	f.emit(b, final)
}

// pad lengthens a result to about size bytes with a principal variation of passes: legal
// whatever the board, and exactly as long as a line can be.
func pad(r *katago.Response, have, size int) []byte {
	mi := &r.MoveInfos[0]
	per := len(`,"pass"`)
	if mi.PVVisits != nil {
		per += 2 * len(",1")
	}
	for n := (size-have)/per + 1; n > 0; n-- {
		mi.PV = append(mi.PV, "pass")
		if mi.PVVisits != nil {
			mi.PVVisits = append(mi.PVVisits, 1)
			mi.PVEdgeVisits = append(mi.PVEdgeVisits, 1)
		}
	}
	b, _ := json.Marshal(r)
	return b
}

func (f *fake) writeError(msg string) {
	b, _ := json.Marshal(&katago.Response{Error: msg})
	f.emit(b, false)
	f.log("Error: " + string(b))
}

func (f *fake) writeFieldError(id string, fe fieldErr) {
	b, _ := json.Marshal(&katago.Response{ID: id, Field: fe.field, Error: fe.msg})
	f.emit(b, false)
	f.log("Error: " + string(b))
}

func (f *fake) writeWarning(id string, fe fieldErr) {
	b, _ := json.Marshal(&katago.Response{ID: id, Field: fe.field, Warning: fe.msg})
	f.emit(b, false)
	f.log("Warning: " + string(b))
}

// handle is KataGo's request loop for one line.
func (f *fake) handle(line string) {
	in, err := parseJSON(line)
	if err != nil {
		f.writeError(err.Error() + " - could not parse input line as json request: " + line)
		return
	}
	if !in.isObject() {
		f.writeError("Request line was valid json but was not an object, ignoring: " + in.dump())
		return
	}
	id, ok := in.get("id").str()
	if !ok {
		f.writeError(`Request must have a string "id" field`)
		return
	}
	if act, ok := in.get("action").str(); ok {
		f.action(in, id, act)
		return
	}
	if f.flt.crashAfter == 0 && armed(f.flt.crashOnce) {
		f.outMu.Lock()
		f.crashOrCut()
		f.outMu.Unlock()
	}
	req, warnings, fe := f.parseRequest(in, id)
	for _, w := range warnings {
		f.writeWarning(id, w)
	}
	if fe != nil {
		f.writeFieldError(id, *fe)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, turn := range req.turns {
		prio := req.priority
		if p, ok := req.priorities[turn]; ok {
			prio = p
		}
		t := &task{req: req, turn: turn, pos: req.positions[i], priority: prio, seq: f.seq, stop: make(chan struct{})}
		f.seq++
		f.open[t] = true
		f.queue.Push(t, t.priority, t.seq)
	}
	f.dispatch()
}

func (f *fake) action(in *jv, id, act string) {
	switch act {
	case "query_version":
		in.o["version"] = jstr(fakeVersion)
		in.o["git_hash"] = jstr(fakeGitHash)
		f.emit([]byte(in.dump()), false)
	case "query_models":
		in.o["models"] = &jv{kind: jArray, a: []*jv{{kind: jObject, o: map[string]*jv{
			"name":               jstr(f.cfg.model), // as given on the command line
			"internalName":       jstr(modelInternalName(f.cfg.model)),
			"maxBatchSize":       jint(int64(f.cfg.maxBatchSize)),
			"usesHumanSLProfile": jbool(false),
			"usingFP16":          jstr("auto"),
			"version":            jint(8),
		}}}}
		f.emit([]byte(in.dump()), false)
	case "clear_cache":
		f.emit([]byte(in.dump()), false)
	case "terminate", "terminate_all":
		var target string
		if act == "terminate" {
			s, ok := in.get("terminateId").str()
			if !ok {
				f.writeFieldError(id, fieldErr{"terminateId", `Requests for a terminate action must have a string "terminateId" field`})
				return
			}
			target = s
		}
		var turns map[int]bool
		if v := in.get("turnNumbers"); v != nil {
			ts, ok := v.ints()
			if !ok {
				f.writeFieldError(id, fieldErr{"turnNumbers", "If provided, must be an array of integers indicating turns to terminate"})
				return
			}
			turns = map[int]bool{}
			for _, t := range ts {
				turns[int(int32(t))] = true
			}
		}
		f.mu.Lock()
		// KataGo walks its open requests in the order they were made.
		open := make([]*task, 0, len(f.open))
		for t := range f.open {
			open = append(open, t)
		}
		slices.SortFunc(open, func(a, b *task) int { return cmp.Compare(a.seq, b.seq) })
		var stop []*task
		for _, t := range open {
			if (act == "terminate" && t.req.id != target) || (turns != nil && !turns[t.turn]) {
				continue
			}
			switch {
			case t.state == queued:
				// Never started: KataGo answers for it at once, before the acknowledgement.
				f.queue.Remove(t)
				t.state = finished
				delete(f.open, t)
				f.emitResponse(noResults(t.req.id, t.turn), true)
			case t.state == running && !t.terminated:
				t.terminated = true
				stop = append(stop, t)
			}
		}
		f.mu.Unlock()
		f.emit([]byte(in.dump()), false)
		for _, t := range stop {
			close(t.stop)
		}
	default:
		f.writeError(unknownActionText)
	}
}

// analysisThread searches the tasks handed to it. Tasks are handed over under f.mu the
// moment a thread is free, so a task is either queued or running, never in between.
func (f *fake) analysisThread(work chan *task) {
	defer f.threads.Done()
	for t := range work {
		f.search(t)
		f.mu.Lock()
		t.state = finished
		delete(f.open, t)
		f.idle = append(f.idle, work)
		f.dispatch()
		f.mu.Unlock()
	}
}

// dispatch hands queued tasks, best first, to idle threads; when input has ended and
// nothing is left, it lets the threads go. Callers hold f.mu.
func (f *fake) dispatch() {
	for len(f.idle) > 0 && f.queue.Len() > 0 && !f.isQuitting() {
		t := f.queue.Pop()
		t.state = running
		w := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		w <- t
	}
	if f.closed && (f.queue.Len() == 0 || f.isQuitting()) && len(f.idle) == f.cfg.analysisThreads {
		for _, w := range f.idle {
			close(w)
		}
		f.idle = nil
	}
}

func (f *fake) isQuitting() bool {
	select {
	case <-f.quit:
		return true
	default:
		return false
	}
}

// search simulates KataGo's search of one turn: partial reports while it runs, then
// exactly one final result, early when terminated.
func (f *fake) search(t *task) {
	req := t.req
	pos := newPosition(t.pos, req.komi, req.rules)
	maxVisits := req.maxVisits
	infinite := maxVisits == 0
	var dur time.Duration
	if !infinite {
		secs := 0.0
		if f.flt.speed > 0 {
			secs = float64(f.cfg.analysisThreads) / f.flt.speed
		}
		if f.flt.visitsPerSec > 0 {
			secs = math.Max(secs, float64(maxVisits)/f.flt.visitsPerSec)
		}
		// Searches of different positions take different times, so results come back
		// out of turn order as KataGo's do.
		secs *= 0.6 + 0.8*(&rng{pos.seed ^ uint64(t.turn)}).float()
		dur = time.Duration(secs * float64(time.Second))
	}
	rate := f.flt.visitsPerSec
	if rate == 0 {
		rate = 200
	}
	start := time.Now()
	visitsAt := func() int64 {
		el := time.Since(start)
		if infinite {
			return 2 + int64(el.Seconds()*rate)
		}
		if dur <= 0 {
			return maxVisits
		}
		return min(maxVisits, max(2, int64(float64(maxVisits)*float64(el)/float64(dur))))
	}
	final := func(visits int64) {
		f.emitResponse(pos.report(req, t.turn, visits, false), true)
	}
	if !infinite && dur <= 0 {
		final(maxVisits)
		return
	}
	reporting := req.reportEvery > 0
	next := time.Duration(req.firstReportAfter * float64(time.Second))
	every := time.Duration(req.reportEvery * float64(time.Second))
	for {
		el := time.Since(start)
		if !infinite && el >= dur {
			final(maxVisits)
			return
		}
		wait := time.Duration(math.MaxInt64)
		if !infinite {
			wait = dur - el
		}
		if reporting && next-el < wait {
			wait = max(0, next-el)
		}
		timer := time.NewTimer(wait)
		select {
		case <-t.stop:
			timer.Stop()
			final(visitsAt())
			return
		case <-f.quit:
			timer.Stop()
			return
		case <-timer.C:
		}
		if el := time.Since(start); reporting && el >= next && (infinite || el < dur) {
			f.emitResponse(pos.report(req, t.turn, visitsAt(), true), false)
			next += every
			if every <= 0 {
				next = time.Duration(math.MaxInt64)
			}
		}
	}
}
