package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/engine/enginetest"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/katago/transcript"
)

// TestAnalyzeMultiTurn runs 01's query: eleven turns, one final each, in any order.
func TestAnalyzeMultiTurn(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		e := start(t, b.config(t, enginetest.EnvSpeed+"=400"))
		q := queryFrom(t, "01", "g1")
		before, _ := json.Marshal(q)
		c := newCollector()
		if err := e.Analyze(ctxTimeout(t, 2*time.Minute), q, c.add); err != nil {
			t.Fatal(err)
		}
		c.check(t)
		if after, _ := json.Marshal(q); string(after) != string(before) {
			t.Errorf("Analyze modified the caller's query:\n%s\n%s", before, after)
		}
		var turns []int
		for turn, r := range c.finals {
			turns = append(turns, turn)
			if r.ID == "g1" {
				t.Errorf("the response carries the caller's id; the engine assigns its own")
			}
			want := "B"
			if turn%2 == 1 {
				want = "W"
			}
			if r.RootInfo == nil || r.RootInfo.CurrentPlayer != want {
				t.Errorf("turn %d: currentPlayer %v, want %s", turn, r.RootInfo, want)
			}
			if len(r.MoveInfos) == 0 {
				t.Errorf("turn %d: no moveInfos", turn)
			}
		}
		slices.Sort(turns)
		if diff := cmp.Diff([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, turns); diff != "" {
			t.Errorf("final turns (-want +got):\n%s", diff)
		}
		if e.InFlight() != 0 {
			t.Errorf("InFlight = %d after the query ended", e.InFlight())
		}
	})
}

// TestAnalyzePartialReports runs 02's query: partial reports while the turn is searched,
// then exactly one final.
func TestAnalyzePartialReports(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		// 600 visits at 1000 a second: at least 0.36s, so the first report at 0.25s comes.
		e := start(t, b.config(t, enginetest.EnvVisitsPerSec+"=1000"))
		q := queryFrom(t, "02", "live")
		c := newCollector()
		if err := e.Analyze(ctxTimeout(t, 5*time.Minute), q, c.add); err != nil {
			t.Fatal(err)
		}
		c.check(t)
		if len(c.finals) != 1 || c.finals[4] == nil {
			t.Fatalf("finals %v, want one for turn 4", c.finals)
		}
		if c.partials[4] == 0 {
			t.Fatal("no partial report")
		}
		last := 0
		for _, r := range c.all {
			if r.RootInfo == nil {
				t.Fatalf("response without rootInfo: %+v", r)
			}
			if r.RootInfo.Visits < last {
				t.Errorf("visits went down from %d to %d", last, r.RootInfo.Visits)
			}
			last = r.RootInfo.Visits
		}
		if got := c.all[len(c.all)-1]; !got.Final() {
			t.Errorf("the last response is not the final one")
		}
	})
}

// TestQueryErrors sends every query of 04 that KataGo rejects and expects KataGo's field
// and message as a permanent *QueryError.
func TestQueryErrors(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		e := start(t, b.config(t))
		for _, line := range transcript.Select(transcript.Load(t, "04"), "in") {
			var q katago.Query
			if err := json.Unmarshal([]byte(line), &q); err != nil || q.ID == "" {
				continue // not JSON, or no id: Analyze always sends both (see TestAnonymousErrors)
			}
			outs := outFor(t, "04", q.ID)
			if len(outs) == 0 || outs[0].Error == "" {
				continue
			}
			t.Run(q.ID, func(t *testing.T) {
				err := e.Analyze(ctxTimeout(t, time.Minute), &q, func(r *katago.Response) error {
					return fmt.Errorf("unexpected response %+v", r)
				})
				var qe *engine.QueryError
				if !errors.As(err, &qe) {
					t.Fatalf("got %v, want a *QueryError", err)
				}
				want := &engine.QueryError{Field: outs[0].Field, Message: outs[0].Error}
				if diff := cmp.Diff(want, qe); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if !errors.Is(err, engine.ErrPermanent) || isTransient(err) {
					t.Errorf("%v should be permanent", err)
				}
			})
		}
	})
}

// TestQueryWarning sends 04's query with an unknown field: the warning reaches the caller
// and the query still completes.
func TestQueryWarning(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		e := start(t, b.config(t))
		q := queryFrom(t, "04", "unknownfield")
		if _, ok := q.Extra["frobnicate"]; !ok {
			t.Fatal("the unknown field did not survive decoding")
		}
		c := newCollector()
		if err := e.Analyze(ctxTimeout(t, time.Minute), q, c.add); err != nil {
			t.Fatal(err)
		}
		c.check(t)
		want := outFor(t, "04", "unknownfield")[0]
		if len(c.warnings) != 1 {
			t.Fatalf("got %d warnings, want 1", len(c.warnings))
		}
		w := c.warnings[0]
		if w.Field != want.Field || w.Warning != want.Warning {
			t.Errorf("warning %q %q, want %q %q", w.Field, w.Warning, want.Field, want.Warning)
		}
		if len(c.finals) != 1 || c.finals[2] == nil {
			t.Errorf("finals %v, want turn 2", c.finals)
		}
		if c.all[0] != w {
			t.Errorf("the warning did not come first")
		}
	})
}

// TestTerminateOnCancel runs 05's long query and cancels it at the first partial report:
// Analyze returns the context's error, KataGo gets a terminate for the query, and its
// final result is consumed by the engine rather than left behind.
func TestTerminateOnCancel(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		trace, env := traceFile(t)
		e := start(t, b.config(t, env, enginetest.EnvVisitsPerSec+"=1000"))
		q := queryFrom(t, "05", "long")
		ctx, cancel := context.WithCancel(ctxTimeout(t, 2*time.Minute))
		defer cancel()
		partials := 0
		err := e.Analyze(ctx, q, func(r *katago.Response) error {
			if r.Partial() {
				partials++
				cancel()
			}
			if r.Final() {
				return errors.New("a final result arrived before the cancel")
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if partials != 1 {
			t.Errorf("%d partial reports delivered after the cancel", partials-1)
		}
		// The terminated turn's final comes back and ends the query in the engine.
		eventually(t, time.Minute, "the terminated query to drain", func() bool { return e.InFlight() == 0 })
		if b.real {
			return
		}
		var queryID string
		var terminated bool
		for _, tq := range tracedQueries(t, trace) {
			if tq.MaxVisits != nil && *tq.MaxVisits == 100000 {
				queryID = tq.ID
			}
			if tq.Action == "terminate" && tq.TerminateID != "" && tq.TerminateID == queryID {
				terminated = true
			}
		}
		if !terminated {
			t.Errorf("no terminate for query %q was sent", queryID)
		}
	})
}

// TestCancelKeepsFinals cancels a multi-turn query after two finals: those two were
// delivered, nothing after the cancel is, and the turns KataGo never started come back as
// noResults finals that the engine consumes.
func TestCancelKeepsFinals(t *testing.T) {
	t.Parallel()
	// One analysis thread at 20 positions a second: nine turns are still queued at the
	// cancel, so KataGo answers them with noResults.
	cfg := enginetest.Config(t, enginetest.EnvSpeed+"=20")
	cfg.AnalysisThreads = 1
	e := start(t, cfg)
	q := queryFrom(t, "01", "g1")
	ctx, cancel := context.WithCancel(ctxTimeout(t, time.Minute))
	defer cancel()
	finals := 0
	err := e.Analyze(ctx, q, func(r *katago.Response) error {
		if r.Final() {
			finals++
			if finals == 2 {
				cancel()
			}
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if finals != 2 {
		t.Errorf("%d finals delivered, want 2", finals)
	}
	eventually(t, time.Minute, "the noResults finals to drain the query", func() bool { return e.InFlight() == 0 })
}

// TestStop: Stop ends a search as KataGo's terminate does while Analyze keeps delivering.
// A query KataGo has not started answers noResults before KataGo's acknowledgement, and
// Stop says it owes nothing more; a running search that has not reported says it is
// searching and ends with its final result so far.
func TestStop(t *testing.T) {
	t.Parallel()
	trace, env := traceFile(t)
	cfg := enginetest.Config(t, env, enginetest.EnvVisitsPerSec+"=1000")
	cfg.AnalysisThreads = 1
	e := start(t, cfg)
	ctx := ctxTimeout(t, time.Minute)
	type run struct {
		stop   *engine.Stop
		finals []*katago.Response
		err    error
		done   chan struct{}
	}
	// analyze starts a search of visits (100s and more, no reports) once KataGo has read
	// the one before.
	analyze := func(visits int) *run {
		q := &katago.Query{Rules: katago.RulesString("chinese"), BoardXSize: 19, BoardYSize: 19, MaxVisits: &visits}
		r := &run{done: make(chan struct{})}
		sctx, stop := engine.Stoppable(ctx)
		r.stop = stop
		go func() {
			defer close(r.done)
			r.err = e.Analyze(sctx, q, func(resp *katago.Response) error {
				if resp.Final() {
					r.finals = append(r.finals, resp)
				}
				return nil
			})
		}()
		eventually(t, time.Minute, "KataGo to read the query", func() bool {
			data, _ := os.ReadFile(trace)
			return strings.Contains(string(data), fmt.Sprintf(`"maxVisits":%d`, visits))
		})
		return r
	}
	running := analyze(100000)
	waiting := analyze(100001)
	for _, c := range []struct {
		name      string
		r         *run
		searching bool
	}{
		// The query waiting for the only search thread was never started.
		{"waiting", waiting, false},
		// The running search owes its final after the acknowledgement.
		{"running", running, true},
	} {
		if searching, ok := c.r.stop.Stop(ctx); searching != c.searching || !ok {
			t.Errorf("%s: Stop = %v, %v; want %v, true", c.name, searching, ok, c.searching)
		}
		<-c.r.done
		if c.r.err != nil || len(c.r.finals) != 1 || c.r.finals[0].NoResults == c.searching {
			t.Fatalf("%s: Analyze = %v with finals %v; want one final, noResults %v", c.name, c.r.err, c.r.finals, !c.searching)
		}
		if c.searching && c.r.finals[0].RootInfo.Visits == 0 {
			t.Errorf("%s: the final result has no visits", c.name)
		}
	}
}

// TestCallbackError terminates the query when fn fails and returns fn's error.
func TestCallbackError(t *testing.T) {
	t.Parallel()
	e := start(t, enginetest.Config(t, enginetest.EnvVisitsPerSec+"=1000"))
	q := queryFrom(t, "05", "long")
	boom := errors.New("boom")
	err := e.Analyze(ctxTimeout(t, time.Minute), q, func(r *katago.Response) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	eventually(t, time.Minute, "the terminated query to drain", func() bool { return e.InFlight() == 0 })
}

// TestActions asks for the version and the models and clears the cache, as in 05.
func TestActions(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		e := start(t, cfg)
		ctx := ctxTimeout(t, time.Minute)
		v, err := e.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Version == "" || v.GitHash == "" {
			t.Errorf("version %+v is empty", v)
		}
		models, err := e.Models(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// KataGo names a model by the path it was given.
		if len(models) != 1 || models[0].Name != cfg.Model || models[0].InternalName == "" {
			t.Errorf("models %+v, want one named %s", models, cfg.Model)
		}
		if err := e.ClearCache(ctx); err != nil {
			t.Fatal(err)
		}
		if !b.real {
			want := outFor(t, "05", "v")[0]
			if v.Version != want.Version || v.GitHash != want.GitHash {
				t.Errorf("fake version %+v, want KataGo's %s %s", v, want.Version, want.GitHash)
			}
		}
	})
}

// TestConcurrentQueries runs 100 queries at once over one process: each gets its own
// results and nothing else.
func TestConcurrentQueries(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		e := start(t, b.config(t))
		const n = 100
		const cols = "ABCDEFGHJKLMNOPQRST"
		var wg sync.WaitGroup
		hashes := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				point := fmt.Sprintf("%c%d", cols[i%19], 1+i/19)
				komi, visits := 7.5, 10
				q := &katago.Query{
					Moves: []katago.Move{{"B", point}}, AnalyzeTurns: []int{0, 1}, Rules: katago.RulesString("chinese"),
					Komi: &komi, MaxVisits: &visits, BoardXSize: 19, BoardYSize: 19,
				}
				c := newCollector()
				if err := e.Analyze(ctxTimeout(t, 5*time.Minute), q, c.add); err != nil {
					errs[i] = err
					return
				}
				switch {
				case len(c.problems) > 0:
					errs[i] = errors.New(strings.Join(c.problems, "; "))
				case len(c.finals) != 2 || c.finals[0] == nil || c.finals[1] == nil:
					errs[i] = fmt.Errorf("finals for turns %v", c.finals)
				case c.finals[1].RootInfo.CurrentPlayer != "W":
					errs[i] = fmt.Errorf("turn 1 currentPlayer %s", c.finals[1].RootInfo.CurrentPlayer)
				default:
					for _, m := range c.finals[1].MoveInfos {
						if m.Move == point {
							errs[i] = fmt.Errorf("the result suggests %s, the occupied point: it belongs to another query", point)
						}
					}
					hashes[i] = c.finals[1].RootInfo.ThisHash
				}
			})
		}
		wg.Wait()
		seen := map[string]int{}
		for i, err := range errs {
			if err != nil {
				t.Errorf("query %d: %v", i, err)
				continue
			}
			if j, ok := seen[hashes[i]]; ok {
				t.Errorf("queries %d and %d got the same position: results crossed", j, i)
			}
			seen[hashes[i]] = i
		}
		if e.Restarts() != 0 {
			t.Errorf("%d restarts", e.Restarts())
		}
	})
}

// TestSlowCallbackBlocksNoOne holds one query's callback until another query completes.
func TestSlowCallbackBlocksNoOne(t *testing.T) {
	t.Parallel()
	e := start(t, enginetest.Config(t))
	ctx := ctxTimeout(t, time.Minute)
	otherDone := make(chan struct{})
	slowErr := make(chan error, 1)
	slowQuery := queryFrom(t, "01", "g1") // helpers that may call t.Fatal stay on the test goroutine
	go func() {
		slowErr <- e.Analyze(ctx, slowQuery, func(r *katago.Response) error {
			select {
			case <-otherDone:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	if err := e.Analyze(ctx, queryFrom(t, "06", "nine"), func(*katago.Response) error { return nil }); err != nil {
		t.Fatal(err)
	}
	close(otherDone)
	if err := <-slowErr; err != nil {
		t.Fatal(err)
	}
}

// TestCrashMidQuery kills KataGo after three results: the queries in flight fail at once
// with a transient error, KataGo restarts, and the next query succeeds.
func TestCrashMidQuery(t *testing.T) {
	t.Parallel()
	once := filepath.Join(t.TempDir(), "crashed")
	cfg := enginetest.Config(t, enginetest.EnvCrashAfter+"=3", enginetest.EnvCrashOnce+"="+once, enginetest.EnvSpeed+"=5")
	cfg.TurnTimeout = 10 * time.Minute // the crash, not the watchdog, must end the queries
	e := start(t, cfg)
	ctx := ctxTimeout(t, time.Minute)
	errs := make(chan error, 2)
	for range 2 {
		q := queryFrom(t, "01", "g1") // helpers that may call t.Fatal stay on the test goroutine
		go func() { errs <- e.Analyze(ctx, q, func(*katago.Response) error { return nil }) }()
	}
	for range 2 {
		err := <-errs
		if !errors.Is(err, engine.ErrEngineExited) || !isTransient(err) {
			t.Errorf("got %v, want ErrEngineExited (transient)", err)
		}
		if err != nil && !strings.Contains(err.Error(), "crashing after 3") {
			t.Errorf("%v does not quote KataGo's last words", err)
		}
	}
	eventually(t, 30*time.Second, "the engine to restart", e.Ready)
	c := newCollector()
	if err := e.Analyze(ctx, queryFrom(t, "06", "nine"), c.add); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if len(c.finals) != 2 {
		t.Errorf("finals %v, want turns 0 and 3", c.finals)
	}
	if e.Restarts() != 1 {
		t.Errorf("Restarts = %d, want 1", e.Restarts())
	}
}

// TestCrashMidLine kills KataGo halfway through writing a result line: the cut line is
// part of the crash, so the query fails with a transient engine exit (to be retried), not
// with a permanent protocol error, and the restarted engine answers.
func TestCrashMidLine(t *testing.T) {
	t.Parallel()
	once := filepath.Join(t.TempDir(), "crashed")
	cfg := enginetest.Config(t, enginetest.EnvCrashAfter+"=1", enginetest.EnvCrashOnce+"="+once, enginetest.EnvCrashMidLine+"=1")
	cfg.TurnTimeout = 10 * time.Minute // the crash, not the watchdog, must end the query
	err := faultThenRecover(t, cfg, 1)
	if !errors.Is(err, engine.ErrEngineExited) || !isTransient(err) || errors.Is(err, engine.ErrPermanent) {
		t.Fatalf("got %v, want ErrEngineExited (transient)", err)
	}
	if !strings.Contains(err.Error(), "ended in the middle of") {
		t.Errorf("%v does not say the output was cut off", err)
	}
}

// faultThenRecover runs a query on an engine whose KataGo fails once after wantFinals
// final results and returns the query's error; it checks that KataGo is then restarted
// once and answers the next query.
func faultThenRecover(t *testing.T, cfg engine.Config, wantFinals int) error {
	t.Helper()
	e := start(t, cfg)
	ctx := ctxTimeout(t, time.Minute)
	finals := 0
	err := e.Analyze(ctx, queryFrom(t, "01", "g1"), func(r *katago.Response) error {
		if r.Final() {
			finals++
		}
		return nil
	})
	if finals != wantFinals {
		t.Errorf("%d finals before the fault, want %d", finals, wantFinals)
	}
	eventually(t, 30*time.Second, "the engine to restart", e.Ready)
	if err := e.Analyze(ctx, queryFrom(t, "06", "rect"), func(*katago.Response) error { return nil }); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if e.Restarts() != 1 {
		t.Errorf("Restarts = %d, want 1", e.Restarts())
	}
	return err
}

// TestHang stops KataGo's output after two results: past TurnTimeout the query fails with
// ErrTimeout, KataGo is restarted, and the next query succeeds.
func TestHang(t *testing.T) {
	t.Parallel()
	once := filepath.Join(t.TempDir(), "hung")
	cfg := enginetest.Config(t, enginetest.EnvHangAfter+"=2", enginetest.EnvHangOnce+"="+once, enginetest.EnvSpeed+"=100")
	// Long enough that a busy machine's scheduling pause is not taken for a hang after the
	// restart (the watchdog probes a silent KataGo at a quarter of it); a hang is found after
	// it all the same.
	cfg.TurnTimeout = 2 * time.Second
	if err := faultThenRecover(t, cfg, 2); !errors.Is(err, engine.ErrTimeout) || !isTransient(err) {
		t.Fatalf("got %v, want ErrTimeout (transient)", err)
	}
}

// TestHangOnAction: an action KataGo never answers also trips the watchdog.
func TestHangOnAction(t *testing.T) {
	t.Parallel()
	once := filepath.Join(t.TempDir(), "hung")
	cfg := enginetest.Config(t, enginetest.EnvHangAfter+"=0", enginetest.EnvHangOnce+"="+once)
	cfg.TurnTimeout = 2 * time.Second // as in TestHang
	e := start(t, cfg)
	if _, err := e.Version(ctxTimeout(t, time.Minute)); !errors.Is(err, engine.ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	eventually(t, 30*time.Second, "the engine to restart", e.Ready)
	if _, err := e.Version(ctxTimeout(t, time.Minute)); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
}

// TestHugeLine reads a 4 MiB response line.
func TestHugeLine(t *testing.T) {
	t.Parallel()
	const size = 4 << 20
	e := start(t, enginetest.Config(t, fmt.Sprintf("%s=%d", enginetest.EnvLineBytes, size)))
	c := newCollector()
	if err := e.Analyze(ctxTimeout(t, time.Minute), queryFrom(t, "03", "own"), c.add); err != nil {
		t.Fatal(err)
	}
	r := c.finals[6]
	if r == nil {
		t.Fatalf("no final for turn 6: %v", c.finals)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < size {
		t.Errorf("the line was %d bytes, want at least %d", len(b), size)
	}
	if len(r.Ownership) != 361 || len(r.Policy) != 362 {
		t.Errorf("ownership %d, policy %d entries", len(r.Ownership), len(r.Policy))
	}
}

// TestLineTooLong fails the query whose line exceeds MaxLineBytes, and only that query.
func TestLineTooLong(t *testing.T) {
	t.Parallel()
	cfg := enginetest.Config(t, enginetest.EnvLineBytes+"=300000")
	cfg.MaxLineBytes = 100000
	e := start(t, cfg)
	err := e.Analyze(ctxTimeout(t, time.Minute), queryFrom(t, "01", "g1"), func(*katago.Response) error { return nil })
	if !errors.Is(err, engine.ErrProtocol) || !errors.Is(err, engine.ErrPermanent) {
		t.Fatalf("got %v, want ErrProtocol", err)
	}
	if _, err := e.Version(ctxTimeout(t, time.Minute)); err != nil {
		t.Fatalf("the engine did not survive: %v", err)
	}
}

// TestNoTurns: an empty analyzeTurns asks for nothing; Analyze still learns whether
// KataGo accepted the query.
func TestNoTurns(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		e := start(t, b.config(t))
		q := queryFrom(t, "01", "g1")
		q.AnalyzeTurns = []int{}
		if err := e.Analyze(ctxTimeout(t, time.Minute), q, func(r *katago.Response) error {
			return fmt.Errorf("unexpected response %+v", r)
		}); err != nil {
			t.Fatal(err)
		}
		q.BoardXSize = 25
		var qe *engine.QueryError
		if err := e.Analyze(ctxTimeout(t, time.Minute), q, func(*katago.Response) error { return nil }); !errors.As(err, &qe) || qe.Field != "boardXSize" {
			t.Fatalf("got %v, want a boardXSize error", err)
		}
	})
}

func TestAnalyzeRejectsActions(t *testing.T) {
	t.Parallel()
	e := engine.New(engine.Config{})
	var qe *engine.QueryError
	err := e.Analyze(context.Background(), &katago.Query{Action: "terminate_all"}, nil)
	if !errors.As(err, &qe) || qe.Field != "action" {
		t.Fatalf("got %v, want an action error", err)
	}
}

// TestStartFailures: KataGo that cannot start is reported with the binary, the model and
// what KataGo printed.
func TestStartFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    func(*testing.T) engine.Config
		output string // expected in KataGo's quoted output
		err    string // expected in the error
	}{
		{
			name: "missing model",
			cfg: func(t *testing.T) engine.Config {
				cfg := enginetest.Config(t)
				cfg.Model = filepath.Join(t.TempDir(), "missing.bin.gz")
				return cfg
			},
			output: "Error loading or parsing model file",
			err:    "exited before it was ready",
		},
		{
			name: "missing GPU library",
			cfg: func(t *testing.T) engine.Config {
				return enginetest.Config(t, enginetest.EnvStartError+"=katago: error while loading shared libraries: libcudart.so.12: cannot open shared object file")
			},
			output: "libcudart.so.12",
			err:    "exited before it was ready",
		},
		{
			name: "never ready",
			cfg: func(t *testing.T) engine.Config {
				cfg := enginetest.Config(t, enginetest.EnvReadyDelay+"=1m")
				cfg.ReadyTimeout = 200 * time.Millisecond
				return cfg
			},
			output: "Loaded model",
			err:    "not ready after 200ms",
		},
		{
			name: "missing binary",
			cfg: func(t *testing.T) engine.Config {
				cfg := enginetest.Config(t)
				cfg.Path = filepath.Join(t.TempDir(), "no-katago")
				return cfg
			},
			err: "no-katago",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg(t)
			e := engine.New(cfg)
			t.Cleanup(func() { e.Stop(context.Background()) })
			err := e.Start(ctxTimeout(t, time.Minute))
			var se *engine.StartError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *StartError", err)
			}
			if se.Binary != cfg.Path || se.Model != cfg.Model {
				t.Errorf("StartError names %s and %s, want %s and %s", se.Binary, se.Model, cfg.Path, cfg.Model)
			}
			msg := err.Error()
			for _, want := range []string{cfg.Path, cfg.Model, tt.err, tt.output} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if e.Ready() {
				t.Error("Ready after a failed start")
			}
			if err := e.Analyze(context.Background(), &katago.Query{}, nil); !errors.Is(err, engine.ErrNotRunning) {
				t.Errorf("Analyze after a failed start: %v, want ErrNotRunning", err)
			}
		})
	}
}

// TestStartWithoutModel: both KataGos fail to start without their network, and the error
// quotes what they said.
func TestStartWithoutModel(t *testing.T) {
	t.Parallel()
	forBackends(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.Model = filepath.Join(t.TempDir(), "missing.bin.gz")
		e := engine.New(cfg)
		t.Cleanup(func() { e.Stop(context.Background()) })
		err := e.Start(ctxTimeout(t, 5*time.Minute))
		var se *engine.StartError
		if !errors.As(err, &se) {
			t.Fatalf("got %v, want a *StartError", err)
		}
		want := "Error loading or parsing model file " + cfg.Model
		if !slices.ContainsFunc(se.Output, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("output %q does not quote %q", se.Output, want)
		}
	})
}

func TestStopBeforeStartAndTwice(t *testing.T) {
	t.Parallel()
	e := engine.New(enginetest.Config(t))
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); !errors.Is(err, engine.ErrNotRunning) {
		t.Fatalf("Start after Stop: %v", err)
	}
}

// TestStopLetsQueriesFinish: Stop closes stdin, KataGo finishes what it has, and the query
// in flight completes.
func TestStopLetsQueriesFinish(t *testing.T) {
	t.Parallel()
	e := engine.New(enginetest.Config(t, enginetest.EnvSpeed+"=20"))
	if err := e.Start(ctxTimeout(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	c := newCollector()
	actx, q := ctxTimeout(t, time.Minute), queryFrom(t, "06", "nine") // helpers stay on the test goroutine
	go func() { done <- e.Analyze(actx, q, c.add) }()
	eventually(t, 30*time.Second, "the query to be in flight", func() bool { return e.InFlight() == 1 })
	if err := e.Stop(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the query in flight at Stop: %v", err)
	}
	if len(c.finals) != 2 {
		t.Errorf("finals %v, want 2", c.finals)
	}
	if err := e.Analyze(context.Background(), queryFrom(t, "06", "nine"), nil); !errors.Is(err, engine.ErrNotRunning) {
		t.Errorf("Analyze after Stop: %v, want ErrNotRunning", err)
	}
	if e.Ready() {
		t.Error("Ready after Stop")
	}
}

// TestStopKills: a KataGo that ignores both stdin closing and SIGTERM is killed once
// Stop's context ends and KillDelay passes; the query in flight fails as not running.
func TestStopKills(t *testing.T) {
	t.Parallel()
	cfg := enginetest.Config(t, enginetest.EnvIgnoreEOF+"=1", enginetest.EnvIgnoreSIGTERM+"=1", enginetest.EnvVisitsPerSec+"=10")
	cfg.KillDelay = 100 * time.Millisecond
	e := engine.New(cfg)
	if err := e.Start(ctxTimeout(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	actx, q := ctxTimeout(t, time.Minute), queryFrom(t, "05", "long") // helpers stay on the test goroutine
	go func() {
		done <- e.Analyze(actx, q, func(*katago.Response) error { return nil })
	}()
	eventually(t, 30*time.Second, "the query to be in flight", func() bool { return e.InFlight() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := e.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop: %v, want an error saying KataGo was killed", err)
	}
	if err := <-done; !errors.Is(err, engine.ErrNotRunning) {
		t.Errorf("the query in flight: %v, want ErrNotRunning", err)
	}
}

// TestGeneratedConfig checks what the fake was given: the engine's generated config.
func TestGeneratedConfig(t *testing.T) {
	t.Parallel()
	trace, env := traceFile(t)
	cfg := enginetest.Config(t, env)
	dev := 1
	cfg.Device = &dev
	cfg.Settings = map[string]string{"maxVisits": "77", "wideRootNoise": "0.04"}
	e := start(t, cfg)
	c := newCollector()
	q := queryFrom(t, "01", "g1")
	q.MaxVisits = nil
	q.AnalyzeTurns = nil
	if err := e.Analyze(ctxTimeout(t, time.Minute), q, c.add); err != nil {
		t.Fatal(err)
	}
	if got := c.finals[10].RootInfo.Visits; got != 77 {
		t.Errorf("visits %d: the Settings override of maxVisits did not reach KataGo", got)
	}
	if qs := tracedQueries(t, trace); len(qs) != 1 || qs[0].MaxVisits != nil {
		t.Errorf("traced %+v", qs)
	}
	if _, err := os.Stat(cfg.LogDir); err != nil {
		t.Error(err)
	}
}

// TestStopDuringFirstStartMeasurement: a Stop while the first start measures the thread
// settings on a GPU ends the start instead of waiting for the measurement, whose trial
// KataGo here would take an hour to load.
func TestStopDuringFirstStartMeasurement(t *testing.T) {
	t.Parallel()
	cfg := enginetest.Config(t, enginetest.EnvBackend+"=CUDA", enginetest.EnvReadyDelay+"=1h")
	cfg.AnalysisThreads = 0
	cfg.CacheDir = t.TempDir()
	measuring := make(chan struct{})
	cfg.Logger = slog.New(&onMessage{msg: "engine: measuring katago thread settings for this binary, network and device (once)", seen: measuring})
	e := engine.New(cfg)
	started := make(chan error, 1)
	go func() { started <- e.Start(context.Background()) }()
	<-measuring
	if err := e.Stop(context.Background()); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := <-started; !errors.Is(err, engine.ErrNotRunning) {
		t.Errorf("Start stopped while measuring: %v, want ErrNotRunning", err)
	}
}

// onMessage is a log handler that closes seen when a record with message msg arrives.
type onMessage struct {
	msg  string
	seen chan struct{}
	once sync.Once
}

func (h *onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h *onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}
func (h *onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *onMessage) WithGroup(string) slog.Handler      { return h }
