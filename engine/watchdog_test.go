package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tesuji/tesuji/katago"
)

// scriptedKataGo stands in for KataGo's pipes inside a synctest bubble, where the clock is
// fake: it reads queries as KataGo's input loop does, answers query_version at once while
// its searches run, and finishes each analysis turn after search (of fake time). hangAt
// makes it stop reading and writing once that much fake time has passed.
type scriptedKataGo struct {
	search time.Duration
	hangAt time.Duration // 0: never

	inR  *io.PipeReader
	outW *io.PipeWriter

	mu     sync.Mutex
	probes int           // query_version lines answered
	eof    time.Duration // when its stdin closed, in fake time since the start; 0: open
	timers []*time.Timer
}

func (k *scriptedKataGo) run(start time.Time) {
	sc := bufio.NewScanner(k.inR)
	for sc.Scan() {
		if k.hangAt > 0 && time.Since(start) >= k.hangAt {
			return // wedged: reads and writes nothing more
		}
		var q struct {
			ID           string `json:"id"`
			Action       string `json:"action"`
			AnalyzeTurns []int  `json:"analyzeTurns"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			panic(fmt.Sprintf("scripted katago: %q: %v", sc.Text(), err))
		}
		switch q.Action {
		case "query_version":
			k.mu.Lock()
			k.probes++
			k.mu.Unlock()
			fmt.Fprintf(k.outW, `{"action":"query_version","git_hash":"<omitted>","id":%q,"version":"1.17.2"}`+"\n", q.ID)
		case "":
			for _, turn := range q.AnalyzeTurns {
				id, turn := q.ID, turn
				k.mu.Lock()
				k.timers = append(k.timers, time.AfterFunc(k.search, func() {
					if k.hangAt > 0 && time.Since(start) >= k.hangAt {
						return
					}
					fmt.Fprintf(k.outW, `{"id":%q,"isDuringSearch":false,"moveInfos":[],"rootInfo":{"visits":100000},"turnNumber":%d}`+"\n", id, turn)
				}))
				k.mu.Unlock()
			}
		}
	}
	if sc.Err() == nil {
		k.mu.Lock()
		k.eof = time.Since(start)
		k.mu.Unlock()
	}
}

func (k *scriptedKataGo) stop() {
	k.mu.Lock()
	for _, t := range k.timers {
		t.Stop()
	}
	k.mu.Unlock()
}

// watchdogRun runs one analysis of one turn against k with the given TurnTimeout and
// returns its error, the fake time it took and whether the process was killed. With
// stopAt, the engine starts to stop then (closeWhenIdle, as Stop does).
func watchdogRun(t *testing.T, k *scriptedKataGo, limit, stopAt time.Duration) (err error, took time.Duration, killed bool) {
	t.Helper()
	e := New(Config{TurnTimeout: limit})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	k.inR, k.outW = inR, outW
	closePipes := sync.OnceFunc(func() {
		inR.CloseWithError(errors.New("killed"))
		outW.CloseWithError(errors.New("killed"))
	})
	var killedMu sync.Mutex
	kill := func() error {
		killedMu.Lock()
		killed = true
		killedMu.Unlock()
		closePipes()
		return nil
	}
	p := newProcess(e, 1, inW, kill)
	p.readers.Add(2)
	go p.writeLoop()
	go p.watchdog()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		p.consume(outR)
	}()
	start := time.Now()
	katagoDone := make(chan struct{})
	go func() {
		defer close(katagoDone)
		k.run(start)
	}()
	p.readyOnce.Do(func() { close(p.readySignal) })

	c := newCall("q1", []int{0}, false)
	if err := p.register(c); err != nil {
		t.Fatal(err)
	}
	p.send([]byte(`{"id":"q1","moves":[],"rules":"japanese","komi":6.5,"boardXSize":19,"boardYSize":19,"analyzeTurns":[0]}` + "\n"))
	if stopAt > 0 {
		go func() {
			time.Sleep(stopAt)
			p.closeWhenIdle(context.Background())
		}()
	}
	err = e.await(context.Background(), p, c, func(*katago.Response) error { return nil })
	took = time.Since(start)
	synctest.Wait() // a stop under way closes stdin now

	// Tear down as wait does once the OS process is gone.
	closePipes()
	close(p.exited)
	p.readers.Wait()
	<-consumed
	<-katagoDone
	k.stop()
	killedMu.Lock()
	defer killedMu.Unlock()
	return err, took, killed
}

// TestWatchdogSparesLongSearch: a search that runs for an hour without a single report,
// guarded by a one-minute TurnTimeout, is never killed while KataGo answers the probes;
// nor when the engine starts to stop meanwhile: stdin, which carries the probes, closes
// only once the answer is in.
func TestWatchdogSparesLongSearch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		stopAt time.Duration
	}{{"running", 0}, {"stopping", 10 * time.Minute}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				k := &scriptedKataGo{search: time.Hour}
				err, took, killed := watchdogRun(t, k, time.Minute, tt.stopAt)
				if err != nil {
					t.Fatalf("the long search failed: %v", err)
				}
				if killed {
					t.Error("KataGo was killed")
				}
				if took < time.Hour {
					t.Errorf("the search ended after %v, before KataGo finished it", took)
				}
				k.mu.Lock()
				defer k.mu.Unlock()
				// Silence of a quarter of the timeout earns a probe: about four a minute.
				if k.probes < 60 {
					t.Errorf("%d probes answered in an hour of silence, want at least 60", k.probes)
				}
				if tt.stopAt > 0 && k.eof < took {
					t.Errorf("stdin closed at %v, before the answer at %v", k.eof, took)
				}
			})
		})
	}
}

// TestWatchdogFindsHang: KataGo stops reading and writing in the middle of a long search;
// the query fails with ErrTimeout within TurnTimeout of its last sign of life, and the
// process is killed.
func TestWatchdogFindsHang(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const limit = time.Minute
		k := &scriptedKataGo{search: time.Hour, hangAt: 10 * time.Minute}
		err, took, killed := watchdogRun(t, k, limit, 0)
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrTransient) {
			t.Fatalf("got %v, want ErrTimeout", err)
		}
		if !killed {
			t.Error("the hung KataGo was not killed")
		}
		// Its last sign of life is a probe answer at most a quarter of limit (plus a tick)
		// before it hung.
		if most := k.hangAt + limit + watchdogTick(limit); took > most {
			t.Errorf("the hang was found after %v, want at most %v", took, most)
		}
		if took < k.hangAt {
			t.Errorf("failed after %v, before KataGo hung at %v", took, k.hangAt)
		}
	})
}
